//! Where the helper keeps its files.
//!
//! Metadata (the account index and the lock that serializes writers) lives in
//! the platform's config directory; the file store lives in the platform's
//! data directory: `$XDG_CONFIG_HOME` and `$XDG_DATA_HOME` on Linux,
//! `~/Library/Application Support` on macOS, `%APPDATA%` on Windows. This
//! module only names the paths; the stores create and write them.

use std::path::PathBuf;

use thiserror::Error;

const APP_DIR: &str = "docker-credential-atcr";

/// The directories that hold the helper's state.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

#[derive(Debug, Error)]
#[error("cannot find the home directory: set HOME (or XDG_CONFIG_HOME and XDG_DATA_HOME)")]
pub struct NoHomeError;

impl Paths {
    /// Finds the platform's directories for the current user.
    pub fn from_env() -> Result<Paths, NoHomeError> {
        let config = dirs::config_dir().ok_or(NoHomeError)?;
        let data = dirs::data_dir().ok_or(NoHomeError)?;
        Ok(Paths {
            config_dir: config.join(APP_DIR),
            data_dir: data.join(APP_DIR),
        })
    }

    /// The account index: server URLs, usernames and which store holds each secret.
    pub fn index_file(&self) -> PathBuf {
        self.config_dir.join("index.json")
    }

    /// The lock file that serializes every writer of the index and the file store.
    pub fn lock_file(&self) -> PathBuf {
        self.config_dir.join("lock")
    }

    /// The file store's secrets.
    pub fn secrets_file(&self) -> PathBuf {
        self.data_dir.join("credentials.json")
    }
}
