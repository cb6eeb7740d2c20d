//! Where secrets live: the OS keyring, the file fallback, and the account
//! index that records which of the two holds each secret.
//!
//! The index (`index.rs`) holds no secrets, so `list` and a `get` that finds
//! nothing read one small file and never touch D-Bus. `credentials.rs` combines
//! the three into the operations behind the protocol verbs, including the
//! choice of store and the fallback when the keyring fails.

pub mod credentials;
pub mod file;
pub mod index;
pub mod keyring;
mod lock;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use credentials::Credentials;

/// The two places a secret can live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Keyring,
    File,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
        })
    }
}

impl FromStr for Backend {
    type Err = StoreError;

    fn from_str(value: &str) -> Result<Backend, StoreError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "keyring" => Ok(Backend::Keyring),
            "file" => Ok(Backend::File),
            _ => Err(StoreError::InvalidSetting(value.to_owned())),
        }
    }
}

/// Failures of the stores and the index. None of them carries a secret.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "invalid ATCR_CREDENTIAL_STORE value {0:?}: set it to \"keyring\" or \"file\", or unset it to choose automatically"
    )]
    InvalidSetting(String),

    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },

    /// The file is not JSON, or its JSON does not have the expected fields
    /// and values. `reason` names the kind of error and its position.
    #[error("{} is invalid ({reason}); fix the file or move it away (this loses the entries it holds)", path.display())]
    Corrupt { path: PathBuf, reason: String },

    #[error("the keyring is unavailable: {0}")]
    KeyringUnavailable(String),

    #[error(
        "the keyring is locked: unlock it (for example by logging in to the desktop session) or set ATCR_CREDENTIAL_STORE=file"
    )]
    KeyringLocked,

    #[error(
        "the keyring did not answer within {0} ms: check the Secret Service (gnome-keyring, KWallet) or set ATCR_CREDENTIAL_STORE=file"
    )]
    KeyringTimeout(u128),

    #[error("the secret is {size} bytes, larger than the {limit}-byte limit of {backend}")]
    TooLarge {
        size: usize,
        limit: usize,
        backend: &'static str,
    },

    #[error("the keyring failed: {0}")]
    Keyring(String),
}

impl StoreError {
    /// Reports whether the error means the keyring could not be reached or
    /// used just now, as opposed to damaged data.
    pub fn is_keyring_access(&self) -> bool {
        matches!(
            self,
            StoreError::KeyringUnavailable(_)
                | StoreError::KeyringLocked
                | StoreError::KeyringTimeout(_)
                | StoreError::Keyring(_)
        )
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |error| StoreError::Io {
            action,
            path,
            error,
        }
    }
}
