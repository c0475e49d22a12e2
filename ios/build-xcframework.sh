#!/usr/bin/env bash
# Builds ios/KringFFI.xcframework: kring-ffi as a static library for iOS devices
# (aarch64-apple-ios), the iOS simulator (aarch64-apple-ios-sim + x86_64-apple-ios)
# and macOS (so `swift test` runs the XCTests on a Mac), with the generated header and
# module map. Also regenerates the Swift bindings from the same sources.
#
# Needs macOS with Xcode (xcodebuild, lipo) and rustup. Not run in Kring's CI.
set -euo pipefail

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$root/ios/build"

device=aarch64-apple-ios
simulator=(aarch64-apple-ios-sim x86_64-apple-ios)
macos=(aarch64-apple-darwin x86_64-apple-darwin)

rustup target add "$device" "${simulator[@]}" "${macos[@]}"

# Swift sources, header and module map, generated from this very code.
"$root/scripts/bindings.sh"

for target in "$device" "${simulator[@]}" "${macos[@]}"; do
  # A static library only here: the crate's own crate-types are cdylib + lib.
  cargo rustc --manifest-path "$root/Cargo.toml" -p kring-ffi --lib --release \
    --target "$target" --crate-type staticlib
done

lib_of() { echo "$target_dir/$1/release/libkring_ffi.a"; }
rm -rf "$out" "$root/ios/KringFFI.xcframework"
mkdir -p "$out/simulator" "$out/macos"
lipo -create "$(lib_of "${simulator[0]}")" "$(lib_of "${simulator[1]}")" -output "$out/simulator/libkring_ffi.a"
lipo -create "$(lib_of "${macos[0]}")" "$(lib_of "${macos[1]}")" -output "$out/macos/libkring_ffi.a"

xcodebuild -create-xcframework \
  -library "$(lib_of "$device")" -headers "$root/ios/Headers" \
  -library "$out/simulator/libkring_ffi.a" -headers "$root/ios/Headers" \
  -library "$out/macos/libkring_ffi.a" -headers "$root/ios/Headers" \
  -output "$root/ios/KringFFI.xcframework"

echo "built ios/KringFFI.xcframework"
