//! The OS keyring: Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows, each in its own platform module.
//!
//! Every keyring call runs on a worker thread with two deadlines: one for
//! connecting (the probe) and one for the operation. A missing, locked or hung
//! keyring therefore costs at most a few seconds and never hangs a protocol
//! verb. On a deadline the worker is abandoned; it ends with the process.
//! Items are named like the `keyring` crate names them (service
//! `docker-credential-atcr`, user = the server key), on every platform.

#[cfg(target_os = "linux")]
#[path = "secret_service.rs"]
mod platform;

#[cfg(any(target_os = "macos", windows))]
#[path = "native.rs"]
mod platform;

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
#[path = "unsupported.rs"]
mod platform;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::StoreError;
use crate::secret::Secret;

/// The service name that every keyring item of this helper carries.
pub const SERVICE: &str = "docker-credential-atcr";

/// How long the keyring may take to accept a connection before the helper
/// treats it as absent.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long one keyring operation may take once connected.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// A request to the keyring.
pub enum Operation {
    Probe,
    Get {
        key: String,
    },
    Set {
        key: String,
        username: String,
        secret: Secret,
    },
    Delete {
        key: String,
    },
}

/// The result of an [`Operation`].
pub enum Outcome {
    Connected,
    Secret(Option<Secret>),
    Deleted(bool),
}

/// Failures, split by whether the keyring was reached at all.
#[derive(Debug)]
pub enum KeyringError {
    /// No keyring responded, so nothing was read or written.
    Unreachable(StoreError),
    /// The keyring responded, but the operation failed or timed out.
    Failed(StoreError),
}

impl KeyringError {
    pub fn into_store_error(self) -> StoreError {
        match self {
            KeyringError::Unreachable(error) | KeyringError::Failed(error) => error,
        }
    }
}

/// Connects to the keyring and runs `operation`, both within their deadlines.
pub fn run(operation: Operation) -> Result<Outcome, KeyringError> {
    let (sender, receiver) = mpsc::channel::<Message>();

    let worker = thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let connected = sender.clone();
            let result = platform::execute(operation, move || {
                let _ = connected.send(Message::Connected);
            });
            let _ = sender.send(Message::Done(result));
        });
    if let Err(error) = worker {
        return Err(KeyringError::Unreachable(StoreError::KeyringUnavailable(
            format!("cannot start a thread: {error}"),
        )));
    }

    let unreachable_after = |timeout: Duration| {
        KeyringError::Unreachable(StoreError::KeyringUnavailable(format!(
            "no Secret Service or keychain answered within {} ms",
            timeout.as_millis()
        )))
    };
    match receiver.recv_timeout(CONNECT_TIMEOUT) {
        Ok(Message::Connected) => {}
        Ok(Message::Done(result)) => return result.map_err(KeyringError::Unreachable),
        Err(_) => return Err(unreachable_after(CONNECT_TIMEOUT)),
    }

    match receiver.recv_timeout(OPERATION_TIMEOUT) {
        Ok(Message::Done(result)) => result.map_err(KeyringError::Failed),
        Ok(Message::Connected) => unreachable!("the worker reports the connection once"),
        Err(_) => Err(KeyringError::Failed(StoreError::KeyringTimeout(
            OPERATION_TIMEOUT.as_millis(),
        ))),
    }
}

enum Message {
    Connected,
    Done(Result<Outcome, StoreError>),
}
