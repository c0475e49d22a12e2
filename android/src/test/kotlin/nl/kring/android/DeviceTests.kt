package nl.kring.android

import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import nl.kring.ffi.Capability
import nl.kring.ffi.ExportFormat
import nl.kring.ffi.InviteKind
import nl.kring.ffi.KringException
import nl.kring.ffi.Language
import nl.kring.ffi.LiveState
import nl.kring.ffi.NewTask
import nl.kring.ffi.OwnerKind
import nl.kring.ffi.Relation
import nl.kring.ffi.Schedule
import nl.kring.ffi.Severity
import nl.kring.ffi.SignalKind
import nl.kring.ffi.Standing
import nl.kring.ffi.SyncEvent
import nl.kring.ffi.SyncObserver
import nl.kring.ffi.TaskCategory
import nl.kring.ffi.WeekItemKind
import nl.kring.ffi.describeSignal

/** A [SyncObserver] that records every event. */
class RecordingSyncObserver : SyncObserver {
    val events: MutableList<SyncEvent> = Collections.synchronizedList(mutableListOf())

    override fun onSyncEvent(event: SyncEvent) {
        events += event
    }

    fun states(circle: String): List<LiveState> = synchronized(events) { events.filter { it.circleId == circle }.map { it.state } }
}

fun dueTask(title: String, at: Long, slots: UInt = 1u): NewTask =
    NewTask(
        title = title,
        category = TaskCategory.RIDE,
        ownerKind = OwnerKind.CIRCLE,
        schedule = Schedule.Due(at),
        slots = slots,
        checker = null,
        notes = "",
    )

/** What people look at: the week, the follow-up report, the overview, the exports. */
fun viewTests(): List<TestCase> =
    listOf(
        TestCase("the main person's week, the follow-up report and the coordinator overview are shown through the bindings") {
            withTempDir { dir ->
                val sanne = Device(dir.resolve("sanne"))
                val circle = sanne.client.createCircle("Kring voor Sanne", Language.NL, "Sanne")
                val jan = circle.addMember("Jan", Relation.FAMILY, "broer")
                val ride = circle.addTask(dueTask("Naar de dokter", inDays(1)))
                circle.addTask(dueTask("Boodschappen", inDays(3)))

                // "My plan this week", in the circle's language by default.
                val week = circle.myWeek()
                assertEquals("Je plan deze week", week.heading)
                assertEquals(Language.NL, week.language)
                assertEquals(2, week.items.size, "$week")
                assertEquals(2u, week.openCount, "nobody has said yes yet")
                val first = week.items.first()
                assertTrue("Naar de dokter" in first.sentence, first.sentence)
                val kind = assertIs<WeekItemKind.Task>(first.kind)
                assertEquals(ride, kind.task)
                // And in English when asked.
                assertEquals("Your plan this week", circle.myWeek(Language.EN).heading)

                // The follow-up report: both tasks are unclaimed and due soon.
                val report = circle.followupReport()
                assertEquals(circle.circleId(), report.circle)
                assertEquals("Kring voor Sanne", report.circleName)
                assertEquals("Europe/Amsterdam", report.timezone)
                val unclaimed = report.signals.map { it.kind }.filterIsInstance<SignalKind.UnclaimedTask>()
                assertEquals(setOf("Naar de dokter", "Boodschappen"), unclaimed.map { it.title }.toSet(), "${report.signals}")
                val urgent = report.signals.first()
                assertEquals(Severity.URGENT, urgent.severity, "due tomorrow and nobody on it")
                assertTrue("Naar de dokter" in describeSignal(urgent, Language.NL, report.timezone), describeSignal(urgent, Language.NL, report.timezone))

                // Once someone says yes, the signal goes and the week counts one open.
                circle.claimTask(ride)
                val after = circle.followupReport()
                assertFalse(after.signals.any { (it.kind as? SignalKind.UnclaimedTask)?.task == ride })
                assertEquals(1u, circle.myWeek().openCount)
                assertNotNull(jan)

                // The coordinator's overview across circles, most urgent first.
                val quiet = sanne.client.createCircle("Rustige kring", Language.EN, "Sanne")
                val overview = sanne.client.coordinatorOverview()
                assertEquals(listOf(circle.circleId(), quiet.circleId()), overview.circles.map { it.circle })
                assertTrue(overview.items.isNotEmpty() && overview.items.all { it.circle == circle.circleId() })
            }
        },
        TestCase("the exports come as Markdown and HTML bytes, in Dutch or English, with what people wrote escaped") {
            withTempDir { dir ->
                val sanne = Device(dir.resolve("sanne"))
                val circle = sanne.client.createCircle("Kring voor Sanne", Language.NL, "Sanne")
                circle.setQuestion("Hoe blijf ik <thuis> wonen?")
                circle.addTask(dueTask("Naar de dokter", inDays(2)))
                val md = circle.exportText(ExportFormat.MARKDOWN).decodeToString()
                assertTrue(md.startsWith("# "), md.take(80))
                assertTrue("Kring voor Sanne" in md && "Naar de dokter" in md, md)
                val html = circle.exportText(ExportFormat.HTML, Language.EN).decodeToString()
                assertTrue("<html" in html, html.take(200))
                assertTrue("&lt;thuis&gt;" in html, "escaped")
                assertFalse("<thuis>" in html)
                assertTrue(circle.exportText(ExportFormat.HTML, Language.NL).decodeToString() != html, "the language changes the page")
            }
        },
    )

