#!/usr/bin/env bash
# The relay's suites on PostgreSQL, beside a throwaway cluster this script starts
# (scripts/with-postgres.sh): the relay's store, HTTP, live, operator and abuse tests,
# the tests of several relay processes on one database behind nginx (instances.rs) and of a
# database restart under load (database_restart.rs), the eleven-member end-to-end
# tests, and schemathesis. The same tests run on SQLite in `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${KRING_TEST_POSTGRES:-}" ]]; then
    # nginx in front of two relay processes (server/tests/instances.rs), as
    # docs/relay.md shows it; Debian's, its service not started.
    if [[ ! -x /usr/sbin/nginx ]]; then
        sudo=""
        [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
        $sudo apt-get install -y -qq nginx >/dev/null \
            || { $sudo apt-get update -qq && $sudo apt-get install -y -qq nginx >/dev/null; }
    fi
    exec scripts/with-postgres.sh "$0" "$@"
fi
cargo test --locked -p kring-server --tests
cargo test --locked -p kring-e2e --test circle --test live
KRING_ST_DB="$KRING_TEST_POSTGRES" KRING_ST_MAX_TIME="${KRING_ST_MAX_TIME:-60}" scripts/schemathesis.sh
