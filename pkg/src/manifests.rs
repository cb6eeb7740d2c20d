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
/// anything is rendered. Everything is rendered into a hidden directory in
/// `out_dir` and moved into place only when every manifest was rendered and
/// checked, so a failure leaves `out_dir` as it was.
pub fn render_release(project: &Project, version: &str, dir: &Path, out_dir: &Path) -> Result<()> {
    crate::project::check_release_version(version)?;
    let hashes = checksums::verify(dir, &[])?;

    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".manifests-")
        .tempdir_in(out_dir)
        .with_context(|| format!("cannot create a directory in {}", out_dir.display()))?;
    render_into(project, version, dir, staging.path(), &hashes)?;
    move_tree(staging.path(), out_dir)
}

/// Renders every manifest into `out_dir`, the Homebrew formula first,
/// because it needs all four macOS and Linux archives.
fn render_into(
    project: &Project,
    version: &str,
    dir: &Path,
    out_dir: &Path,
    hashes: &BTreeMap<String, String>,
) -> Result<()> {
    let formula = homebrew::write_formula(&project.root, version, dir, out_dir)?;
    check_formula_file(&formula, version, hashes)?;
    let date = crate::project::civil_date(project.source_date_epoch);
    windows_manifests::render_all(&project.root, version, &date, dir, out_dir)?;
    let mut release = project.clone();
    release.version = version.to_owned();
    aur::render_all(&release, dir, out_dir)?;
    Ok(())
}

/// Moves every file under `from` to the same relative path under `to`,
/// replacing files of the same name and keeping every other file in `to`.
fn move_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
        let source = entry?.path();
        let target = to.join(source.file_name().expect("a directory entry has a name"));
        if source.is_dir() {
            fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
            move_tree(&source, &target)?;
        } else {
            fs::rename(&source, &target).with_context(|| {
                format!("cannot move {} to {}", source.display(), target.display())
            })?;
            eprintln!("wrote {}", target.display());
        }
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
