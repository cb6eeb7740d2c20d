//! The Secret Service (gnome-keyring, KWallet, KeePassXC) over D-Bus, through
//! the pure-Rust `secret-service` crate so that static musl builds work.
//!
//! The session uses the `plain` algorithm rather than Diffie-Hellman: the
//! secret crosses only the user's own session bus, which any process of the
//! same user can already read in other ways, and the key exchange costs more
//! than the rest of a `get` together. Nothing here ever unlocks a collection,
//! because unlocking opens a password prompt and protocol verbs never prompt.

use std::collections::HashMap;

use secret_service::blocking::SecretService;
use secret_service::{EncryptionType, Error as SsError};

use super::{Operation, Outcome, SERVICE};
use crate::secret::Secret;
use crate::store::StoreError;

/// Connects to the Secret Service, calls `connected`, then runs `operation`.
pub fn execute(operation: Operation, connected: impl FnOnce()) -> Result<Outcome, StoreError> {
    let service = SecretService::connect(EncryptionType::Plain).map_err(unavailable)?;
    connected();

    match operation {
        Operation::Probe => Ok(Outcome::Connected),
        Operation::Get { key } => get(&service, &key).map(Outcome::Secret),
        Operation::Set {
            key,
            username,
            secret,
        } => set(&service, &key, &username, &secret).map(|()| Outcome::Connected),
        Operation::Delete { key } => delete(&service, &key).map(Outcome::Deleted),
    }
}

fn attributes(key: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("username", key)])
}

/// A label for keyring UIs such as Seahorse; it names no secret.
fn label(key: &str, username: &str) -> String {
    format!("ATCR registry credential for {username}@{key}")
}

fn get(service: &SecretService<'_>, key: &str) -> Result<Option<Secret>, StoreError> {
    let found = service.search_items(attributes(key)).map_err(failed)?;
    let Some(item) = found.unlocked.first() else {
        return if found.locked.is_empty() {
            Ok(None)
        } else {
            Err(StoreError::KeyringLocked)
        };
    };

    let bytes = item.get_secret().map_err(failed)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        StoreError::Keyring(format!(
            "the keyring item for {key} is not UTF-8 text; store the credential again"
        ))
    })?;
    Ok(Some(Secret::new(text)))
}

fn set(
    service: &SecretService<'_>,
    key: &str,
    username: &str,
    secret: &Secret,
) -> Result<(), StoreError> {
    let collection = service.get_default_collection().map_err(|error| match error {
        SsError::NoResult => StoreError::Keyring(
            "the Secret Service has no default collection (the \"login\" keyring): create one, for example with Seahorse".into(),
        ),
        other => failed(other),
    })?;
    if collection.is_locked().map_err(failed)? {
        return Err(StoreError::KeyringLocked);
    }

    collection
        .create_item(
            &label(key, username),
            attributes(key),
            secret.expose().as_bytes(),
            true,
            "text/plain",
        )
        .map_err(failed)?;
    Ok(())
}

fn delete(service: &SecretService<'_>, key: &str) -> Result<bool, StoreError> {
    let found = service.search_items(attributes(key)).map_err(failed)?;
    if found.unlocked.is_empty() && !found.locked.is_empty() {
        return Err(StoreError::KeyringLocked);
    }

    for item in &found.unlocked {
        item.delete().map_err(failed)?;
    }
    Ok(!found.unlocked.is_empty())
}

fn unavailable(error: SsError) -> StoreError {
    StoreError::KeyringUnavailable(match error {
        SsError::Unavailable => "no Secret Service on the D-Bus session bus".to_owned(),
        other => other.to_string(),
    })
}

fn failed(error: SsError) -> StoreError {
    match error {
        SsError::Locked | SsError::Prompt | SsError::PromptDisconnected => {
            StoreError::KeyringLocked
        }
        other => StoreError::Keyring(other.to_string()),
    }
}
