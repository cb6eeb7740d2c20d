//! The account index: for each server key, the server URL as first stored,
//! the username, and which store holds the secret. It holds no secrets.
//!
//! The index is the only file that `list` and a `get` miss read, which keeps
//! them off D-Bus. Fields this version does not know are kept on rewrite, so
//! an older helper never erases what a newer one recorded.

use std::collections::BTreeMap;
use std::fs;
use std::io;

use serde::{Deserialize, Serialize};

use super::{Backend, StoreError};
use crate::accounts::Account;
use crate::atomic;
use crate::paths::Paths;

/// One stored credential, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The server URL exactly as it was first stored; `list` returns it.
    pub server_url: String,
    pub username: String,
    /// The store that holds the secret.
    pub store: Backend,
}

/// A secret left in a store after its entry was removed or moved, because
/// deleting it failed (for example, the keyring was locked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleSecret {
    pub key: String,
    pub store: Backend,
}

/// The whole index file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Index {
    /// Credentials by normalized server key.
    #[serde(default)]
    pub credentials: BTreeMap<String, IndexEntry>,
    /// Logged-in ATCR accounts, in login order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
    /// The active account's DID by registry server key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub active: BTreeMap<String, String>,
    /// Secrets that should be gone but could not be deleted yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_secrets: Vec<StaleSecret>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl Index {
    /// Reads the index; a missing file is an empty index.
    pub fn load(paths: &Paths) -> Result<Index, StoreError> {
        let path = paths.index_file();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Index::default()),
            Err(error) => return Err(StoreError::io("read", &path)(error)),
        };
        serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
            path,
            reason: crate::json_error::describe(&error),
        })
    }

    /// Reports whether a live entry (a stored credential or an account) keeps its secret under `key` in `store`.
    pub fn names_secret(&self, key: &str, store: Backend) -> bool {
        let credential = self
            .credentials
            .get(key)
            .is_some_and(|entry| entry.store == store);
        let account = self
            .accounts
            .iter()
            .any(|account| account.secret_key() == key && account.store == store);
        credential || account
    }

    /// Writes the index atomically. The caller holds the write lock.
    pub fn save(&self, paths: &Paths) -> Result<(), StoreError> {
        let path = paths.index_file();
        atomic::create_private_dir(&paths.config_dir)
            .map_err(StoreError::io("create", &paths.config_dir))?;
        atomic::remove_stale_temporary_files(&paths.config_dir);

        let mut json = serde_json::to_vec_pretty(self).expect("the index always serializes");
        json.push(b'\n');
        atomic::write_file(&path, &json, 0o600).map_err(StoreError::io("write", &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().join("config"),
            data_dir: dir.path().join("data"),
        };
        (dir, paths)
    }

    #[test]
    fn missing_index_is_empty() {
        let (_dir, paths) = temp_paths();
        assert!(Index::load(&paths).unwrap().credentials.is_empty());
    }

    #[test]
    fn unknown_fields_survive_rewrite() {
        let (_dir, paths) = temp_paths();
        fs::create_dir_all(&paths.config_dir).unwrap();
        fs::write(
            paths.index_file(),
            r#"{"credentials":{},"devices":[{"name":"laptop"}]}"#,
        )
        .unwrap();

        let mut index = Index::load(&paths).unwrap();
        let entry = IndexEntry {
            server_url: "atcr.io".into(),
            username: "bob".into(),
            store: Backend::File,
        };
        index.credentials.insert("atcr.io".into(), entry);
        index.save(&paths).unwrap();

        let saved: serde_json::Value =
            serde_json::from_slice(&fs::read(paths.index_file()).unwrap()).unwrap();
        assert_eq!(saved["devices"][0]["name"], "laptop");
        assert_eq!(saved["credentials"]["atcr.io"]["store"], "file");
    }

    #[test]
    fn corrupt_index_names_file() {
        let (_dir, paths) = temp_paths();
        fs::create_dir_all(&paths.config_dir).unwrap();
        fs::write(paths.index_file(), "{not json").unwrap();
        let error = Index::load(&paths).unwrap_err().to_string();
        assert!(error.contains("index.json"), "{error}");
        assert!(
            error.contains("is invalid (syntax error at line 1"),
            "{error}"
        );
    }
}
