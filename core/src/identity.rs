//! Device identity: who signs, and who can receive wrapped keys.
//!
//! Every device has two long-lived key pairs:
//! - **ed25519** for signing membership entries, invites and envelopes. The 32-byte
//!   verifying key *is* the [`DeviceId`]: ids are self-certifying, so nobody can claim
//!   a device id without holding its key, and the relay never needs a lookup table.
//! - **X25519** ([`ExchangeKey`]) for receiving content keys wrapped with sealed boxes.
//!
//! The device's automerge actor id is its verifying key too ([`DeviceIdentity::actor_id`]),
//! so every automerge change can be checked against the signer of the envelope that
//! carried it.
//!
//! Secret keys never leave the device; they live behind a [`SecretStore`] (a 0600 file
//! per secret for the CLI and tests, Keystore/Keychain on phones).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::wire;

wire::define_bytes32!(
    /// A device, named by its ed25519 verifying key (64 hex characters for humans).
    DeviceId
);

wire::define_bytes32!(
    /// A device's X25519 public key: content keys are wrapped to it.
    ExchangeKey
);

impl DeviceId {
    /// The verifying key. Fails for byte strings that are not a curve point, so a
    /// forged id is rejected before any signature check.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_bytes(self.as_bytes())
            .map_err(|_| wire::malformed("device id", "not an ed25519 public key".to_owned()))
    }

    /// The automerge actor id of the device: its verifying key bytes.
    pub fn actor_id(&self) -> automerge::ActorId {
        automerge::ActorId::from(&self.as_bytes()[..])
    }
}

/// What the circle knows about a device: enough to verify it and to wrap keys for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicDevice {
    pub id: DeviceId,
    pub exchange_key: ExchangeKey,
}

/// Version byte of [`DeviceIdentity::to_secret_bytes`].
const SECRET_FORMAT_V1: u8 = 1;
const SECRET_LEN: usize = 1 + 32 + 32;

/// A device's secret keys. Never serialised except through
/// [`to_secret_bytes`](Self::to_secret_bytes) into a [`SecretStore`]; both halves are
/// zeroised on drop by their crates.
pub struct DeviceIdentity {
    signing: SigningKey,
    exchange: crypto_box::SecretKey,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl DeviceIdentity {
    /// Fresh keys from the operating system's random number generator.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
            exchange: crypto_box::SecretKey::generate(&mut OsRng),
        }
    }

    pub fn id(&self) -> DeviceId {
        DeviceId::from_bytes(self.signing.verifying_key().to_bytes())
    }

    pub fn exchange_key(&self) -> ExchangeKey {
        ExchangeKey::from_bytes(self.exchange.public_key().to_bytes())
    }

    pub fn public(&self) -> PublicDevice {
        PublicDevice {
            id: self.id(),
            exchange_key: self.exchange_key(),
        }
    }

    /// The automerge actor id every change made on this device must carry.
    pub fn actor_id(&self) -> automerge::ActorId {
        self.id().actor_id()
    }

    pub(crate) fn exchange_secret(&self) -> &crypto_box::SecretKey {
        &self.exchange
    }

    pub(crate) fn sign(&self, domain: &[u8], message: &[u8]) -> Signature {
        wire::sign(&self.signing, domain, message)
    }

    /// `version || ed25519 seed || X25519 secret`, for a [`SecretStore`] only.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
        out.push(SECRET_FORMAT_V1);
        out.extend_from_slice(self.signing.as_bytes());
        out.extend_from_slice(&self.exchange.to_bytes());
        out
    }

    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        let what = "device secret";
        match bytes.first() {
            Some(&SECRET_FORMAT_V1) if bytes.len() == SECRET_LEN => {}
            Some(&SECRET_FORMAT_V1) | None => {
                return Err(wire::malformed(what, format!("{} bytes", bytes.len())))
            }
            Some(&version) => return Err(Error::UnsupportedVersion { what, version }),
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[1..33]);
        let mut exchange = Zeroizing::new([0u8; 32]);
        exchange.copy_from_slice(&bytes[33..65]);
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
            exchange: crypto_box::SecretKey::from_bytes(*exchange),
        })
    }

    /// Loads the identity stored under `name`, if any.
    pub fn load(store: &dyn SecretStore, name: &str) -> Result<Option<Self>> {
        match store.get(name)? {
            Some(bytes) => Self::from_secret_bytes(&Zeroizing::new(bytes)).map(Some),
            None => Ok(None),
        }
    }

    pub fn save(&self, store: &dyn SecretStore, name: &str) -> Result<()> {
        store.put(name, &self.to_secret_bytes())
    }

    /// The device's identity: loaded if it exists, otherwise generated and saved first.
    pub fn load_or_create(store: &dyn SecretStore, name: &str) -> Result<Self> {
        if let Some(identity) = Self::load(store, name)? {
            return Ok(identity);
        }
        let identity = Self::generate();
        identity.save(store, name)?;
        Ok(identity)
    }
}

