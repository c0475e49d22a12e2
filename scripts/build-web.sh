#!/usr/bin/env bash
# Builds the web app's WebAssembly core into web/app/pkg (what `kring-server --web
# web/app` serves). Installs what it needs when missing: the wasm32 target (rustup)
# and wasm-bindgen-cli at exactly the version of the `wasm-bindgen` crate in
# Cargo.lock (crates.io).
#
#   scripts/build-web.sh            the `wasm` profile (small: opt-level s, LTO)
#   KRING_WEB_PROFILE=release scripts/build-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${KRING_WEB_PROFILE:-wasm}"
version="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock | head -1)"
[[ -n "$version" ]] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "installing the wasm32-unknown-unknown target (rustup)"
    rustup target add wasm32-unknown-unknown
fi
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]]; then
    echo "installing wasm-bindgen-cli $version (crates.io; a few minutes, once)"
    # Not --locked: its own lock file names a webpki-roots the registry no longer has.
    cargo install --quiet wasm-bindgen-cli --version "$version"
fi

cargo build --locked -p kring-web --target wasm32-unknown-unknown --profile "$profile"
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
rm -rf web/app/pkg
wasm-bindgen --target web --no-typescript --out-dir web/app/pkg \
    "$target/wasm32-unknown-unknown/$profile/kring_web.wasm"
wasm="$(stat -c %s web/app/pkg/kring_web_bg.wasm)"
gz="$(gzip -9 -c web/app/pkg/kring_web_bg.wasm | wc -c)"
echo "web app: web/app/pkg/kring_web_bg.wasm $((wasm / 1024)) KiB ($((gz / 1024)) KiB gzipped)"
