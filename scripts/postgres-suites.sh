#!/usr/bin/env bash
# The relay's suites on PostgreSQL, beside a throwaway cluster this script starts
# (scripts/with-postgres.sh): the relay's store, HTTP, live, operator and abuse tests,
# the tests of several relay processes on one database (instances.rs) and of a
# database restart under load (database_restart.rs), the eleven-member end-to-end
# tests, and schemathesis. The same tests run on SQLite in `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${KRING_TEST_POSTGRES:-}" ]]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
cargo test --locked -p kring-server --tests
cargo test --locked -p kring-e2e --test circle --test live
KRING_ST_DB="$KRING_TEST_POSTGRES" KRING_ST_MAX_TIME="${KRING_ST_MAX_TIME:-60}" scripts/schemathesis.sh
