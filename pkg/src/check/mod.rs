//! `cargo pkg check DIR`: every check of the release artifacts in DIR.
//!
//! The checksums come first, because every later check trusts the files they
//! cover. The other checks run even when one fails, and the task fails when
//! any of them did, listing each failure.

mod archives;
mod aur;
mod chroot;
mod deb;
mod http;
mod reproducible;
mod rpm;
mod site;
mod tree;

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::names;
use crate::project::Project;
use crate::targets::LINUX;

/// One check: it receives the project and the artifacts directory.
pub type Check = fn(&Project, &Path) -> Result<()>;

/// Runs every check on the artifacts in `dir`.
pub fn run(project: &Project, dir: &Path) -> Result<()> {
    let required = required_artifacts(project);
    crate::checksums::verify(dir, &required)?;
    eprintln!(
        "check: checksums.txt matches {} artifacts in {}",
        required.len(),
        dir.display()
    );

    let checks: &[(&str, Check)] = &[
        ("archives", archives::check),
        ("reproducible", reproducible::check),
        ("deb", deb::check),
        ("rpm", rpm::check),
        ("aur", aur::check),
        ("aur-source", aur::check_source),
    ];
    run_checks("packaging", project, dir, checks)
}

/// Runs each of `checks` on `dir`, even after one fails, printing a line per
/// check and then `<group>: N passed, N failed`. Fails, naming the failed
/// checks, when any of them did.
pub fn run_checks(
    group: &str,
    project: &Project,
    dir: &Path,
    checks: &[(&str, Check)],
) -> Result<()> {
    let mut failures = Vec::new();
    for &(name, check) in checks {
        eprintln!("check {name}: running");
        let started = Instant::now();
        match check(project, dir) {
            Ok(()) => eprintln!("check {name}: passed in {:.0?}", started.elapsed()),
            Err(error) => {
                eprintln!(
                    "check {name}: FAILED in {:.0?}: {error:#}",
                    started.elapsed()
                );
                failures.push(name);
            }
        }
    }

    let passed = checks.len() - failures.len();
    println!("{group}: {passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        bail!(
            "{} {group} check(s) failed: {}",
            failures.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

/// Lists the artifacts of a complete Linux release: per target an archive,
/// a .deb and an .rpm, plus the source tarball.
pub fn required_artifacts(project: &Project) -> Vec<String> {
    let version = &project.version;
    let mut required = Vec::new();
    for target in LINUX {
        required.push(names::archive(version, &target));
        required.push(names::deb(version, &target));
        required.push(names::rpm(version, &target));
    }
    required.push(names::source_tarball(version));
    required
}
