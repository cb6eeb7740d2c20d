//! The source tarball `docker-credential-atcr-<ver>.tar.gz`: the HEAD commit
//! as `git archive` writes it, under the directory
//! `docker-credential-atcr-<ver>/`, which the AUR source package builds.
//!
//! `git archive` stamps every entry with the commit's time, and the gzip
//! header carries no name or time, so one commit always gives the same bytes.
//! Uncommitted changes are not in it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::assets::gzip;
use crate::names::{self, PACKAGE};
use crate::process;
use crate::project::Project;

/// Writes the source tarball of HEAD into `out_dir` and returns its path.
pub fn write(project: &Project, out_dir: &Path) -> Result<PathBuf> {
    let prefix = format!("{PACKAGE}-{}/", project.version);
    let tar = process::output(project.command("git").args([
        "archive",
        "--format=tar",
        "--prefix",
        &prefix,
        "HEAD",
    ]))?
    .stdout;

    let path = out_dir.join(names::source_tarball(&project.version));
    fs::write(&path, gzip(&tar)?).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(path)
}