/// Where a device keeps its secrets (device keys, circle keyrings).
///
/// Object-safe and `Send + Sync` so the FFI can hand in a foreign implementation
/// (Android Keystore, iOS Keychain). Names are short ASCII identifiers chosen by the
/// core; values are opaque bytes. Implementations must make `put` atomic: after a crash
/// a name holds either the old or the new value.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>>;
    fn put(&self, name: &str, value: &[u8]) -> Result<()>;
    /// Deleting a name that does not exist is not an error.
    fn delete(&self, name: &str) -> Result<()>;
}

/// A [`SecretStore`] with one file per secret in a directory: the directory is 0700,
/// every file 0600, and writes go to a temporary file that is synced and renamed over
/// the old one.
#[derive(Debug, Clone)]
pub struct FileSecretStore {
    dir: PathBuf,
}

impl FileSecretStore {
    /// Opens (creating if needed, with mode 0700) the directory `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        Ok(Self { dir })
    }

    /// Only `[A-Za-z0-9_-]` (and dots, not leading) so a name can never escape the
    /// directory or collide with a temporary file.
    fn path_of(&self, name: &str) -> Result<PathBuf> {
        let valid = !name.is_empty()
            && name.len() <= 128
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid {
            return Err(Error::InvalidValue {
                field: "secret name",
                value: name.to_owned(),
                expected: "1-128 characters of A-Z a-z 0-9 . _ -, not starting with a dot"
                    .to_owned(),
            });
        }
        Ok(self.dir.join(name))
    }

    fn sync_dir(&self) -> Result<()> {
        fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

impl SecretStore for FileSecretStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match fs::read(self.path_of(name)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn put(&self, name: &str, value: &[u8]) -> Result<()> {
        let path = self.path_of(name)?;
        let tmp = self.dir.join(format!(
            ".{name}.{}.tmp",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let written = (|| -> std::io::Result<()> {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(value)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        self.sync_dir()
    }

    fn delete(&self, name: &str) -> Result<()> {
        match fs::remove_file(self.path_of(name)?) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn identity_survives_the_secret_store_with_0600_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::open(dir.path().join("secrets")).unwrap();
        let created = DeviceIdentity::load_or_create(&store, "device").unwrap();
        let loaded = DeviceIdentity::load_or_create(&store, "device").unwrap();
        assert_eq!(created.public(), loaded.public());

        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("secrets/device")), 0o600);
        assert_eq!(mode(&dir.path().join("secrets")), 0o700);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path().join("secrets")).unwrap().count(), 1);

        store.delete("device").unwrap();
        store.delete("device").unwrap();
        assert!(DeviceIdentity::load(&store, "device").unwrap().is_none());
    }

    #[test]
    fn secret_names_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::open(dir.path()).unwrap();
        for bad in ["", "../x", "a/b", ".hidden", "ü"] {
            assert!(
                matches!(store.put(bad, b"x"), Err(Error::InvalidValue { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn actor_id_is_the_verifying_key() {
        let identity = DeviceIdentity::generate();
        assert_eq!(identity.actor_id().to_bytes(), identity.id().as_bytes());
        assert_eq!(
            identity.id().verifying_key().unwrap(),
            identity.signing.verifying_key()
        );
    }

    #[test]
    fn malformed_secrets_are_rejected() {
        let identity = DeviceIdentity::generate();
        let bytes = identity.to_secret_bytes();
        assert!(matches!(
            DeviceIdentity::from_secret_bytes(&bytes[..10]),
            Err(Error::Malformed { .. })
        ));
        let mut other_version = bytes.to_vec();
        other_version[0] = 9;
        assert!(matches!(
            DeviceIdentity::from_secret_bytes(&other_version),
            Err(Error::UnsupportedVersion { version: 9, .. })
        ));
    }
}
