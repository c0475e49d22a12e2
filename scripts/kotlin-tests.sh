#!/usr/bin/env bash
# The Kotlin JVM test suite: the generated bindings, the Android app layer
# (android/src/main/kotlin) and its tests (android/src/test/kotlin), compiled with
# kotlinc and run on the host JVM against the host build of kring-ffi through JNA.
# Idempotent; installs what is missing:
#   - kotlin-compiler (npm) into $KRING_TOOLS_DIR (default ~/.cache/kring), outside the repo;
#   - JNA from Debian (apt-get install libjna-java) unless KRING_JNA_JAR points at a jar.
# Needs: cargo, java + npm on PATH. Prints PASS/FAIL per test, then `N passed, N failed`.
# An argument runs only the tests whose name contains it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
tools="${KRING_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kring}"
kotlin_version=2.4.20
kotlin_home="$tools/kotlin-$kotlin_version/node_modules/kotlin-compiler"
jna_jar="${KRING_JNA_JAR:-/usr/share/java/jna.jar}"

for tool in java npm cargo; do
  command -v "$tool" >/dev/null || { echo "kotlin-tests: $tool is required" >&2; exit 1; }
done

if [ ! -x "$kotlin_home/bin/kotlinc-jvm" ]; then
  echo "kotlin-tests: installing kotlin-compiler@$kotlin_version into $tools" >&2
  mkdir -p "$tools/kotlin-$kotlin_version"
  npm install --silent --no-audit --no-fund --prefix "$tools/kotlin-$kotlin_version" \
    "kotlin-compiler@$kotlin_version" >&2
fi

if [ ! -f "$jna_jar" ]; then
  echo "kotlin-tests: installing JNA (apt-get install libjna-java)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -qq libjna-java >&2 ||
    { $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq libjna-java >&2; }
fi

# Builds the host cdylib and regenerates the Kotlin bindings (never trusts old ones);
# also fails if the committed Swift bindings are stale.
"$root/scripts/bindings.sh" --check >&2

lib="$kotlin_home/lib"
compile_cp="$jna_jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-test.jar"
out="$root/android/build/jvm-test"
rm -rf "$out/classes"
mkdir -p "$out/classes"
sources=(
  "$root/android/build/generated/uniffi/kotlin"
  "$root/android/src/main/kotlin"
  "$root/android/src/test/kotlin"
)
echo "kotlin-tests: compiling (kotlinc $kotlin_version)" >&2
"$kotlin_home/bin/kotlinc-jvm" -nowarn -jvm-target 17 -cp "$compile_cp" -d "$out/classes" "${sources[@]}"

case "$(uname -s)" in Darwin) lib_dir_var=DYLD_LIBRARY_PATH ;; *) lib_dir_var=LD_LIBRARY_PATH ;; esac
export "$lib_dir_var=$target_dir/debug${!lib_dir_var:+:${!lib_dir_var}}"
exec java -Djna.library.path="$target_dir/debug" \
  -cp "$out/classes:$compile_cp:$lib/kotlin-stdlib.jar" \
  nl.kring.android.TestRunnerKt "$@"
