// The user journeys of android/src/test/kotlin/nl/kring/android/FfiTests.kt, in Swift.
// Not compiled in Kring's CI (no Swift toolchain there): see ios/README.md.
import Foundation
import XCTest
@testable import Kring

private let deviceSecret = "device"

final class KringTests: KringTestCase {
    func testCreateCircleAddAndClaimTaskSurvivesReopening() throws {
        let device = try Device(dir("anna"))
        let circle = try device.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna")
        let task = try circle.addTask(task: simpleTask("Boodschappen doen", slots: 2))
        try circle.claimTask(taskId: task)
        let view = try circle.view()
        XCTAssertEqual(view.circle.name, "Kring voor Anna")
        XCTAssertEqual(view.circle.mainPerson, circle.me())
        XCTAssertEqual(view.members.map(\.displayName), ["Anna"])
        XCTAssertEqual(view.tasks.first?.claims.map(\.member), [circle.me()])
        XCTAssertEqual(view.tasks.first?.claims.first?.winner, true)
        let facts = try XCTUnwrap(circle.snapshot().tasks.first)
        XCTAssertEqual(facts.myPlace, .doing)
        XCTAssertEqual(facts.freeSlots, 1)
        XCTAssertFalse(facts.canClaim)

        // A new client on the same directory: every call was durable when it returned.
        let again = try KringClient.open(dataDir: dir("anna").path, secretStore: device.secrets)
        XCTAssertEqual(try again.circles().map(\.id), [circle.circleId()])
        let reopened = try again.openCircle(circleId: circle.circleId()).task(taskId: task)
        XCTAssertEqual(reopened.title, "Boodschappen doen")
        XCTAssertEqual(reopened.claims.count, 1)
    }

    func testSecretStoreHoldsTheDeviceIdentity() throws {
        let secrets = RecordingSecretStore()
        let first = try KringClient.open(dataDir: dir("a").path, secretStore: secrets)
        XCTAssertEqual(secrets.calls, ["get \(deviceSecret)", "put \(deviceSecret)"])
        // Core's device identity: version byte, ed25519 seed, X25519 secret.
        XCTAssertEqual(secrets.secrets[deviceSecret]?.count, 65)
        // The device id is the ed25519 verifying key (and the automerge actor id).
        XCTAssertEqual(first.deviceId().count, 64)
        XCTAssertTrue(first.deviceId().allSatisfy { "0123456789abcdef".contains($0) })

        secrets.clearCalls()
        let again = try KringClient.open(dataDir: dir("a").path, secretStore: secrets)
        XCTAssertEqual(secrets.calls, ["get \(deviceSecret)"], "read back, not replaced")
        XCTAssertEqual(again.deviceId(), first.deviceId())

        // The Keychain is the source of truth: app data cleared, Keychain kept.
        let fresh = try KringClient.open(dataDir: dir("b").path, secretStore: secrets)
        XCTAssertEqual(fresh.deviceId(), first.deviceId())
        let other = try KringClient.open(dataDir: dir("c").path, secretStore: RecordingSecretStore())
        XCTAssertNotEqual(other.deviceId(), first.deviceId())
    }

    func testFailingOrForeignSecretStoreSurfacesAsKringError() throws {
        assertKring("SecretStore") {
            _ = try KringClient.open(dataDir: self.dir("x").path, secretStore: FailingSecretStore(KeychainLocked()))
        }
        // Whatever the app's store throws, it is the store that failed.
        assertKring("SecretStore") {
            _ = try KringClient.open(
                dataDir: self.dir("x").path,
                secretStore: FailingSecretStore(KringError.Storage(reason: "disk full"))
            )
        }
        let garbage = RecordingSecretStore()
        garbage.set(deviceSecret, Data([1, 2, 3]))
        assertKring("SecretStore") { _ = try KringClient.open(dataDir: self.dir("x").path, secretStore: garbage) }
        assertKring("InvalidInput") { _ = try KringClient.open(dataDir: " ", secretStore: RecordingSecretStore()) }
    }

