//! The JSON bodies of the relay API (see `docs/relay-api.md`), shared by the relay and
//! the sync client so the two cannot drift apart, and the one mapping from
//! [`Error`] to HTTP status and stable error code.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::identity::DeviceId;
use crate::ids::CircleId;
use crate::time::Timestamp;
use crate::Error;

/// Bytes that travel as standard base64 (with padding) in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64(pub Vec<u8>);

impl Serialize for Base64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s.as_bytes())
            .map(Base64)
            .map_err(serde::de::Error::custom)
    }
}

/// Most envelopes one push may carry.
pub const MAX_PUSH_BATCH: usize = 100;
/// Largest request body the relay reads.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Default and largest page of a pull.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
pub const MAX_PULL_LIMIT: u32 = 1000;
/// Most envelope bytes in one pull page (the page stops before the envelope that
/// would pass it, but always holds at least one): bounds a pull's memory on the relay.
pub const DEFAULT_PULL_BYTES: usize = 8 * 1024 * 1024;
/// Largest genesis entry the relay takes. A real genesis is a few hundred bytes (keys,
/// times, signatures); the bound stops padded ones from carrying data for free.
pub const MAX_GENESIS_BYTES: usize = 4 * 1024;
/// Largest membership entry the relay appends (a redemption carries its invite).
pub const MAX_RELAY_ENTRY_BYTES: usize = 16 * 1024;
/// Header carrying an admission credential (base64) when creating a circle.
pub const HEADER_ADMISSION: &str = "x-kring-admission";

/// The stable error codes (defined with the classification in [`crate::error`]).
pub use crate::error::codes;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateCircle {
    pub genesis: Base64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppendEntry {
    pub entry: Base64,
}

/// Where the membership log stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    /// Hex entry hash of the newest entry.
    pub head: String,
    /// Number of entries.
    pub len: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CircleCreated {
    pub circle: String,
    #[serde(flatten)]
    pub head: LogHead,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipEntries {
    pub entries: Vec<Base64>,
    #[serde(flatten)]
    pub head: LogHead,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushEnvelopes {
    pub envelopes: Vec<Base64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    /// One cursor per pushed envelope, in order.
    pub cursors: Vec<u64>,
    /// The circle's newest cursor.
    pub latest: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PulledEnvelope {
    pub cursor: u64,
    pub envelope: Base64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pulled {
    pub envelopes: Vec<PulledEnvelope>,
    pub latest: u64,
    /// More envelopes after the last one returned.
    pub more: bool,
    /// Set while the circle is within the warning window of the relay's retention
    /// period for inactive circles: the relay will close it then unless something new
    /// is stored before. The relay cannot write into the (encrypted) plan, so this is
    /// how the owner's device learns it, and says so in the person's own language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<Timestamp>,
}

/// Notices on the live WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveNotice {
    /// Envelopes up to `latest` are stored in `circle`: pull.
    Cursor { circle: String, latest: u64 },
    /// The membership log of `circle` has `len` entries: re-read it.
    Membership { circle: String, len: u64 },
    /// The push sent on this socket with request id `id` ([`crate::live::PushFrame`])
    /// is stored and durable: the cursors of its envelopes, in order (a repeat is
    /// answered with the original cursors), and the circle's newest cursor.
    Pushed {
        id: u64,
        circle: String,
        cursors: Vec<u64>,
        latest: u64,
    },
    /// The push with request id `id` was refused and nothing of it stored: `status`
    /// and `error` are what the same push over HTTP would have been answered.
    PushRefused {
        id: u64,
        status: u16,
        error: ErrorBody,
    },
}

/// `PUT /v1/circles/{circle}/push`: the signing device's Web Push subscription for
/// this circle, as the platform's push API hands it out (`PushSubscription.toJSON()`
/// in a browser, a UnifiedPush distributor's endpoint on Android): the RFC 8030
/// endpoint and the RFC 8291 keys, both base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscription {
    pub endpoint: String,
    /// The device's P-256 public key, uncompressed (65 bytes), base64url.
    pub p256dh: String,
    /// The device's 16-byte authentication secret, base64url.
    pub auth: String,
}

/// The answer to registering (`registered: true`) or unregistering a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRegistration {
    pub circle: String,
    pub registered: bool,
}

/// The answer to `PUT /v1/circles/{circle}/snapshot`: `kept` is `false` when the
/// relay already has a snapshot covering at least as much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotStored {
    pub circle: String,
    pub covers: u64,
    pub kept: bool,
}

/// `GET /v1/push/vapid`: the relay's VAPID public key (RFC 8292), the
/// `applicationServerKey` a device subscribes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VapidKey {
    /// Uncompressed P-256 point (65 bytes), base64url without padding.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// Every non-2xx response body. The optional fields belong to specific codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// With `head_moved`: the log's current head.
    #[serde(default, skip_serializing_if = "Option::is_none", flatten)]
    pub head: Option<LogHead>,
    /// With `gap`: the device_seq the relay expected next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
}

