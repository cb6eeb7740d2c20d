//! The .deb checks. lintian must report no errors or warnings on every .deb.
//! Every .deb is installed by name with `apt-get` from the signed apt
//! repository that `cargo pkg repo` builds (see `site.rs`), into a fresh
//! minimal Debian root of this machine's architecture, run, and purged,
//! which must leave no file. The .deb of another architecture is installed
//! with `dpkg --add-architecture`, and its binary runs under qemu-user.
//!
//! Before that, `apt-get update` must reject a copy of the repository whose
//! Release file changed after signing, and one without signatures. Without
//! these failures, a passing install would not show that apt checked them.
//! It must also read a copy whose indexes under their plain names are stale,
//! which shows that apt fetched them by hash.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::archives::expected_version_line;
use super::site::{self, TestSite};
use super::{chroot, tree};
use crate::binary;
use crate::names::{self, PACKAGE, REVISION};
use crate::process;
use crate::project::Project;
use crate::repo;
use crate::targets::{LINUX, Target};
use crate::unprivileged::is_root;

/// Paths in the Debian root that apt and dpkg change for their own records.
const STATE_PATHS: [&str; 8] = [
    "/var/lib/apt",
    "/var/cache/apt",
    "/var/lib/dpkg",
    "/var/log",
    "/tmp",
    "/proc",
    "/dev",
    "/var/cache/debconf",
];

pub fn check(project: &Project, dir: &Path) -> Result<()> {
    check_changelog(project)?;
    for target in LINUX {
        lintian(&dir.join(names::deb(&project.version, &target)))?;
    }

    let Some(native) = LINUX.iter().find(|target| target.is_native()) else {
        bail!(
            "no Linux target matches this machine's CPU ({}), so no .deb can be installed here",
            std::env::consts::ARCH
        );
    };
    if !is_root() {
        bail!(
            "the apt install check needs root (debootstrap and chroot): run `cargo pkg check` as root"
        );
    }
    let site = TestSite::build(project, dir)?;

    // Each target gets a fresh root of this machine's architecture, native
    // target first. The rejection checks run in that first root, before
    // apt_install adds the site's `.sources` file.
    let mut targets: Vec<Target> = LINUX.to_vec();
    targets.sort_by_key(|target| !target.is_native());
    for target in &targets {
        let scratch = tempfile::Builder::new()
            .prefix("atcr-apt-check-")
            .tempdir()?;
        let root = scratch.path().join("root");
        chroot::debian_root(project, native.deb_arch, &root)?;
        trust_site_key(&root, &site)?;
        if target == native {
            apt_rejects_bad_repositories(&root, &site)?;
            apt_fetches_indexes_by_hash(project, &root, &site)?;
        }
        apt_install(project, &root, &site, target)?;
    }
    Ok(())
}

/// The top entry of debian/changelog must be this version and revision, so
/// `/usr/share/doc/docker-credential-atcr/changelog.Debian.gz` describes the package it ships in.
fn check_changelog(project: &Project) -> Result<()> {
    let path = project.root.join("debian/changelog");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let expected = format!("{PACKAGE} ({}-{REVISION}) ", project.version);
    if !text.starts_with(&expected) {
        let first = text.lines().next().unwrap_or_default();
        bail!(
            "{} starts with `{first}`: add an entry for {}-{REVISION} at the top",
            path.display(),
            project.version
        );
    }
    Ok(())
}

