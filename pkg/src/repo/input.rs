//! The release files that `cargo pkg repo` publishes: the .deb and .rpm of
//! every Linux target for the version, directly in DIR, which must contain
//! no other .deb or .rpm file, and which must match DIR's checksums.txt when
//! DIR has one.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::checksums;
use crate::names::{self, CHECKSUMS};
use crate::targets::LINUX;

/// The packages found in DIR, each list sorted by file name.
#[derive(Debug)]
pub struct Packages {
    pub debs: Vec<PathBuf>,
    pub rpms: Vec<PathBuf>,
}

/// Lists the .deb and .rpm files in `dir` and checks them as the module documentation describes.
pub fn find(dir: &Path, version: &str) -> Result<Packages> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: pass the directory that contains the release's .deb and .rpm files",
            dir.display()
        );
    }
    let debs = files_with_extension(dir, "deb")?;
    let rpms = files_with_extension(dir, "rpm")?;
    if debs.is_empty() {
        bail!(
            "{} contains no .deb file: download the release's .deb files into it",
            dir.display()
        );
    }
    if rpms.is_empty() {
        bail!(
            "{} contains no .rpm file: download the release's .rpm files into it",
            dir.display()
        );
    }

    let expected: Vec<String> = LINUX
        .iter()
        .flat_map(|target| [names::deb(version, target), names::rpm(version, target)])
        .collect();
    let others: Vec<String> = debs
        .iter()
        .chain(&rpms)
        .map(|path| {
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !expected.contains(name))
        .collect();
    if !others.is_empty() {
        bail!(
            "{} contains packages that are not the .deb and .rpm files of version {version}: {}. \
             The repositories serve one release only, so move them out of {}, or correct \
             --version if they are the release's",
            dir.display(),
            others.join(", "),
            dir.display()
        );
    }

    for name in &expected {
        if !dir.join(name).is_file() {
            bail!(
                "{} has no {name}: the repositories of version {version} need the .deb and \
                 .rpm of every Linux architecture; download them, or correct --version",
                dir.display()
            );
        }
    }

    let all: Vec<&PathBuf> = debs.iter().chain(&rpms).collect();
    verify_checksums(dir, &all)?;
    Ok(Packages { debs, rpms })
}

