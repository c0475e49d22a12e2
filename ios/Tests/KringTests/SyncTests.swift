// The sync journeys of android/src/test/kotlin/nl/kring/android/SyncTests.kt, in Swift.
// Not compiled in Kring's CI (no Swift toolchain there): see ios/README.md. They need a
// running kring-server: KRING_RELAY_URL (and KRING_SERVER_BIN for the "relay stopped"
// test, macOS only); without them they are skipped.
import Foundation
import XCTest
@testable import Kring

final class SyncTests: KringTestCase {
    func testInviteAndJoinThroughTheRelayShareOnePlan() async throws {
        let relay = try relayURL()
        let anna = try Device(dir("anna"))
        let bram = try Device(dir("bram"))
        let annas = try anna.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna", relayUrl: relay)
        XCTAssertEqual(try annas.status().connectivity, .notSynced)
        _ = try annas.addTask(task: simpleTask("Boodschappen"))
        let link = try annas.invite(capability: .member, expiresAt: inDays(7))
        XCTAssertTrue(link.hasPrefix("kring://invite/"), link)
        let first = try await annas.sync()
        XCTAssertGreaterThanOrEqual(first.pushed, 1)
        let status = try annas.status()
        XCTAssertEqual(status.connectivity, .online)
        XCTAssertEqual(status.pending, 0)
        XCTAssertEqual(status.relayUrl, relay)
        XCTAssertNotNil(status.lastSyncedAt)
        XCTAssertEqual(status.standing, .writer(.owner))

        let joined = try await bram.client.join(link: link, myName: "Bram", relation: .family)
        XCTAssertEqual(joined.circleId, annas.circleId())
        XCTAssertTrue(joined.planArrived)
        XCTAssertEqual(try bram.client.circles().map(\.id), [annas.circleId()])
        XCTAssertEqual(try bram.client.pendingJoins(), [])
        let brams = try bram.client.openCircle(circleId: joined.circleId)
        XCTAssertEqual(try brams.view().tasks.map(\.title), ["Boodschappen"])
        XCTAssertEqual(try brams.status().standing, .writer(.member))

        // Bram's own member record reaches Anna with her next sync.
        let heard = RecordingObserver()
        _ = try annas.addObserver(observer: heard)
        let report = try await annas.sync()
        XCTAssertGreaterThan(report.appliedChanges, 0)
        XCTAssertEqual(heard.heard.map { $0.1 }, [.remote])
        XCTAssertEqual(Set(try annas.view().members.map(\.displayName)), ["Anna", "Bram"])
        XCTAssertEqual(try annas.view(), try brams.view(), "one plan")

        // The link was for one person; the relay's `invite_used` arrives as InviteUsed.
        let carl = try Device(dir("carl"))
        await assertKringAsync("InviteUsed") { _ = try await carl.client.join(link: link, myName: "Carl", relation: .friend) }
        await assertKringAsync("AlreadyExists") { _ = try await bram.client.join(link: link, myName: "Bram", relation: .family) }
    }

