//! The Debian package, built by cargo-deb from `[package.metadata.deb]` in
//! the helper's Cargo.toml and the files in `debian/`.
//!
//! The binary is built before (see `binary.rs`), so cargo-deb runs with
//! `--no-build`, and with `--no-strip` because the release profile already
//! strips it and this machine has no `strip` for aarch64. cargo-deb takes
//! its time stamps from `SOURCE_DATE_EPOCH`, which [`Project::cargo`] sets.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::names::{self, PACKAGE, REVISION};
use crate::process;
use crate::project::Project;
use crate::targets::Target;

/// The cargo-deb release that scripts/install-pkg-deps.sh installs.
pub const CARGO_DEB_VERSION: &str = "3.8.0";

/// Builds the .deb for `target` into `out_dir` and returns its path.
pub fn build(project: &Project, target: &Target, out_dir: &Path) -> Result<PathBuf> {
    process::require_version("cargo-deb", CARGO_DEB_VERSION)?;
    let path = out_dir.join(names::deb(&project.version, target));
    // Each target gets its own --output, because cargo-deb's default
    // target/debian/ directory keeps one file per package name and version.
    process::output(
        project
            .cargo()
            .args([
                "deb",
                "--no-build",
                "--no-strip",
                "--package",
                PACKAGE,
                "--target",
                target.triple,
            ])
            .args(["--deb-revision", REVISION, "--output"])
            .arg(&path),
    )?;
    eprintln!("wrote {}", path.display());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_script_pins_same_cargo_deb() {
        let script = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/install-pkg-deps.sh"
        ))
        .unwrap();
        assert!(
            script.contains(&format!("cargo_deb_version={CARGO_DEB_VERSION}\n")),
            "scripts/install-pkg-deps.sh pins another cargo-deb"
        );
    }
}
