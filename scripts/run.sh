#!/usr/bin/env bash
# The main job (README): start the relay (kring-server, embedded SQLite) and watch a
# whole circle work through it — five people on five "phones", each a real data
# directory with its own keys and SQLite store — then keep the relay running so you
# can continue with the CLI tour against it. The relay also serves the web app
# (web/app, its WebAssembly core built by scripts/build-web.sh): open the printed
# address in a browser to join a circle from an invite. Ctrl-C stops the relay.
#
#   scripts/run.sh                 relay on 127.0.0.1:8470, database ./kring-relay.db
#   KRING_LISTEN=127.0.0.1:9000 KRING_DB=/tmp/relay.db scripts/run.sh
#   scripts/run.sh --no-wait       play the demo, then stop the relay
set -euo pipefail
cd "$(dirname "$0")/.."

listen="${KRING_LISTEN:-127.0.0.1:8470}"
db="${KRING_DB:-./kring-relay.db}"
wait_after=1
[[ "${1:-}" == "--no-wait" ]] && wait_after=0

cargo build --release --locked -p kring-cli -p kring-server
scripts/build-web.sh
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release"

log="$(mktemp)"
"$bin/kring-server" --listen "$listen" --db "$db" --web web/app >"$log" 2>&1 &
relay=$!
trap 'kill "$relay" 2>/dev/null; wait "$relay" 2>/dev/null; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
    grep -q '^listening on' "$log" && break
    kill -0 "$relay" 2>/dev/null || { cat "$log" >&2; echo "the relay did not start" >&2; exit 1; }
    sleep 0.1
done
addr="$(sed -n 's/^listening on //p' "$log" | head -1)"
[[ -n "$addr" ]] || { cat "$log" >&2; echo "the relay did not report its address" >&2; exit 1; }
echo "relay: kring-server listening on http://$addr, database $db"
echo "web app: http://$addr/ (open an invite as http://$addr/join#kring://invite/…)"

"$bin/kring" demo --relay "http://$addr" --relay-db "$db"

if (( wait_after )); then
    cat <<TOUR

The relay keeps running at http://$addr (Ctrl-C stops it). Try the CLI tour from the
README against it, for example:

  export PATH="$bin:\$PATH"
  KRING_DATA_DIR=/tmp/kring-anna kring circle create --name "Kring van Anna" --me Anna --relay http://$addr
  KRING_DATA_DIR=/tmp/kring-anna kring invite

Or join in a browser: open http://$addr/join#LINK, with LINK the kring://invite/…
link that \`kring invite\` printed (the part after # never leaves the browser).

TOUR
    wait "$relay"
fi
