//! The RPM package, built by cargo-generate-rpm from
//! `[package.metadata.generate-rpm]` in the helper's Cargo.toml.
//!
//! The binary is static, so the metadata turns off the automatic
//! requirements (`auto-req = "no"`, `require-sh = false`) that would
//! otherwise add glibc and /bin/sh. cargo-generate-rpm clamps file times and
//! the build time to `SOURCE_DATE_EPOCH`, which [`Project::cargo`] sets.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::names;
use crate::process;
use crate::project::Project;
use crate::targets::Target;

/// The cargo-generate-rpm release that scripts/install-pkg-deps.sh installs.
pub const CARGO_GENERATE_RPM_VERSION: &str = "0.21.1";

/// Builds the .rpm for `target` into `out_dir` and returns its path.
pub fn build(project: &Project, target: &Target, out_dir: &Path) -> Result<PathBuf> {
    process::require_version("cargo-generate-rpm", CARGO_GENERATE_RPM_VERSION)?;
    let path = out_dir.join(names::rpm(&project.version, target));
    process::output(
        project
            .cargo()
            // No --package: cargo-generate-rpm takes it as a directory under the
            // workspace root, and the helper is the root package itself.
            .args(["generate-rpm", "--target", target.triple, "--target-dir"])
            .arg(&project.target_dir)
            .arg("--output")
            .arg(&path),
    )?;
    eprintln!("wrote {}", path.display());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_script_pins_same_generate_rpm() {
        let script = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/install-pkg-deps.sh"
        ))
        .unwrap();
        let pin = format!("cargo_generate_rpm_version={CARGO_GENERATE_RPM_VERSION}\n");
        assert!(
            script.contains(&pin),
            "scripts/install-pkg-deps.sh pins another cargo-generate-rpm"
        );
    }
}
