package nl.kring.android

import java.io.File
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import nl.kring.ffi.Capability
import nl.kring.ffi.ChangeOrigin
import nl.kring.ffi.CircleHandle
import nl.kring.ffi.Connectivity
import nl.kring.ffi.KringException
import nl.kring.ffi.Language
import nl.kring.ffi.Designation
import nl.kring.ffi.FamilyTimeChange
import nl.kring.ffi.HandoverFormat
import nl.kring.ffi.InviteState
import nl.kring.ffi.LogKind
import nl.kring.ffi.MyPlace
import nl.kring.ffi.NewsKind
import nl.kring.ffi.PlanStatus
import nl.kring.ffi.Relation
import nl.kring.ffi.Standing

/**
 * Anna's circle on [relay], and Bram in it through an invite: two clients, each with
 * its own data directory and secret store, meeting only through the relay.
 */
class TwoDevices(dir: File, relay: String = relayUrl, bramsCapability: Capability = Capability.MEMBER) {
    val anna = Device(dir.resolve("anna"))
    val bram = Device(dir.resolve("bram"))
    val annas: CircleHandle = anna.client.createCircle("Kring voor Anna", Language.NL, "Anna", relay)
    val brams: CircleHandle

    init {
        val link = annas.invite(bramsCapability, inDays(7))
        // The circle must be on the relay before the link is used.
        await { annas.sync() }
        val joined = await { bram.client.join(link, "Bram", Relation.FAMILY) }
        assertTrue(joined.planArrived, "the plan came with the join")
        brams = bram.client.openCircle(joined.circleId)
    }
}

