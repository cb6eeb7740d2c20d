//! The file store: secrets in one JSON file, for machines without a keyring
//! (CI, SSH sessions, containers).
//!
//! The file is `credentials.json` in the platform's data directory, mode 0600
//! in a 0700 directory, replaced atomically. It is as safe as the user's home
//! directory and no safer, which is why the helper announces when it falls
//! back to it. Writers hold the write lock (see `lock.rs`); this module
//! assumes they do.

use std::collections::BTreeMap;
use std::fs;
use std::io;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::atomic;
use crate::paths::Paths;
use crate::secret::Secret;

#[derive(Default, Serialize, Deserialize)]
struct SecretsFile {
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

impl Drop for SecretsFile {
    fn drop(&mut self) {
        for value in self.secrets.values_mut() {
            zeroize::Zeroize::zeroize(value);
        }
    }
}

/// The secrets file in the data directory.
pub struct FileStore<'a> {
    paths: &'a Paths,
}

impl<'a> FileStore<'a> {
    pub fn new(paths: &'a Paths) -> FileStore<'a> {
        FileStore { paths }
    }

    /// Returns the secret stored under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Secret>, StoreError> {
        let file = self.load()?;
        Ok(file
            .secrets
            .get(key)
            .map(|value| Secret::new(value.clone())))
    }

    /// Stores `secret` under `key`, replacing any earlier one.
    pub fn set(&self, key: &str, secret: &Secret) -> Result<(), StoreError> {
        let mut file = self.load()?;
        file.secrets
            .insert(key.to_owned(), secret.expose().to_owned());
        self.save(&file)
    }

    /// Removes the secret under `key`; returns whether there was one.
    pub fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut file = self.load()?;
        let Some(mut removed) = file.secrets.remove(key) else {
            return Ok(false);
        };
        zeroize::Zeroize::zeroize(&mut removed);
        self.save(&file)?;
        Ok(true)
    }

    fn load(&self) -> Result<SecretsFile, StoreError> {
        let path = self.paths.secrets_file();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(SecretsFile::default());
            }
            Err(error) => return Err(StoreError::io("read", &path)(error)),
        };
        // serde_json's error names the line and column, never the content.
        serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
            path,
            reason: crate::json_error::describe(&error),
        })
    }

    fn save(&self, file: &SecretsFile) -> Result<(), StoreError> {
        let dir = &self.paths.data_dir;
        atomic::create_private_dir(dir).map_err(StoreError::io("create", dir))?;

        atomic::remove_stale_temporary_files(dir);

        let path = self.paths.secrets_file();
        let mut json = serde_json::to_vec_pretty(file).expect("the secrets file always serializes");
        json.push(b'\n');
        let result =
            atomic::write_file(&path, &json, 0o600).map_err(StoreError::io("write", &path));
        zeroize::Zeroize::zeroize(&mut json);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().join("c"),
            data_dir: dir.path().join("d"),
        };
        let store = FileStore::new(&paths);

        store
            .set("atcr.io", &Secret::new("s3cret\n".into()))
            .unwrap();
        assert_eq!(store.get("atcr.io").unwrap().unwrap().expose(), "s3cret\n");
        assert!(store.delete("atcr.io").unwrap());
        assert!(!store.delete("atcr.io").unwrap());
        assert!(store.get("atcr.io").unwrap().is_none());
    }
}
