//! The uniffi bindings generator, built from the workspace so its version always
//! matches the `uniffi` the cdylib was built with (a mismatch breaks the checksums
//! the generated code verifies at load time). Run via `scripts/bindings.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
