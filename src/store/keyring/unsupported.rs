//! Platforms without a supported keyring: every call reports the keyring as
//! unavailable, so the helper uses the file store.

use super::{Operation, Outcome};
use crate::store::StoreError;

pub fn execute(_operation: Operation, _connected: impl FnOnce()) -> Result<Outcome, StoreError> {
    Err(StoreError::KeyringUnavailable(
        "this platform has no supported keyring".into(),
    ))
}
