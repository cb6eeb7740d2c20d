//! Two packaging runs give byte-identical artifacts.
//!
//! The check packages the already built binaries a second time, into a
//! temporary directory and with the same `SOURCE_DATE_EPOCH`, then compares
//! every file that `checksums.txt` lists with its twin in DIR. The binaries
//! themselves are not rebuilt: that would double the build time, and the
//! helper's build script takes nothing from the clock.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::checksums;
use crate::dist::package_all;
use crate::names::CHECKSUMS;
use crate::project::Project;

pub fn check(project: &Project, dir: &Path) -> Result<()> {
    let second = tempfile::tempdir()?;
    package_all(project, second.path()).context("the second packaging run failed")?;

    let listed = checksums::verify(dir, &[])?;
    let mut differing = Vec::new();
    for name in listed.keys().map(String::as_str).chain([CHECKSUMS]) {
        let first = fs::read(dir.join(name)).with_context(|| format!("cannot read {}", dir.join(name).display()))?;
        let again = fs::read(second.path().join(name)).with_context(|| format!("the second run wrote no {name}"))?;
        if first == again {
            eprintln!("  {name}: identical ({} bytes)", first.len());
        } else {
            differing.push(name.to_owned());
        }
    }
    if !differing.is_empty() {
        bail!(
            "a second packaging run with SOURCE_DATE_EPOCH={} gave different bytes for: {} \
             (when the workspace changed after `cargo pkg snapshot`, run it again first)",
            project.source_date_epoch,
            differing.join(", ")
        );
    }
    Ok(())
}
