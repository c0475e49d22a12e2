package nl.kring.android

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import nl.kring.ffi.Connectivity
import nl.kring.ffi.KringException
import nl.kring.ffi.Language
import nl.kring.ffi.Relation

/** Runs [body] with a scope for repositories, cancelled afterwards; fails after 10 s. */
private fun repositoryTest(body: suspend CoroutineScope.() -> Unit) =
    runBlocking {
        val scope = CoroutineScope(SupervisorJob())
        try {
            withTimeout(10_000) { scope.body() }
        } finally {
            scope.cancel()
        }
    }

/** The app layer: what the "my plan" screen and the "claim this task" action see. */
fun repositoryTests(): List<TestCase> =
    listOf(
        TestCase("my plan loads, offers open tasks, and claim moves them to doing") {
            withTempDir { dir ->
                val circle = Device(dir).client.createCircle("Kring voor Anna", Language.NL, "Anna")
                val task = circle.addTask(simpleTask("Boodschappen", slots = 2u))
                repositoryTest {
                    PlanRepository(circle, this).use { repo ->
                        val first = repo.myPlan.first()
                        assertEquals("Kring voor Anna", first.circleName)
                        assertEquals("Anna", first.me?.displayName)
                        assertEquals(listOf(task), first.canHelpWith.map { it.id })
                        assertTrue(first.doing.isEmpty())

                        assertEquals(ClaimResult.Claimed, repo.claim(task))
                        // When claim returns, the state already shows it.
                        val ready = assertIs<PlanState.Ready>(repo.state.value)
                        val after = myPlanOf(ready.snapshot)
                        assertEquals(listOf(task), after.doing.map { it.id })
                        assertTrue(after.canHelpWith.isEmpty())
                        assertEquals(ClaimResult.AlreadyMine, repo.claim(task))

                        repo.unclaim(task)
                        assertEquals(listOf(task), repo.myPlan.first().canHelpWith.map { it.id })
                    }
                }
            }
        },
        TestCase("claim reports a full or closed task as the screen needs to tell it") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val bram = Device(dir.resolve("bram"))
                val annasCircle = anna.client.createCircle("Kring", Language.NL, "Anna")
                val bramId = annasCircle.addMember("Bram", Relation.FAMILY, "")
                val task = annasCircle.addTask(simpleTask("Rijden"))
                val cancelled = annasCircle.addTask(simpleTask("Oud"))
                annasCircle.claimTask(task)
                annasCircle.cancelTask(cancelled)
                val bramsCircle = bram.client.importCircle(annasCircle.export(), bramId)
                repositoryTest {
                    PlanRepository(bramsCircle, this).use { repo ->
                        assertTrue(repo.myPlan.first().canHelpWith.isEmpty(), "nothing Bram can claim")
                        assertEquals(ClaimResult.AlreadyTaken, repo.claim(task))
                        assertEquals(ClaimResult.NoLongerOpen, repo.claim(cancelled))
                        val failed = assertIs<ClaimResult.Failed>(repo.claim("nonsense"))
                        assertIs<KringException.InvalidInput>(failed.error)
                    }
                }
            }
        },
        TestCase("changes merged from another device reach the screen through the observer") {
            withTempDir { dir ->
                val anna = Device(dir.resolve("anna"))
                val bram = Device(dir.resolve("bram"))
                val annasCircle = anna.client.createCircle("Kring", Language.NL, "Anna")
                val bramId = annasCircle.addMember("Bram", Relation.FRIEND, "")
                val bramsCircle = bram.client.importCircle(annasCircle.export(), bramId)
                repositoryTest {
                    PlanRepository(bramsCircle, this).use { repo ->
                        assertTrue(repo.myPlan.first().canHelpWith.isEmpty())
                        val task = annasCircle.addTask(simpleTask("Koken"))
                        // Not through the repository: as sync will, straight on the handle.
                        bramsCircle.merge(annasCircle.export())
                        val plan = repo.myPlan.first { it.canHelpWith.isNotEmpty() }
                        assertEquals(listOf(task), plan.canHelpWith.map { it.id })
                    }
                }
            }
        },
        TestCase("the loser of an offline collision sees the task as already taken") {
            withTempDir { dir ->
                // Two unsigned file copies of Anna's plan (her own circle, which has a
                // membership log, takes no unsigned files).
                val anna = Device(dir.resolve("anna"))
                val annasOriginal = anna.client.createCircle("Kring", Language.NL, "Anna")
                val carlId = annasOriginal.addMember("Carl", Relation.FRIEND, "")
                val bramId = annasOriginal.addMember("Bram", Relation.FAMILY, "")
                val task = annasOriginal.addTask(simpleTask("Oppassen"))
                val annasCircle = Device(dir.resolve("carl")).client.importCircle(annasOriginal.export(), carlId)
                val bramsCircle = Device(dir.resolve("bram")).client.importCircle(annasOriginal.export(), bramId)
                repositoryTest {
                    val annas = PlanRepository(annasCircle, this)
                    val brams = PlanRepository(bramsCircle, this)
                    assertEquals(ClaimResult.Claimed, annas.claim(task))
                    assertEquals(ClaimResult.Claimed, brams.claim(task))
                    annasCircle.merge(bramsCircle.export())
                    bramsCircle.merge(annasCircle.export())
                    val plans =
                        listOf(annas, brams).map { repo ->
                            // Wait for the merged plan (the observer refreshes the state).
                            val merged = repo.state.first { it is PlanState.Ready && it.snapshot.view.tasks.single().overbooked }
                            myPlanOf((merged as PlanState.Ready).snapshot)
                        }
                    assertEquals(1, plans.count { it.doing.map { t -> t.id } == listOf(task) })
                    assertEquals(1, plans.count { it.alreadyTaken.map { t -> t.id } == listOf(task) })
                    annas.close()
                    brams.close()
                }
            }
        },
        TestCase("the repository syncs: another device's task arrives in state, which carries the sync status") {
            withTempDir { dir ->
                val c = TwoDevices(dir)
                repositoryTest {
                    PlanRepository(c.brams, this).use { repo ->
                        val first = repo.state.first { it is PlanState.Ready } as PlanState.Ready
                        assertEquals(Connectivity.ONLINE, first.sync.connectivity)
                        assertTrue(first.snapshot.view.tasks.isEmpty())

                        val task = c.annas.addTask(simpleTask("Koken"))
                        c.annas.sync()
                        val synced = assertIs<SyncResult.Synced>(repo.sync())
                        assertTrue(synced.report.appliedChanges > 0u)
                        // When sync returns, the state already shows it.
                        val ready = assertIs<PlanState.Ready>(repo.state.value)
                        assertEquals(listOf(task), myPlanOf(ready.snapshot).canHelpWith.map { it.id })
                        assertFalse(repo.syncing.value)

                        // My claim waits in the outbox until the next sync; the state says so.
                        assertEquals(ClaimResult.Claimed, repo.claim(task))
                        assertEquals(1uL, assertIs<PlanState.Ready>(repo.state.value).sync.pending)
                        assertIs<SyncResult.Synced>(repo.sync())
                        val sent = assertIs<PlanState.Ready>(repo.state.value).sync
                        assertEquals(0uL, sent.pending)
                        assertNotNull(sent.lastSyncedAt)
                    }
                }
            }
        },
        TestCase("the repository's sync while the relay is down is Offline, and a circle without relay NotSyncing") {
            withTempDir { dir ->
                Relay().use { relay ->
                    val client = Device(dir.resolve("anna")).client
                    val circle = client.createCircle("Kring", Language.NL, "Anna", relay.url)
                    val local = client.createCircle("Thuis", Language.NL, "Anna")
                    relay.stop()
                    repositoryTest {
                        PlanRepository(circle, this).use { repo ->
                            repo.claim(circle.addTask(simpleTask("Boodschappen")))
                            assertIs<SyncResult.Offline>(repo.sync())
                            val status = assertIs<PlanState.Ready>(repo.state.value).sync
                            assertEquals(Connectivity.OFFLINE, status.connectivity)
                            assertEquals(3uL, status.pending, "founding, the task and the claim wait to be sent")
                        }
                        PlanRepository(local, this).use { repo ->
                            assertIs<KringException.NoRelay>(assertIs<SyncResult.NotSyncing>(repo.sync()).error)
                        }
                    }
                }
            }
        },
        TestCase("complete shows in the plan; failures are thrown as KringException; close unregisters") {
            withTempDir { dir ->
                val circle = Device(dir).client.createCircle("Kring", Language.EN, "Anna")
                val task = circle.addTask(simpleTask("Post"))
                repositoryTest {
                    val repo = PlanRepository(circle, this)
                    repo.claim(task)
                    repo.complete(task, "Done")
                    val done = repo.myPlan.first { it.doing.isEmpty() }
                    assertTrue(done.canHelpWith.isEmpty())
                    val ready = assertIs<PlanState.Ready>(repo.state.value)
                    assertEquals("Done", ready.snapshot.view.tasks.single().completions.single().note)
                    try {
                        repo.complete(task)
                        throw AssertionError("completing twice should fail")
                    } catch (e: KringException.TaskClosed) {
                        // expected
                    }
                    repo.close()
                    // Observer ids start at 1 per handle; the repository's was the only one.
                    assertFalse(circle.removeObserver(1u), "close removed the observer")
                }
            }
        },
    )
