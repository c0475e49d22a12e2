#!/usr/bin/env bash
# The dependency graph says what the system is (ARCHITECTURE.md): fail if the relay's
# normal dependency tree gains automerge, rusqlite-for-plans or the client, if the
# trust layer gains automerge, if the CLI's gains the relay or axum, or if the shared
# sync crate or the web core gains an IO crate of the native client (SQLite, reqwest,
# tokio) or the client itself.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
refuse() { # crate, forbidden package
    if cargo tree --locked -e normal -p "$1" --prefix none | awk '{print $1}' | grep -qx "$2"; then
        echo "shape: $1 must not depend on $2" >&2
        fail=1
    fi
}
for pkg in automerge kring-plan kring-client; do
    refuse kring-server "$pkg"
    refuse kring-trust "$pkg"
done
refuse kring-plan kring-client
for pkg in kring-server axum prometheus; do refuse kring-cli "$pkg"; done
refuse kring-server kring-sync
for pkg in kring-client kring-server rusqlite reqwest tokio; do refuse kring-handover "$pkg"; done
for pkg in kring-client kring-server rusqlite reqwest tokio; do
    refuse kring-sync "$pkg"
    refuse kring-web "$pkg"
done
exit "$fail"
