//! The relay's errors. Every refusal leaves as `{"error": {"code", "message"}}` with
//! the status and code of the trust layer's classification
//! (`kring_trust::protocol::status_and_code`): one mapping, shared with clients.
//!
//! The relay's own failures (its database, its files) are [`Error`]; on their way to a
//! client they become the trust layer's `Internal` (a 500 whose details stay in the
//! relay's log), never "not found" or "file system" in a client's face.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kring_trust::protocol::ErrorBody;
use kring_trust::Error as TrustError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub TrustError);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<TrustError> for ApiError {
    fn from(error: TrustError) -> Self {
        ApiError(error)
    }
}

/// The stable code of a refused request, left on the response for metrics and logs.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = ErrorBody::from_error(&self.0);
        let code = kring_trust::protocol::status_and_code(&self.0).1;
        log(status, code, &self.0);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(body)).into_response();
        if let TrustError::RateLimited { retry_after_secs }
        | TrustError::DailyQuotaExceeded {
            retry_after_secs, ..
        }
        | TrustError::Unavailable {
            retry_after_secs, ..
        } = self.0
        {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response.extensions_mut().insert(ErrorCode(code));
        response
    }
}

/// Only the relay's own failure (500) is logged as an error. Every other answer is a
/// refusal, logged for debugging: a 4xx, a 507 quota, a 503 (the body budget is full,
/// or the database is away, which is warned of where it is classified, in
/// `From<Error> for TrustError`); metrics count them by code.
fn log(status: u16, code: &'static str, error: &TrustError) {
    if status == 500 {
        tracing::error!(error = %error, "internal error");
    } else {
        tracing::debug!(code, status, error = %error, "refused");
    }
}

/// An error from a place that should not fail (a task that panicked, a closed channel).
pub fn internal(what: impl std::fmt::Display) -> TrustError {
    TrustError::Internal(what.to_string())
}

/// The relay's own failures, and the trust layer's refusals passed through.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("relay database: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("relay file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("relay database (PostgreSQL): {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The membership log in a shared store moved past what this process holds (another
    /// relay process appended): the caller reads the log again and retries.
    #[error("the membership log moved on in another relay process")]
    LogMoved,
    /// No connection to PostgreSQL could be had from the pool in time.
    #[error("relay database (PostgreSQL) pool: {0}")]
    Pool(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a client is asked to wait while the database is away.
const UNAVAILABLE_RETRY_SECS: u64 = 2;

impl From<Error> for TrustError {
    fn from(e: Error) -> Self {
        match e {
            Error::Trust(e) => e,
            // Retried by the caller; only a circle that changes on every attempt gets here.
            Error::LogMoved => TrustError::Unavailable {
                reason: "the circle is changing on another relay process",
                retry_after_secs: 1,
            },
            Error::Pool(e) => {
                tracing::warn!(error = %e, "the database is unreachable");
                TrustError::Unavailable {
                    reason: "the relay's database is unreachable",
                    retry_after_secs: UNAVAILABLE_RETRY_SECS,
                }
            }
            Error::Postgres(e) => match postgres_unavailable(&e) {
                Some(reason) => {
                    tracing::warn!(error = %e, reason, "the database is away");
                    TrustError::Unavailable {
                        reason,
                        retry_after_secs: UNAVAILABLE_RETRY_SECS,
                    }
                }
                None => TrustError::Internal(e.to_string()),
            },
            failure => TrustError::Internal(failure.to_string()),
        }
    }
}

/// The PostgreSQL failures a client should retry after (the database is restarting,
/// unreachable or out of room), as opposed to a bug in a query. Classified once, here,
/// from SQLSTATE classes 08 (connection), 53 (insufficient resources) and 57P
/// (operator intervention: shutdown, starting up).
fn postgres_unavailable(e: &tokio_postgres::Error) -> Option<&'static str> {
    let Some(state) = e.code() else {
        // No SQLSTATE: the connection itself failed or closed.
        return Some("the relay's database is unreachable");
    };
    let code = state.code();
    if code.starts_with("53") {
        Some("the relay's database is full")
    } else if code.starts_with("08") || code.starts_with("57P") {
        Some("the relay's database is restarting")
    } else {
        None
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relays_own_failures_are_internal_not_a_clients_problem() {
        let io = Error::Io(std::io::Error::other("disk full"));
        let out: TrustError = io.into();
        assert_eq!(out.class().status, 500);
        assert_eq!(out.class().code, kring_trust::error::codes::INTERNAL);
        let refusal: TrustError = Error::Trust(TrustError::Replayed).into();
        assert!(matches!(refusal, TrustError::Replayed));
    }

    /// Issue 27: a 507 `quota_exceeded` was logged as "internal error".
    #[test]
    fn only_the_relays_own_failures_are_logged_as_errors() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lines").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish(),
        );
        let logged = |error: TrustError| {
            lines.0.lock().expect("lines").clear();
            tracing::dispatcher::with_default(&dispatch, || {
                let _ = ApiError(error).into_response();
            });
            String::from_utf8_lossy(&lines.0.lock().expect("lines")).into_owned()
        };
        let quota = logged(TrustError::QuotaExceeded {
            what: "envelope bytes in this circle",
            limit: 1,
        });
        assert!(quota.contains("DEBUG") && quota.contains("507"), "{quota}");
        assert!(
            !quota.contains("ERROR") && !quota.contains("internal"),
            "{quota}"
        );
        let failure = logged(internal("the store writer stopped"));
        assert!(
            failure.contains("ERROR") && failure.contains("internal error"),
            "{failure}"
        );
    }
}