    func testTwoDevicesClaimTheLastPlaceOfflineAndAgreeAfterExchanging() throws {
        let anna = try Device(dir("anna"))
        let bram = try Device(dir("bram"))
        let annasCircle = try anna.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna")
        let bramId = try annasCircle.addMember(displayName: "Bram", relation: .family, roleLabel: "broer")
        let task = try annasCircle.addTask(task: simpleTask("Rijden naar het ziekenhuis"))
        let bramsCircle = try bram.client.importCircle(document: annasCircle.export(), asMember: bramId)
        XCTAssertEqual(bramsCircle.me(), bramId)

        XCTAssertEqual(try bramsCircle.snapshot().tasks.first?.canClaim, true)
        try annasCircle.claimTask(taskId: task)
        try bramsCircle.claimTask(taskId: task)

        XCTAssertEqual(try bramsCircle.merge(document: annasCircle.export()), 1)
        XCTAssertEqual(try annasCircle.merge(document: bramsCircle.export()), 1)
        let seenByAnna = try annasCircle.view()
        XCTAssertEqual(seenByAnna, try bramsCircle.view(), "replicas converge")
        let taskView = try XCTUnwrap(seenByAnna.tasks.first)
        XCTAssertTrue(taskView.overbooked)
        XCTAssertEqual(taskView.claims.count, 2)
        XCTAssertEqual(taskView.claims.filter(\.winner).count, 1)
        let places = try Set([annasCircle, bramsCircle].map { try $0.snapshot().tasks.first?.myPlace })
        XCTAssertEqual(places, [.doing, .tooLate])
        let winner = try XCTUnwrap(taskView.claims.first(where: \.winner)).member
        let loser = winner == bramId ? annasCircle : bramsCircle
        try loser.unclaimTask(taskId: task)
        assertKring("TaskFull") { try loser.claimTask(taskId: task) }
    }

    func testObserversHearMergedAndLocalChangesUntilRemoved() throws {
        let anna = try Device(dir("anna"))
        let bram = try Device(dir("bram"))
        let annasCircle = try anna.client.createCircle(name: "Kring", language: .en, mainPersonName: "Anna")
        let bramId = try annasCircle.addMember(displayName: "Bram", relation: .friend, roleLabel: "")
        let bramsCircle = try bram.client.importCircle(document: annasCircle.export(), asMember: bramId)
        // Observers may read the plan: the handle's locks are released.
        let observer = RecordingObserver { _ = try bramsCircle.view() }
        let id = try bramsCircle.addObserver(observer: observer)

        _ = try annasCircle.addTask(task: simpleTask("Koken op dinsdag"))
        XCTAssertEqual(try bramsCircle.merge(document: annasCircle.export()), 1)
        XCTAssertEqual(observer.heard.map { $0.0 }, [bramsCircle.circleId()])
        XCTAssertEqual(observer.heard.map { $0.1 }, [.remote])
        XCTAssertEqual(try bramsCircle.merge(document: annasCircle.export()), 0, "nothing new")
        XCTAssertEqual(observer.heard.count, 1, "no call without changes")
        _ = try bramsCircle.post(kind: .thanks, text: "Dank je!")
        XCTAssertEqual(observer.heard.last?.1, .local)
        // The same circle opened again is the same handle, with the same observers.
        _ = try bram.client.openCircle(circleId: bramsCircle.circleId()).post(kind: .update, text: "Gedaan")
        XCTAssertEqual(observer.heard.count, 3)
        XCTAssertTrue(try bramsCircle.removeObserver(observerId: id))
        XCTAssertFalse(try bramsCircle.removeObserver(observerId: id))
        _ = try bramsCircle.post(kind: .update, text: "Nog een")
        XCTAssertEqual(observer.heard.count, 3)
    }

    func testAnObserverThatThrowsDoesNotFailTheChange() throws {
        let circle = try Device(dir("anna")).client.createCircle(name: "Kring", language: .nl, mainPersonName: "Anna")
        _ = try circle.addObserver(observer: RecordingObserver { throw KeychainLocked() })
        try circle.setQuestion(question: "Hoe houden we het vol?")
        XCTAssertEqual(try circle.view().plan.question, "Hoe houden we het vol?")
    }

