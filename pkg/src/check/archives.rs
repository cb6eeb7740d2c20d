//! Every release archive contains exactly the expected files, and its binary
//! prints the expected `version` line when run (under qemu-user for arm64).

use std::fs::{self, File};
use std::path::Path;

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;

use crate::archive::expected_paths;
use crate::binary;
use crate::names::{self, PACKAGE};
use crate::project::Project;
use crate::targets::LINUX;

pub fn check(project: &Project, dir: &Path) -> Result<()> {
    for target in LINUX {
        let path = dir.join(names::archive(&project.version, &target));
        let scratch = tempfile::tempdir()?;
        let paths = unpack(&path, scratch.path())?;
        if paths != expected_paths() {
            bail!(
                "{} contains {paths:?}, expected {:?}",
                path.display(),
                expected_paths()
            );
        }

        for document in ["LICENSE", "README.md", "INSTALLATION.md"] {
            let packed = fs::read(scratch.path().join(document))?;
            let committed = fs::read(project.root.join(document))
                .with_context(|| format!("cannot read {document}"))?;
            if packed != committed {
                bail!(
                    "{document} in {} differs from the workspace's {document}: rebuild with `cargo pkg snapshot`",
                    path.display()
                );
            }
        }

        let output = binary::run(&target, &scratch.path().join(PACKAGE), &["version"])
            .with_context(|| format!("the binary in {} does not run", path.display()))?;
        let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let expected = expected_version_line(project);
        if printed != expected {
            bail!(
                "the binary in {} prints `{printed}` for `version`, expected `{expected}`",
                path.display()
            );
        }
        eprintln!(
            "  {}: {} files, `version` prints `{printed}`",
            path.display(),
            paths.len()
        );
    }
    Ok(())
}

/// The line `docker-credential-atcr version` prints for this project's version, commit and date.
pub fn expected_version_line(project: &Project) -> String {
    format!(
        "{PACKAGE} {} (commit {}, built {})",
        project.version,
        project.commit,
        project.build_date()
    )
}

/// Extracts `archive` into `into` and returns its sorted entry paths, directories ending in `/`.
fn unpack(archive: &Path, into: &Path) -> Result<Vec<String>> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let mut paths = Vec::new();
    for entry in tar
        .entries()
        .with_context(|| format!("cannot read {}", archive.display()))?
    {
        let mut entry = entry.with_context(|| format!("cannot read {}", archive.display()))?;
        let mut name = entry.path()?.to_string_lossy().into_owned();
        if entry.header().entry_type().is_dir() && !name.ends_with('/') {
            name.push('/');
        }
        if !entry.unpack_in(into)? {
            bail!(
                "{} has an entry outside its top directory: {name}",
                archive.display()
            );
        }
        paths.push(name);
    }
    paths.sort();
    Ok(paths)
}