/// Returns the regular files directly in `dir` whose names end in `.extension`, sorted.
fn files_with_extension(dir: &Path, extension: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|found| found == extension) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Checks every file in `files` against `dir/checksums.txt`, when it exists:
/// each must be listed there, with its SHA-256.
fn verify_checksums(dir: &Path, files: &[&PathBuf]) -> Result<()> {
    let path = dir.join(CHECKSUMS);
    if !path.exists() {
        eprintln!(
            "{} has no {CHECKSUMS}, so the packages are published unverified",
            dir.display()
        );
        return Ok(());
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let entries = checksums::parse(&path, &text)?;

    for file in files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let Some(expected) = entries.get(name.as_ref()) else {
            bail!(
                "{} does not list {name}: remove {} from {}, or use the release's own {CHECKSUMS}",
                path.display(),
                file.display(),
                dir.display()
            );
        };
        let actual = checksums::sha256_file(file)?;
        if &actual != expected {
            bail!(
                "checksum mismatch for {}: {} lists {expected}, the file has {actual}; \
                 download the file again",
                file.display(),
                path.display()
            );
        }
    }
    eprintln!(
        "{CHECKSUMS} matches the {} packages in {}",
        files.len(),
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "1.2.3";

    /// Creates a release directory with an empty .deb and .rpm for every target.
    fn release_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for target in LINUX {
            fs::write(dir.path().join(names::deb(VERSION, &target)), b"deb").unwrap();
            fs::write(dir.path().join(names::rpm(VERSION, &target)), b"rpm").unwrap();
        }
        fs::write(dir.path().join("notes.txt"), b"not a package").unwrap();
        dir
    }

    fn write_checksums(dir: &Path) {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        checksums::write(dir, &files).unwrap();
    }

    #[test]
    fn finds_every_package_sorted() {
        let dir = release_dir();
        let packages = find(dir.path(), VERSION).unwrap();
        let names = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(&packages.debs),
            [
                "docker-credential-atcr_1.2.3-1_amd64.deb",
                "docker-credential-atcr_1.2.3-1_arm64.deb"
            ]
        );
        assert_eq!(
            names(&packages.rpms),
            [
                "docker-credential-atcr-1.2.3-1.aarch64.rpm",
                "docker-credential-atcr-1.2.3-1.x86_64.rpm"
            ]
        );
    }

    #[test]
    fn missing_dir_is_named() {
        let dir = release_dir();
        let missing = dir.path().join("release");
        let error = find(&missing, VERSION).unwrap_err().to_string();
        assert!(error.contains("release is not a directory"), "{error}");
    }

    #[test]
    fn dir_without_debs_or_rpms_is_rejected() {
        for extension in ["deb", "rpm"] {
            let dir = release_dir();
            for target in LINUX {
                let name = match extension {
                    "deb" => names::deb(VERSION, &target),
                    _ => names::rpm(VERSION, &target),
                };
                fs::remove_file(dir.path().join(name)).unwrap();
            }
            let error = find(dir.path(), VERSION).unwrap_err().to_string();
            assert!(
                error.contains(&format!("contains no .{extension} file")),
                "{error}"
            );
        }
    }

    #[test]
    fn missing_architecture_is_named() {
        let dir = release_dir();
        fs::remove_file(dir.path().join(names::rpm(VERSION, &LINUX[1]))).unwrap();
        let error = find(dir.path(), VERSION).unwrap_err().to_string();
        assert!(
            error.contains("has no docker-credential-atcr-1.2.3-1.aarch64.rpm"),
            "{error}"
        );
    }

    #[test]
    fn other_version_is_rejected() {
        let dir = release_dir();
        let error = find(dir.path(), "1.2.4").unwrap_err().to_string();
        assert!(error.contains("correct --version"), "{error}");
    }

    #[test]
    fn packages_of_other_versions_are_rejected() {
        let dir = release_dir();
        for target in LINUX {
            fs::write(dir.path().join(names::deb("1.2.2", &target)), b"old deb").unwrap();
            fs::write(dir.path().join(names::rpm("1.2.2", &target)), b"old rpm").unwrap();
        }
        let error = find(dir.path(), VERSION).unwrap_err().to_string();
        assert!(
            error.contains("are not the .deb and .rpm files of version 1.2.3: "),
            "{error}"
        );
        for name in [
            "docker-credential-atcr_1.2.2-1_amd64.deb",
            "docker-credential-atcr_1.2.2-1_arm64.deb",
            "docker-credential-atcr-1.2.2-1.x86_64.rpm",
            "docker-credential-atcr-1.2.2-1.aarch64.rpm",
        ] {
            assert!(error.contains(name), "{error}");
        }
        assert!(!error.contains("1.2.3-1"), "{error}");
        assert!(error.contains("move them out of"), "{error}");
    }

    #[test]
    fn unknown_package_is_rejected() {
        let dir = release_dir();
        fs::write(dir.path().join("extra_1.0_amd64.deb"), b"extra").unwrap();
        let error = find(dir.path(), VERSION).unwrap_err().to_string();
        assert!(
            error.contains("version 1.2.3: extra_1.0_amd64.deb."),
            "{error}"
        );
    }

    #[test]
    fn matching_checksums_are_accepted() {
        let dir = release_dir();
        write_checksums(dir.path());
        find(dir.path(), VERSION).unwrap();
    }

    #[test]
    fn changed_package_is_named() {
        let dir = release_dir();
        write_checksums(dir.path());
        let changed = names::deb(VERSION, &LINUX[0]);
        fs::write(dir.path().join(&changed), b"changed").unwrap();
        let error = find(dir.path(), VERSION).unwrap_err().to_string();
        assert!(error.starts_with("checksum mismatch for "), "{error}");
        assert!(error.contains(&changed), "{error}");
    }

    #[test]
    fn unlisted_package_is_named() {
        let dir = release_dir();
        let unlisted = names::rpm(VERSION, &LINUX[0]);
        fs::remove_file(dir.path().join(&unlisted)).unwrap();
        write_checksums(dir.path());
        fs::write(dir.path().join(&unlisted), b"rpm").unwrap();
        let error = find(dir.path(), VERSION).unwrap_err().to_string();
        assert!(
            error.contains(&format!("does not list {unlisted}")),
            "{error}"
        );
    }
}