    func testErrorsArriveAsTheRightCasesAndChangeNothing() async throws {
        let client = try Device(dir("anna")).client
        let circle = try client.createCircle(name: "Kring", language: .nl, mainPersonName: "Anna")
        let task = try circle.addTask(task: simpleTask("Boodschappen"))
        try circle.claimTask(taskId: task)
        let before = try circle.export()

        assertKring("AlreadyClaimed") { try circle.claimTask(taskId: task) }
        assertKring("InvalidInput") { try circle.claimTask(taskId: "not-a-task-id") }
        assertKring("InvalidInput") { _ = try circle.addTask(task: simpleTask("   ")) }
        assertKring("InvalidInput") { _ = try circle.addTask(task: simpleTask("Nul", slots: 0)) }
        assertKring("InvalidInput") { _ = try circle.scheduleMeeting(at: inDays(-1), place: "", agenda: "") }
        assertKring("NotFound") { try circle.claimTask(taskId: String(repeating: "0", count: 32)) }
        assertKring("NotFound") { _ = try client.openCircle(circleId: String(repeating: "f", count: 32)) }
        assertKring("NotAllowed") { _ = try circle.setCondition(text: "Alleen professionals") }
        await assertKringAsync("NotAllowed") { try await circle.removeMember(memberId: circle.me()) }
        assertKring("InvalidTransition") { try circle.setPlanStatus(status: .accepted) }
        assertKring("InvalidDocument") { _ = try circle.merge(document: Data([1, 2, 3])) }
        let otherCircle = try client.createCircle(name: "Andere kring", language: .nl, mainPersonName: "Anna")
        assertKring("InvalidDocument") { _ = try circle.merge(document: otherCircle.export()) }
        assertKring("AlreadyExists") { _ = try client.importCircle(document: before, asMember: circle.me()) }
        let stranger = try Device(dir("other")).client
        assertKring("NotFound") {
            _ = try stranger.importCircle(document: before, asMember: String(repeating: "1", count: 32))
        }
        XCTAssertEqual(try circle.export(), before, "rejections changed nothing")

        try circle.unclaimTask(taskId: task)
        assertKring("NotClaimed") { try circle.unclaimTask(taskId: task) }
        try circle.cancelTask(taskId: task)
        assertKring("TaskClosed") { try circle.claimTask(taskId: task) }
        try circle.setPlanStatus(status: .presented)
        assertKring("ApprovalMissing") { try circle.setPlanStatus(status: .accepted) }
    }

