#!/usr/bin/env bash
# The Kotlin JVM test suite: the generated bindings, the Android app layer
# (android/src/main/kotlin) and its tests (android/src/test/kotlin), compiled with
# kotlinc and run on the host JVM against the host build of kring-ffi through JNA.
# Idempotent; installs what is missing:
#   - kotlin-compiler (npm) into $KRING_TOOLS_DIR (default ~/.cache/kring), outside the repo;
#   - JNA from Debian (apt-get install libjna-java) unless KRING_JNA_JAR points at a jar.
# Starts a relay (the real kring-server binary, on a free loopback port, with a
# throwaway database) for the sync journeys and stops it on exit, also on failure; the
# tests get its URL as KRING_RELAY_URL and the binary as KRING_SERVER_BIN (to start
# relays of their own, e.g. one to stop mid-test).
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

# The relay the sync journeys talk to.
cargo build --quiet --manifest-path "$root/Cargo.toml" -p kring-server
server_bin="$target_dir/debug/kring-server"
relay_dir="$(mktemp -d)"
relay_pid=""
stop_relay() {
  if [ -n "$relay_pid" ]; then
    kill "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
  fi
  rm -rf "$relay_dir"
}
trap stop_relay EXIT
trap 'exit 130' INT TERM
"$server_bin" --listen 127.0.0.1:0 --db "$relay_dir/relay.db" --log warn \
  >"$relay_dir/stdout" 2>"$relay_dir/stderr" &
relay_pid=$!
relay_addr=""
for _ in $(seq 1 300); do
  relay_addr="$(sed -n 's/^listening on //p' "$relay_dir/stdout")"
  [ -n "$relay_addr" ] && break
  if ! kill -0 "$relay_pid" 2>/dev/null; then
    echo "kotlin-tests: kring-server did not start:" >&2
    cat "$relay_dir/stderr" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$relay_addr" ] || { echo "kotlin-tests: kring-server did not report its address" >&2; exit 1; }
echo "kotlin-tests: relay listening on $relay_addr" >&2
export KRING_RELAY_URL="http://$relay_addr"
export KRING_SERVER_BIN="$server_bin"

case "$(uname -s)" in Darwin) lib_dir_var=DYLD_LIBRARY_PATH ;; *) lib_dir_var=LD_LIBRARY_PATH ;; esac
export "$lib_dir_var=$target_dir/debug${!lib_dir_var:+:${!lib_dir_var}}"
# Not `exec`: the EXIT trap must stop the relay afterwards.
status=0
java -Djna.library.path="$target_dir/debug" \
  -cp "$out/classes:$compile_cp:$lib/kotlin-stdlib.jar" \
  nl.kring.android.TestRunnerKt "$@" || status=$?
exit "$status"
