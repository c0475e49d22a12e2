//! Every refusal leaves as `{"error": {"code", "message"}}` with the status and code
//! of `kring_core::sync::protocol::status_and_code`: one mapping, shared with clients.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kring_core::sync::protocol::ErrorBody;
use kring_core::Error;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

/// The stable code of a refused request, left on the response for metrics and logs.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = ErrorBody::from_error(&self.0);
        let code = kring_core::sync::protocol::status_and_code(&self.0).1;
        if status >= 500 {
            tracing::error!(error = %self.0, "internal error");
        } else {
            tracing::debug!(code, error = %self.0, "refused");
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(body)).into_response();
        if let Error::RateLimited { retry_after_secs }
        | Error::DailyQuotaExceeded {
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

/// An error from a place that should not fail (a task that panicked, a closed channel).
pub fn internal(what: impl std::fmt::Display) -> Error {
    Error::Internal(what.to_string())
}
