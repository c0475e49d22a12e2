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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(dir: &Path, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let app: Router = router(dir);
        let response = app
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    #[tokio::test]
    async fn the_app_is_served_with_its_policy_and_nothing_outside_its_folder() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("app");
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>kring").unwrap();
        std::fs::write(dir.join("pkg/core.wasm"), b"\0asm").unwrap();
        std::fs::write(root.path().join("secret.txt"), "not for the web").unwrap();

        for path in ["/", "/join"] {
            let (status, headers, body) = get(&dir, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(body, b"<!doctype html>kring");
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        }
        let (status, headers, _) = get(&dir, "/pkg/core.wasm").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
        for outside in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/pkg/../../secret.txt",
        ] {
            let (status, _, body) = get(&dir, outside).await;
            assert_ne!(status, StatusCode::OK, "{outside}");
            assert!(!String::from_utf8_lossy(&body).contains("not for the web"));
        }
    }
}
