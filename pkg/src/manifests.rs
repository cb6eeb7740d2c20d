//! `cargo pkg manifests --version V DIR`: renders every package manager's
//! manifest of release `V` from the artifacts in DIR: winget, Scoop and
//! Chocolatey (see [`crate::windows_manifests`]), the AUR PKGBUILDs and
//! .SRCINFO files (see [`crate::aur`]) and the Homebrew formula (see
//! [`crate::homebrew`]).
//!
//! Every file that `checksums.txt` lists is checked against it first. The
//! formula is then read back and compared with `checksums.txt`, and parsed
//! with `ruby -c` when Ruby is installed, so its URLs and hashes are those of
//! the release's files.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::names::CHECKSUMS;
use crate::project::Project;
use crate::{aur, checksums, homebrew, process, windows_manifests};

/// Renders every manifest of `version` from `dir` into `out_dir`.
///
/// The version and every file that `checksums.txt` lists are checked before
/// anything is written. The formula needs all four macOS and Linux archives,
/// so it is rendered first, and a missing archive stops the task before any
/// other manifest is in `out_dir`.
pub fn render_release(project: &Project, version: &str, dir: &Path, out_dir: &Path) -> Result<()> {
    crate::project::check_release_version(version)?;
    let hashes = checksums::verify(dir, &[])?;

    let formula = homebrew::write_formula(&project.root, version, dir, out_dir)?;
    check_formula_file(&formula, version, &hashes)?;
    let date = crate::project::civil_date(project.source_date_epoch);
    let mut files = windows_manifests::render_all(&project.root, version, &date, dir, out_dir)?;
    let mut release = project.clone();
    release.version = version.to_owned();
    files.extend(aur::render_all(&release, dir, out_dir)?);
    files.push(formula);
    for file in files {
        eprintln!("wrote {}", file.display());
    }
    Ok(())
}

/// Checks the rendered formula at `path` against `hashes` (`checksums.txt`
/// parsed), and with `ruby -c` when Ruby is on PATH.
fn check_formula_file(path: &Path, version: &str, hashes: &BTreeMap<String, String>) -> Result<()> {
    let formula =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    homebrew::check_formula(path, &formula, version, hashes)?;
    if process::require_program("ruby", "").is_ok() {
        process::output(Command::new("ruby").arg("-c").arg(path))
            .with_context(|| format!("{} is not valid Ruby", path.display()))?;
        eprintln!(
            "checked {}: URLs and hashes match {CHECKSUMS}, ruby -c passes",
            path.display()
        );
    } else {
        eprintln!(
            "checked {}: URLs and hashes match {CHECKSUMS}; Ruby is not installed, so `ruby -c` did not run",
            path.display()
        );
    }
    Ok(())
}
