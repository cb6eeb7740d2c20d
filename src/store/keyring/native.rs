//! macOS Keychain and Windows Credential Manager through `keyring-core` and
//! the platform's store crate.
//!
//! Windows Credential Manager limits a credential blob to 2,560 bytes
//! (`CRED_MAX_CREDENTIAL_BLOB_SIZE`); the store crate reports a longer
//! secret as `TooLong`, which becomes [`StoreError::TooLarge`] so the caller
//! can fall back to the file store and say why.

use keyring_core::{Entry, Error as KeyringError};

use super::{Operation, Outcome, SERVICE};
use crate::secret::Secret;
use crate::store::StoreError;

/// Opens the platform store, calls `connected`, then runs `operation`.
pub fn execute(operation: Operation, connected: impl FnOnce()) -> Result<Outcome, StoreError> {
    open_store()?;
    connected();

    match operation {
        Operation::Probe => Ok(Outcome::Connected),
        Operation::Get { key } => match entry(&key)?.get_password() {
            Ok(password) => Ok(Outcome::Secret(Some(Secret::new(password)))),
            Err(KeyringError::NoEntry) => Ok(Outcome::Secret(None)),
            Err(error) => Err(failed(error, 0)),
        },
        Operation::Set {
            key,
            username,
            secret,
        } => {
            let entry = entry(&key)?;
            let _ = username;
            entry
                .set_password(secret.expose())
                .map_err(|error| failed(error, secret.len()))?;
            Ok(Outcome::Connected)
        }
        Operation::Delete { key } => match entry(&key)?.delete_credential() {
            Ok(()) => Ok(Outcome::Deleted(true)),
            Err(KeyringError::NoEntry) => Ok(Outcome::Deleted(false)),
            Err(error) => Err(failed(error, 0)),
        },
    }
}

#[cfg(target_os = "macos")]
fn open_store() -> Result<(), StoreError> {
    let store =
        apple_native_keyring_store::keychain::Store::new().map_err(|error| failed(error, 0))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(windows)]
fn open_store() -> Result<(), StoreError> {
    let store = windows_native_keyring_store::Store::new().map_err(|error| failed(error, 0))?;
    keyring_core::set_default_store(store);
    Ok(())
}

fn entry(key: &str) -> Result<Entry, StoreError> {
    Entry::new(SERVICE, key).map_err(|error| failed(error, 0))
}

fn failed(error: KeyringError, secret_size: usize) -> StoreError {
    match error {
        KeyringError::NoStorageAccess(inner) => {
            StoreError::Keyring(format!("no access to the keychain: {inner}"))
        }
        KeyringError::TooLong(attribute, limit)
            if attribute.contains("password") || attribute.contains("secret") =>
        {
            StoreError::TooLarge {
                size: secret_size,
                limit: limit as usize,
                backend: platform_name(),
            }
        }
        // Display of keyring-core errors names attributes and platform codes, never secret bytes,
        // except BadEncoding and BadDataFormat, which carry raw bytes and are reported without them.
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => StoreError::Keyring(
            "the stored item is not UTF-8 text; store the credential again".into(),
        ),
        other => StoreError::Keyring(other.to_string()),
    }
}

fn platform_name() -> &'static str {
    if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        "the macOS Keychain"
    }
}
