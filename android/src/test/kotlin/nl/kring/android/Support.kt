package nl.kring.android

import java.io.File
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import kotlin.io.path.createTempDirectory
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import nl.kring.ffi.ChangeOrigin
import nl.kring.ffi.CircleId
import nl.kring.ffi.KringClient
import nl.kring.ffi.KringException
import nl.kring.ffi.PlanObserver
import nl.kring.ffi.NewTask
import nl.kring.ffi.OwnerKind
import nl.kring.ffi.Schedule
import nl.kring.ffi.SecretStore
import nl.kring.ffi.TaskCategory

/** A [SecretStore] in memory that records every call, standing in for the Keystore. */
class RecordingSecretStore : SecretStore {
    val secrets = ConcurrentHashMap<String, ByteArray>()
    val calls: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override fun get(name: String): ByteArray? {
        calls += "get $name"
        return secrets[name]?.copyOf()
    }

    override fun put(name: String, value: ByteArray) {
        calls += "put $name"
        secrets[name] = value.copyOf()
    }

    override fun delete(name: String) {
        calls += "delete $name"
        secrets.remove(name)
    }
}

/** A [SecretStore] whose every call throws [error] (a locked keystore, say). */
class FailingSecretStore(private val error: () -> Exception) : SecretStore {
    override fun get(name: String): ByteArray? = throw error()

    override fun put(name: String, value: ByteArray) = throw error()

    override fun delete(name: String) = throw error()
}

/** A [PlanObserver] that records what it heard. */
class RecordingObserver : PlanObserver {
    val heard: MutableList<Pair<CircleId, ChangeOrigin>> = Collections.synchronizedList(mutableListOf())

    override fun onPlanChanged(circleId: CircleId, origin: ChangeOrigin) {
        heard += circleId to origin
    }

    fun remote(): Int = synchronized(heard) { heard.count { it.second == ChangeOrigin.REMOTE } }
}

/** A fresh directory, deleted after [body]. */
fun <T> withTempDir(body: (File) -> T): T {
    val dir = createTempDirectory("kring-jvm-test").toFile()
    try {
        return body(dir)
    } finally {
        dir.deleteRecursively()
    }
}

/** A device: its own data directory and secret store. */
class Device(val dir: File, val secrets: RecordingSecretStore = RecordingSecretStore()) {
    val client: KringClient = KringClient.open(dir.path, secrets)
}

fun simpleTask(title: String, slots: UInt = 1u): NewTask =
    NewTask(
        title = title,
        category = TaskCategory.OTHER,
        ownerKind = OwnerKind.CIRCLE,
        schedule = Schedule.Unscheduled,
        slots = slots,
    )

const val DAY_MILLIS: Long = 24L * 60 * 60 * 1000

fun inDays(days: Long): Long = System.currentTimeMillis() + days * DAY_MILLIS

/** Runs a suspending Kring call (sync, join, ...) from a test; fails after 30 s. */
fun <T> await(body: suspend () -> T): T = runBlocking { withTimeout(30_000) { body() } }

/** Polls [condition] every 50 ms until it holds; fails after [timeoutMillis]. */
fun eventually(what: String, timeoutMillis: Long = 15_000, condition: () -> Boolean) {
    val deadline = System.currentTimeMillis() + timeoutMillis
    while (!condition()) {
        if (System.currentTimeMillis() > deadline) throw AssertionError("timed out waiting for: $what")
        Thread.sleep(50)
    }
}

/** The relay scripts/kotlin-tests.sh started for this run (a real kring-server). */
val relayUrl: String
    get() =
        System.getenv("KRING_RELAY_URL")
            ?: error("KRING_RELAY_URL is not set: run scripts/kotlin-tests.sh, which starts a relay")

/**
 * A relay of the test's own: the kring-server binary (KRING_SERVER_BIN, set by
 * scripts/kotlin-tests.sh) on a free loopback port with a throwaway database, for tests
 * that stop it halfway. Stopped and deleted by [close].
 */
class Relay : AutoCloseable {
    private val dir = createTempDirectory("kring-relay").toFile()
    private val process: Process
    val url: String

    init {
        val bin =
            System.getenv("KRING_SERVER_BIN")
                ?: error("KRING_SERVER_BIN is not set: run scripts/kotlin-tests.sh")
        process =
            ProcessBuilder(bin, "--listen", "127.0.0.1:0", "--db", dir.resolve("relay.db").path, "--log", "warn")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start()
        // The server prints its bound address as its first line.
        val line = process.inputStream.bufferedReader().readLine()
        if (line == null || !line.startsWith("listening on ")) {
            close()
            error("kring-server did not start (first line: $line)")
        }
        url = "http://" + line.removePrefix("listening on ")
    }

    fun stop() {
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly()
    }

    override fun close() {
        stop()
        dir.deleteRecursively()
    }
}

/** Asserts [body] throws exactly [T] (a KringException subclass) and returns it. */
inline fun <reified T : KringException> assertKring(body: () -> Unit): T {
    try {
        body()
    } catch (e: KringException) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.simpleName}, got ${e::class.simpleName}: ${e.message}", e)
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing was thrown")
}
