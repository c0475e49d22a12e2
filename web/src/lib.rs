//! `kring-web`: Kring in the browser. The same trust layer, plan and sync engine as
//! on a phone, compiled to WebAssembly; the browser brings its own storage
//! (IndexedDB, encrypted with a WebCrypto key, `web/app/store.js`) and its own
//! transport (`fetch`, `web/app/relay.js`).
//!
//! - [`replica`]: one circle as the browser keeps it, and what sync does to it.
//! - [`driver`]: joining and syncing as a state machine that returns each relay
//!   request as data and takes the answer back (sans-IO).
//! - [`device`]: the device: identity, circles, plan operations, the operation in
//!   flight, the whole of it as bytes to store.
//! - [`bindings`]: the JavaScript surface (wasm-bindgen), thin over [`device`].
//! - [`error`]: this crate's [`Error`].

pub mod bindings;
pub mod device;
pub mod driver;
pub mod error;
pub mod replica;

pub use error::{Error, Result};
