package nl.kring.android

import java.security.KeyPairGenerator
import java.security.SecureRandom
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.time.ZoneId
import java.util.Base64
import java.time.ZonedDateTime
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import nl.kring.ffi.KringException
import nl.kring.ffi.Language
import nl.kring.ffi.NewsKind
import nl.kring.ffi.ReminderKind
import nl.kring.ffi.Schedule
import nl.kring.ffi.defaultReminderSettings

/** What reaches people: reminders, news, and a push turned into notifications on the device. */
fun reachTests(): List<TestCase> =
    listOf(
        TestCase("a push wake-up syncs its circle and returns notifications written on the device; reminders follow the claim") {
            withTempDir { dir ->
                val two = TwoDevices(dir)
                // The first look starts the news from here.
                assertTrue(two.brams.whatChanged().isEmpty())
                assertTrue(two.annas.whatChanged().isEmpty())
                // Three days from now at 14:00 on the circle's clock (never in quiet hours).
                val zone = ZoneId.of(two.annas.view().circle.timezone)
                val at = ZonedDateTime.now(zone).plusDays(3).withHour(14).withMinute(0).withSecond(0).withNano(0)
                val ride = two.annas.addTask(simpleTask("Naar het ziekenhuis rijden").copy(schedule = Schedule.Due(at.toInstant().toEpochMilli())))
                await { two.annas.sync() }

                // What a relay's push carries: the circle id and a cursor, nothing else.
                val payload = """{"v":1,"circle":"${two.annas.circleId()}","cursor":9}""".toByteArray()
                val news = await { two.bram.client.onPush(payload) }
                assertEquals(listOf(NewsKind.NEW_TASK), news.map { it.kind }, "$news")
                assertTrue(news[0].text.startsWith("Nieuw in het plan: Naar het ziekenhuis rijden,"), news[0].text)
                assertTrue(news[0].text.endsWith("Er is nog iemand nodig."), news[0].text)
                assertEquals("Kring voor Anna", news[0].title)
                assertEquals(ride, news[0].task)
                assertTrue(two.brams.view().tasks.any { it.id == ride }, "the push synced the plan")
                assertTrue(two.brams.whatChanged().isEmpty(), "seen once")

                // Bram could take it: he is asked, at 10:00 on the days before.
                val asked = two.bram.client.reminders(7u).filter { it.task == ride }
                assertTrue(asked.isNotEmpty() && asked.all { it.kind == ReminderKind.NEEDS_PEOPLE }, "$asked")
                assertTrue(asked.none { "Anna" in it.text || "Bram" in it.text }, "nobody named")

                // He takes it: now it is his turn, reminded shortly before.
                two.brams.claimTask(ride)
                val mine = two.brams.reminders(7u).filter { it.task == ride }.map { it.kind }
                assertTrue(ReminderKind.TURN_SOON in mine && ReminderKind.NEEDS_PEOPLE !in mine, "$mine")
                // The app's language setting reaches what the device writes, in this Dutch circle.
                two.bram.client.setLanguage(Language.EN)
                val english = two.brams.reminders(7u).filter { it.task == ride }
                assertTrue(english.all { "You are doing this" in it.text }, "$english")
                two.bram.client.setLanguage(null)
                assertTrue(two.brams.reminders(7u).filter { it.task == ride }.all { "Jij doet dit" in it.text })

                // Muted on this device: nothing, and the choice reads back.
                val settings = two.brams.reminderSettings()
                assertEquals(defaultReminderSettings(), settings)
                assertEquals("22:00", settings.quietFrom)
                two.brams.setReminderSettings(settings.copy(muted = true))
                assertTrue(two.brams.reminderSettings().muted)
                assertTrue(two.brams.reminders(7u).isEmpty())

                // Anna hears that Bram took it after her next sync (her own task is not news).
                await { two.brams.sync() }
                await { two.annas.sync() }
                val heard = two.annas.whatChanged()
                // Her first look came before Bram's own member record reached her.
                assertEquals(listOf(NewsKind.JOINED, NewsKind.TAKEN), heard.map { it.kind }, "$heard")
                assertEquals("Bram is nu ook in de kring.", heard[0].text)
                assertTrue(heard[1].text.startsWith("Bram doet Naar het ziekenhuis rijden op "), heard[1].text)
            }
        },
        TestCase("a device registers its Web Push subscription with the circle's relay; a bad one is refused plainly") {
            withTempDir { dir ->
                val two = TwoDevices(dir)
                val b64 = Base64.getUrlEncoder().withoutPadding()
                // The relay's VAPID key: an uncompressed P-256 point.
                val vapid = Base64.getUrlDecoder().decode(await { two.brams.pushKey() })
                assertEquals(65, vapid.size)
                assertEquals(4, vapid[0].toInt())
                // A subscription as a push service hands it out: the device's own P-256
                // key and a 16-byte secret.
                val keys = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
                val point = keys.public as ECPublicKey
                fun fixed(n: java.math.BigInteger) = n.toByteArray().takeLast(32).toByteArray().let { ByteArray(32 - it.size) + it }
                val p256dh = b64.encodeToString(byteArrayOf(4) + fixed(point.w.affineX) + fixed(point.w.affineY))
                val auth = b64.encodeToString(ByteArray(16).also { SecureRandom().nextBytes(it) })
                await { two.brams.registerPush("https://push.example.org/kring/bram", p256dh, auth) }
                await { two.brams.unregisterPush() }
                // Not https, and a secret of the wrong size: refused, nothing stored.
                assertKring<KringException.InvalidInput> {
                    await { two.brams.registerPush("http://push.example.org/kring/bram", p256dh, auth) }
                }
                assertKring<KringException.InvalidInput> {
                    await { two.brams.registerPush("https://push.example.org/kring/bram", p256dh, b64.encodeToString(ByteArray(5))) }
                }
            }
        },
        TestCase("a push that is not a Kring wake-up, or names a circle not on this device, is refused plainly") {
            withTempDir { dir ->
                val two = TwoDevices(dir)
                assertKring<KringException.InvalidInput> { await { two.bram.client.onPush("hallo".toByteArray()) } }
                val extra = """{"v":1,"circle":"${two.annas.circleId()}","cursor":1,"title":"Rit"}""".toByteArray()
                assertKring<KringException.InvalidInput> { await { two.bram.client.onPush(extra) } }
                val stranger = """{"v":1,"circle":"0123456789abcdef0123456789abcdef","cursor":1}""".toByteArray()
                assertKring<KringException.NotFound> { await { two.bram.client.onPush(stranger) } }
                assertKring<KringException.InvalidInput> {
                    two.brams.setReminderSettings(two.brams.reminderSettings().copy(quietFrom = "25:00"))
                }
                assertEquals(defaultReminderSettings(), two.brams.reminderSettings(), "nothing was stored")
            }
        },
    )
