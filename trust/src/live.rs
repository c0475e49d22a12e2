//! The live channel's data frames: what the relay stored, sent as it is stored.
//!
//! A device that subscribes to `GET /v1/live` with its cursors (`after=`) gets, besides
//! the JSON notices of [`crate::protocol::LiveNotice`], one WebSocket *binary* frame
//! per stored envelope and per new membership entry, in order, so it can apply them
//! without pulling. A frame carries the bytes exactly as stored: each envelope is
//! still signed and checked by the receiver as a pulled one is (the socket is
//! authenticated once, at upgrade; its frames are not trusted for more than a pull
//! is).
//!
//! Envelope cursors of a circle are consecutive (`cursor = previous + 1`), so a
//! receiver applies a frame only at `its cursor + 1`: an earlier one is a duplicate,
//! a later one means it missed some (a reconnect, a slow socket the relay switched
//! to notices), and it pulls instead. Nothing is ever applied out of order or twice.
//!
//! Layout (big-endian): `kind: u8` (1 envelope, 2 membership entry), the circle id's
//! 16 bytes, `position: u64` (the envelope's cursor, or the entry's position in the
//! log), then the stored bytes.

use crate::envelope::MAX_ENVELOPE_BYTES;
use crate::ids::CircleId;
use crate::Error;

const ENVELOPE: u8 = 1;
const ENTRY: u8 = 2;
const HEADER: usize = 1 + 16 + 8;
/// Largest frame a receiver accepts: the largest envelope and its header.
pub const MAX_FRAME_BYTES: usize = HEADER + MAX_ENVELOPE_BYTES;

/// One item of stored data on the live channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveFrame {
    /// The envelope stored at `cursor` in `circle`.
    Envelope {
        circle: CircleId,
        cursor: u64,
        bytes: Vec<u8>,
    },
    /// The membership entry at `position` (0 is the genesis) of `circle`'s log.
    Entry {
        circle: CircleId,
        position: u64,
        bytes: Vec<u8>,
    },
}

impl LiveFrame {
    pub fn circle(&self) -> &CircleId {
        match self {
            LiveFrame::Envelope { circle, .. } | LiveFrame::Entry { circle, .. } => circle,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let (kind, circle, position, bytes) = match self {
            LiveFrame::Envelope {
                circle,
                cursor,
                bytes,
            } => (ENVELOPE, circle, *cursor, bytes),
            LiveFrame::Entry {
                circle,
                position,
                bytes,
            } => (ENTRY, circle, *position, bytes),
        };
        encode_parts(kind, circle, position, bytes)
    }

    /// The frame in `frame`, or [`Error::Malformed`] (never a panic) for anything
    /// that is not one.
    pub fn decode(frame: &[u8]) -> Result<Self, Error> {
        let malformed = |detail: &str| Error::Malformed {
            what: "live frame",
            detail: detail.to_owned(),
        };
        if frame.len() > MAX_FRAME_BYTES {
            return Err(Error::Oversized {
                what: "live frame",
                len: frame.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        if frame.len() <= HEADER {
            return Err(malformed("shorter than its header and one byte"));
        }
        let (kind, rest) = frame.split_at(1);
        let (id, rest) = rest.split_at(16);
        let (position, bytes) = rest.split_at(8);
        let circle = CircleId::parse(&hex::encode(id))?;
        let mut be = [0u8; 8];
        be.copy_from_slice(position);
        let position = u64::from_be_bytes(be);
        let bytes = bytes.to_vec();
        match kind[0] {
            ENVELOPE if position > 0 => Ok(LiveFrame::Envelope {
                circle,
                cursor: position,
                bytes,
            }),
            ENVELOPE => Err(malformed("envelope cursors start at 1")),
            ENTRY => Ok(LiveFrame::Entry {
                circle,
                position,
                bytes,
            }),
            other => Err(malformed(&format!("unknown kind {other}"))),
        }
    }
}

/// The frame of an envelope without copying it first (what the relay sends to every
/// subscriber of a circle; built once per stored envelope).
pub fn envelope_frame(circle: &CircleId, cursor: u64, bytes: &[u8]) -> Vec<u8> {
    encode_parts(ENVELOPE, circle, cursor, bytes)
}

/// The frame of a membership entry.
pub fn entry_frame(circle: &CircleId, position: u64, bytes: &[u8]) -> Vec<u8> {
    encode_parts(ENTRY, circle, position, bytes)
}

fn encode_parts(kind: u8, circle: &CircleId, position: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + bytes.len());
    out.push(kind);
    // A CircleId is 32 lowercase hex characters by construction.
    out.extend(hex::decode(circle.as_str()).unwrap_or_else(|_| vec![0; 16]));
    out.extend(position.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let circle = CircleId::random();
        for frame in [
            LiveFrame::Envelope {
                circle: circle.clone(),
                cursor: 7,
                bytes: vec![1, 2, 3],
            },
            LiveFrame::Entry {
                circle: circle.clone(),
                position: 0,
                bytes: vec![9],
            },
        ] {
            assert_eq!(LiveFrame::decode(&frame.encode()).unwrap(), frame);
        }
        assert_eq!(
            envelope_frame(&circle, 7, &[1, 2, 3]),
            LiveFrame::Envelope {
                circle,
                cursor: 7,
                bytes: vec![1, 2, 3]
            }
            .encode()
        );
    }

    #[test]
    fn anything_else_is_a_typed_refusal() {
        let circle = CircleId::random();
        let good = envelope_frame(&circle, 1, &[5]);
        let mut unknown = good.clone();
        unknown[0] = 9;
        let zero = envelope_frame(&circle, 0, &[5]);
        let huge = vec![1u8; MAX_FRAME_BYTES + 1];
        for bad in [&good[..HEADER], &unknown[..], &zero[..], &[][..], &huge[..]] {
            assert!(
                matches!(
                    LiveFrame::decode(bad),
                    Err(Error::Malformed { .. } | Error::Oversized { .. })
                ),
                "{:?}",
                &bad[..bad.len().min(4)]
            );
        }
    }
}
