//! The apt repository under SITE: suite `stable`, component `main`, the
//! .deb files in `pool/main/`, a `Packages` index per architecture, and a
//! Release file signed inline (`InRelease`) and detached (`Release.gpg`).
//!
//! apt-ftparchive writes the indexes and the Release file, so their format
//! and checksums are apt's own.
//!
//! Every index is also written under `by-hash/<hash>/<digest>` beside it,
//! and the Release file sets `Acquire-By-Hash: yes`, so apt fetches indexes
//! by digest. A client that reads a new InRelease while a web cache still
//! serves the old indexes under their plain names still gets the indexes
//! that this InRelease lists.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::SigningKey;
use crate::names::PACKAGE;
use crate::process;

/// The suite that users' sources name; a new release replaces its packages.
pub const SUITE: &str = "stable";
/// The one component of the suite.
pub const COMPONENT: &str = "main";

/// Writes the apt repository of `debs` under `site`, signed with `key`.
pub fn write(site: &Path, debs: &[PathBuf], key: &SigningKey) -> Result<()> {
    let pool = site.join("pool").join(COMPONENT);
    fs::create_dir_all(&pool).with_context(|| format!("cannot create {}", pool.display()))?;
    for deb in debs {
        let name = deb.file_name().expect("a .deb file name");
        fs::copy(deb, pool.join(name))
            .with_context(|| format!("cannot copy {} into {}", deb.display(), pool.display()))?;
    }

    let every_package = ftparchive(site, &["packages", "pool"])?;
    let every_package = String::from_utf8(every_package)
        .context("apt-ftparchive printed a Packages index that is not UTF-8")?;
    check_file_names(&every_package)?;
    let architectures = architectures(&every_package);
    if architectures.is_empty() {
        bail!(
            "apt-ftparchive found no package with an architecture in {}",
            pool.display()
        );
    }
    let suite = site.join("dists").join(SUITE);
    for architecture in &architectures {
        let packages = packages_of(&every_package, architecture).into_bytes();
        let index = suite.join(COMPONENT).join(format!("binary-{architecture}"));
        fs::create_dir_all(&index).with_context(|| format!("cannot create {}", index.display()))?;
        write_file(&index.join("Packages"), &packages)?;
        write_file(&index.join("Packages.gz"), &crate::assets::gzip(&packages)?)?;
    }

    let architecture_list: Vec<&str> = architectures.iter().map(String::as_str).collect();
    let release = ftparchive(
        &suite,
        &[
            "-o",
            &format!("APT::FTPArchive::Release::Origin={PACKAGE}"),
            "-o",
            &format!("APT::FTPArchive::Release::Label={PACKAGE}"),
            "-o",
            &format!("APT::FTPArchive::Release::Suite={SUITE}"),
            "-o",
            &format!("APT::FTPArchive::Release::Codename={SUITE}"),
            "-o",
            &format!(
                "APT::FTPArchive::Release::Architectures={}",
                architecture_list.join(" ")
            ),
            "-o",
            &format!("APT::FTPArchive::Release::Components={COMPONENT}"),
            "-o",
            "APT::FTPArchive::Release::Acquire-By-Hash=yes",
            "release",
            ".",
        ],
    )?;
    let release_path = suite.join("Release");
    write_file(&release_path, &release)?;
    let release = String::from_utf8(release)
        .context("apt-ftparchive printed a Release file that is not UTF-8")?;
    write_by_hash(&suite, &release)?;
    key.clearsign(&release_path, &suite.join("InRelease"))?;
    key.detach_sign(&release_path, &suite.join("Release.gpg"))?;
    eprintln!(
        "wrote the apt repository of {} .deb files ({}) under {}",
        debs.len(),
        architecture_list.join(", "),
        site.display()
    );
    Ok(())
}

/// Copies every file that `release`, the suite's Release file, lists to
/// `by-hash/<hash>/<digest>` in the file's directory, for each hash section
/// (`MD5Sum`, `SHA256` and so on) of the Release file.
fn write_by_hash(suite: &Path, release: &str) -> Result<()> {
    for entry in release_entries(release) {
        let entry = entry?;
        let file = suite.join(entry.path);
        let directory = file
            .parent()
            .expect("a listed file is under the suite")
            .join("by-hash")
            .join(entry.hash);
        fs::create_dir_all(&directory)
            .with_context(|| format!("cannot create {}", directory.display()))?;
        fs::copy(&file, directory.join(entry.digest)).with_context(|| {
            format!(
                "cannot copy {} into {}",
                file.display(),
                directory.display()
            )
        })?;
    }
    Ok(())
}

/// One file of a Release file's hash section.
#[derive(Debug, PartialEq)]
struct ReleaseEntry<'a> {
    /// The section's name, such as `SHA256`.
    hash: &'a str,
    digest: &'a str,
    /// The path relative to the suite, such as `main/binary-amd64/Packages`.
    path: &'a str,
}

/// Returns the entries of the hash sections of a Release file: the indented
/// `digest size path` lines under a `SHA256:` (or other hash) line.
fn release_entries(release: &str) -> impl Iterator<Item = Result<ReleaseEntry<'_>>> {
    let mut hash = None;
    release.lines().filter_map(move |line| {
        if !line.starts_with(' ') {
            hash = line.strip_suffix(':').filter(|name| !name.contains(' '));
            return None;
        }
        let hash = hash?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        Some(match fields[..] {
            [digest, _size, path]
                if digest.bytes().all(|byte| byte.is_ascii_hexdigit())
                    && !path.split('/').any(|part| part == ".." || part.is_empty()) =>
            {
                Ok(ReleaseEntry { hash, digest, path })
            }
            _ => Err(anyhow::anyhow!(
                "apt-ftparchive wrote a {hash} line that is not `digest size path`: {line:?}"
            )),
        })
    })
}