/** The journeys through a real relay (kring-server, started by scripts/kotlin-tests.sh). */
fun syncTests(): List<TestCase> =
    listOf(
        TestCase("invite and join through the relay: two clients with their own data directories share one plan") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val bram = Device(dir.resolve("bram"))
                val annas = anna.client.createCircle("Kring voor Anna", Language.NL, "Anna", relayUrl)
                assertEquals(Connectivity.NOT_SYNCED, annas.status().connectivity)
                annas.addTask(simpleTask("Boodschappen"))
                val link = annas.invite(Capability.MEMBER, inDays(7))
                assertTrue(link.startsWith("kring://invite/"), link)
                val first = await { annas.sync() }
                assertTrue(first.pushed >= 1u, "$first")
                val status = annas.status()
                assertEquals(Connectivity.ONLINE, status.connectivity)
                assertEquals(0uL, status.pending)
                assertEquals(relayUrl, status.relayUrl)
                assertNotNull(status.lastSyncedAt)
                assertEquals(Standing.Writer(Capability.OWNER), status.standing)

                val joined = await { bram.client.join(link, "Bram", Relation.FAMILY) }
                assertEquals(annas.circleId(), joined.circleId)
                assertTrue(joined.planArrived)
                assertEquals(listOf(annas.circleId()), bram.client.circles().map { it.id })
                assertTrue(bram.client.pendingJoins().isEmpty())
                val brams = bram.client.openCircle(joined.circleId)
                assertEquals(listOf("Boodschappen"), brams.view().tasks.map { it.title })
                assertEquals(Standing.Writer(Capability.MEMBER), brams.status().standing)
                assertEquals("Bram", brams.view().members.first { it.id == brams.me() }.displayName)

                // Bram's own member record reaches Anna with her next sync.
                val heard = RecordingObserver()
                annas.addObserver(heard)
                val report = await { annas.sync() }
                assertTrue(report.appliedChanges > 0u, "$report")
                assertEquals(listOf(annas.circleId() to ChangeOrigin.REMOTE), heard.heard.toList())
                assertEquals(setOf("Anna", "Bram"), annas.view().members.map { it.displayName }.toSet())
                assertEquals(annas.view(), brams.view(), "one plan")

                // The link was for one person: the relay says so with its own code
                // (`invite_used`), which arrives as its own exception type.
                val carl = Device(dir.resolve("carl"))
                val used = assertKring<KringException.InviteUsed> { await { carl.client.join(link, "Carl", Relation.FRIEND) } }
                assertTrue("already redeemed" in used.reason, used.reason)
                assertTrue(carl.client.circles().isEmpty() && carl.client.pendingJoins().isEmpty())
                assertKring<KringException.AlreadyExists> { await { bram.client.join(link, "Bram", Relation.FAMILY) } }

                // Added by name before she had a phone, invited by name: one Dana.
                val dana = annas.addMember("Dana", Relation.FRIEND, "buurvrouw")
                val forDana = annas.inviteFor(dana, Capability.MEMBER, inDays(7))
                await { annas.sync() }
                val danas = Device(dir.resolve("dana"))
                val danaJoined = await { danas.client.join(forDana, "", Relation.OTHER) }
                val danasCircle = danas.client.openCircle(danaJoined.circleId)
                assertEquals(dana, danasCircle.me())
                await { annas.sync() }
                assertEquals(1, annas.view().members.count { it.displayName == "Dana" })
                assertEquals("buurvrouw", annas.view().members.first { it.id == dana }.roleLabel)
                assertKring<KringException.AlreadyExists> { annas.inviteFor(dana, Capability.MEMBER, inDays(7)) }

                // A link sent to the wrong person is taken back; nobody joins with it.
                val wrong = annas.invite(Capability.READER, inDays(2))
                await { annas.sync() }
                val open = annas.invites().single { it.state == InviteState.OPEN }
                assertEquals(Capability.READER, open.capability)
                assertTrue(annas.invites().count { it.state == InviteState.USED } >= 2)
                await { annas.revokeInvite(open.id) }
                assertEquals(InviteState.REVOKED, annas.invites().single { it.id == open.id }.state)
                val erin = Device(dir.resolve("erin"))
                assertKring<KringException.InviteRevoked> { await { erin.client.join(wrong, "Erin", Relation.FRIEND) } }
                assertTrue(erin.client.circles().isEmpty())
            }
        },
        TestCase("two clients claim the last place offline through the relay; after syncing both see the same winner") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val task = c.annas.addTask(simpleTask("Rijden naar het ziekenhuis"))
                await { c.annas.sync() }
                await { c.brams.sync() }
                assertTrue(c.brams.snapshot().tasks.single().canClaim)

                // Both offline (no sync in between): each sees a free place and takes it.
                c.annas.claimTask(task)
                c.brams.claimTask(task)
                assertEquals(1uL, c.annas.status().pending, "the claim waits in the outbox")
                assertEquals(1uL, c.brams.status().pending)

                await { c.annas.sync() }
                // Bram's claim came later: his sync tells him at once that he waits.
                val told = await { c.brams.sync() }.standing
                assertEquals(listOf(NewsKind.WAITLISTED), told.map { it.kind }, "$told")
                assertTrue("Jij staat op de wachtlijst" in told.single().text, told.single().text)
                assertTrue(await { c.annas.sync() }.standing.isEmpty(), "the winner is told nothing")
                val seenByAnna = c.annas.view()
                assertEquals(seenByAnna, c.brams.view(), "replicas converge through the relay")
                val taskView = seenByAnna.tasks.single()
                assertTrue(taskView.overbooked)
                assertEquals(2, taskView.claims.size)
                assertEquals(1, taskView.claims.count { it.winner })
                val places = listOf(c.annas, c.brams).map { it.snapshot().tasks.single().myPlace }.toSet()
                assertEquals(setOf(MyPlace.DOING, MyPlace.TOO_LATE), places)
                listOf(c.annas, c.brams).forEach { assertEquals(0uL, it.status().pending, "everything sent") }
                // The loser gets "already taken" from core from now on.
                val winner = taskView.claims.first { it.winner }.member
                val loser = if (winner == c.brams.me()) c.annas else c.brams
                loser.unclaimTask(task)
                assertKring<KringException.TaskFull> { loser.claimTask(task) }
            }
        },
        TestCase("the observer fires REMOTE when sync brings another device's change, and not when nothing came") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val heard = RecordingObserver()
                c.brams.addObserver(heard)
                await { c.brams.sync() }
                assertTrue(heard.heard.isEmpty(), "nothing new, no call")

                c.annas.post(LogKind.UPDATE, "Morgen is de afspraak")
                await { c.annas.sync() }
                val report = await { c.brams.sync() }
                assertTrue(report.appliedChanges > 0u, "$report")
                assertEquals(listOf(c.brams.circleId() to ChangeOrigin.REMOTE), heard.heard.toList())
                assertEquals("Morgen is de afspraak", c.brams.view().log.single().text)
                await { c.brams.sync() }
                assertEquals(1, heard.heard.size)

                // syncAll tells the same observers.
                c.annas.post(LogKind.THANKS, "Dank je")
                await { c.annas.sync() }
                val all = await { c.bram.client.syncAll() }
                assertEquals(listOf(c.brams.circleId()), all.map { it.circleId })
                assertNull(all.single().error)
                assertTrue(all.single().report!!.appliedChanges > 0u)
                assertEquals(2, heard.remote())
            }
        },
        TestCase("live mode: another device's change reaches the observer without calling sync, and mine are sent") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val heard = RecordingObserver()
                c.brams.addObserver(heard)
                assertEquals(1u, c.bram.client.startWatching())
                try {
                    assertTrue(c.bram.client.isWatching())
                    val task = c.annas.addTask(simpleTask("Koken op dinsdag"))
                    await { c.annas.sync() }
                    eventually("Bram's observer hears Anna's task") { heard.remote() > 0 }
                    assertEquals(listOf(task), c.brams.view().tasks.map { it.id })

                    // Bram's own change while watching is sent without a sync call.
                    c.brams.claimTask(task)
                    eventually("Bram's claim is sent") { c.brams.status().pending == 0uL }
                    await { c.annas.sync() }
                    assertEquals(listOf(c.brams.me()), c.annas.task(task).claims.map { it.member })
                } finally {
                    c.bram.client.stopWatching()
                }
                eventually("live mode stopped") { !c.bram.client.isWatching() }
            }
        },
        TestCase("a reader's write is NotAllowed and changes nothing") {
            withTempDir { dir ->
                val c = TwoDevices(dir, bramsCapability = Capability.READER)
                c.annas.addTask(simpleTask("Boodschappen"))
                await { c.annas.sync() }
                await { c.brams.sync() }
                assertEquals(Standing.Reader, c.brams.status().standing)
                assertEquals(listOf("Boodschappen"), c.brams.view().tasks.map { it.title }, "a reader reads")
                val task = c.brams.view().tasks.single().id
                val before = c.brams.export()
                assertKring<KringException.NotAllowed> { c.brams.claimTask(task) }
                assertKring<KringException.NotAllowed> { c.brams.addTask(simpleTask("Mag niet")) }
                assertKring<KringException.NotAllowed> { c.brams.post(LogKind.UPDATE, "Mag niet") }
                assertKring<KringException.NotAllowed> { c.brams.invite(Capability.READER, inDays(1)) }
                assertContentEquals(before, c.brams.export())
                assertEquals(0uL, c.brams.status().pending)
                // Not in the plan, yet named for Anna: the name Bram joined with.
                val bram = c.annas.people().single { it.id == c.brams.me() }
                assertEquals("Bram", bram.name, "$bram")
                assertEquals(Capability.READER, bram.capability)
                assertNull(bram.relation, "readers have no record in the plan")
            }
        },
        TestCase("a plain member cannot rewrite the main person's plan: NotAllowed, nothing changes, nothing is sent") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                c.annas.setQuestion("Hoe houd ik mijn huis?")
                val hers = c.annas.addTask(simpleTask("Naar de huisarts"))
                await { c.annas.sync() }
                await { c.brams.sync() }
                val before = c.brams.export()
                assertKring<KringException.NotAllowed> { c.brams.setQuestion("Andere vraag") }
                assertKring<KringException.NotAllowed> { c.brams.setPlanStatus(PlanStatus.PRESENTED) }
                assertKring<KringException.NotAllowed> { c.brams.cancelTask(hers) }
                assertKring<KringException.NotAllowed> { c.brams.addMember("Kees", Relation.FRIEND, "") }
                assertContentEquals(before, c.brams.export())
                assertEquals(0uL, c.brams.status().pending, "nothing waits to be sent")
                // What a member may do still works.
                c.brams.addTask(simpleTask("Boodschappen"))
                await { c.brams.sync() }
                await { c.annas.sync() }
                assertEquals("Hoe houd ik mijn huis?", c.annas.view().plan.question)
                assertEquals(setOf("Naar de huisarts", "Boodschappen"), c.annas.view().tasks.map { it.title }.toSet())
            }
        },
        TestCase("a safety condition comes from a member Anna marked as professional, and only Anna accepts it") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val bram = c.brams.me()
                assertKring<KringException.NotAllowed> { c.brams.setCondition("Geen alcohol in huis") }
                assertKring<KringException.NotAllowed> { c.brams.designate(bram, Designation.PROFESSIONAL) }
                await { c.annas.sync() } // Bram's own record arrives
                c.annas.designate(bram, Designation.PROFESSIONAL)
                await { c.annas.sync() }
                await { c.brams.sync() }
                val condition = c.brams.setCondition("Geen alcohol in huis")
                assertKring<KringException.NotAllowed> { c.brams.acceptCondition(condition) }
                await { c.brams.sync() }
                await { c.annas.sync() }
                c.annas.acceptCondition(condition)
                val accepted = c.annas.view().conditions.single()
                assertEquals(bram, accepted.setBy)
                assertTrue(accepted.acceptedAt != null)
            }
        },
        TestCase("a member removed through the relay is refused, and their device erases the circle, keeping only a note") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                await { c.annas.sync() } // Anna learns Bram's member record.
                val bramId = c.brams.me()
                await { c.annas.removeMember(bramId) }
                assertNotNull(c.annas.view().members.first { it.id == bramId }.removedAt)
                assertEquals(1uL, c.annas.status().epoch, "the circle's key rotated")

                assertKring<KringException.NotAllowed> { await { c.brams.sync() } }
                assertTrue(c.bram.client.circles().isEmpty(), "the plan is gone from Bram's device")
                assertEquals(listOf(c.annas.circleId()), c.bram.client.erasedCircles())
                assertKring<KringException.NotFound> { c.brams.addTask(simpleTask("Nog één")) }
                c.bram.client.forgetErased(c.annas.circleId())
                assertTrue(c.bram.client.erasedCircles().isEmpty())
            }
        },
        TestCase("sync with the relay stopped is Network: the change is kept and the status says offline") {
            withTempDir { dir ->
                Relay().use { relay ->
                    val anna = Device(dir.resolve("anna"))
                    val circle = anna.client.createCircle("Kring", Language.NL, "Anna", relay.url)
                    await { circle.sync() }
                    relay.stop()
                    circle.addTask(simpleTask("Boodschappen"))
                    assertKring<KringException.Network> { await { circle.sync() } }
                    val status = circle.status()
                    assertEquals(Connectivity.OFFLINE, status.connectivity)
                    assertEquals(1uL, status.pending, "the change waits in the outbox")
                    assertNotNull(status.lastError)
                    val all = await { anna.client.syncAll() }
                    assertNotNull(all.single().error)
                    assertNull(all.single().report)
                    assertEquals(listOf("Boodschappen"), circle.view().tasks.map { it.title })
                }
            }
        },
        TestCase("circles that cannot sync say why, as their own exception types") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val local = anna.client.createCircle("Zonder relay", Language.NL, "Anna")
                assertEquals(Connectivity.NO_RELAY, local.status().connectivity)
                assertKring<KringException.NoRelay> { await { local.sync() } }
                assertKring<KringException.NoRelay> { local.invite(Capability.MEMBER, inDays(7)) }
                assertKring<KringException.InvalidInput> { local.setRelay("ftp://example.org") }

                val imported = Device(dir.resolve("bram")).client.importCircle(local.export(), local.me())
                assertEquals(Connectivity.LOCAL_ONLY, imported.status().connectivity)
                assertNull(imported.status().standing)
                assertKring<KringException.LocalOnly> { await { imported.sync() } }
                assertKring<KringException.LocalOnly> { imported.invite(Capability.MEMBER, inDays(7)) }

                assertKring<KringException.InvalidInput> { await { anna.client.join("kring://invite/nonsense", "Anna", Relation.FRIEND) } }
                // A relay set later: the circle syncs from then on.
                local.setRelay(relayUrl)
                await { local.sync() }
                assertEquals(Connectivity.ONLINE, local.status().connectivity)
                val link = local.invite(Capability.MEMBER, inDays(7))
                assertKring<KringException.NotAllowed> { await { Device(dir.resolve("carl")).client.join(link, "Carl", Relation.MAIN_PERSON) } }
            }
        },
        TestCase("family time: the key reaches Anna's device, never that of Bram once he is marked professional; only Anna opens and presents it, and Bram reads it only then") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                val bram = c.brams.view().members.first { it.displayName == "Bram" }.id
                assertKring<KringException.NotAllowed> { await { c.brams.changeFamilyTime(FamilyTimeChange.Open) } }
                await { c.annas.changeFamilyTime(FamilyTimeChange.Mark(bram, true)) }
                await { c.annas.changeFamilyTime(FamilyTimeChange.Open) }
                assertKring<KringException.InvalidTransition> { await { c.annas.changeFamilyTime(FamilyTimeChange.Open) } }
                await { c.brams.sync() }
                val annas = assertNotNull(c.annas.familyTime())
                val brams = assertNotNull(c.brams.familyTime())
                assertTrue(annas.open && annas.holdsKey, "$annas")
                assertTrue(brams.open && brams.professional, "$brams")
                assertTrue(!brams.holdsKey, "a professional's device holds no family key: $brams")
                // What the family writes now is the family's: in Anna's draft, not in Bram's plan.
                c.annas.addTask(simpleTask("Verrassing voor oma"))
                await { c.annas.sync() }
                await { c.brams.sync() }
                assertTrue(c.annas.view().tasks.any { it.title == "Verrassing voor oma" })
                assertTrue(c.brams.view().tasks.none { it.title == "Verrassing voor oma" })
                assertEquals(1uL, assertNotNull(c.annas.familyTime()).written)
                // Only Anna presents, once; then Bram reads exactly what she presented.
                assertKring<KringException.NotAllowed> { await { c.brams.changeFamilyTime(FamilyTimeChange.Present) } }
                await { c.annas.changeFamilyTime(FamilyTimeChange.Present) }
                assertKring<KringException.InvalidTransition> { await { c.annas.changeFamilyTime(FamilyTimeChange.Present) } }
                await { c.brams.sync() }
                assertEquals(c.annas.view().tasks, c.brams.view().tasks)
                assertTrue(c.brams.view().tasks.any { it.title == "Verrassing voor oma" })
                val after = assertNotNull(c.brams.familyTime())
                assertTrue(!after.open && after.presentedAt != null, "$after")
                // A next family time, closed without presenting: nothing of it reaches Bram.
                await { c.annas.changeFamilyTime(FamilyTimeChange.Open) }
                c.annas.addTask(simpleTask("Nog niet voor Bram"))
                await { c.annas.changeFamilyTime(FamilyTimeChange.Close) }
                await { c.brams.sync() }
                assertTrue(!assertNotNull(c.brams.familyTime()).open)
                assertTrue(c.brams.view().tasks.none { it.title == "Nog niet voor Bram" })
                assertTrue(c.annas.view().tasks.none { it.title == "Nog niet voor Bram" })
            }
        },
        TestCase("the hand-over: Anna exports FHIR (relations only, or names with consent) and a PDF/A, each recorded in the plan; Bram may not") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                await { c.annas.sync() } // Bram's own record, written when he joined
                c.annas.addTask(simpleTask("Naar de apotheek"))
                val fhir = c.annas.exportHandover(HandoverFormat.FHIR, "Wijkteam Noord", false, null).decodeToString()
                assertTrue("\"resourceType\": \"Bundle\"" in fhir && "CarePlan" in fhir, fhir.take(200))
                assertTrue("Naar de apotheek" in fhir, "the task goes as written")
                assertFalse("Bram" in fhir, "no names without her consent")
                val named = c.annas.exportHandover(HandoverFormat.FHIR, "Wijkteam Noord", true, null).decodeToString()
                assertTrue("Bram" in named, named)
                val pdf = c.annas.exportHandover(HandoverFormat.PDF, "Wijkteam Noord", false, Language.EN)
                assertEquals("%PDF-", pdf.copyOfRange(0, 5).decodeToString())
                assertKring<KringException.NotAllowed> { c.brams.exportHandover(HandoverFormat.PDF, "Iemand", false, null) }
                await { c.annas.sync() }
                await { c.brams.sync() }
                val recorded = c.brams.view().plan.handovers
                assertEquals(3, recorded.size, "$recorded")
                assertTrue(recorded.all { it.to == "Wijkteam Noord" }, "$recorded")
            }
        },
        TestCase("the owner closes the circle: both devices keep a read-only archive, a member cannot close, deleteLocal erases it") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                c.annas.addTask(simpleTask("Naar de apotheek"))
                await { c.annas.sync() }
                await { c.brams.sync() }
                // Only the owner may close; the relay refuses Bram too.
                assertKring<KringException.NotAllowed> { await { c.brams.closeCircle() } }

                await { c.annas.closeCircle() }
                assertEquals(Connectivity.CLOSED, c.annas.status().connectivity)
                assertNotNull(c.annas.status().closedAt)
                assertEquals(listOf("Naar de apotheek"), c.annas.view().tasks.map { it.title })
                assertKring<KringException.Closed> { c.annas.addTask(simpleTask("Nog iets")) }

                // Bram's device learns it at its next sync.
                assertKring<KringException.Closed> { await { c.brams.sync() } }
                assertEquals(Connectivity.CLOSED, c.brams.status().connectivity)
                assertEquals(listOf("Naar de apotheek"), c.brams.view().tasks.map { it.title })
                assertKring<KringException.Closed> { c.brams.claimTask(c.brams.view().tasks.first().id) }

                c.brams.deleteLocal()
                assertTrue(c.bram.client.circles().isEmpty())
                assertTrue(c.bram.client.erasedCircles().isEmpty(), "a deletion by hand leaves no note")
            }
        },
    )
