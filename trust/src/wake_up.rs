//! The content of a push from the relay: which circle changed and up to where, and
//! nothing else.
//!
//! The relay cannot read the plan and must not pretend to: a push wakes a device, the
//! device syncs and writes the words itself (`kring_plan::news`). So the payload is the
//! circle id and the relay's cursor — what the relay already knows about the circle —
//! encrypted to the device by Web Push (RFC 8291) on top.

use serde::{Deserialize, Serialize};

use crate::ids::CircleId;
use crate::{Error, Result};

/// The version this code writes and reads.
pub const WAKE_UP_VERSION: u8 = 1;
/// A wake-up is a few dozen bytes; anything much larger is not one.
pub const MAX_WAKE_UP_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushWakeUp {
    pub v: u8,
    pub circle: CircleId,
    /// The relay's cursor for the circle after what triggered the push.
    pub cursor: u64,
}

impl PushWakeUp {
    pub fn new(circle: CircleId, cursor: u64) -> PushWakeUp {
        PushWakeUp {
            v: WAKE_UP_VERSION,
            circle,
            cursor,
        }
    }

    /// Reads a decrypted push payload; anything else is a typed error.
    pub fn parse(bytes: &[u8]) -> Result<PushWakeUp> {
        if bytes.len() > MAX_WAKE_UP_BYTES {
            return Err(Error::Oversized {
                what: "push payload",
                len: bytes.len(),
                max: MAX_WAKE_UP_BYTES,
            });
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            v: u8,
            circle: String,
            cursor: u64,
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| Error::Malformed {
            what: "push payload",
            detail: e.to_string(),
        })?;
        if raw.v != WAKE_UP_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "push payload",
                version: raw.v,
            });
        }
        Ok(PushWakeUp {
            v: raw.v,
            circle: CircleId::parse(&raw.circle)?,
            cursor: raw.cursor,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_reads_back_and_anything_else_is_refused() {
        let circle = CircleId::random();
        let wake = PushWakeUp::new(circle.clone(), 42);
        assert_eq!(
            PushWakeUp::parse(&wake.to_bytes()).expect("reads back"),
            wake
        );
        let text = String::from_utf8(wake.to_bytes()).expect("json");
        assert_eq!(
            text,
            format!(r#"{{"v":1,"circle":"{circle}","cursor":42}}"#)
        );

        let refused = |bytes: &[u8]| PushWakeUp::parse(bytes).unwrap_err();
        assert!(matches!(refused(b"not json"), Error::Malformed { .. }));
        assert!(matches!(
            refused(format!(r#"{{"v":2,"circle":"{circle}","cursor":1}}"#).as_bytes()),
            Error::UnsupportedVersion { version: 2, .. }
        ));
        assert!(matches!(
            refused(
                format!(r#"{{"v":1,"circle":"{circle}","cursor":1,"title":"Rit"}}"#).as_bytes()
            ),
            Error::Malformed { .. }
        ));
        assert!(matches!(
            refused(br#"{"v":1,"circle":"nope","cursor":1}"#),
            Error::InvalidId { .. }
        ));
        assert!(matches!(refused(&[b' '; 600]), Error::Oversized { .. }));
    }
}
