//! The ids the trust layer knows: a circle and a member of it. The plan adds its own
//! (tasks, entries) with the same [`define_id!`](crate::define_id).
//!
//! All ids are random 128-bit values written as 32 lowercase hex characters. Random ids
//! (rather than counters) let offline replicas create members, tasks and offers without
//! coordinating, and never collide when their changes merge.

#[doc(hidden)]
pub fn random_hex_128() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

#[doc(hidden)]
pub fn is_valid_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Defines a random 128-bit id type; the plan's ids use it too.
#[macro_export]
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn random() -> Self {
                Self($crate::ids::random_hex_128())
            }

            /// Parses an id typed by a user or received from elsewhere.
            pub fn parse(s: &str) -> Result<Self, $crate::Error> {
                let trimmed = s.trim();
                if $crate::ids::is_valid_id(trimmed) {
                    Ok(Self(trimmed.to_owned()))
                } else {
                    Err($crate::Error::InvalidId { kind: stringify!($name), value: s.to_owned() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The first 8 characters, enough for a human to tell ids apart in a table.
            pub fn short(&self) -> &str {
                &self.0[..8.min(self.0.len())]
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

define_id!(
    /// A circle: one plan document, one membership log.
    CircleId
);
define_id!(
    /// A person in the circle (not a device: one member may use several devices).
    MemberId
);
