//! Two packaging runs give byte-identical artifacts.
//!
//! The check packages the already built binaries a second time, into a
//! temporary directory and with the same `SOURCE_DATE_EPOCH`, then compares
//! every archive, package and source tarball it wrote with its twin in DIR.
//! The binaries themselves are not rebuilt: that would double the build
//! time, and the helper's build script takes nothing from the clock.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::dist::package_all;
use crate::project::Project;

pub fn check(project: &Project, dir: &Path) -> Result<()> {
    let second = tempfile::tempdir()?;
    let artifacts =
        package_all(project, second.path()).context("the second packaging run failed")?;

    // Only the files that this packaging run writes are compared. DIR's
    // checksums.txt may also list artifacts of other platforms, which it
    // does not rebuild, so checksums.txt itself is not compared.
    let mut differing = Vec::new();
    for again_path in &artifacts {
        let name = again_path
            .file_name()
            .expect("an artifact file name")
            .to_string_lossy()
            .into_owned();
        let first = fs::read(dir.join(&name))
            .with_context(|| format!("cannot read {}", dir.join(&name).display()))?;
        let again = fs::read(again_path)
            .with_context(|| format!("cannot read {}", again_path.display()))?;
        if first == again {
            eprintln!("  {name}: identical ({} bytes)", first.len());
        } else {
            differing.push(name);
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