/// Runs `apt-ftparchive args` in `dir` and returns what it printed.
fn ftparchive(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    Ok(process::output(Command::new("apt-ftparchive").args(args).current_dir(dir))?.stdout)
}

/// Fails unless the file name of each package in a Packages index is
/// `<package>_<version>_<architecture>.deb` from its own control fields, so
/// a .deb renamed to another architecture is not published under it.
fn check_file_names(packages: &str) -> Result<()> {
    for paragraph in paragraphs(packages) {
        let field = |name: &str| {
            paragraph
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let (Some(package), Some(version), Some(architecture), Some(filename)) = (
            field("Package"),
            field("Version"),
            field("Architecture"),
            field("Filename"),
        ) else {
            bail!(
                "apt-ftparchive printed a package without Package, Version, Architecture or Filename:\n{paragraph}"
            );
        };
        let expected = format!("{package}_{version}_{architecture}.deb");
        let name = filename.rsplit('/').next().unwrap_or(filename);
        if name != expected {
            bail!(
                "{name} contains {package} {version} for {architecture}, so its name must be \
                 {expected}: it was renamed, so download the release's own .deb files again"
            );
        }
    }
    Ok(())
}

/// Returns the architectures in a Packages index, except `all`, whose
/// packages go into every architecture's index.
fn architectures(packages: &str) -> BTreeSet<String> {
    paragraphs(packages)
        .filter_map(architecture)
        .filter(|&architecture| architecture != "all")
        .map(str::to_owned)
        .collect()
}

/// Returns the paragraphs of a Packages index for `architecture_name` and for `all`.
fn packages_of(packages: &str, architecture_name: &str) -> String {
    paragraphs(packages)
        .filter(|paragraph| matches!(architecture(paragraph), Some(found) if found == architecture_name || found == "all"))
        .map(|paragraph| format!("{paragraph}\n\n"))
        .collect()
}

/// Splits a Packages index into its paragraphs, without their blank separator lines.
fn paragraphs(packages: &str) -> impl Iterator<Item = &str> {
    packages
        .split("\n\n")
        .map(|paragraph| paragraph.trim_matches('\n'))
        .filter(|paragraph| !paragraph.is_empty())
}

fn architecture(paragraph: &str) -> Option<&str> {
    paragraph
        .lines()
        .find_map(|line| line.strip_prefix("Architecture:"))
        .map(str::trim)
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    fs::write(path, data).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_skip_all_and_repeats() {
        let packages = "Package: a\nArchitecture: arm64\n\nPackage: a\nArchitecture: amd64\n\n\
                        Package: b\nArchitecture: all\n\nPackage: c\nArchitecture: amd64\n";
        let found: Vec<String> = architectures(packages).into_iter().collect();
        assert_eq!(found, ["amd64", "arm64"]);
    }

    #[test]
    fn release_entries_read_hash_sections() {
        let release = "Origin: x\nDate: Sat, 05 Dec 2026 02:00:00 UTC\nMD5Sum:\n \
                       0123abcd 10 main/binary-amd64/Packages\nSHA256:\n \
                       89ef 4 main/binary-amd64/Packages.gz\n";
        let entries: Vec<ReleaseEntry> = release_entries(release).map(Result::unwrap).collect();
        assert_eq!(
            entries,
            [
                ReleaseEntry {
                    hash: "MD5Sum",
                    digest: "0123abcd",
                    path: "main/binary-amd64/Packages"
                },
                ReleaseEntry {
                    hash: "SHA256",
                    digest: "89ef",
                    path: "main/binary-amd64/Packages.gz"
                },
            ]
        );
    }

    #[test]
    fn release_entries_reject_escaping_path() {
        let release = "SHA256:\n 89ef 4 ../../etc/passwd\n";
        let error = release_entries(release).next().unwrap().unwrap_err();
        assert!(error.to_string().contains("../../etc/passwd"), "{error}");
    }

    #[test]
    fn renamed_deb_rejected() {
        let good = "Package: docker-credential-atcr\nVersion: 1.2.3-1\nArchitecture: arm64\n\
                    Filename: pool/main/docker-credential-atcr_1.2.3-1_arm64.deb\n";
        check_file_names(good).unwrap();

        let renamed = "Package: docker-credential-atcr\nVersion: 1.2.3-1\nArchitecture: amd64\n\
                       Filename: pool/main/docker-credential-atcr_1.2.3-1_arm64.deb\n";
        let error = check_file_names(renamed).unwrap_err().to_string();
        assert!(
            error.contains("docker-credential-atcr_1.2.3-1_arm64.deb contains docker-credential-atcr 1.2.3-1 for amd64"),
            "{error}"
        );
        assert!(
            error.contains("must be docker-credential-atcr_1.2.3-1_amd64.deb"),
            "{error}"
        );
    }

    #[test]
    fn packages_of_keeps_architecture_and_all() {
        let packages = "Package: a\nArchitecture: arm64\n\nPackage: a\nArchitecture: amd64\n\n\
                        Package: b\nArchitecture: all\n\n";
        assert_eq!(
            packages_of(packages, "amd64"),
            "Package: a\nArchitecture: amd64\n\nPackage: b\nArchitecture: all\n\n"
        );
        assert_eq!(
            packages_of(packages, "arm64"),
            "Package: a\nArchitecture: arm64\n\nPackage: b\nArchitecture: all\n\n"
        );
    }
}
