#!/usr/bin/env bash
# The web app's suite in a real browser: builds the WebAssembly core and the relay
# and CLI binaries, installs Debian's Chromium and the npm test tools when missing,
# and runs web/tests/browser.test.mjs (playwright-core driving Chromium against a
# real kring-server with `--web web/app`, members on the real `kring` CLI; axe-core
# inside the page). Screenshots: web/tests/artefacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
    echo "installing Debian's chromium (apt)"
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get install -y -qq chromium \
        || { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium; }
fi

scripts/build-web.sh
cargo build --locked -p kring-server -p kring-cli
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"

(cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
KRING_BIN="$bin" CHROMIUM="$chromium" node --test --test-concurrency=1 web/tests/browser.test.mjs
