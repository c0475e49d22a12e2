#!/usr/bin/env bash
# Schemathesis against the relay's own /openapi.json, bounded, on loopback: starts a
# kring-server on a free port, signs half of the generated requests as a device
# (scripts/schemathesis_hooks.py), and fails on any 5xx or any answer that does not
# match the description (status, content type, body schema, headers).
#
# Installs what it needs (pip install --user). Bounds: KRING_ST_EXAMPLES per operation
# (default 40) and KRING_ST_MAX_TIME seconds in all (default 120). KRING_ST_DB is the
# relay's `--db` (default: a SQLite file in a temporary directory; a postgres:// URL
# runs the same checks on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${KRING_ST_EXAMPLES:-40}"
max_time="${KRING_ST_MAX_TIME:-120}"

python3 -m pip install --user --quiet --disable-pip-version-check \
    "schemathesis==4.32.5" "blake3>=1,<2" "cryptography>=42" >/dev/null
st="$(python3 -c 'import site, os; print(os.path.join(site.USER_BASE, "bin", "schemathesis"))')"

cargo build --quiet -p kring-server
bin="${CARGO_TARGET_DIR:-target}/debug/kring-server"

work="$(mktemp -d)"
relay_pid=""
cleanup() {
    if [[ -n "$relay_pid" ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The per-address and per-device limits are for abuse, and schemathesis is one
# address sending thousands of requests: off here (the abuse suite tests them).
"$bin" --listen 127.0.0.1:0 --db "${KRING_ST_DB:-$work/relay.db}" \
    --rate-per-sec 0 --address-rate-per-sec 0 --auth-failures-per-min 0 \
    --circles-per-address-per-hour 0 \
    >"$work/stdout" 2>"$work/stderr" &
relay_pid=$!
for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$work/stdout" 2>/dev/null; then break; fi
    sleep 0.1
done
addr="$(sed -n 's/^listening on //p' "$work/stdout" | head -n1)"
if [[ -z "$addr" ]]; then
    echo "kring-server did not start:" >&2
    cat "$work/stderr" >&2
    exit 1
fi
echo "relay on $addr; schemathesis: $examples examples per operation, at most ${max_time}s"

# Checks: everything but `positive_data_acceptance` (schema-valid JSON with random
# base64 is rightly refused: the bytes inside must be signed entries and envelopes)
# and `unsupported_method` (the relay answers a method a route does not take with
# 404 `not_found`, documented in docs/relay-api.md, not 405).
SCHEMATHESIS_HOOKS=scripts.schemathesis_hooks PYTHONPATH=. "$st" run "http://$addr/openapi.json" \
    --url "http://$addr" \
    --checks all \
    --exclude-checks positive_data_acceptance,unsupported_method \
    --max-examples "$examples" \
    --max-time "$max_time" \
    --seed 13 \
    --workers 1 \
    --no-color
