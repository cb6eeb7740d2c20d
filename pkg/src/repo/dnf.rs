//! The dnf repository under `SITE/rpm/`: the .rpm files signed with the
//! repository key, createrepo_c's `repodata/`, and `repodata/repomd.xml.asc`,
//! the detached signature that dnf checks with `repo_gpgcheck=1`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::SigningKey;
use crate::process;

/// Copies `rpms` into `dir`, signs the copies with `key`, and indexes them.
pub fn write(dir: &Path, rpms: &[PathBuf], key: &SigningKey) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut copies = Vec::new();
    for rpm in rpms {
        let copy = dir.join(rpm.file_name().expect("an .rpm file name"));
        fs::copy(rpm, &copy)
            .with_context(|| format!("cannot copy {} into {}", rpm.display(), dir.display()))?;
        copies.push(copy);
    }
    sign(&copies, key)?;
    index(dir, key)?;
    eprintln!(
        "wrote the dnf repository of {} signed .rpm files under {}",
        copies.len(),
        dir.display()
    );
    Ok(())
}

/// Writes `dir/repodata/` for the .rpm files in `dir` and signs its repomd.xml with `key`.
pub fn index(dir: &Path, key: &SigningKey) -> Result<()> {
    // gzip is readable by every dnf, yum and zypper, whatever createrepo_c's default is.
    process::output(
        Command::new("createrepo_c")
            .args(["--general-compress-type", "gz"])
            .arg(dir),
    )?;
    let repomd = dir.join("repodata/repomd.xml");
    key.detach_sign(&repomd, &dir.join("repodata/repomd.xml.asc"))
}

/// Adds `key`'s signature to each of `rpms` in place with rpmsign.
fn sign(rpms: &[PathBuf], key: &SigningKey) -> Result<()> {
    // rpm starts the program that %__gpg names with execve, so it must be an
    // absolute path; Debian's rpm 4.18 sets it to /usr/bin/gpg2, which
    // Debian's gnupg does not install.
    let gpg = process::find_program("gpg")
        .context("gpg is not on PATH: install gnupg (scripts/install-pkg-deps.sh does)")?;
    let mut command = Command::new("rpmsign");
    command
        .arg("--addsign")
        .arg("--define")
        .arg(format!("__gpg {}", gpg.display()))
        .arg("--define")
        .arg(format!("_gpg_name {}", key.fingerprint()))
        .arg("--define")
        .arg("_gpg_sign_cmd_extra_args --batch --no-tty --pinentry-mode error");
    if let Some(home) = key.gnupg_home() {
        command
            .env("GNUPGHOME", home)
            .arg("--define")
            .arg(format!("_gpg_path {}", home.display()));
    }
    process::output(command.args(rpms))
        .with_context(|| format!("cannot sign the .rpm files with {}", key.fingerprint()))?;
    Ok(())
}
