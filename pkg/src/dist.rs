//! The `dist` and `snapshot` tasks: build binaries, then package them.
//!
//! Building and packaging are separate steps so the reproducibility check
//! can package the same binaries a second time without recompiling them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::project::Project;
use crate::targets::{self, LINUX, Target};
use crate::{archive, assets, aur, binary, checksums, deb, rpm, source};

/// `cargo pkg dist --target T`: builds T's binary and writes its archive to
/// `dist/`, and for a Linux target its .deb and .rpm too.
pub fn dist(project: &Project, triple: &str) -> Result<()> {
    let target = targets::find(triple)?;
    if target.is_darwin() && std::env::consts::OS != "macos" {
        bail!(
            "the target `{triple}` builds only on macOS, where Apple's linker and SDK are: \
             run `cargo pkg dist --target {triple}` on a Mac (the release workflow's \
             build-macos job does)"
        );
    }
    if target.is_darwin() && !target.is_native() {
        bail!(
            "the target `{triple}` cannot be packaged on an Intel Mac, because its binary \
             must run to write the man page and completions: run this on Apple silicon, \
             where Rosetta 2 also runs the x86_64 binary"
        );
    }
    binary::build(project, &target)?;
    let out_dir = project.dist_dir();
    fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    if target.is_darwin() {
        let binary = binary::built(project, &target)?;
        let assets = assets::generate(project, &target, &binary)?;
        archive::write(project, &target, &binary, &assets, &out_dir)?;
    } else {
        package_target(project, &target, &out_dir)?;
    }
    Ok(())
}

/// `cargo pkg snapshot`: builds every Linux binary and writes every artifact
/// to a fresh `dist/`.
pub fn snapshot(project: &Project) -> Result<()> {
    for target in LINUX {
        binary::build(project, &target)?;
    }
    let out_dir = project.dist_dir();
    if out_dir.exists() {
        fs::remove_dir_all(&out_dir)
            .with_context(|| format!("cannot remove the old {}", out_dir.display()))?;
    }
    fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    package_all(project, &out_dir)?;
    Ok(())
}

/// Writes every artifact of the already built binaries into `out_dir`: the
/// archives, packages and source tarball, `checksums.txt` over them, and
/// the AUR manifests under `out_dir/aur/`. Returns the files that
/// `checksums.txt` lists.
pub fn package_all(project: &Project, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut artifacts = Vec::new();
    for target in LINUX {
        artifacts.extend(package_target(project, &target, out_dir)?);
    }
    artifacts.push(source::write(project, out_dir)?);
    checksums::write(out_dir, &artifacts)?;
    aur::render_all(project, out_dir, out_dir)?;
    Ok(artifacts)
}

/// Writes the archive, .deb and .rpm of `target`'s built binary into `out_dir`.
fn package_target(project: &Project, target: &Target, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let binary = binary::built(project, target)?;
    let assets = assets::generate(project, target, &binary)?;
    Ok(vec![
        archive::write(project, target, &binary, &assets, out_dir)?,
        deb::build(project, target, out_dir)?,
        rpm::build(project, target, out_dir)?,
    ])
}
