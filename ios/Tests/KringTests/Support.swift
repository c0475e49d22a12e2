// Test support mirroring android/src/test/kotlin/nl/kring/android/Support.kt.
// Not compiled in Kring's CI (no Swift toolchain there): see ios/README.md.
import Foundation
import XCTest
@testable import Kring

/// A `SecretStore` in memory that records every call, standing in for the Keychain.
final class RecordingSecretStore: SecretStore, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String: Data] = [:]
    private var log: [String] = []

    var secrets: [String: Data] {
        lock.lock(); defer { lock.unlock() }
        return stored
    }

    var calls: [String] {
        lock.lock(); defer { lock.unlock() }
        return log
    }

    func clearCalls() {
        lock.lock(); defer { lock.unlock() }
        log.removeAll()
    }

    func set(_ name: String, _ value: Data) {
        lock.lock(); defer { lock.unlock() }
        stored[name] = value
    }

    func get(name: String) throws -> Data? {
        lock.lock(); defer { lock.unlock() }
        log.append("get \(name)")
        return stored[name]
    }

    func put(name: String, value: Data) throws {
        lock.lock(); defer { lock.unlock() }
        log.append("put \(name)")
        stored[name] = value
    }

    func delete(name: String) throws {
        lock.lock(); defer { lock.unlock() }
        log.append("delete \(name)")
        stored.removeValue(forKey: name)
    }
}

struct KeychainLocked: Error {}

/// A `SecretStore` whose every call throws `error` (a locked Keychain, say).
final class FailingSecretStore: SecretStore, @unchecked Sendable {
    let error: Error
    init(_ error: Error) { self.error = error }
    func get(name: String) throws -> Data? { throw error }
    func put(name: String, value: Data) throws { throw error }
    func delete(name: String) throws { throw error }
}

/// A `PlanObserver` that records what it heard, optionally running `onChange` first.
final class RecordingObserver: PlanObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [(CircleId, ChangeOrigin)] = []
    let onChange: () throws -> Void

    init(onChange: @escaping () throws -> Void = {}) { self.onChange = onChange }

    var heard: [(CircleId, ChangeOrigin)] {
        lock.lock(); defer { lock.unlock() }
        return log
    }

    func onPlanChanged(circleId: CircleId, origin: ChangeOrigin) throws {
        try onChange()
        lock.lock(); defer { lock.unlock() }
        log.append((circleId, origin))
    }
}

/// A device: its own data directory and secret store.
final class Device {
    let dir: URL
    let secrets: RecordingSecretStore
    let client: KringClient

    init(_ dir: URL, secrets: RecordingSecretStore = RecordingSecretStore()) throws {
        self.dir = dir
        self.secrets = secrets
        client = try KringClient.open(dataDir: dir.path, secretStore: secrets)
    }
}

class KringTestCase: XCTestCase {
    var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("kring-xctest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    func dir(_ name: String) -> URL { tempDir.appendingPathComponent(name) }
}

func simpleTask(_ title: String, slots: UInt32 = 1) -> NewTask {
    NewTask(title: title, category: .other, ownerKind: .circle, schedule: .unscheduled, slots: slots)
}

let dayMillis: Int64 = 24 * 60 * 60 * 1000

func inDays(_ days: Int64) -> Timestamp {
    Int64(Date().timeIntervalSince1970 * 1000) + days * dayMillis
}

/// The case name of a `KringError`, e.g. "TaskFull".
func caseName(_ error: KringError) -> String {
    String(String(describing: error).prefix { $0 != "(" })
}

/// Asserts `body` throws the `KringError` case named `expected`.
func assertKring(
    _ expected: String,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected KringError.\(expected), nothing was thrown", file: file, line: line)
    } catch let error as KringError {
        XCTAssertEqual(caseName(error), expected, "\(error)", file: file, line: line)
    } catch {
        XCTFail("expected KringError.\(expected), got \(error)", file: file, line: line)
    }
}

/// Asserts the async `body` throws the `KringError` case named `expected`.
func assertKringAsync(
    _ expected: String,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        XCTFail("expected KringError.\(expected), nothing was thrown", file: file, line: line)
    } catch let error as KringError {
        XCTAssertEqual(caseName(error), expected, "\(error)", file: file, line: line)
    } catch {
        XCTFail("expected KringError.\(expected), got \(error)", file: file, line: line)
    }
}

/// Polls `condition` every 50 ms until it holds; fails after `timeout` seconds.
func eventually(
    _ what: String,
    timeout: TimeInterval = 15,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ condition: () throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        if Date() > deadline {
            XCTFail("timed out waiting for: \(what)", file: file, line: line)
            return
        }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
}

/// The relay for the sync journeys: `KRING_RELAY_URL` (e.g. `kring-server --listen
/// 127.0.0.1:8470` started by hand, then `KRING_RELAY_URL=http://127.0.0.1:8470 swift
/// test`). Without it the sync tests are skipped.
func relayURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["KRING_RELAY_URL"] else {
        throw XCTSkip("KRING_RELAY_URL is not set: start kring-server and point it there")
    }
    return url
}

#if os(macOS)
/// A relay of the test's own (`KRING_SERVER_BIN`, macOS only: `Process`), for tests
/// that stop it halfway.
final class Relay {
    private let process = Process()
    private let dir: URL
    let url: String

    init(in dir: URL) throws {
        guard let bin = ProcessInfo.processInfo.environment["KRING_SERVER_BIN"] else {
            throw XCTSkip("KRING_SERVER_BIN is not set: the path of a built kring-server")
        }
        self.dir = dir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["--listen", "127.0.0.1:0", "--db", dir.appendingPathComponent("relay.db").path, "--log", "warn"]
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The server prints its bound address as its first line.
        var line = Data()
        while let byte = try stdout.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on ") else {
            process.terminate()
            throw KringTestFailure("kring-server did not start: \(text)")
        }
        url = "http://" + text.dropFirst("listening on ".count)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
#endif

struct KringTestFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Anna's circle on `relay`, and Bram in it through an invite: two clients, each with
/// its own data directory and secret store, meeting only through the relay.
final class TwoDevices {
    let anna: Device
    let bram: Device
    let annas: CircleHandle
    let brams: CircleHandle

    init(_ dir: URL, relay: String, bramsCapability: Capability = .member) async throws {
        anna = try Device(dir.appendingPathComponent("anna"))
        bram = try Device(dir.appendingPathComponent("bram"))
        annas = try anna.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna", relayUrl: relay)
        let link = try annas.invite(capability: bramsCapability, expiresAt: inDays(7))
        // The circle must be on the relay before the link is used.
        _ = try await annas.sync()
        let joined = try await bram.client.join(link: link, myName: "Bram", relation: .family)
        XCTAssertTrue(joined.planArrived, "the plan came with the join")
        brams = try bram.client.openCircle(circleId: joined.circleId)
    }
}
