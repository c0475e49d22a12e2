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