    func testEveryPlanOperationWorksThroughTheBindings() async throws {
        let anna = try Device(dir("anna"))
        let circle = try anna.client.createCircle(name: "Kring voor Anna", language: .nl, mainPersonName: "Anna")
        let me = circle.me()
        let bram = try circle.addMember(displayName: "Bram", relation: .family, roleLabel: "broer")
        let eef = try circle.addMember(displayName: "Eef", relation: .professional, roleLabel: "wijkteam")
        try circle.updateMember(memberId: bram, displayName: "Bram de Vries", roleLabel: nil)
        let leaving = try circle.addMember(displayName: "Kees", relation: .neighbour, roleLabel: "")
        // Kees has no device, so this needs no relay (it is async because removing
        // someone with a device does).
        try await circle.removeMember(memberId: leaving)

        try circle.setQuestion(question: "Hoe blijft Anna thuis wonen?")
        let concern = try circle.addToList(list: .concerns, text: "Schulden")
        _ = try circle.addToList(list: .goals, text: "Elke week boodschappen in huis")
        let contingency = try circle.addToList(list: .contingencies, text: "Als Bram niet kan, belt Anna Kees")
        try circle.removeFromList(list: .contingencies, entryId: contingency)
        try circle.setNextReview(at: inDays(30))
        _ = try circle.recordReview(summary: "Eerste maand ging goed", nextReviewAt: inDays(60))

        let weekly = try circle.addTask(task: NewTask(
            title: "Samen koken", notes: "Dinsdagavond", category: .meal, ownerKind: .circle,
            schedule: .weekly(firstAt: inDays(-14), everyWeeks: 1, until: nil), slots: 2, checker: bram
        ))
        let oneOff = try circle.addTask(task: NewTask(
            title: "Formulier invullen", category: .other, ownerKind: .circle, schedule: .due(at: inDays(3))
        ))
        try circle.updateTask(taskId: oneOff, update: TaskUpdate(
            title: "Formulier gemeente invullen", slots: 2, checker: .set(member: bram)
        ))
        try circle.updateTask(taskId: oneOff, update: TaskUpdate(category: .admin, checker: .clear))
        try circle.claimTask(taskId: weekly)
        let completion = try circle.completeTask(taskId: weekly, occurrence: nil, note: "Soep gemaakt")
        try circle.claimTask(taskId: oneOff)
        _ = try circle.completeTask(taskId: oneOff, occurrence: nil, note: "")
        let spare = try circle.addTask(task: simpleTask("Reserve"))
        try circle.cancelTask(taskId: spare)

        let offer = try circle.addOffer(text: "Ik kan op dinsdag rijden", availability: "dinsdag")
        try circle.withdrawOffer(offerId: offer)
        _ = try circle.post(kind: .checkin, text: "Het gaat goed")
        let meeting = try circle.scheduleMeeting(at: inDays(7), place: "Bij Anna thuis", agenda: "Evaluatie")
        try circle.rsvp(meetingId: meeting, answer: .yes)

        let eefsCircle = try Device(dir("eef")).client.importCircle(document: circle.export(), asMember: eef)
        let condition = try eefsCircle.setCondition(text: "De kinderen slapen thuis")
        _ = try circle.merge(document: eefsCircle.export())
        try circle.acceptCondition(conditionId: condition)
        try circle.approvePlan()
        try circle.setPlanStatus(status: .presented)
        try circle.setPlanStatus(status: .accepted)

        let view = try circle.view()
        XCTAssertEqual(view.plan.status, .accepted)
        XCTAssertEqual(view.plan.question, "Hoe blijft Anna thuis wonen?")
        XCTAssertEqual(view.plan.concerns.map(\.id), [concern])
        XCTAssertEqual(view.plan.goals.count, 1)
        XCTAssertTrue(view.plan.contingencies.isEmpty)
        XCTAssertEqual(view.plan.approvals.map(\.member), [me])
        XCTAssertEqual(view.plan.reviews.count, 1)
        XCTAssertGreaterThan(try XCTUnwrap(view.plan.nextReviewAt), inDays(59))
        XCTAssertEqual(view.members.first { $0.id == bram }?.displayName, "Bram de Vries")
        XCTAssertNotNil(view.members.first { $0.id == leaving }?.removedAt)
        let weeklyView = try circle.task(taskId: weekly)
        XCTAssertEqual(weeklyView.checker, bram)
        XCTAssertEqual(weeklyView.completions.map(\.id), [completion])
        XCTAssertNotNil(weeklyView.completions.first?.occurrence, "recurring: per occurrence")
        let oneOffView = try circle.task(taskId: oneOff)
        XCTAssertEqual(oneOffView.title, "Formulier gemeente invullen")
        XCTAssertEqual(oneOffView.category, .admin)
        XCTAssertNil(oneOffView.checker)
        XCTAssertEqual(oneOffView.slots, 2)
        let facts = Dictionary(uniqueKeysWithValues: try circle.snapshot().tasks.map { ($0.taskId, $0) })
        XCTAssertEqual(facts[oneOff]?.isDone, true)
        XCTAssertEqual(facts[weekly]?.isDone, false, "a recurring task is never done as a whole")
        XCTAssertEqual(try circle.task(taskId: spare).status, .cancelled)
        XCTAssertNotNil(view.offers.first?.withdrawnAt)
        XCTAssertEqual(view.log.map(\.kind), [.checkin])
        XCTAssertEqual(view.meetings.first?.rsvps.map(\.answer), [.yes])
        XCTAssertNotNil(view.conditions.first?.acceptedAt)
        XCTAssertEqual(view.conditions.first?.setBy, eef)
    }
}
