//! Recovery codes: twelve words (BIP-39, English word list) that stand for one more
//! device of a member — a *paper device* — so that a person who loses every phone
//! can bring a new one in.
//!
//! The code's 128 bits of entropy derive a device identity (ed25519 and X25519 keys,
//! BLAKE3 key derivation). Its public half is admitted to the membership log with an
//! ordinary `AddDevice` entry for the member, so the validator, the relay and every
//! device treat it like any other device of that member: every key rotation wraps
//! the circle key for it too. Nothing about the code is stored on the device that
//! made it (only the paper device's id, to show it in `kring device list`); it is
//! printed once, to be written down.
//!
//! Recovering (`Device::recover`) rebuilds the paper device from the words on a new
//! device, uses it to admit the new device for the same member, then has the new
//! device remove the member's old devices and finally the paper device itself, each
//! removal rotating the key. A removed device never comes back, so a code works
//! once; a code that is not a device of the circle is refused. The trade-off (see
//! `docs/threat-model.md`): whoever holds the words holds that member's place in the
//! circle, including reading it.

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::identity::DeviceIdentity;

/// Words in a recovery code (128 bits of entropy plus a 4-bit checksum).
pub const RECOVERY_WORDS: usize = 12;
const ENTROPY_LEN: usize = 16;
const SIGNING_KDF: &str = "kring 2025 recovery device signing key v1";
const EXCHANGE_KDF: &str = "kring 2025 recovery device exchange key v1";

/// A recovery code. Its `Debug` shows nothing secret.
pub struct RecoveryCode {
    entropy: Zeroizing<[u8; ENTROPY_LEN]>,
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCode")
            .field("device", &self.device().id())
            .finish_non_exhaustive()
    }
}

impl RecoveryCode {
    /// A fresh code from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut entropy = Zeroizing::new([0u8; ENTROPY_LEN]);
        OsRng.fill_bytes(&mut entropy[..]);
        Self { entropy }
    }

    /// Reads a code as a person types it: words separated by any whitespace, any
    /// case. A wrong word, a wrong number of words or a typo the checksum catches is
    /// [`Error::RecoveryCode`], saying which word.
    pub fn parse(text: &str) -> Result<Self> {
        use crate::error::RecoveryCodeProblem as Problem;
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        let count = Problem::WordCount {
            found: words.len(),
            expected: RECOVERY_WORDS,
        };
        if words.len() != RECOVERY_WORDS {
            return Err(Error::RecoveryCode(count));
        }
        let mnemonic =
            bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &words.join(" "))
                .map_err(|e| {
                    Error::RecoveryCode(match e {
                        bip39::Error::UnknownWord(i) => Problem::UnknownWord { position: i + 1 },
                        bip39::Error::InvalidChecksum => Problem::Checksum,
                        _ => count,
                    })
                })?;
        let (bytes, len) = mnemonic.to_entropy_array();
        if len != ENTROPY_LEN {
            return Err(Error::RecoveryCode(count));
        }
        let mut entropy = Zeroizing::new([0u8; ENTROPY_LEN]);
        entropy.copy_from_slice(&bytes[..ENTROPY_LEN]);
        Ok(Self { entropy })
    }

    /// The code as one line of words, to print once.
    pub fn words(&self) -> Zeroizing<String> {
        // 16 bytes is a valid BIP-39 entropy length, so this cannot fail.
        let mnemonic =
            bip39::Mnemonic::from_entropy_in(bip39::Language::English, &self.entropy[..])
                .expect("16 bytes are a valid BIP-39 entropy");
        Zeroizing::new(mnemonic.to_string())
    }

    /// The paper device the code stands for.
    pub fn device(&self) -> DeviceIdentity {
        let mut secret = Zeroizing::new(Vec::with_capacity(65));
        secret.push(1);
        secret.extend_from_slice(&blake3::derive_key(SIGNING_KDF, &self.entropy[..]));
        secret.extend_from_slice(&blake3::derive_key(EXCHANGE_KDF, &self.entropy[..]));
        DeviceIdentity::from_secret_bytes(&secret)
            .expect("a version byte and two 32-byte keys are a device secret")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_twelve_words_that_give_back_the_same_device() {
        let code = RecoveryCode::generate();
        let words = code.words();
        assert_eq!(words.split(' ').count(), RECOVERY_WORDS);
        let typed = format!("  {}\n", words.to_uppercase().replace(' ', "   "));
        let back = RecoveryCode::parse(&typed).unwrap();
        assert_eq!(back.device().id(), code.device().id());
        assert_ne!(RecoveryCode::generate().device().id(), code.device().id());
        assert!(!format!("{code:?}").contains(words.split(' ').next().unwrap()));
    }

    #[test]
    fn wrong_words_are_refused() {
        let code = RecoveryCode::generate();
        let words: Vec<String> = code.words().split(' ').map(str::to_owned).collect();
        use crate::error::RecoveryCodeProblem as P;
        let problem = |typed: &str| match RecoveryCode::parse(typed) {
            Err(Error::RecoveryCode(p)) => Some(p),
            _ => None,
        };
        assert_eq!(
            problem(&words[..11].join(" ")),
            Some(P::WordCount {
                found: 11,
                expected: 12
            })
        );
        // The person hears which word to look at, counted as they count.
        let mut typo = words.clone();
        typo[4] = "kringfoo".into();
        assert_eq!(
            problem(&typo.join(" ")),
            Some(P::UnknownWord { position: 5 })
        );
        // Swapping two different words breaks the checksum (almost always; try a few).
        let refused = (0..11)
            .filter(|&i| words[i] != words[i + 1])
            .filter(|&i| {
                let mut swapped = words.clone();
                swapped.swap(i, i + 1);
                RecoveryCode::parse(&swapped.join(" ")).is_err()
            })
            .count();
        assert!(refused > 0);
    }
}
