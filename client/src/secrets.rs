//! Where a device keeps its secrets: the device identity, circle keyrings and the
//! store key, behind [`SecretStore`] (a 0600 file per secret for the CLI and tests,
//! Keystore/Keychain on phones through the FFI).

use kring_trust::Error as TrustError;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use kring_trust::identity::DeviceIdentity;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Loads the identity stored under `name`, if any.
pub fn load_identity(store: &dyn SecretStore, name: &str) -> Result<Option<DeviceIdentity>> {
    match store.get(name)? {
        Some(bytes) => Ok(Some(DeviceIdentity::from_secret_bytes(&Zeroizing::new(
            bytes,
        ))?)),
        None => Ok(None),
    }
}

pub fn save_identity(identity: &DeviceIdentity, store: &dyn SecretStore, name: &str) -> Result<()> {
    store.put(name, &identity.to_secret_bytes())
}

/// The device's identity: loaded if it exists, otherwise generated and saved first.
pub fn load_or_create_identity(store: &dyn SecretStore, name: &str) -> Result<DeviceIdentity> {
    if let Some(identity) = load_identity(store, name)? {
        return Ok(identity);
    }
    let identity = DeviceIdentity::generate();
    save_identity(&identity, store, name)?;
    Ok(identity)
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
            return Err(Error::Trust(TrustError::InvalidValue {
                field: "secret name",
                value: name.to_owned(),
                expected: "1-128 characters of A-Z a-z 0-9 . _ -, not starting with a dot"
                    .to_owned(),
            }));
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
        let created = load_or_create_identity(&store, "device").unwrap();
        let loaded = load_or_create_identity(&store, "device").unwrap();
        assert_eq!(created.public(), loaded.public());

        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("secrets/device")), 0o600);
        assert_eq!(mode(&dir.path().join("secrets")), 0o700);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path().join("secrets")).unwrap().count(), 1);

        store.delete("device").unwrap();
        store.delete("device").unwrap();
        assert!(load_identity(&store, "device").unwrap().is_none());
    }

    #[test]
    fn secret_names_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::open(dir.path()).unwrap();
        for bad in ["", "../x", "a/b", ".hidden", "ü"] {
            assert!(
                matches!(
                    store.put(bad, b"x"),
                    Err(Error::Trust(TrustError::InvalidValue { .. }))
                ),
                "{bad:?}"
            );
        }
    }
}
