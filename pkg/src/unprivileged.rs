//! Running a tool as an unprivileged user, for makepkg, which refuses to run
//! as root.
//!
//! As root, commands run through `runuser` as the system user
//! [`BUILD_USER`], created on first use; any other user runs them directly.
//! The caller hands over a directory with [`Runner::own`] before the user
//! works in it, because temporary directories are private to root.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::process;

/// The system user that runs makepkg when `cargo pkg` runs as root.
pub const BUILD_USER: &str = "atcr-pkg-build";

/// Starts commands as an unprivileged user.
#[derive(Debug)]
pub struct Runner {
    /// `Some` when running as root: the user that commands switch to.
    user: Option<&'static str>,
}

impl Runner {
    /// Prepares a runner, creating [`BUILD_USER`] when running as root and it is missing.
    pub fn new() -> Result<Self> {
        if !is_root() {
            return Ok(Runner { user: None });
        }
        let exists = process::output_unchecked(Command::new("id").args(["-u", BUILD_USER]))?
            .status
            .success();
        if !exists {
            eprintln!("creating the system user {BUILD_USER} to run makepkg");
            process::output(Command::new("useradd").args([
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                BUILD_USER,
            ]))?;
        }
        Ok(Runner {
            user: Some(BUILD_USER),
        })
    }

    /// Creates a command for `program` that runs as the unprivileged user in `dir`.
    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let mut command = match self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--", program]);
                command
            }
            None => Command::new(program),
        };
        command.current_dir(dir);
        command
    }

    /// Gives the unprivileged user `dir` and everything below it.
    pub fn own(&self, dir: &Path) -> Result<()> {
        if let Some(user) = self.user {
            process::output(
                Command::new("chown")
                    .args(["-R", &format!("{user}:")])
                    .arg(dir),
            )?;
        }
        Ok(())
    }
}

/// Tells whether this process runs as root.
pub fn is_root() -> bool {
    process::stdout_text(Command::new("id").arg("-u")).is_ok_and(|uid| uid == "0")
}
