#!/usr/bin/env bash
# Builds kring-ffi for this host and generates its Kotlin and Swift bindings from the
# built library (uniffi library mode). See docs/mobile.md.
#
#   scripts/bindings.sh           Kotlin -> android/build/generated/uniffi/kotlin (not committed)
#                                 Swift  -> ios/Sources/Kring/Kring.swift, ios/Headers/ (committed)
#   scripts/bindings.sh --check   Kotlin as above; Swift is compared with the committed
#                                 copy instead of written, and a difference fails.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), KRING_KOTLIN_OUT (Kotlin dir).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
kotlin_out="${KRING_KOTLIN_OUT:-$root/android/build/generated/uniffi/kotlin}"
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

case "$(uname -s)" in
  Darwin) lib_file=libkring_ffi.dylib ;;
  *) lib_file=libkring_ffi.so ;;
esac

# One build gives both the cdylib and the generator, with the same uniffi version.
cargo build --quiet --manifest-path "$root/Cargo.toml" -p kring-ffi --features bindgen

generated="$(mktemp -d)"
trap 'rm -rf "$generated"' EXIT
# From the workspace, so the generator finds ffi/uniffi.toml through cargo metadata.
(cd "$root" && "$target_dir/debug/uniffi-bindgen" generate --no-format \
  --language kotlin --language swift --out-dir "$generated" "$target_dir/debug/$lib_file")

rm -rf "$kotlin_out"
mkdir -p "$kotlin_out"
cp -R "$generated/nl" "$kotlin_out/"

# Generated name -> committed path under ios/.
swift_files=(
  "Kring.swift:Sources/Kring/Kring.swift"
  "KringFFI.h:Headers/KringFFI.h"
  "KringFFI.modulemap:Headers/module.modulemap"
)
stale=0
for pair in "${swift_files[@]}"; do
  from="$generated/${pair%%:*}"
  to="$root/ios/${pair#*:}"
  if $check; then
    if ! cmp -s "$from" "$to"; then
      echo "stale: ios/${pair#*:} differs from the generated bindings; run scripts/bindings.sh" >&2
      stale=1
    fi
  else
    mkdir -p "$(dirname "$to")"
    cp "$from" "$to"
  fi
done
[ "$stale" -eq 0 ] || exit 1
echo "bindings: Kotlin in ${kotlin_out#"$root"/}; Swift in ios/ $($check && echo "is up to date" || echo "written")"
