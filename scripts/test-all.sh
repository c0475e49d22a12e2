#!/usr/bin/env bash
# The one test command (README): formatting, lints, every Rust test (unit, property,
# decoder fuzzing, store, CLI, end-to-end and the relay's abuse suite), schemathesis
# against the relay's served OpenAPI description, the relay's suites again on a
# PostgreSQL it starts itself (scripts/postgres-suites.sh), then the Kotlin binding tests on
# the JVM when present, and the web app in a real Chromium (scripts/web-tests.sh).
# Safe to run repeatedly; installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "the shape: the relay links no plan model, the CLI no relay; cargo doc (warnings are errors)"
scripts/check-shape.sh
# Every optional feature built too: kring-trust's `testkit` here (the workspace build
# has it off; the tests have it on), kring-ffi's `bindgen` in the Kotlin step.
cargo clippy -p kring-trust --features testkit --lib --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "Python iCalendar parser for the calendar round trip (icalendar, recurring-ical-events)"
if ! python3 -c "import icalendar, recurring_ical_events" 2>/dev/null; then
    python3 -m pip install --quiet --user icalendar recurring-ical-events \
        || python3 -m pip install --quiet --user --break-system-packages icalendar recurring-ical-events
fi

step "Python Web Push receiver for the push end-to-end test (http-ece, py-vapid)"
if ! python3 -c "import http_ece, py_vapid" 2>/dev/null; then
    python3 -m pip install --quiet --user http-ece py-vapid \
        || python3 -m pip install --quiet --user --break-system-packages http-ece py-vapid
fi

step "FHIR and PDF/A checkers for the hand-over test (fhir.resources, pypdf, pikepdf), in a virtual environment"
handover_venv="${XDG_CACHE_HOME:-$HOME/.cache}/kring/handover-venv"
if ! "$handover_venv/bin/python" -c "import fhir.resources.R4B, pypdf, pikepdf" 2>/dev/null; then
    if ! python3 -m venv --clear "$handover_venv" 2>/dev/null; then
        sudo=""
        [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
        $sudo apt-get install -y -qq python3-venv \
            || { $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv; }
        python3 -m venv --clear "$handover_venv"
    fi
    "$handover_venv/bin/pip" install --quiet "fhir.resources>=8,<9" "pypdf>=5" "pikepdf>=9"
fi
export KRING_HANDOVER_PYTHON="$handover_venv/bin/python"

step "cargo test (workspace)"
cargo test --workspace --locked

step "schemathesis against the relay (bounded; no 5xx, answers match openapi.json)"
scripts/schemathesis.sh

step "the relay suites again on PostgreSQL (a throwaway cluster: several processes, kill -9, a database restart)"
scripts/postgres-suites.sh

step "the web app in Chromium (WebAssembly core, real relay and CLI, axe-core)"
scripts/web-tests.sh
cargo clippy -p kring-web --target wasm32-unknown-unknown --locked -- -D warnings

if [[ -x scripts/kotlin-tests.sh ]]; then
    step "Kotlin bindings on the JVM"
    scripts/kotlin-tests.sh
fi

step "the FFI library links no system OpenSSL (SQLCipher's libcrypto is compiled in; phones have none)"
ffi_lib="${CARGO_TARGET_DIR:-target}/debug/libkring_ffi.so"
[[ -f "$ffi_lib" ]] || cargo build --quiet --locked -p kring-ffi
if ldd "$ffi_lib" | grep -E 'lib(crypto|ssl)\.so'; then
    echo "libkring_ffi.so needs the system's OpenSSL" >&2
    exit 1
fi

step "all tests passed"
