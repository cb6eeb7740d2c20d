//! Building the helper's static release binary for a target, and running a
//! binary of any Linux target on this machine (natively or under qemu-user),
//! or of a macOS target on a Mac.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Result, bail};

use crate::names::PACKAGE;
use crate::process;
use crate::project::Project;
use crate::targets::Target;

/// Builds the release binary for `target` with cargo and returns its path.
///
/// The build script embeds the commit and the date of `SOURCE_DATE_EPOCH`,
/// which [`Project::cargo`] sets, so `version` prints the same line for every
/// artifact of one run.
pub fn build(project: &Project, target: &Target) -> Result<PathBuf> {
    require_rust_target(project, target.triple, "scripts/install-pkg-deps.sh")?;
    eprintln!(
        "building {PACKAGE} {} for {}",
        project.version, target.triple
    );
    process::run(project.cargo().args([
        "build",
        "--release",
        "--locked",
        "--package",
        PACKAGE,
        "--target",
        target.triple,
    ]))?;
    built(project, target)
}

/// Returns the release binary for `target` that an earlier build wrote; fails when it is missing.
pub fn built(project: &Project, target: &Target) -> Result<PathBuf> {
    let path = project.release_dir(target.triple).join(PACKAGE);
    if !path.is_file() {
        bail!(
            "{} is missing: run `cargo pkg dist --target {}` first",
            path.display(),
            target.triple
        );
    }
    Ok(path)
}

/// Runs `binary` (built for `target`) with `args`, under qemu-user when the CPU differs.
pub fn run(target: &Target, binary: &Path, args: &[impl AsRef<OsStr>]) -> Result<Output> {
    let mut command = if target.is_native() {
        Command::new(binary)
    } else if target.is_darwin() {
        bail!(
            "{} is a macOS binary and runs only on macOS",
            binary.display()
        );
    } else {
        let qemu = target.qemu();
        process::require_program(
            &qemu,
            "install qemu-user (scripts/install-pkg-deps.sh does)",
        )?;
        let mut command = Command::new(qemu);
        command.arg(binary);
        command
    };
    command.args(args);
    process::output(&mut command)
}

/// Fails with the `rustup` command to run when the standard library for
/// `triple` is not installed. `installer` names the script that installs it.
pub fn require_rust_target(project: &Project, triple: &str, installer: &str) -> Result<()> {
    let sysroot = process::stdout_text(project.command("rustc").args(["--print", "sysroot"]))?;
    let library = Path::new(&sysroot).join("lib/rustlib").join(triple);
    if !library.is_dir() {
        bail!(
            "the Rust target {triple} is not installed ({} is missing): run `rustup target add {triple}` or {installer}",
            library.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::LINUX;

    #[test]
    fn missing_binary_names_path_and_fix() {
        let target_dir = tempfile::tempdir().unwrap();
        let project = Project {
            root: target_dir.path().to_path_buf(),
            target_dir: target_dir.path().to_path_buf(),
            version: "0.1.0".into(),
            commit: "0123456789ab".into(),
            source_date_epoch: 0,
        };
        let error = built(&project, &LINUX[1]).unwrap_err().to_string();
        assert!(
            error.contains("aarch64-unknown-linux-musl/release/docker-credential-atcr is missing"),
            "{error}"
        );
        assert!(
            error.contains("cargo pkg dist --target aarch64-unknown-linux-musl"),
            "{error}"
        );
    }
}