/// Runs lintian on `deb`; fails on any error or warning.
fn lintian(deb: &Path) -> Result<()> {
    let output = process::output_unchecked(
        Command::new("lintian")
            .args([
                "--fail-on",
                "error,warning",
                "--display-info",
                "--tag-display-limit",
                "0",
            ])
            .arg(deb),
    )?;
    let report = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = report
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    if !output.status.success() {
        bail!(
            "lintian reports errors or warnings for {}:\n{}\n{}",
            deb.display(),
            lines.join("\n"),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    eprintln!(
        "  lintian {}: no errors or warnings ({} info lines)",
        deb.display(),
        lines.len()
    );
    for line in lines {
        eprintln!("    {line}");
    }
    Ok(())
}

/// Puts the site's key where its `.sources` file expects it, and removes
/// Debian's source, so apt reads only the site.
fn trust_site_key(root: &Path, site: &TestSite) -> Result<()> {
    let keyring = root.join(repo::APT_KEYRING.trim_start_matches('/'));
    fs::create_dir_all(keyring.parent().expect("the keyring path has a parent"))?;
    fs::copy(site.path().join(repo::KEY_GPG), &keyring)?;
    fs::remove_file(root.join("etc/apt/sources.list")).ok();
    Ok(())
}

/// Checks that `apt-get update` in `root` fails on copies of the site whose
/// Release file was changed after signing, or has no signature.
fn apt_rejects_bad_repositories(root: &Path, site: &TestSite) -> Result<()> {
    let (tampered, tampered_url) = site.variant("tampered", &["dists"])?;
    for file in ["Release", "InRelease"] {
        uppercase_label(&tampered.join("dists/stable").join(file))?;
    }
    let (unsigned, unsigned_url) = site.variant("unsigned", &["dists"])?;
    for file in ["InRelease", "Release.gpg"] {
        fs::remove_file(unsigned.join("dists/stable").join(file))?;
    }

    // apt reports a bad signature as BADSIG, and prints "is not signed" only
    // after it fetched the Release file, so neither case passes by a failed download.
    let sources = root.join("etc/apt/sources.list.d").join(repo::SOURCES_FILE);
    let cases = [
        (
            "a Release file changed after signing",
            tampered_url,
            "BADSIG",
        ),
        (
            "a Release file without signatures",
            unsigned_url,
            "is not signed",
        ),
    ];
    for (what, url, expected) in cases {
        fs::write(&sources, repo::apt_sources(&url))?;
        let output = chroot::output_unchecked(root, &["apt-get", "update"])?;
        let command = format!("apt-get update in {}", root.display());
        let line = site::rejection_line(&command, &output, expected, what, &url)?;
        eprintln!("  apt-get update rejects {what}: {line}");
    }
    fs::remove_file(&sources)?;
    Ok(())
}

/// Checks that apt fetches the indexes by digest (`Acquire-By-Hash`):
/// `apt-get update` must succeed on a copy of the site whose indexes under
/// their plain names are stale, as a web cache may serve them for a while
/// after a release. Fetched by name, they would not match the Release file.
fn apt_fetches_indexes_by_hash(project: &Project, root: &Path, site: &TestSite) -> Result<()> {
    let (stale, stale_url) = site.variant("stale-indexes", &["dists"])?;
    let component = stale.join("dists").join(repo::SUITE).join(repo::COMPONENT);
    let mut emptied = Vec::new();
    for entry in
        fs::read_dir(&component).with_context(|| format!("cannot list {}", component.display()))?
    {
        let index = entry?.path();
        for name in ["Packages", "Packages.gz"] {
            let path = index.join(name);
            if path.is_file() {
                fs::write(&path, b"")?;
                emptied.push(path);
            }
        }
    }
    if emptied.is_empty() {
        bail!(
            "no Packages index found in {} to make stale",
            component.display()
        );
    }

    let sources = root.join("etc/apt/sources.list.d").join(repo::SOURCES_FILE);
    fs::write(&sources, repo::apt_sources(&stale_url))?;
    chroot::run(root, &["apt-get", "update"]).with_context(|| {
        format!(
            "apt-get update failed on {stale_url}, whose indexes under their plain names are \
             stale: apt did not fetch them by hash"
        )
    })?;
    let record = chroot::run(root, &["apt-cache", "show", PACKAGE])?;
    let version = format!("Version: {}-{REVISION}", project.version);
    if !record.lines().any(|line| line == version) {
        bail!("apt-cache show {PACKAGE} lacks `{version}` after reading {stale_url}:\n{record}");
    }
    fs::remove_file(&sources)?;
    eprintln!(
        "  apt-get update fetched the indexes by hash: {} stale plain-named indexes were not read",
        emptied.len()
    );
    Ok(())
}

/// Rewrites the `Label:` field of `path`, a Release or InRelease file, in upper case.
fn uppercase_label(path: &Path) -> Result<()> {
    let text = fs::read_to_string(path)?;
    let field = format!("Label: {PACKAGE}");
    if !text.contains(&field) {
        bail!("{} has no `{field}` line to change", path.display());
    }
    fs::write(path, text.replacen(&field, &field.to_uppercase(), 1))?;
    Ok(())
}

/// Installs `target`'s package by name with apt-get from the site into
/// `root`, runs it, purges it, and checks that no file is left.
fn apt_install(project: &Project, root: &Path, site: &TestSite, target: &Target) -> Result<()> {
    let package = if target.is_native() {
        PACKAGE.to_owned()
    } else {
        chroot::run(root, &["dpkg", "--add-architecture", target.deb_arch])?;
        format!("{PACKAGE}:{}", target.deb_arch)
    };
    fs::copy(
        site.path().join(repo::SOURCES_FILE),
        root.join("etc/apt/sources.list.d").join(repo::SOURCES_FILE),
    )?;

    let before = tree::list(root, &STATE_PATHS)?;
    chroot::run(root, &["apt-get", "update"])?;
    chroot::run(
        root,
        &[
            "apt-get",
            "install",
            "--yes",
            "--no-install-recommends",
            &package,
        ],
    )?;

    // A binary of another architecture runs under the host's qemu-user,
    // because the root has no binfmt_misc handler for it.
    let printed = if target.is_native() {
        chroot::run(root, &[PACKAGE, "version"])?
    } else {
        let binary = root.join("usr/bin").join(PACKAGE);
        let output = binary::run(target, &binary, &["version"])
            .with_context(|| format!("{} does not run", binary.display()))?;
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let expected = expected_version_line(project);
    if printed.trim() != expected {
        bail!(
            "after apt-get install {package}, `{PACKAGE} version` printed `{}`, expected `{expected}`",
            printed.trim()
        );
    }
    let installed = chroot::run(root, &["dpkg-query", "--listfiles", &package])?;
    eprintln!(
        "  apt-get installed {package} from {} ({} paths)",
        site.url(),
        installed.lines().count()
    );

    chroot::run(root, &["apt-get", "purge", "--yes", &package])?;
    let after = tree::list(root, &STATE_PATHS)?;
    tree::require_unchanged(
        &format!("apt-get install and purge of {package}"),
        &before,
        &after,
    )?;
    for path in installed
        .lines()
        .map(str::trim)
        .filter(|path| path.starts_with('/') && *path != "/.")
    {
        let existed = before.contains(path) || before.contains(&format!("{path}/"));
        if !existed
            && root
                .join(path.trim_start_matches('/'))
                .symlink_metadata()
                .is_ok()
        {
            bail!("{path} is still in the root after apt-get purge {package}");
        }
    }
    eprintln!("  apt-get purge {package} left no file behind");
    Ok(())
}
