//! The credential operations behind the protocol verbs: the index, the
//! keyring and the file store combined.
//!
//! Writes pick a store: `ATCR_CREDENTIAL_STORE` if set, otherwise the keyring
//! when it answers within [`keyring::CONNECT_TIMEOUT`], otherwise the file
//! store. A keyring that answers but fails the write (locked, no default
//! collection, size limit, timeout) does not lose the secret: it goes to the
//! file store, and the index records where each secret lives, so later reads
//! need no setting. Every fallback is announced once per process on stderr
//! with the reason and the file's path.

use std::cell::Cell;
use std::collections::BTreeMap;

use super::file::FileStore;
use super::index::{Index, IndexEntry, StaleSecret};
use super::keyring::{self, Operation, Outcome};
use super::lock::WriteLock;
use super::{Backend, StoreError};
use crate::accounts;
use crate::paths::Paths;
use crate::secret::Secret;
use crate::server_url::ServerUrl;

/// A credential as the protocol carries it.
#[derive(Debug)]
pub struct Credential {
    pub username: String,
    pub secret: Secret,
}

/// The helper's credential storage for one process.
pub struct Credentials {
    paths: Paths,
    forced: Option<Backend>,
    announced: Cell<bool>,
}

impl Credentials {
    /// Uses `paths`, honouring `ATCR_CREDENTIAL_STORE` when it is set.
    pub fn from_env(paths: Paths) -> Result<Credentials, StoreError> {
        let forced = match std::env::var("ATCR_CREDENTIAL_STORE") {
            Ok(value) if !value.trim().is_empty() => Some(value.parse()?),
            _ => None,
        };
        Ok(Credentials::new(paths, forced))
    }

    pub fn new(paths: Paths, forced: Option<Backend>) -> Credentials {
        Credentials {
            paths,
            forced,
            announced: Cell::new(false),
        }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The store that `ATCR_CREDENTIAL_STORE` forces, if any.
    pub fn forced(&self) -> Option<Backend> {
        self.forced
    }

    /// Stores a credential for `server`, replacing any earlier one. Returns
    /// the store that now holds the secret.
    pub fn store(
        &self,
        server: &ServerUrl,
        credential: &Credential,
    ) -> Result<Backend, StoreError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.paths)?;
        self.clean_stale_secrets(&mut index);

