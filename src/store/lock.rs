//! The lock that serializes writers of the index and the file store.
//!
//! Readers take no lock: every file is replaced atomically, so a reader sees
//! either the old or the new version. Writers hold an exclusive OS file lock
//! (`flock` on Unix, `LockFileEx` on Windows) for the whole read-modify-write,
//! so parallel `store` calls never drop each other's entries. The OS releases
//! the lock when the process dies, so a killed writer never blocks the next.

use std::fs::{File, OpenOptions};

use super::StoreError;
use crate::atomic::create_private_dir;
use crate::paths::Paths;

/// An exclusive lock, released on drop.
pub struct WriteLock {
    _file: File,
}

impl WriteLock {
    /// Blocks until this process is the only writer.
    pub fn acquire(paths: &Paths) -> Result<WriteLock, StoreError> {
        create_private_dir(&paths.config_dir)
            .map_err(StoreError::io("create", &paths.config_dir))?;

        let path = paths.lock_file();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io("open the lock file", &path))?;
        file.lock().map_err(StoreError::io("lock", &path))?;
        Ok(WriteLock { _file: file })
    }
}
