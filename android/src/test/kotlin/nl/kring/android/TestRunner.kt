package nl.kring.android

import kotlin.system.exitProcess

/** One test: a name and a body that throws on failure. */
class TestCase(val name: String, val body: () -> Unit)

/**
 * Runs every test in order, prints `PASS name` / `FAIL name: why`, then exactly
 * `N passed, N failed`; exits non-zero if anything failed. Plain `main`, so the suite
 * runs with kotlinc + java alone (no Gradle or JUnit here). An argument filters tests
 * by name substring.
 */
fun main(args: Array<String>) {
    val filter = args.firstOrNull()
    val tests = (ffiTests() + syncTests() + repositoryTests() + viewTests() + deviceTests() + reachTests()).filter { filter == null || filter in it.name }
    var passed = 0
    var failed = 0
    for (test in tests) {
        try {
            test.body()
            passed++
            println("PASS ${test.name}")
        } catch (t: Throwable) {
            failed++
            println("FAIL ${test.name}: $t")
            t.stackTrace.take(8).forEach { println("    at $it") }
        }
    }
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
