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
//!
//! The other way, a device may push on the same socket ([`PushFrame`], kind 3): the
//! circle id, a request id of its choosing, then each envelope as `len: u32` and its
//! bytes. The relay checks and stores it exactly as an HTTP push, and answers with a
//! JSON notice naming the request id: `pushed` (the cursors, after the commit) or
//! `push_refused` (the error body an HTTP push would have got; nothing stored). The
//! socket was authenticated at the upgrade, so a push frame is not signed again; every
//! envelope in it still is.

use crate::envelope::MAX_ENVELOPE_BYTES;
use crate::ids::CircleId;
use crate::Error;

const ENVELOPE: u8 = 1;
const ENTRY: u8 = 2;
const PUSH: u8 = 3;
const HEADER: usize = 1 + 16 + 8;
/// Largest frame a receiver accepts: the largest envelope and its header.
pub const MAX_FRAME_BYTES: usize = HEADER + MAX_ENVELOPE_BYTES;
/// Largest push a device may send on the live socket. A larger batch goes over HTTP
/// (`POST …/envelopes`): the relay reads a socket's message whole before checking
/// it (a slow sender can keep a half-sent one buffered), so this bounds what each of
/// its sockets can make it hold. A typical edit's envelope is about 1 KiB.
pub const MAX_PUSH_FRAME_BYTES: usize = 16 * 1024;
/// Most envelopes in one push frame.
pub const MAX_PUSH_FRAME_ENVELOPES: usize = 100;

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

/// A batch of envelopes a device pushes on its live socket, answered by a
/// `pushed` or `push_refused` notice with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushFrame {
    pub circle: CircleId,
    /// Chosen by the device; the relay's answer names it.
    pub id: u64,
    /// Each as sealed; at least one.
    pub envelopes: Vec<Vec<u8>>,
}

impl PushFrame {
    pub fn encode(&self) -> Vec<u8> {
        let len = HEADER + self.envelopes.iter().map(|e| 4 + e.len()).sum::<usize>();
        let mut out = Vec::with_capacity(len);
        out.push(PUSH);
        out.extend(circle_bytes(&self.circle));
        out.extend(self.id.to_be_bytes());
        for envelope in &self.envelopes {
            // An envelope is at most MAX_ENVELOPE_BYTES, far below u32::MAX.
            out.extend(
                u32::try_from(envelope.len())
                    .unwrap_or(u32::MAX)
                    .to_be_bytes(),
            );
            out.extend_from_slice(envelope);
        }
        out
    }

    /// The request id of what looks like a push frame, so that even a refusal of a
    /// malformed one can name it.
    pub fn request_id(frame: &[u8]) -> Option<u64> {
        let id = frame.get(17..HEADER)?;
        (frame.first() == Some(&PUSH))
            .then(|| u64::from_be_bytes(id.try_into().unwrap_or_default()))
    }

    /// The push in `frame`, or a typed refusal (never a panic): too large, no
    /// envelope, too many, a length that overruns the frame, an empty envelope.
    pub fn decode(frame: &[u8]) -> Result<Self, Error> {
        let malformed = |detail: &str| Error::Malformed {
            what: "push frame",
            detail: detail.to_owned(),
        };
        if frame.len() > MAX_PUSH_FRAME_BYTES {
            return Err(Error::Oversized {
                what: "push frame",
                len: frame.len(),
                max: MAX_PUSH_FRAME_BYTES,
            });
        }
        if frame.len() <= HEADER {
            return Err(malformed("shorter than its header and one envelope"));
        }
        let (kind, rest) = frame.split_at(1);
        if kind[0] != PUSH {
            return Err(malformed(&format!("kind {} is not a push", kind[0])));
        }
        let (id_bytes, rest) = rest.split_at(16);
        let circle = CircleId::parse(&hex::encode(id_bytes))?;
        let (request, mut rest) = rest.split_at(8);
        let id = u64::from_be_bytes(request.try_into().map_err(|_| malformed("request id"))?);
        let mut envelopes = Vec::new();
        while !rest.is_empty() {
            if envelopes.len() == MAX_PUSH_FRAME_ENVELOPES {
                return Err(Error::Oversized {
                    what: "push frame (envelopes)",
                    len: envelopes.len() + 1,
                    max: MAX_PUSH_FRAME_ENVELOPES,
                });
            }
            if rest.len() < 4 {
                return Err(malformed("an envelope length is cut off"));
            }
            let (len, after) = rest.split_at(4);
            let len = u32::from_be_bytes(len.try_into().map_err(|_| malformed("length"))?);
            let len = usize::try_from(len).map_err(|_| malformed("length"))?;
            if len == 0 || len > after.len() {
                return Err(malformed("an envelope length does not fit the frame"));
            }
            let (envelope, after) = after.split_at(len);
            envelopes.push(envelope.to_vec());
            rest = after;
        }
        Ok(PushFrame {
            circle,
            id,
            envelopes,
        })
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
    out.extend(circle_bytes(circle));
    out.extend(position.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

fn circle_bytes(circle: &CircleId) -> Vec<u8> {
    // A CircleId is 32 lowercase hex characters by construction.
    hex::decode(circle.as_str()).unwrap_or_else(|_| vec![0; 16])
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

    #[test]
    fn push_frames_round_trip() {
        let push = PushFrame {
            circle: CircleId::random(),
            id: 42,
            envelopes: vec![vec![1, 2, 3], vec![4; 300]],
        };
        assert_eq!(PushFrame::decode(&push.encode()).unwrap(), push);
    }

    #[test]
    fn a_bad_push_frame_is_a_typed_refusal() {
        let circle = CircleId::random();
        let good = PushFrame {
            circle: circle.clone(),
            id: 1,
            envelopes: vec![vec![7; 10]],
        }
        .encode();
        let mut overrun = good.clone();
        overrun[HEADER + 3] = 11; // says 11 bytes, 10 follow
        let mut empty_envelope = good[..HEADER].to_vec();
        empty_envelope.extend(0u32.to_be_bytes());
        let cut = &good[..HEADER + 2];
        let mut not_a_push = good.clone();
        not_a_push[0] = ENVELOPE;
        let too_many = PushFrame {
            circle: circle.clone(),
            id: 1,
            envelopes: vec![vec![1]; MAX_PUSH_FRAME_ENVELOPES + 1],
        }
        .encode();
        let huge = PushFrame {
            circle,
            id: 1,
            envelopes: vec![vec![1; MAX_PUSH_FRAME_BYTES]],
        }
        .encode();
        for bad in [
            &good[..HEADER],
            &overrun[..],
            &empty_envelope[..],
            cut,
            &not_a_push[..],
            &too_many[..],
            &huge[..],
            &[][..],
        ] {
            assert!(
                matches!(
                    PushFrame::decode(bad),
                    Err(Error::Malformed { .. } | Error::Oversized { .. })
                ),
                "{:?}",
                &bad[..bad.len().min(4)]
            );
        }
    }
}