/// The HTTP status and stable code for an error, as the relay reports it
/// ([`Error::class`]).
pub fn status_and_code(error: &Error) -> (u16, &'static str) {
    let class = error.class();
    (class.status, class.code)
}

impl ErrorBody {
    pub fn from_error(error: &Error) -> (u16, ErrorBody) {
        let (status, code) = status_and_code(error);
        let message = if status == 500 {
            "internal error".to_owned()
        } else {
            error.to_string()
        };
        let head = match error {
            Error::HeadMoved { head, len } => Some(LogHead {
                head: head.to_string(),
                len: *len,
            }),
            _ => None,
        };
        let expected_seq = match error {
            Error::BrokenChain { expected_seq, .. } | Error::RelayGap { expected_seq } => {
                Some(*expected_seq)
            }
            _ => None,
        };
        (
            status,
            ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message,
                },
                head,
                expected_seq,
            },
        )
    }
}

/// Turns a relay's non-2xx answer back into the most specific error, so the engine and
/// the CLI can react to it (retry, refresh, report "removed", exit code …): the inverse
/// of [`ErrorBody::from_error`], on the client's side. `device` and `circle` are what
/// the request was about (the codes carry no ids).
pub fn refusal(
    status: u16,
    body: Option<ErrorBody>,
    retry_after: Option<u64>,
    device: Option<DeviceId>,
    circle: Option<&CircleId>,
) -> Error {
    let (code, message) = body
        .as_ref()
        .map(|b| (b.error.code.clone(), b.error.message.clone()))
        .unwrap_or_else(|| (format!("http_{status}"), format!("HTTP {status}")));
    match (status, code.as_str(), device) {
        // Not a retry-soon: the relay's own message says which quota and until when.
        (429, codes::DAILY_QUOTA_EXCEEDED, _) => Error::Relay {
            status,
            code,
            message,
        },
        (429, _, _) => Error::RateLimited {
            retry_after_secs: retry_after.unwrap_or(1),
        },
        (403, codes::REMOVED, Some(device)) => Error::Removed(device),
        (403, codes::READ_ONLY, Some(device)) => Error::ReadOnly(device),
        (410, codes::CIRCLE_CLOSED, _) => {
            Error::CircleClosed(circle.map(|c| c.to_string()).unwrap_or_default())
        }
        // A subscription the relay does not take is the app's input, not a refusal.
        (400, codes::INVALID_SUBSCRIPTION, _) => Error::InvalidPushSubscription(message),
        (404, codes::NOT_FOUND, _) => Error::NotFound(message),
        (404, codes::UNKNOWN_CIRCLE, _) => {
            Error::UnknownCircle(circle.map(|c| c.to_string()).unwrap_or_default())
        }
        (409, codes::CIRCLE_EXISTS, _) => {
            Error::CircleExists(circle.map(|c| c.to_string()).unwrap_or_default())
        }
        (409, codes::HEAD_MOVED, _) => match body.and_then(|b| b.head).and_then(|h| {
            crate::membership::EntryHash::parse(&h.head)
                .ok()
                .map(|x| (x, h.len))
        }) {
            Some((head, len)) => Error::HeadMoved { head, len },
            None => Error::Relay {
                status,
                code,
                message,
            },
        },
        (409, codes::GAP, _) => match body.and_then(|b| b.expected_seq) {
            Some(expected_seq) => Error::RelayGap { expected_seq },
            None => Error::Relay {
                status,
                code,
                message,
            },
        },
        _ => Error::Relay {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_fields_round_trip_and_reject_garbage() {
        let push = PushEnvelopes {
            envelopes: vec![Base64(vec![0, 1, 2, 255])],
        };
        let json = serde_json::to_string(&push).expect("json");
        assert_eq!(json, r#"{"envelopes":["AAEC/w=="]}"#);
        let back: PushEnvelopes = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.envelopes, push.envelopes);
        assert!(serde_json::from_str::<PushEnvelopes>(r#"{"envelopes":["not base64!"]}"#).is_err());
    }

    #[test]
    fn errors_map_to_stable_codes_and_hide_internal_detail() {
        let (status, body) = ErrorBody::from_error(&Error::Replayed);
        assert_eq!((status, body.error.code.as_str()), (401, "replayed"));
        let (status, body) = ErrorBody::from_error(&Error::Network("secret detail".into()));
        assert_eq!(
            (status, body.error.message.as_str()),
            (500, "internal error")
        );
        let (status, body) = ErrorBody::from_error(&Error::BrokenChain {
            what: "envelope chain",
            expected_seq: 4,
            got_seq: 6,
        });
        assert_eq!(
            (status, body.error.code.as_str(), body.expected_seq),
            (409, "gap", Some(4))
        );
        let json = serde_json::to_value(&body).expect("json");
        assert_eq!(json["expected_seq"], 4);
    }

    #[test]
    fn abuse_limits_have_their_own_codes() {
        for (error, status, code) in [
            (
                Error::QuotaExceeded {
                    what: "x",
                    limit: 1,
                },
                507,
                codes::QUOTA_EXCEEDED,
            ),
            (
                Error::DailyQuotaExceeded {
                    what: "x",
                    limit: 1,
                    retry_after_secs: 5,
                },
                429,
                codes::DAILY_QUOTA_EXCEEDED,
            ),
            (Error::CircleClosed("c".into()), 410, codes::CIRCLE_CLOSED),
            (
                Error::AdmissionRequired("no credential".into()),
                403,
                codes::ADMISSION_REQUIRED,
            ),
            (Error::Timeout("body"), 408, codes::TIMEOUT),
            (
                Error::UriTooLong { len: 2, max: 1 },
                414,
                codes::URI_TOO_LONG,
            ),
            (
                Error::HeadersTooLarge { len: 2, max: 1 },
                431,
                codes::HEADERS_TOO_LARGE,
            ),
            (
                Error::InvalidPushSubscription("auth".into()),
                400,
                codes::INVALID_SUBSCRIPTION,
            ),
        ] {
            assert_eq!(status_and_code(&error), (status, code), "{error}");
        }
    }

    #[test]
    fn live_notices_are_tagged() {
        let notice = LiveNotice::Cursor {
            circle: "ab".into(),
            latest: 7,
        };
        let json = serde_json::to_string(&notice).expect("json");
        assert_eq!(json, r#"{"type":"cursor","circle":"ab","latest":7}"#);
    }

    #[test]
    fn refusals_become_typed_errors() {
        let body = |code: &str| {
            Some(ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: "m".into(),
                },
                head: None,
                expected_seq: Some(7),
            })
        };
        let device = crate::identity::DeviceIdentity::generate().id();
        assert!(matches!(
            refusal(403, body("removed"), None, Some(device), None),
            Error::Removed(d) if d == device
        ));
        assert!(matches!(
            refusal(409, body("gap"), None, Some(device), None),
            Error::RelayGap { expected_seq: 7 }
        ));
        assert!(matches!(
            refusal(429, None, Some(3), None, None),
            Error::RateLimited {
                retry_after_secs: 3
            }
        ));
        let daily = refusal(429, body("daily_quota_exceeded"), Some(3600), None, None);
        assert!(
            matches!(&daily, Error::Relay { code, .. } if code == "daily_quota_exceeded"),
            "{daily:?}"
        );
        assert!(!daily.is_transient(), "no retry loop until the next day");
        let circle = CircleId::random();
        assert!(matches!(
            refusal(410, body("circle_closed"), None, None, Some(&circle)),
            Error::CircleClosed(c) if c == circle.to_string()
        ));
        let e = refusal(502, None, None, None, None);
        assert!(e.is_transient(), "{e:?}");
        assert!(!refusal(409, body("fork"), None, None, None).is_transient());
    }
}
