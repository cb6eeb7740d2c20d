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
use super::keyring::{self, KeyringError, Operation, Outcome};
use super::lock::WriteLock;
use super::{Backend, StoreError};
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

    /// Returns the credential stored for `server`, reading only the index
    /// when there is none.
    pub fn get(&self, server: &ServerUrl) -> Result<Option<Credential>, StoreError> {
        let index = Index::load(&self.paths)?;
        let Some(entry) = index.credentials.get(&server.key) else {
            return Ok(None);
        };

        let secret = match entry.store {
            Backend::File => FileStore::new(&self.paths).get(&server.key)?,
            Backend::Keyring => keyring_get(&server.key)?,
        };
        if secret.is_none() {
            log::warn!("the index lists {} in the {} store, but the secret is gone from it; store it again", server.original, entry.store);
        }
        Ok(secret.map(|secret| Credential { username: entry.username.clone(), secret }))
    }

    /// Stores a credential for `server`, replacing any earlier one. Returns
    /// the store that now holds the secret.
    pub fn store(&self, server: &ServerUrl, credential: &Credential) -> Result<Backend, StoreError> {
        let _lock = WriteLock::acquire(&self.paths)?;
        let mut index = Index::load(&self.paths)?;

        let backend = self.write_secret(&server.key, credential)?;

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
        let _lock = WriteLock::acquire(&self.paths)?;
        let mut index = Index::load(&self.paths)?;
        let Some(entry) = index.credentials.get(&server.key).cloned() else {
            return Ok(false);
        };

        match entry.store {
            Backend::File => {
                FileStore::new(&self.paths).delete(&server.key)?;
            }
            Backend::Keyring => {
                keyring::run(Operation::Delete { key: server.key.clone() }).map_err(KeyringError::into_store_error)?;
            }
        }

        index.credentials.remove(&server.key);
        index.save(&self.paths)?;
        Ok(true)
    }

    /// Lists server URLs (as first stored) and their usernames.
    pub fn list(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let index = Index::load(&self.paths)?;
        Ok(index.credentials.into_values().map(|entry| (entry.server_url, entry.username)).collect())
    }

    fn write_secret(&self, key: &str, credential: &Credential) -> Result<Backend, StoreError> {
        if self.forced == Some(Backend::File) {
            FileStore::new(&self.paths).set(key, &credential.secret)?;
            return Ok(Backend::File);
        }

        let operation = Operation::Set { key: key.to_owned(), username: credential.username.clone(), secret: credential.secret.clone() };
        let reason = match keyring::run(operation) {
            Ok(_) => return Ok(Backend::Keyring),
            Err(error) if self.forced == Some(Backend::Keyring) => return Err(error.into_store_error()),
            Err(error) => error.into_store_error(),
        };

        FileStore::new(&self.paths).set(key, &credential.secret)?;
        self.announce_fallback(&reason);
        Ok(Backend::File)
    }

    fn delete_secret_quietly(&self, backend: Backend, key: &str) {
        let result = match backend {
            Backend::File => FileStore::new(&self.paths).delete(key).map(drop),
            Backend::Keyring => keyring::run(Operation::Delete { key: key.to_owned() }).map(drop).map_err(KeyringError::into_store_error),
        };
        if let Err(error) = result {
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

fn keyring_get(key: &str) -> Result<Option<Secret>, StoreError> {
    match keyring::run(Operation::Get { key: key.to_owned() }) {
        Ok(Outcome::Secret(secret)) => Ok(secret),
        Ok(_) => unreachable!("a get returns a secret or nothing"),
        Err(error) => Err(error.into_store_error()),
    }
}
