#!/usr/bin/env bash
# The web app's budgets (docs/benchmarks.md, "The web app"): download size, first
# screen of a two-year circle cold and warm in headless Chromium, a claim to stored,
# and JS automerge opening the same document in the same browser.
#
#   scripts/web-bench.sh            5 runs each;  SAMPLES=10 scripts/web-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-web.sh
cargo build --locked --release -p kring-server
cargo build --locked --release -p kring-e2e --example web_fixture
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$target/release/examples/web_fixture" "$work/device.bin" "$work/plan.automerge"
(cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
KRING_BIN="$target/release" node web/tests/bench.mjs "$work/device.bin" "$work/plan.automerge"
