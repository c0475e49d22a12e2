package nl.kring.android

import java.io.File
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import kotlin.io.path.createTempDirectory
import nl.kring.ffi.KringClient
import nl.kring.ffi.KringException
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
