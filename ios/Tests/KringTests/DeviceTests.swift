// The tests of android/src/test/kotlin/nl/kring/android/DeviceTests.kt, in Swift.
// Never compiled or run in Kring's CI (no Swift toolchain there): see ios/README.md.
// The relay tests need KRING_RELAY_URL (and KRING_SERVER_BIN for the sync observer
// test, macOS only); without them they are skipped.
import Foundation
import XCTest
@testable import Kring

func dueTask(_ title: String, at: Timestamp) -> NewTask {
    NewTask(title: title, category: .ride, ownerKind: .circle, schedule: .due(at: at), slots: 1)
}

final class RecordingSyncObserver: SyncObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [SyncEvent] = []
    var events: [SyncEvent] { lock.lock(); defer { lock.unlock() }; return _events }

    func onSyncEvent(event: SyncEvent) throws {
        lock.lock(); defer { lock.unlock() }
        _events.append(event)
    }

    func states(_ circle: CircleId) -> [LiveState] { events.filter { $0.circleId == circle }.map(\.state) }
}

final class ViewTests: KringTestCase {
    func testTheWeekTheFollowupReportAndTheOverviewAreShown() throws {
        let sanne = try Device(dir("sanne"))
        let circle = try sanne.client.createCircle(name: "Kring voor Sanne", language: .nl, mainPersonName: "Sanne")
        let ride = try circle.addTask(task: dueTask("Naar de dokter", at: inDays(1)))
        _ = try circle.addTask(task: dueTask("Boodschappen", at: inDays(3)))

        let week = try circle.myWeek()
        XCTAssertEqual(week.heading, "Je plan deze week")
        XCTAssertEqual(week.items.count, 2)
        XCTAssertEqual(week.openCount, 2)
        XCTAssertTrue(week.items[0].sentence.contains("Naar de dokter"), week.items[0].sentence)
        XCTAssertEqual(try circle.myWeek(language: .en).heading, "Your plan this week")

        let report = try circle.followupReport()
        XCTAssertEqual(report.circleName, "Kring voor Sanne")
        let unclaimed: [String] = report.signals.compactMap {
            if case let .unclaimedTask(_, title, _, _, _, _, _) = $0.kind { return title } else { return nil }
        }
        XCTAssertEqual(Set(unclaimed), ["Naar de dokter", "Boodschappen"])
        XCTAssertEqual(report.signals.first?.severity, .urgent)
        XCTAssertTrue(describeSignal(signal: report.signals[0], language: .nl, timezone: report.timezone).contains("Naar de dokter"))

        try circle.claimTask(taskId: ride)
        XCTAssertEqual(try circle.myWeek().openCount, 1)

        let quiet = try sanne.client.createCircle(name: "Rustige kring", language: .en, mainPersonName: "Sanne")
        let overview = try sanne.client.coordinatorOverview()
        XCTAssertEqual(overview.circles.map(\.circle), [circle.circleId(), quiet.circleId()])
        XCTAssertTrue(!overview.items.isEmpty && overview.items.allSatisfy { $0.circle == circle.circleId() })
    }

    func testTheExportsAreMarkdownAndHtmlBytesWithTextEscaped() throws {
        let sanne = try Device(dir("sanne"))
        let circle = try sanne.client.createCircle(name: "Kring voor Sanne", language: .nl, mainPersonName: "Sanne")
        try circle.setQuestion(question: "Hoe blijf ik <thuis> wonen?")
        let md = String(decoding: try circle.exportText(format: .markdown), as: UTF8.self)
        XCTAssertTrue(md.hasPrefix("# ") && md.contains("Kring voor Sanne"))
        let html = String(decoding: try circle.exportText(format: .html, language: .en), as: UTF8.self)
        XCTAssertTrue(html.contains("<html") && html.contains("&lt;thuis&gt;") && !html.contains("<thuis>"))
    }
}