    func testTwoClientsClaimTheLastPlaceOfflineAndAgreeAfterSyncing() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL())
        let task = try c.annas.addTask(task: simpleTask("Rijden naar het ziekenhuis"))
        _ = try await c.annas.sync()
        _ = try await c.brams.sync()
        XCTAssertEqual(try c.brams.snapshot().tasks.first?.canClaim, true)

        // Both offline (no sync in between): each sees a free place and takes it.
        try c.annas.claimTask(taskId: task)
        try c.brams.claimTask(taskId: task)
        XCTAssertEqual(try c.annas.status().pending, 1, "the claim waits in the outbox")

        _ = try await c.annas.sync()
        _ = try await c.brams.sync()
        _ = try await c.annas.sync()
        let seenByAnna = try c.annas.view()
        XCTAssertEqual(seenByAnna, try c.brams.view(), "replicas converge through the relay")
        let taskView = try XCTUnwrap(seenByAnna.tasks.first)
        XCTAssertTrue(taskView.overbooked)
        XCTAssertEqual(taskView.claims.count, 2)
        XCTAssertEqual(taskView.claims.filter(\.winner).count, 1)
        let places = try Set([c.annas, c.brams].map { try $0.snapshot().tasks.first?.myPlace })
        XCTAssertEqual(places, [.doing, .tooLate])
        XCTAssertEqual(try c.annas.status().pending, 0)
        XCTAssertEqual(try c.brams.status().pending, 0)
        let winner = try XCTUnwrap(taskView.claims.first(where: \.winner)).member
        let loser = winner == c.brams.me() ? c.annas : c.brams
        try loser.unclaimTask(taskId: task)
        assertKring("TaskFull") { try loser.claimTask(taskId: task) }
    }

    func testTheObserverFiresRemoteWhenSyncBringsChanges() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL())
        let heard = RecordingObserver()
        _ = try c.brams.addObserver(observer: heard)
        _ = try await c.brams.sync()
        XCTAssertTrue(heard.heard.isEmpty, "nothing new, no call")

        _ = try c.annas.post(kind: .update, text: "Morgen is de afspraak")
        _ = try await c.annas.sync()
        let report = try await c.brams.sync()
        XCTAssertGreaterThan(report.appliedChanges, 0)
        XCTAssertEqual(heard.heard.map { $0.1 }, [.remote])
        _ = try await c.brams.sync()
        XCTAssertEqual(heard.heard.count, 1)

        _ = try c.annas.post(kind: .thanks, text: "Dank je")
        _ = try await c.annas.sync()
        let all = try await c.bram.client.syncAll()
        XCTAssertEqual(all.map(\.circleId), [c.brams.circleId()])
        XCTAssertNil(all.first?.error)
        XCTAssertEqual(heard.heard.filter { $0.1 == .remote }.count, 2)
    }

    func testLiveModeDeliversChangesWithoutCallingSync() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL())
        let heard = RecordingObserver()
        _ = try c.brams.addObserver(observer: heard)
        XCTAssertEqual(try c.bram.client.startWatching(), 1)
        defer { try? c.bram.client.stopWatching() }
        let task = try c.annas.addTask(task: simpleTask("Koken op dinsdag"))
        _ = try await c.annas.sync()
        try await eventually("Bram's observer hears Anna's task") { heard.heard.contains { $0.1 == .remote } }
        XCTAssertEqual(try c.brams.view().tasks.map(\.id), [task])

        try c.brams.claimTask(taskId: task)
        try await eventually("Bram's claim is sent") { try c.brams.status().pending == 0 }
        _ = try await c.annas.sync()
        XCTAssertEqual(try c.annas.task(taskId: task).claims.map(\.member), [c.brams.me()])
        try c.bram.client.stopWatching()
        try await eventually("live mode stopped") { try !c.bram.client.isWatching() }
    }

    func testAReadersWriteIsNotAllowed() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL(), bramsCapability: .reader)
        _ = try c.annas.addTask(task: simpleTask("Boodschappen"))
        _ = try await c.annas.sync()
        _ = try await c.brams.sync()
        XCTAssertEqual(try c.brams.status().standing, .reader)
        let task = try XCTUnwrap(try c.brams.view().tasks.first).id
        let before = try c.brams.export()
        assertKring("NotAllowed") { try c.brams.claimTask(taskId: task) }
        assertKring("NotAllowed") { _ = try c.brams.addTask(task: simpleTask("Mag niet")) }
        assertKring("NotAllowed") { _ = try c.brams.invite(capability: .reader, expiresAt: inDays(1)) }
        XCTAssertEqual(try c.brams.export(), before)
    }

    func testAMemberRemovedThroughTheRelayIsRefused() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL())
        _ = try await c.annas.sync()
        let bramId = c.brams.me()
        try await c.annas.removeMember(memberId: bramId)
        XCTAssertNotNil(try c.annas.view().members.first { $0.id == bramId }?.removedAt)
        XCTAssertEqual(try c.annas.status().epoch, 1, "the circle's key rotated")
        await assertKringAsync("NotAllowed") { _ = try await c.brams.sync() }
        XCTAssertEqual(try c.brams.status().connectivity, .removed)
        assertKring("NotAllowed") { _ = try c.brams.addTask(task: simpleTask("Nog één")) }
    }

    #if os(macOS)
    func testSyncWithTheRelayStoppedIsNetworkAndKeepsTheChange() async throws {
        let relay = try Relay(in: dir("relay"))
        let anna = try Device(dir("anna"))
        let circle = try anna.client.createCircle(name: "Kring", language: .nl, mainPersonName: "Anna", relayUrl: relay.url)
        _ = try await circle.sync()
        relay.stop()
        _ = try circle.addTask(task: simpleTask("Boodschappen"))
        await assertKringAsync("Network") { _ = try await circle.sync() }
        let status = try circle.status()
        XCTAssertEqual(status.connectivity, .offline)
        XCTAssertEqual(status.pending, 1, "the change waits in the outbox")
        XCTAssertNotNil(status.lastError)
        XCTAssertNotNil(try await anna.client.syncAll().first?.error)
    }
    #endif

    func testCirclesThatCannotSyncSayWhy() async throws {
        let anna = try Device(dir("anna"))
        let local = try anna.client.createCircle(name: "Zonder relay", language: .nl, mainPersonName: "Anna")
        XCTAssertEqual(try local.status().connectivity, .noRelay)
        await assertKringAsync("NoRelay") { _ = try await local.sync() }
        assertKring("NoRelay") { _ = try local.invite(capability: .member, expiresAt: inDays(7)) }
        assertKring("InvalidInput") { try local.setRelay(url: "ftp://example.org") }

        let imported = try Device(dir("bram")).client.importCircle(document: local.export(), asMember: local.me())
        XCTAssertEqual(try imported.status().connectivity, .localOnly)
        await assertKringAsync("LocalOnly") { _ = try await imported.sync() }
        assertKring("LocalOnly") { _ = try imported.invite(capability: .member, expiresAt: inDays(7)) }
        await assertKringAsync("InvalidInput") {
            _ = try await anna.client.join(link: "kring://invite/nonsense", myName: "Anna", relation: .friend)
        }
    }
}
