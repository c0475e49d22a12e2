package nl.kring.android

import java.util.Collections
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import nl.kring.ffi.ChangeOrigin
import nl.kring.ffi.CheckerUpdate
import nl.kring.ffi.CircleId
import nl.kring.ffi.KringClient
import nl.kring.ffi.KringException
import nl.kring.ffi.Designation
import nl.kring.ffi.Language
import nl.kring.ffi.LogKind
import nl.kring.ffi.MyPlace
import nl.kring.ffi.NewTask
import nl.kring.ffi.OwnerKind
import nl.kring.ffi.PlanList
import nl.kring.ffi.PlanObserver
import nl.kring.ffi.PlanStatus
import nl.kring.ffi.Relation
import nl.kring.ffi.Rsvp
import nl.kring.ffi.Schedule
import nl.kring.ffi.TaskCategory
import nl.kring.ffi.TaskStatus
import nl.kring.ffi.TaskUpdate

private const val DEVICE_SECRET = "device"

/** The user journeys through the generated bindings, against the host cdylib. */
fun ffiTests(): List<TestCase> =
    listOf(
        TestCase("create a circle, add and claim a task; it is still there after reopening") {
            withTempDir { dir ->
                val device = Device(dir)
                val (circleId, taskId) =
                    device.client.use { client ->
                        assertTrue(client.circles().isEmpty())
                        val circle = client.createCircle("Kring voor Anna", Language.NL, "Anna")
                        val task = circle.addTask(simpleTask("Boodschappen doen", slots = 2u))
                        circle.claimTask(task)
                        val view = circle.view()
                        assertEquals("Kring voor Anna", view.circle.name)
                        assertEquals(circle.me(), view.circle.mainPerson)
                        assertEquals(listOf("Anna"), view.members.map { it.displayName })
                        val claims = view.tasks.single().claims
                        assertEquals(listOf(circle.me()), claims.map { it.member })
                        assertTrue(claims.single().winner)
                        val facts = circle.snapshot().tasks.single()
                        assertEquals(MyPlace.DOING, facts.myPlace)
                        assertEquals(1u, facts.freeSlots)
                        assertFalse(facts.canClaim)
                        circle.circleId() to task
                    }
                // A new client on the same directory: every call was durable when it returned.
                KringClient.open(dir.path, device.secrets).use { client ->
                    assertEquals(listOf(circleId), client.circles().map { it.id })
                    val task = client.openCircle(circleId).task(taskId)
                    assertEquals("Boodschappen doen", task.title)
                    assertEquals(1, task.claims.size)
                }
            }
        },
        TestCase("the Kotlin SecretStore holds the device identity and the store's key") {
            withTempDir { dir ->
                val secrets = RecordingSecretStore()
                val first = KringClient.open(dir.resolve("a").path, secrets)
                assertEquals(
                    listOf("get $DEVICE_SECRET", "put $DEVICE_SECRET", "get store-key", "put store-key"),
                    secrets.calls.toList(),
                )
                // The local store is encrypted at rest with a 256-bit key kept only here.
                assertEquals(32, secrets.secrets.getValue("store-key").size)
                // Core's device identity: version byte, ed25519 seed, X25519 secret.
                assertEquals(65, secrets.secrets.getValue(DEVICE_SECRET).size)
                // The device id is the ed25519 verifying key (and the automerge actor id).
                assertTrue(Regex("[0-9a-f]{64}").matches(first.deviceId()), first.deviceId())

                secrets.calls.clear()
                val again = KringClient.open(dir.resolve("a").path, secrets)
                assertEquals(listOf("get $DEVICE_SECRET", "get store-key"), secrets.calls.toList(), "read back, not replaced")
                assertEquals(first.deviceId(), again.deviceId())

                // The keystore is the source of truth: a new data directory (app data cleared,
                // keystore kept) keeps the device's identity.
                val fresh = KringClient.open(dir.resolve("b").path, secrets)
                assertEquals(first.deviceId(), fresh.deviceId())
                // Another device (another keystore) is someone else.
                val other = KringClient.open(dir.resolve("c").path, RecordingSecretStore())
                assertNotEquals(first.deviceId(), other.deviceId())
                listOf(first, again, fresh, other).forEach { it.close() }
            }
        },
        TestCase("a failing or foreign SecretStore surfaces as KringException") {
            withTempDir { dir ->
                val locked = assertKring<KringException.SecretStore> {
                    KringClient.open(dir.path, FailingSecretStore { IllegalStateException("keystore locked") })
                }
                assertTrue("keystore locked" in locked.reason, locked.reason)
                // Whatever the app's store throws, it is the store that failed.
                val full = assertKring<KringException.SecretStore> {
                    KringClient.open(dir.path, FailingSecretStore { KringException.Storage("disk full") })
                }
                assertTrue("disk full" in full.reason, full.reason)
                val garbage = RecordingSecretStore().apply { secrets[DEVICE_SECRET] = byteArrayOf(1, 2, 3) }
                assertKring<KringException.SecretStore> { KringClient.open(dir.path, garbage) }
                assertKring<KringException.InvalidInput> { KringClient.open(" ", RecordingSecretStore()) }
            }
        },
        TestCase("two file copies claim the last place offline; after exchanging, both agree who has it") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val bram = Device(dir.resolve("bram"))
                val carl = Device(dir.resolve("carl"))
                val annasCircle = anna.client.createCircle("Kring voor Anna", Language.NL, "Anna")
                val bramId = annasCircle.addMember("Bram", Relation.FAMILY, "broer")
                val carlId = annasCircle.addMember("Carl", Relation.FRIEND, "")
                val task = annasCircle.addTask(simpleTask("Rijden naar het ziekenhuis"))
                val bramsCircle = bram.client.importCircle(annasCircle.export(), bramId)
                val carlsCircle = carl.client.importCircle(annasCircle.export(), carlId)
                assertEquals(bramId, bramsCircle.me())
                assertNotEquals(anna.client.deviceId(), bram.client.deviceId())

                // Both offline: each sees a free place and takes it.
                assertTrue(bramsCircle.snapshot().tasks.single().canClaim)
                carlsCircle.claimTask(task)
                bramsCircle.claimTask(task)

                assertEquals(1u, bramsCircle.merge(carlsCircle.export()))
                assertEquals(1u, carlsCircle.merge(bramsCircle.export()))
                val seenByBram = bramsCircle.view()
                assertEquals(seenByBram, carlsCircle.view(), "replicas converge")
                val taskView = seenByBram.tasks.single()
                assertTrue(taskView.overbooked)
                assertEquals(2, taskView.claims.size)
                assertEquals(1, taskView.claims.count { it.winner })
                val places = listOf(carlsCircle, bramsCircle).map { it.snapshot().tasks.single().myPlace }.toSet()
                assertEquals(setOf(MyPlace.DOING, MyPlace.TOO_LATE), places)
                // The loser now gets "already taken" from core, not a silent success.
                val loser = if (taskView.claims.first { it.winner }.member == bramId) carlsCircle else bramsCircle
                loser.unclaimTask(task)
                assertKring<KringException.TaskFull> { loser.claimTask(task) }
                // Anna's circle has a membership log: an unsigned file never gets in.
                assertKring<KringException.NotAllowed> { annasCircle.merge(bramsCircle.export()) }
            }
        },
        TestCase("observers hear about merged and local changes, once per change, until removed") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val bram = Device(dir.resolve("bram"))
                val annasCircle = anna.client.createCircle("Kring", Language.EN, "Anna")
                val bramId = annasCircle.addMember("Bram", Relation.FRIEND, "")
                val bramsCircle = bram.client.importCircle(annasCircle.export(), bramId)
                val heard = Collections.synchronizedList(mutableListOf<Pair<CircleId, ChangeOrigin>>())
                val observer =
                    object : PlanObserver {
                        override fun onPlanChanged(circleId: CircleId, origin: ChangeOrigin) {
                            // Observers may read the plan: the handle's locks are released.
                            bramsCircle.view()
                            heard += circleId to origin
                        }
                    }
                val id = bramsCircle.addObserver(observer)
                annasCircle.addTask(simpleTask("Koken op dinsdag"))
                assertEquals(1u, bramsCircle.merge(annasCircle.export()))
                assertEquals(listOf(bramsCircle.circleId() to ChangeOrigin.REMOTE), heard.toList())
                assertEquals(0u, bramsCircle.merge(annasCircle.export()), "nothing new")
                assertEquals(1, heard.size, "no call without changes")
                bramsCircle.post(LogKind.THANKS, "Dank je!")
                assertEquals(ChangeOrigin.LOCAL, heard.last().second)
                // The same circle opened again is the same handle, with the same observers.
                bram.client.openCircle(bramsCircle.circleId()).post(LogKind.UPDATE, "Gedaan")
                assertEquals(3, heard.size)
                assertTrue(bramsCircle.removeObserver(id))
                assertFalse(bramsCircle.removeObserver(id))
                bramsCircle.post(LogKind.UPDATE, "Nog een")
                assertEquals(3, heard.size)
            }
        },
        TestCase("an observer that throws does not fail the change") {
            withTempDir { dir ->
                val circle = Device(dir).client.createCircle("Kring", Language.NL, "Anna")
                circle.addObserver(
                    object : PlanObserver {
                        override fun onPlanChanged(circleId: CircleId, origin: ChangeOrigin): Unit =
                            throw IllegalStateException("screen gone")
                    },
                )
                circle.setQuestion("Hoe houden we het vol?")
                assertEquals("Hoe houden we het vol?", circle.view().plan.question)
            }
        },
        TestCase("errors arrive as the right KringException types and change nothing") {
            withTempDir { dir ->
                val client = Device(dir).client
                val circle = client.createCircle("Kring", Language.NL, "Anna")
                val task = circle.addTask(simpleTask("Boodschappen"))
                circle.claimTask(task)
                val before = circle.export()

                assertKring<KringException.AlreadyClaimed> { circle.claimTask(task) }
                assertKring<KringException.InvalidInput> { circle.claimTask("not-a-task-id") }
                assertKring<KringException.InvalidInput> { circle.addTask(simpleTask("   ")) }
                assertKring<KringException.InvalidInput> { circle.addTask(simpleTask("Nul", slots = 0u)) }
                assertKring<KringException.InvalidInput> { circle.scheduleMeeting(inDays(-1), "", "") }
                assertKring<KringException.NotFound> { circle.claimTask("0".repeat(32)) }
                assertKring<KringException.NotFound> { client.openCircle("f".repeat(32)) }
                assertKring<KringException.NotAllowed> { circle.setCondition("Alleen professionals") }
                assertKring<KringException.NotAllowed> { await { circle.removeMember(circle.me()) } }
                assertKring<KringException.InvalidTransition> { circle.setPlanStatus(PlanStatus.ACCEPTED) }
                // A circle with a membership log takes no unsigned files at all.
                assertKring<KringException.NotAllowed> { circle.merge(byteArrayOf(1, 2, 3)) }
                val otherCircle = client.createCircle("Andere kring", Language.NL, "Anna")
                assertKring<KringException.NotAllowed> { circle.merge(otherCircle.export()) }
                assertKring<KringException.AlreadyExists> { client.importCircle(before, circle.me()) }
                assertKring<KringException.NotFound> { Device(dir.resolve("other")).client.importCircle(before, "1".repeat(32)) }
                assertContentEquals(before, circle.export(), "rejections changed nothing")

                circle.unclaimTask(task)
                assertKring<KringException.NotClaimed> { circle.unclaimTask(task) }
                circle.cancelTask(task)
                assertKring<KringException.TaskClosed> { circle.claimTask(task) }
                circle.setPlanStatus(PlanStatus.PRESENTED)
                assertKring<KringException.ApprovalMissing> { circle.setPlanStatus(PlanStatus.ACCEPTED) }
                val full = assertKring<KringException.InvalidInput> { circle.claimTask("x") }
                assertTrue(full.reason.isNotBlank() && full.message!!.contains(full.reason))
            }
        },
        TestCase("every plan operation works through the bindings") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val circle = anna.client.createCircle("Kring voor Anna", Language.NL, "Anna")
                val me = circle.me()
                // Members.
                val bram = circle.addMember("Bram", Relation.FAMILY, "broer")
                val eef = circle.addMember("Eef", Relation.PROFESSIONAL, "wijkteam")
                circle.updateMember(bram, "Bram de Vries", null)
                val leaving = circle.addMember("Kees", Relation.NEIGHBOUR, "")
                // Kees has no device, so this needs no relay (it is `suspend` because
                // removing someone with a device does).
                await { circle.removeMember(leaving) }
                // The plan section.
                circle.setQuestion("Hoe blijft Anna thuis wonen?")
                val concern = circle.addToList(PlanList.CONCERNS, "Schulden")
                circle.addToList(PlanList.GOALS, "Elke week boodschappen in huis")
                val contingency = circle.addToList(PlanList.CONTINGENCIES, "Als Bram niet kan, belt Anna Kees")
                circle.removeFromList(PlanList.CONTINGENCIES, contingency)
                circle.setNextReview(inDays(30))
                circle.recordReview("Eerste maand ging goed", inDays(60))
                // Tasks.
                val weekly =
                    circle.addTask(
                        NewTask(
                            title = "Samen koken",
                            notes = "Dinsdagavond",
                            category = TaskCategory.MEAL,
                            ownerKind = OwnerKind.CIRCLE,
                            schedule = Schedule.Weekly(firstAt = inDays(-14), everyWeeks = 1u, until = null),
                            slots = 2u,
                            checker = bram,
                        ),
                    )
                val oneOff = circle.addTask(simpleTask("Formulier invullen").copy(schedule = Schedule.Due(inDays(3))))
                circle.updateTask(
                    oneOff,
                    TaskUpdate(title = "Formulier gemeente invullen", slots = 2u, checker = CheckerUpdate.Set(bram)),
                )
                circle.updateTask(oneOff, TaskUpdate(category = TaskCategory.ADMIN, checker = CheckerUpdate.Clear))
                circle.claimTask(weekly)
                val completion = circle.completeTask(weekly, null, "Soep gemaakt")
                circle.claimTask(oneOff)
                circle.completeTask(oneOff, null, "")
                val spare = circle.addTask(simpleTask("Reserve"))
                circle.cancelTask(spare)
                // Offers, log, meetings.
                val offer = circle.addOffer("Ik kan op dinsdag rijden", "dinsdag")
                circle.withdrawOffer(offer)
                circle.post(LogKind.CHECKIN, "Het gaat goed")
                val meeting = circle.scheduleMeeting(inDays(7), "Bij Anna thuis", "Evaluatie")
                circle.rsvp(meeting, Rsvp.YES)
                // Calling oneself a professional grants nothing: Anna marks Eef as one
                // (Eef's condition comes from Eef's device: see the sync tests).
                circle.designate(eef, Designation.PROFESSIONAL)
                circle.approvePlan()
                circle.setPlanStatus(PlanStatus.PRESENTED)
                circle.setPlanStatus(PlanStatus.ACCEPTED)

                val view = circle.view()
                assertEquals(PlanStatus.ACCEPTED, view.plan.status)
                assertEquals("Hoe blijft Anna thuis wonen?", view.plan.question)
                assertEquals(listOf(concern), view.plan.concerns.map { it.id })
                assertEquals(1, view.plan.goals.size)
                assertTrue(view.plan.contingencies.isEmpty())
                assertEquals(listOf(me), view.plan.approvals.map { it.member })
                assertEquals(1, view.plan.reviews.size)
                assertTrue(view.plan.nextReviewAt!! > inDays(59))
                assertEquals("Bram de Vries", view.members.first { it.id == bram }.displayName)
                assertTrue(view.members.first { it.id == leaving }.removedAt != null)
                val weeklyView = circle.task(weekly)
                assertEquals(bram, weeklyView.checker)
                assertTrue(weeklyView.schedule is Schedule.Weekly)
                assertEquals(completion, weeklyView.completions.single().id)
                assertTrue(weeklyView.completions.single().occurrence != null, "recurring: per occurrence")
                val oneOffView = circle.task(oneOff)
                assertEquals("Formulier gemeente invullen", oneOffView.title)
                assertEquals(TaskCategory.ADMIN, oneOffView.category)
                assertNull(oneOffView.checker)
                assertEquals(2u, oneOffView.slots)
                val facts = circle.snapshot().tasks.associateBy { it.taskId }
                assertTrue(facts.getValue(oneOff).isDone)
                assertFalse(facts.getValue(weekly).isDone, "a recurring task is never done as a whole")
                assertEquals(TaskStatus.CANCELLED, circle.task(spare).status)
                assertTrue(view.offers.single().withdrawnAt != null)
                assertEquals(LogKind.CHECKIN, view.log.single().kind)
                assertEquals(Rsvp.YES, view.meetings.single().rsvps.single().answer)
                assertEquals(Designation.PROFESSIONAL, view.members.first { it.id == eef }.designation)
                assertNull(view.members.first { it.id == bram }.designation)
            }
        },
    )
