//! The facts every task shares: where the workspace and cargo's target
//! directory are, the helper's version, the commit, and the timestamp that
//! makes artifacts reproducible.
//!
//! `SOURCE_DATE_EPOCH` is read once here. When it is unset, the HEAD commit's
//! date is used, and [`Project::command`] passes the value to every tool that
//! `cargo pkg` starts, so cargo-deb, cargo-generate-rpm and the helper's own
//! build script all stamp the same time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::names::PACKAGE;
use crate::process;

/// The workspace that `cargo pkg` packages.
#[derive(Debug, Clone)]
pub struct Project {
    /// The workspace root, which contains the helper's Cargo.toml.
    pub root: PathBuf,
    /// Cargo's target directory (honours `CARGO_TARGET_DIR`).
    pub target_dir: PathBuf,
    /// The helper's version from its Cargo.toml, such as `0.1.0`.
    pub version: String,
    /// The abbreviated commit that `version` prints (12 hex digits).
    pub commit: String,
    /// Seconds since 1970 that every artifact carries as its time stamp.
    pub source_date_epoch: u64,
}

#[derive(Deserialize)]
struct Metadata {
    workspace_root: PathBuf,
    target_directory: PathBuf,
    packages: Vec<MetadataPackage>,
}

#[derive(Deserialize)]
struct MetadataPackage {
    name: String,
    version: String,
}

impl Project {
    /// Reads the workspace layout from `cargo metadata`, run in the current directory.
    pub fn discover() -> Result<Self> {
        let json = process::output(Command::new(cargo()).args([
            "metadata",
            "--format-version=1",
            "--no-deps",
        ]))?
        .stdout;
        let metadata: Metadata =
            serde_json::from_slice(&json).context("cannot parse the output of `cargo metadata`")?;
        let Some(helper) = metadata
            .packages
            .iter()
            .find(|package| package.name == PACKAGE)
        else {
            bail!(
                "the workspace at {} has no package named {PACKAGE}",
                metadata.workspace_root.display()
            );
        };

        let root = metadata.workspace_root;
        let source_date_epoch = source_date_epoch(&root)?;
        let commit = commit(&root)?;
        Ok(Project {
            version: helper.version.clone(),
            target_dir: metadata.target_directory,
            commit,
            source_date_epoch,
            root,
        })
    }

    /// Returns the default output directory, `dist/` under the workspace root.
    pub fn dist_dir(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// Returns a directory under the target directory for `cargo pkg`'s own files.
    pub fn work_dir(&self, name: &str) -> PathBuf {
        self.target_dir.join("pkg").join(name)
    }

    /// Returns the directory where cargo writes the release build for `triple`.
    pub fn release_dir(&self, triple: &str) -> PathBuf {
        self.target_dir.join(triple).join("release")
    }

    /// Creates a command that runs in the workspace root with `SOURCE_DATE_EPOCH` set.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.root)
            .env("SOURCE_DATE_EPOCH", self.source_date_epoch.to_string());
        command
    }

    /// Creates a `cargo` command (the cargo that runs `cargo pkg`) with the same settings as [`Project::command`].
    pub fn cargo(&self) -> Command {
        self.command(cargo())
    }

    /// Returns the build date that `version` prints, `YYYY-MM-DD` in UTC.
    pub fn build_date(&self) -> String {
        civil_date(self.source_date_epoch)
    }
}

/// Returns the cargo that started this process, so `cargo +toolchain pkg` stays on that toolchain.
fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| "cargo".into())
}

fn source_date_epoch(root: &Path) -> Result<u64> {
    if let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let text = value.to_string_lossy();
        return parse_epoch(&text);
    }
    let text = process::stdout_text(Command::new("git").current_dir(root).args(["log", "-1", "--format=%ct"]))
        .context("SOURCE_DATE_EPOCH is unset and the HEAD commit's date is unreadable: set SOURCE_DATE_EPOCH")?;
    parse_epoch(&text)
}

/// The last second of the year 9999, the last that a `YYYY-MM-DD` date can write.
const LAST_EPOCH: u64 = 253_402_300_799;

