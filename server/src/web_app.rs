//! The web app's static files (`--web DIR`), served beside the API by the same
//! relay, so a phone needs one address and the app talks to its own origin only.
//!
//! What is served and how:
//! - `/` and `/join` are `index.html` (an invite opened on a phone is
//!   `https://relay/join#kring://invite/…`; the fragment, with the invite's secret,
//!   never reaches the relay);
//! - every file under the folder by its path, nothing outside it (tower-http's
//!   `ServeDir` refuses `..`), `.wasm` as `application/wasm`;
//! - a Content-Security-Policy that lets the page run its own scripts and its
//!   WebAssembly and talk to this origin only, frames and plugins off, and
//!   `Referrer-Policy: no-referrer`;
//! - the API's routes are matched first: `/v1/…`, `/healthz`, `/metrics` never reach
//!   this service.

use std::path::Path;

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// What the app's pages may do (docs/threat-model.md, "The browser").
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; \
     worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The router of the app's files in `dir`, for the relay's fallback.
pub fn router<S: Clone + Send + Sync + 'static>(dir: &Path) -> Router<S> {
    let index = ServeFile::new(dir.join("index.html"));
    Router::new()
        .route_service("/", index.clone())
        .route_service("/join", index)
        .fallback_service(ServeDir::new(dir))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}
