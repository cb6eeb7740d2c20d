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
use super::index::{Index, IndexEntry};
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
        Credentials { paths, forced, announced: Cell::new(false) }
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
    pub fn store(&self, server: &ServerUrl, credential: &Credential) -> Result<Backend, StoreError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.paths)?;

        let backend = self.write_secret(&server.key, &credential.username, &credential.secret)?;

        let previous = index.credentials.get(&server.key).cloned();
        if let Some(previous) = &previous
            && previous.store != backend
        {
            self.delete_secret_quietly(previous.store, &server.key);
        }

        let server_url = previous.map_or_else(|| server.original.clone(), |entry| entry.server_url);
        let entry = IndexEntry { server_url, username: credential.username.clone(), store: backend };
        index.credentials.insert(server.key.clone(), entry);
        index.save(&self.paths)?;
        Ok(backend)
    }

    /// Erases the credential for `server`; returns whether there was one.
    pub fn erase(&self, server: &ServerUrl) -> Result<bool, StoreError> {
        let _lock = self.lock()?;
        let mut index = Index::load(&self.paths)?;
        let Some(entry) = index.credentials.get(&server.key).cloned() else {
            return Ok(false);
        };

        self.delete_secret(entry.store, &server.key)?;
        index.credentials.remove(&server.key);
        index.save(&self.paths)?;
        Ok(true)
    }

    /// Lists server URLs (as first stored) and their usernames, plus each
    /// registry's active ATCR account where no credential was stored for it.
    pub fn list(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let index = Index::load(&self.paths)?;
        let mut listed: BTreeMap<String, String> = BTreeMap::new();
        for entry in index.credentials.values() {
            listed.insert(entry.server_url.clone(), entry.username.clone());
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

    /// Takes the write lock that every change of the index and the file store holds.
    pub(crate) fn lock(&self) -> Result<WriteLock, StoreError> {
        WriteLock::acquire(&self.paths)
    }

    /// Reads the secret under `key` from `backend`.
    pub(crate) fn read_secret(&self, backend: Backend, key: &str) -> Result<Option<Secret>, StoreError> {
        match backend {
            Backend::File => FileStore::new(&self.paths).get(key),
            Backend::Keyring => match keyring::run(Operation::Get { key: key.to_owned() }) {
                Ok(Outcome::Secret(secret)) => Ok(secret),
                Ok(_) => unreachable!("a get returns a secret or nothing"),
                Err(error) => Err(error.into_store_error()),
            },
        }
    }

    /// Writes the secret under `key` to the chosen store, falling back to the
    /// file store when the keyring fails. Returns the store that holds it.
    /// The caller holds the write lock and records the store in the index.
    pub(crate) fn write_secret(&self, key: &str, username: &str, secret: &Secret) -> Result<Backend, StoreError> {
        if self.forced == Some(Backend::File) {
            FileStore::new(&self.paths).set(key, secret)?;
            return Ok(Backend::File);
        }

        let operation = Operation::Set { key: key.to_owned(), username: username.to_owned(), secret: secret.clone() };
        let reason = match keyring::run(operation) {
            Ok(_) => return Ok(Backend::Keyring),
            Err(error) if self.forced == Some(Backend::Keyring) => return Err(error.into_store_error()),
            Err(error) => error.into_store_error(),
        };

        FileStore::new(&self.paths).set(key, secret)?;
        self.announce_fallback(&reason);
        Ok(Backend::File)
    }

    /// Deletes the secret under `key` from `backend`; returns whether there was one.
    pub(crate) fn delete_secret(&self, backend: Backend, key: &str) -> Result<bool, StoreError> {
        match backend {
            Backend::File => FileStore::new(&self.paths).delete(key),
            Backend::Keyring => match keyring::run(Operation::Delete { key: key.to_owned() }) {
                Ok(Outcome::Deleted(found)) => Ok(found),
                Ok(_) => unreachable!("a delete returns whether it found the item"),
                Err(error) => Err(error.into_store_error()),
            },
        }
    }

    /// Deletes an old copy of a secret, logging instead of failing.
    pub(crate) fn delete_secret_quietly(&self, backend: Backend, key: &str) {
        if let Err(error) = self.delete_secret(backend, key) {
            log::warn!("could not remove the old copy of the secret for {key} from the {backend} store: {error}");
        }
    }

    fn announce_fallback(&self, reason: &StoreError) {
        if self.announced.replace(true) {
            return;
        }
        log::warn!(
            "using the file store {} because {reason}. Set ATCR_CREDENTIAL_STORE=file to choose it without this message.",
            self.paths.secrets_file().display()
        );
    }
}