/** Links, a person's other devices and live state, through the real relay. */
fun deviceTests(): List<TestCase> =
    listOf(
        TestCase("a link is previewed before joining: circle, who sent it, capability; a bad link is InvalidInput") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val link = c.annas.invite(Capability.READER, inDays(2))
                val carl = Device(dir.resolve("carl"))
                val preview = carl.client.previewLink(link)
                assertEquals(InviteKind.PERSON, preview.kind)
                assertEquals(c.annas.circleId(), preview.circle)
                assertEquals("Kring voor Anna", preview.circleName)
                assertEquals("Anna", preview.inviterName)
                assertEquals(Capability.READER, preview.capability)
                assertFalse(preview.expired)
                assertFalse(preview.alreadyHere)
                assertTrue(c.bram.client.previewLink(link).alreadyHere)
                assertKring<KringException.InvalidInput> { carl.client.previewLink("kring://invite/nonsense") }
                assertTrue(carl.client.circles().isEmpty(), "a preview stores nothing")
            }
        },
        TestCase("used, expired and revoked invites each arrive as their own exception type, with nothing stored") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val carl = Device(dir.resolve("carl"))
                // Expired: made to expire in a moment, used after.
                val shortLived = c.annas.invite(Capability.MEMBER, System.currentTimeMillis() + 1_000)
                await { c.annas.sync() }
                Thread.sleep(1_500)
                assertKring<KringException.InviteExpired> { await { carl.client.join(shortLived, "Carl", Relation.FRIEND) } }
                // Revoked: made before someone was removed.
                val before = c.annas.invite(Capability.MEMBER, inDays(2))
                await { c.annas.removeMember(c.brams.me()) }
                assertKring<KringException.InviteRevoked> { await { carl.client.join(before, "Carl", Relation.FRIEND) } }
                assertTrue(carl.client.circles().isEmpty() && carl.client.pendingJoins().isEmpty())
                // Used: a fresh one works once.
                val fresh = c.annas.invite(Capability.MEMBER, inDays(2))
                await { carl.client.join(fresh, "Carl", Relation.FRIEND) }
                val dirk = Device(dir.resolve("dirk"))
                assertKring<KringException.InviteUsed> { await { dirk.client.join(fresh, "Dirk", Relation.FRIEND) } }
                assertTrue(dirk.client.circles().isEmpty())
            }
        },
        TestCase("a second device of the same person sees the same plan, writes as that person, and a lost one is cut off") {
            withTempDir { dir ->
                val phone = Device(dir.resolve("phone"))
                val annas = phone.client.createCircle("Kring voor Anna", Language.NL, "Anna", relayUrl)
                annas.addTask(simpleTask("Boodschappen"))
                val link = annas.deviceLink()
                assertTrue(link.startsWith("kring://device/"), link)
                await { annas.sync() }

                val tablet = Device(dir.resolve("tablet"))
                assertEquals(InviteKind.DEVICE, tablet.client.previewLink(link).kind)
                // A device link is not an invite for a new person.
                assertKring<KringException.NotAllowed> { await { tablet.client.join(link, "Anna", Relation.FAMILY) } }
                val joined = await { tablet.client.addDevice(link) }
                assertTrue(joined.planArrived)
                val onTablet = tablet.client.openCircle(joined.circleId)
                assertEquals(annas.me(), onTablet.me(), "the same person, not a second Anna")
                assertEquals(annas.view(), onTablet.view(), "the same plan")
                assertEquals(Standing.Writer(Capability.OWNER), onTablet.status().standing)

                val task = onTablet.addTask(simpleTask("Koken"))
                await { onTablet.sync() }
                await { annas.sync() }
                assertTrue(annas.view().tasks.any { it.id == task })
                assertEquals(1, annas.view().members.size)
                // One use only.
                val other = Device(dir.resolve("other"))
                assertKring<KringException.InviteUsed> { await { other.client.addDevice(link) } }

                val devices = annas.devices()
                assertEquals(2, devices.size)
                val tabletId = devices.single { !it.thisDevice }.id
                assertEquals(tablet.client.deviceId(), tabletId)
                assertKring<KringException.NotAllowed> { await { annas.removeDevice(phone.client.deviceId()) } }
                val epoch = annas.status().epoch!!
                await { annas.removeDevice(tabletId) }
                assertEquals(epoch + 1uL, annas.status().epoch)
                annas.addTask(simpleTask("Na het verlies"))
                await { annas.sync() }
                assertKring<KringException.NotAllowed> { await { onTablet.sync() } }
                // The lost tablet erased the circle when it learned it was removed.
                assertTrue(tablet.client.circles().isEmpty())
                assertKring<KringException.NotFound> { onTablet.view() }
                assertKring<KringException.NotFound> { onTablet.addTask(simpleTask("Nog iets")) }
            }
        },
        TestCase("a new phone with the recovery code becomes the owner, removes a member, and the old phone is cut off") {
            withTempDir { dir ->
                val oldPhone = Device(dir.resolve("old"))
                val created = oldPhone.client.createCircleWithRecovery("Kring voor Anna", Language.NL, "Anna", relayUrl)
                val words = created.recoveryCode.split(" ")
                assertEquals(12, words.size, created.recoveryCode)
                val annas = oldPhone.client.openCircle(created.circleId)
                annas.addTask(simpleTask("Boodschappen"))
                await { annas.sync() }
                val bram = Device(dir.resolve("bram"))
                val joined = await { bram.client.join(annas.invite(Capability.MEMBER, inDays(1)), "Bram", Relation.FAMILY) }
                val brams = bram.client.openCircle(joined.circleId)
                await { annas.sync() }

                val newPhone = Device(dir.resolve("new"))
                // Badly typed words, and a code of nobody in this circle: nothing stored.
                assertKring<KringException.InvalidInput> { await { newPhone.client.recover(created.circleId, relayUrl, "een twee drie") } }
                val strangers = Device(dir.resolve("stranger")).client.createCircleWithRecovery("Andere kring", Language.EN, "Zoe")
                assertKring<KringException.RecoveryRefused> {
                    await { newPhone.client.recover(created.circleId, relayUrl, strangers.recoveryCode) }
                }
                assertTrue(newPhone.client.circles().isEmpty())

                // The old phone is gone; the words bring Anna back on the new one.
                val recovered = await { newPhone.client.recover(created.circleId, relayUrl, created.recoveryCode.uppercase()) }
                assertTrue(oldPhone.client.deviceId() in recovered.removedDevices)
                val onNew = newPhone.client.openCircle(created.circleId)
                assertEquals(annas.me(), onNew.me())
                assertEquals(Standing.Writer(Capability.OWNER), onNew.status().standing)
                assertTrue(onNew.view().tasks.any { it.title == "Boodschappen" })
                // As the owner she removes a member (admins and the owner only).
                await { onNew.removeMember(brams.me()) }
                assertKring<KringException.NotAllowed> { await { brams.sync() } }
                // The old phone is cut off, and the code is spent.
                assertKring<KringException.NotAllowed> { await { annas.sync() } }
                assertTrue(oldPhone.client.circles().isEmpty(), "the old phone erased the circle")
                val thief = Device(dir.resolve("thief"))
                assertKring<KringException.RecoveryRefused> { await { thief.client.recover(created.circleId, relayUrl, created.recoveryCode) } }
                // A new code for next time.
                assertEquals(12, await { onNew.setupRecovery() }.split(" ").size)
                assertEquals(1, onNew.devices().count { it.recoveryCode })
            }
        },
        TestCase("a sync observer hears syncing and synced, connected in live mode, and error with the relay gone") {
            withTempDir { dir ->
                Relay().use { relay ->
                    val anna = Device(dir.resolve("anna"))
                    val circle = anna.client.createCircle("Kring voor Anna", Language.NL, "Anna", relay.url)
                    val observer = RecordingSyncObserver()
                    val id = anna.client.addSyncObserver(observer)
                    await { circle.sync() }
                    assertEquals(listOf(LiveState.SYNCING, LiveState.SYNCED), observer.states(circle.circleId()))
                    anna.client.startWatching()
                    eventually("connected") { LiveState.CONNECTED in observer.states(circle.circleId()) }
                    relay.close()
                    eventually("disconnected") { LiveState.DISCONNECTED in observer.states(circle.circleId()) }
                    val gone = synchronized(observer.events) { observer.events.last { it.state == LiveState.DISCONNECTED } }
                    assertNotNull(gone.error)
                    assertNotNull(gone.retryInMillis)
                    anna.client.stopWatching()
                    val before = observer.states(circle.circleId()).size
                    assertKring<KringException.Network> { await { circle.sync() } }
                    val after = observer.states(circle.circleId()).drop(before)
                    assertTrue(LiveState.SYNCING in after && LiveState.ERROR in after, "$after")
                    assertTrue(anna.client.removeSyncObserver(id))
                    assertFalse(anna.client.removeSyncObserver(id))
                }
            }
        },
    )