/// Parses a `SOURCE_DATE_EPOCH` value: whole seconds since 1970, up to the
/// end of the year 9999.
pub fn parse_epoch(text: &str) -> Result<u64> {
    let hint = "expected whole seconds since 1970, such as 1767225600";
    let epoch = text
        .trim()
        .parse::<u64>()
        .with_context(|| format!("invalid SOURCE_DATE_EPOCH `{text}`: {hint}"))?;
    if epoch > LAST_EPOCH {
        bail!("invalid SOURCE_DATE_EPOCH `{text}`: it is after the year 9999; {hint}");
    }
    Ok(epoch)
}

fn commit(root: &Path) -> Result<String> {
    if let Some(commit) = std::env::var("ATCR_BUILD_COMMIT")
        .ok()
        .filter(|value| !value.is_empty())
    {
        return Ok(commit);
    }
    process::stdout_text(Command::new("git").current_dir(root).args([
        "rev-parse",
        "--short=12",
        "HEAD",
    ]))
    .context(
        "cannot read the HEAD commit: run cargo pkg in a git checkout or set ATCR_BUILD_COMMIT",
    )
}

/// Formats seconds since 1970 as a `YYYY-MM-DD` UTC date. The last date it
/// can write is 9999-12-31: [`parse_epoch`] rejects later epochs, and the
/// other callers pass OpenPGP timestamps, which are 32-bit.
pub fn civil_date(epoch: u64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs(epoch.min(LAST_EPOCH));
    let mut date = humantime::format_rfc3339_seconds(time).to_string();
    date.truncate("YYYY-MM-DD".len());
    date
}

/// Fails unless `version`, a `--version` argument, is a SemVer version,
/// the form of Cargo.toml's `version` and of the artifacts' file names.
pub fn check_release_version(version: &str) -> Result<()> {
    if let Err(error) = semver::Version::parse(version) {
        let hint = match version.strip_prefix(['v', 'V']) {
            Some(rest) if semver::Version::parse(rest).is_ok() => {
                format!("drop the leading v: --version {rest}")
            }
            _ => "pass the release's version without the leading v".to_owned(),
        };
        bail!(
            "invalid --version {version:?}: expected a SemVer version such as 1.2.0 or \
             1.2.0-rc.1 ({error}); {hint}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_must_be_semver() {
        check_release_version("1.2.0").unwrap();
        check_release_version("1.2.0-rc.1").unwrap();
        let error = check_release_version("v0.1.0").unwrap_err().to_string();
        assert!(error.contains("invalid --version \"v0.1.0\""), "{error}");
        assert!(
            error.contains("drop the leading v: --version 0.1.0"),
            "{error}"
        );
        let error = check_release_version("").unwrap_err().to_string();
        assert!(error.contains("invalid --version \"\""), "{error}");
        assert!(error.contains("without the leading v"), "{error}");
        let error = check_release_version("1.2").unwrap_err().to_string();
        assert!(error.contains("SemVer"), "{error}");
    }

    #[test]
    fn civil_date_known_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_767_225_599), "2025-12-31");
        assert_eq!(civil_date(1_767_225_600), "2026-01-01");
        assert_eq!(civil_date(LAST_EPOCH), "9999-12-31");
    }

    #[test]
    fn epoch_after_9999_rejected() {
        assert_eq!(parse_epoch("253402300799").unwrap(), LAST_EPOCH);
        let error = parse_epoch("253402300800").unwrap_err().to_string();
        assert!(error.contains("after the year 9999"), "{error}");
    }

    #[test]
    fn epoch_rejects_text() {
        let error = parse_epoch("yesterday").unwrap_err().to_string();
        assert!(
            error.contains("invalid SOURCE_DATE_EPOCH `yesterday`"),
            "{error}"
        );
    }

    #[test]
    fn epoch_accepts_whitespace() {
        assert_eq!(parse_epoch(" 1767225600\n").unwrap(), 1_767_225_600);
    }
}
