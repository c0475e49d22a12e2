//! The store's encryption at rest: SQLCipher with a 32-byte key from the device's
//! secret store, and the one-time migration of a plaintext store.

use super::*;

/// The key a device's store is encrypted with at rest (SQLCipher: AES-256 per page,
/// with an HMAC per page). It lives in the device's `SecretStore` (Keystore, Keychain,
/// the CLI's 0600 file), never in the data directory, so a copied `kring.db` reveals
/// nothing without it. A raw 256-bit key: SQLCipher skips its passphrase derivation.
#[derive(Clone)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// The first bytes of every unencrypted SQLite file.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether the file at `path` is an unencrypted SQLite database (`false` if there is
/// no file).
pub fn is_plaintext(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => Ok(file.read_exact(&mut header).is_ok() && &header == PLAIN_HEADER),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Rewrites the unencrypted store at `path` encrypted with `key`, in place and
/// losslessly (SQLCipher's `sqlcipher_export` copies every table, index and row; the
/// schema version is carried over). The encrypted copy is written next to it, synced,
/// then renamed over the original, so a crash leaves either the old file or the new
/// one, never a mix. The old file's blocks are released to the file system (which
/// may keep them until they are reused: encrypt the disk too).
pub(super) fn encrypt_in_place(path: &Path, key: &StoreKey) -> Result<()> {
    let tmp = path.with_extension("db-encrypting");
    let _ = std::fs::remove_file(&tmp);
    {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Every committed page into the file first, so the export sees all of it.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS encrypted KEY {}", key.pragma_value()),
            [tmp.to_string_lossy()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.execute_batch(&format!(
            "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
        ))?;
    }
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    // The old file's (empty) write-ahead log and index belong to it, not to the new.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

impl StoreKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        StoreKey(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::SecretStore("the store key is not 32 bytes".into()))?;
        Ok(StoreKey(key))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as SQLCipher takes a raw key: `x'<64 hex digits>'`, quoted.
    pub(super) fn pragma_value(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }
}