        let previous = index.credentials.get(&server.key).cloned();
        let server_url = previous
            .as_ref()
            .map_or_else(|| server.original.clone(), |entry| entry.server_url.clone());
        let username = credential.username.clone();
        let key = server.key.clone();
        self.write_recorded(
            &mut index,
            &server.key,
            &credential.username,
            &credential.secret,
            previous.map(|entry| entry.store),
            |index, store| {
                index.credentials.insert(
                    key,
                    IndexEntry {
                        server_url,
                        username,
                        store,
                    },
                );
            },
        )
    }

    /// Erases the credential that `store` put there for `server`; returns
    /// whether there was one. A secret that cannot be deleted now (the
    /// keyring is locked or gone) is recorded and deleted by a later write.
    pub fn erase(&self, server: &ServerUrl) -> Result<bool, StoreError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.paths)?;
        self.clean_stale_secrets(&mut index);
        let Some(entry) = index.credentials.remove(&server.key) else {
            return Ok(false);
        };

        self.delete_or_record(&mut index, entry.store, &server.key)?;
        index.save(&self.paths)?;
        Ok(true)
    }

    /// Lists server URLs (as first stored) with the username that `get`
    /// returns for them: the active ATCR account's handle where a registry
    /// has one, otherwise the stored username.
    pub fn list(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let index = Index::load(&self.paths)?;
        let mut listed: BTreeMap<String, String> = BTreeMap::new();
        for (key, entry) in &index.credentials {
            let username = accounts::active_account(&index, key)
                .map_or(&entry.username, |account| &account.handle);
            listed.insert(entry.server_url.clone(), username.clone());
        }
        for account in &index.accounts {
            if !index.credentials.contains_key(&account.registry)
                && let Some(active) = accounts::active_account(&index, &account.registry)
            {
                listed.insert(active.registry.clone(), active.handle.clone());
            }
        }
        Ok(listed)
    }

    /// Writes `secret` under `key`, lets `record` put the new entry in the
    /// index, and saves the index. When the index cannot be saved, the write
    /// is undone, so the stores never disagree with the index on disk. An old
    /// copy in another store is deleted once the index no longer names it.
    /// The caller holds the write lock.
    pub(crate) fn write_recorded(
        &self,
        index: &mut Index,
        key: &str,
        username: &str,
        secret: &Secret,
        previous_store: Option<Backend>,
        record: impl FnOnce(&mut Index, Backend),
    ) -> Result<Backend, StoreError> {
        let previous_secret = match previous_store {
            Some(store) => self
                .read_secret(store, key)
                .ok()
                .flatten()
                .map(|secret| (store, secret)),
            None => None,
        };

        let store = self.write_secret(key, username, secret)?;
        index
            .stale_secrets
            .retain(|stale| !(stale.key == key && stale.store == store));
        record(index, store);

        if let Err(error) = index.save(&self.paths) {
            self.undo_write(key, store, previous_secret);
            return Err(error);
        }

        if let Some(old_store) = previous_store
            && old_store != store
        {
            if let Err(error) = self.delete_or_record(index, old_store, key) {
                log::warn!(
                    "could not delete the old copy of the secret for {key} from the {old_store} store: {error}"
                );
            }
            if let Err(error) = index.save(&self.paths) {
                log::warn!(
                    "could not record the old copy of the secret for {key} in the {old_store} store: {error}"
                );
            }
        }
        Ok(store)
    }

    /// Puts back the secret that a failed write replaced, or removes the new one.
    fn undo_write(&self, key: &str, store: Backend, previous: Option<(Backend, Secret)>) {
        let result = match previous {
            Some((old_store, old_secret)) if old_store == store => {
                self.write_to(store, key, &old_secret).map(drop)
            }
            _ => self.delete_secret(store, key).map(drop),
        };
        if let Err(error) = result {
            log::warn!(
                "could not undo the write of the secret for {key} in the {store} store: {error}"
            );
        }
    }

    /// Deletes the secret under `key` from `store`. When the keyring cannot be
    /// reached or is locked, records the secret in the index so a later write
    /// deletes it; other failures (such as a damaged file store) are errors.
    pub(crate) fn delete_or_record(
        &self,
        index: &mut Index,
        store: Backend,
        key: &str,
    ) -> Result<(), StoreError> {
        match self.delete_secret(store, key) {
            Ok(_) => Ok(()),
            Err(error) if error.is_keyring_access() => {
                log::warn!(
                    "could not delete the secret for {key} from the {store} store now ({error}); a later command will"
                );
                index.stale_secrets.push(StaleSecret {
                    key: key.to_owned(),
                    store,
                });
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Deletes the secrets that earlier commands could not, keeping the
    /// records of those that still fail. The caller holds the write lock and
    /// saves the index.
    pub(crate) fn clean_stale_secrets(&self, index: &mut Index) {
        if index.stale_secrets.is_empty() {
            return;
        }
        // With the file store forced, the keyring is not touched. After one
        // keyring failure (locked, unreachable, timed out), the other keyring
        // records wait for a later command, so a hung keyring costs each
        // command one timeout, not one per record.
        let mut skip_keyring = self.forced == Some(Backend::File);
        let stale = std::mem::take(&mut index.stale_secrets);
        for record in stale {
            if index.names_secret(&record.key, record.store) {
                continue;
            }
            if record.store == Backend::Keyring && skip_keyring {
                index.stale_secrets.push(record);
                continue;
            }
            if self.delete_secret(record.store, &record.key).is_err() {
                skip_keyring |= record.store == Backend::Keyring;
                index.stale_secrets.push(record);
            }
        }
    }

    /// Takes the write lock that every change of the index and the file store holds.
    pub(crate) fn lock(&self) -> Result<WriteLock, StoreError> {
        WriteLock::acquire(&self.paths)
    }

    /// Reads the secret under `key` from `backend`.
    pub(crate) fn read_secret(
        &self,
        backend: Backend,
        key: &str,
    ) -> Result<Option<Secret>, StoreError> {
        match backend {
            Backend::File => FileStore::new(&self.paths).get(key),
            Backend::Keyring => match keyring::run(Operation::Get {
                key: key.to_owned(),
            }) {
                Ok(Outcome::Secret(secret)) => Ok(secret),
                Ok(_) => unreachable!("a get returns a secret or nothing"),
                Err(error) => Err(error.into_store_error()),
            },
        }
    }

    /// Writes the secret under `key` to the chosen store, falling back to the
    /// file store when the keyring fails. Returns the store that holds it.
    /// The caller holds the write lock and records the store in the index.
    fn write_secret(
        &self,
        key: &str,
        username: &str,
        secret: &Secret,
    ) -> Result<Backend, StoreError> {
        if self.forced == Some(Backend::File) {
            FileStore::new(&self.paths).set(key, secret)?;
            return Ok(Backend::File);
        }

        let operation = Operation::Set {
            key: key.to_owned(),
            username: username.to_owned(),
            secret: secret.clone(),
        };
        let reason = match keyring::run(operation) {
            Ok(_) => return Ok(Backend::Keyring),
            Err(error) if self.forced == Some(Backend::Keyring) => {
                return Err(error.into_store_error());
            }
            Err(error) => error.into_store_error(),
        };

        FileStore::new(&self.paths).set(key, secret)?;
        self.announce_fallback(&reason);
        Ok(Backend::File)
    }

    /// Writes `secret` under `key` to exactly `store`, with no fallback.
    fn write_to(&self, store: Backend, key: &str, secret: &Secret) -> Result<(), StoreError> {
        match store {
            Backend::File => FileStore::new(&self.paths).set(key, secret),
            Backend::Keyring => keyring::run(Operation::Set {
                key: key.to_owned(),
                username: String::new(),
                secret: secret.clone(),
            })
            .map(drop)
            .map_err(|error| error.into_store_error()),
        }
    }

    /// Deletes the secret under `key` from `backend`; returns whether there was one.
    pub(crate) fn delete_secret(&self, backend: Backend, key: &str) -> Result<bool, StoreError> {
        match backend {
            Backend::File => FileStore::new(&self.paths).delete(key),
            Backend::Keyring => match keyring::run(Operation::Delete {
                key: key.to_owned(),
            }) {
                Ok(Outcome::Deleted(found)) => Ok(found),
                Ok(_) => unreachable!("a delete returns whether it found the item"),
                Err(error) => Err(error.into_store_error()),
            },
        }
    }

    fn announce_fallback(&self, reason: &StoreError) {
        if self.announced.replace(true) {
            return;
        }
        // Some reasons already end with the advice to set the variable.
        let reason = reason.to_string();
        let advice = if reason.contains("ATCR_CREDENTIAL_STORE=file") {
            ""
        } else {
            " Set ATCR_CREDENTIAL_STORE=file to choose it without this message."
        };
        log::warn!(
            "using the file store {} because {reason}.{advice}",
            self.paths.secrets_file().display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_credentials(dir: &tempfile::TempDir) -> Credentials {
        let paths = Paths {
            config_dir: dir.path().join("config"),
            data_dir: dir.path().join("data"),
        };
        Credentials::new(paths, Some(Backend::File))
    }

    #[test]
    fn failed_index_save_restores_old_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut credentials = file_credentials(&dir);
        FileStore::new(&credentials.paths)
            .set("atcr.io", &Secret::new("old".into()))
            .unwrap();
        // A regular file where the config directory should be makes saving the index fail.
        std::fs::write(dir.path().join("not-a-dir"), "").unwrap();
        credentials.paths.config_dir = dir.path().join("not-a-dir");

        let mut index = Index::default();
        let result = credentials.write_recorded(
            &mut index,
            "atcr.io",
            "alice",
            &Secret::new("new".into()),
            Some(Backend::File),
            |_, _| {},
        );
        assert!(result.is_err());
        assert_eq!(
            FileStore::new(&credentials.paths)
                .get("atcr.io")
                .unwrap()
                .unwrap()
                .expose(),
            "old"
        );
    }

    #[test]
    fn failed_index_save_removes_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut credentials = file_credentials(&dir);
        std::fs::write(dir.path().join("not-a-dir"), "").unwrap();
        credentials.paths.config_dir = dir.path().join("not-a-dir");

        let mut index = Index::default();
        let result = credentials.write_recorded(
            &mut index,
            "ghcr.io",
            "bob",
            &Secret::new("new".into()),
            None,
            |_, _| {},
        );
        assert!(result.is_err());
        assert!(
            FileStore::new(&credentials.paths)
                .get("ghcr.io")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn stale_secrets_are_deleted_unless_live() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = file_credentials(&dir);
        let store = FileStore::new(&credentials.paths);
        store.set("gone.example", &Secret::new("x".into())).unwrap();
        store.set("live.example", &Secret::new("y".into())).unwrap();

        let mut index = Index::default();
        let entry = IndexEntry {
            server_url: "live.example".into(),
            username: "u".into(),
            store: Backend::File,
        };
        index.credentials.insert("live.example".into(), entry);
        for key in ["gone.example", "live.example"] {
            index.stale_secrets.push(StaleSecret {
                key: key.into(),
                store: Backend::File,
            });
        }

        credentials.clean_stale_secrets(&mut index);
        assert!(store.get("gone.example").unwrap().is_none());
        assert!(
            store.get("live.example").unwrap().is_some(),
            "a live entry's secret is kept"
        );
        assert!(index.stale_secrets.is_empty());
    }
}