final class DeviceTests: KringTestCase {
    func testALinkIsPreviewedBeforeJoining() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL())
        let link = try c.annas.invite(capability: .reader, expiresAt: inDays(2))
        let carl = try Device(dir("carl"))
        let preview = try carl.client.previewLink(link: link)
        XCTAssertEqual(preview.kind, .person)
        XCTAssertEqual(preview.circleName, "Kring voor Anna")
        XCTAssertEqual(preview.inviterName, "Anna")
        XCTAssertEqual(preview.capability, .reader)
        XCTAssertFalse(preview.expired)
        XCTAssertTrue(try c.bram.client.previewLink(link: link).alreadyHere)
        assertKring("InvalidInput") { _ = try carl.client.previewLink(link: "kring://invite/nonsense") }
        XCTAssertEqual(try carl.client.circles(), [])
    }

    func testUsedExpiredAndRevokedInvitesArriveAsTheirOwnErrors() async throws {
        let c = try await TwoDevices(dir("c"), relay: try relayURL())
        let carl = try Device(dir("carl"))
        let shortLived = try c.annas.invite(capability: .member, expiresAt: Int64(Date().timeIntervalSince1970 * 1000) + 1_000)
        _ = try await c.annas.sync()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        await assertKringAsync("InviteExpired") { _ = try await carl.client.join(link: shortLived, myName: "Carl", relation: .friend) }
        let before = try c.annas.invite(capability: .member, expiresAt: inDays(2))
        try await c.annas.removeMember(memberId: c.brams.me())
        await assertKringAsync("InviteRevoked") { _ = try await carl.client.join(link: before, myName: "Carl", relation: .friend) }
        let fresh = try c.annas.invite(capability: .member, expiresAt: inDays(2))
        _ = try await carl.client.join(link: fresh, myName: "Carl", relation: .friend)
        let dirk = try Device(dir("dirk"))
        await assertKringAsync("InviteUsed") { _ = try await dirk.client.join(link: fresh, myName: "Dirk", relation: .friend) }
        XCTAssertEqual(try dirk.client.circles(), [])
    }

    func testASecondDeviceOfTheSamePersonSeesTheSamePlanAndALostOneIsCutOff() async throws {
        let relay = try relayURL()
        let phone = try Device(dir("phone"))
        let annas = try phone.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna", relayUrl: relay)
        _ = try annas.addTask(task: simpleTask("Boodschappen"))
        let link = try annas.deviceLink()
        XCTAssertTrue(link.hasPrefix("kring://device/"))
        _ = try await annas.sync()

        let tablet = try Device(dir("tablet"))
        XCTAssertEqual(try tablet.client.previewLink(link: link).kind, .device)
        await assertKringAsync("NotAllowed") { _ = try await tablet.client.join(link: link, myName: "Anna", relation: .family) }
        let joined = try await tablet.client.addDevice(link: link)
        XCTAssertTrue(joined.planArrived)
        let onTablet = try tablet.client.openCircle(circleId: joined.circleId)
        XCTAssertEqual(onTablet.me(), annas.me())
        XCTAssertEqual(try onTablet.view(), try annas.view())
        XCTAssertEqual(try onTablet.status().standing, .writer(.owner))
        let other = try Device(dir("other"))
        await assertKringAsync("InviteUsed") { _ = try await other.client.addDevice(link: link) }

        let tabletId = try XCTUnwrap(try annas.devices().first { !$0.thisDevice }?.id)
        try await annas.removeDevice(deviceId: tabletId)
        _ = try annas.addTask(task: simpleTask("Na het verlies"))
        _ = try await annas.sync()
        await assertKringAsync("NotAllowed") { _ = try await onTablet.sync() }
        XCTAssertEqual(try onTablet.status().standing, .removed)
        XCTAssertFalse(try onTablet.view().tasks.contains { $0.title == "Na het verlies" })
    }

    func testANewPhoneWithTheRecoveryCodeBecomesTheOwner() async throws {
        let relay = try relayURL()
        let oldPhone = try Device(dir("old"))
        let created = try oldPhone.client.createCircleWithRecovery(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna", relayUrl: relay)
        XCTAssertEqual(created.recoveryCode.split(separator: " ").count, 12)
        let annas = try oldPhone.client.openCircle(circleId: created.circleId)
        _ = try await annas.sync()
        let bram = try Device(dir("bram"))
        let joined = try await bram.client.join(link: try annas.invite(capability: .member, expiresAt: inDays(1)), myName: "Bram", relation: .family)
        let brams = try bram.client.openCircle(circleId: joined.circleId)
        _ = try await annas.sync()

        let newPhone = try Device(dir("new"))
        await assertKringAsync("InvalidInput") { _ = try await newPhone.client.recover(circleId: created.circleId, relayUrl: relay, code: "een twee drie") }
        let recovered = try await newPhone.client.recover(circleId: created.circleId, relayUrl: relay, code: created.recoveryCode)
        XCTAssertTrue(recovered.removedDevices.contains(oldPhone.client.deviceId()))
        let onNew = try newPhone.client.openCircle(circleId: created.circleId)
        XCTAssertEqual(onNew.me(), annas.me())
        try await onNew.removeMember(memberId: brams.me())
        await assertKringAsync("NotAllowed") { _ = try await annas.sync() }
        let thief = try Device(dir("thief"))
        await assertKringAsync("RecoveryRefused") { _ = try await thief.client.recover(circleId: created.circleId, relayUrl: relay, code: created.recoveryCode) }
    }

    #if os(macOS)
    func testASyncObserverHearsSyncingSyncedConnectedDisconnectedAndError() async throws {
        let relay = try Relay(in: dir("relay"))
        let anna = try Device(dir("anna"))
        let circle = try anna.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna", relayUrl: relay.url)
        let observer = RecordingSyncObserver()
        let id = try anna.client.addSyncObserver(observer: observer)
        _ = try await circle.sync()
        XCTAssertEqual(observer.states(circle.circleId()), [.syncing, .synced])
        _ = try anna.client.startWatching()
        try await eventually("connected") { observer.states(circle.circleId()).contains(.connected) }
        relay.stop()
        try await eventually("disconnected") { observer.states(circle.circleId()).contains(.disconnected) }
        try anna.client.stopWatching()
        let before = observer.states(circle.circleId()).count
        await assertKringAsync("Network") { _ = try await circle.sync() }
        XCTAssertTrue(observer.states(circle.circleId()).dropFirst(before).contains(.error))
        XCTAssertTrue(try anna.client.removeSyncObserver(observerId: id))
    }
    #endif
}
