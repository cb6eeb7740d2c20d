//! The .deb checks. lintian must report no errors or warnings on every .deb.
//! The .deb for this machine's architecture is installed with `apt-get` from
//! a signed repository served on 127.0.0.1 into a fresh minimal Debian root
//! made by debootstrap, run, and purged, which must leave no file.
//!
//! The debootstrap download is cached as a tarball under
//! `<target-dir>/pkg/debootstrap/`, so only the first run fetches Debian's
//! packages. Each run unpacks a new root from it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::archives::expected_version_line;
use super::http::Server;
use super::tree;
use crate::names::{self, PACKAGE, REVISION};
use crate::process;
use crate::project::Project;
use crate::targets::LINUX;
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

    let Some(target) = LINUX.iter().find(|target| target.is_native()) else {
        bail!(
            "no Linux target matches this machine's CPU ({}), so no .deb can be installed here",
            std::env::consts::ARCH
        );
    };
    // NOTE: the arm64 .deb passes lintian but is not installed here: that
    // would need an arm64 Debian root run under qemu-user-static's binfmt.
    apt_install(
        project,
        &dir.join(names::deb(&project.version, target)),
        target.deb_arch,
    )
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

/// Installs `deb` with apt-get from a signed local repository into a fresh Debian root, runs it, purges it.
fn apt_install(project: &Project, deb: &Path, deb_arch: &str) -> Result<()> {
    if !is_root() {
        bail!(
            "the apt install check needs root (debootstrap and chroot): run `cargo pkg check` as root"
        );
    }
    let scratch = tempfile::Builder::new()
        .prefix("atcr-apt-check-")
        .tempdir()?;
    let root = scratch.path().join("root");
    debian_root(project, deb_arch, &root)?;

    let repository = scratch.path().join("repo");
    let keyring = build_signed_repository(scratch.path(), &repository, deb, deb_arch)?;
    let server = Server::start(&repository)?;

    fs::create_dir_all(root.join("etc/apt/keyrings"))?;
    fs::copy(&keyring, root.join("etc/apt/keyrings/atcr-test.gpg"))?;
    // Only the local repository: the check must not reach Debian's mirror from inside the root.
    fs::remove_file(root.join("etc/apt/sources.list")).ok();
    fs::write(
        root.join("etc/apt/sources.list.d/atcr-test.sources"),
        format!(
            "Types: deb\nURIs: {}/\nSuites: stable\nComponents: main\nSigned-By: /etc/apt/keyrings/atcr-test.gpg\n",
            server.url()
        ),
    )?;

    let before = tree::list(&root, &STATE_PATHS)?;
    chroot(&root, &["apt-get", "update"])?;
    chroot(
        &root,
        &[
            "apt-get",
            "install",
            "--yes",
            "--no-install-recommends",
            PACKAGE,
        ],
    )?;

    let printed = chroot(&root, &[PACKAGE, "version"])?;
    let expected = expected_version_line(project);
    if printed.trim() != expected {
        bail!(
            "after apt-get install, `{PACKAGE} version` printed `{}`, expected `{expected}`",
            printed.trim()
        );
    }
    let installed = chroot(&root, &["dpkg-query", "--listfiles", PACKAGE])?;
    eprintln!(
        "  apt-get installed {} from {} ({} paths)",
        deb.display(),
        server.url(),
        installed.lines().count()
    );

    chroot(&root, &["apt-get", "purge", "--yes", PACKAGE])?;
    let after = tree::list(&root, &STATE_PATHS)?;
    tree::require_unchanged("apt-get install and purge", &before, &after)?;
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
            bail!("{path} is still in the root after apt-get purge");
        }
    }
    eprintln!("  apt-get purge left no file behind");
    Ok(())
}

/// Unpacks a fresh minimal Debian root into `root`, from the cached debootstrap tarball.
fn debian_root(project: &Project, deb_arch: &str, root: &Path) -> Result<()> {
    let suite = host_codename().unwrap_or_else(|| "bookworm".to_owned());
    let cache = project
        .work_dir("debootstrap")
        .join(format!("{suite}-{deb_arch}-minbase.tgz"));
    if !cache.is_file() {
        fs::create_dir_all(cache.parent().expect("cache has a parent"))?;
        let partial = cache.with_extension("partial.tgz");
        let download = tempfile::tempdir()?;
        eprintln!(
            "  downloading a minimal Debian {suite} for debootstrap into {} (once)",
            cache.display()
        );
        process::output(
            Command::new("debootstrap")
                .args([
                    "--variant=minbase",
                    &format!("--arch={deb_arch}"),
                    &format!("--make-tarball={}", partial.display()),
                ])
                .arg(&suite)
                .arg(download.path()),
        )?;
        fs::rename(&partial, &cache)?;
    }
    eprintln!("  debootstrap {suite} into {}", root.display());
    process::output(
        Command::new("debootstrap")
            .args([
                "--variant=minbase",
                &format!("--arch={deb_arch}"),
                &format!("--unpack-tarball={}", cache.display()),
            ])
            .arg(&suite)
            .arg(root),
    )
    .with_context(|| {
        format!(
            "debootstrap failed; delete {} if it is damaged",
            cache.display()
        )
    })?;
    Ok(())
}

/// This machine's Debian codename from /etc/os-release, such as `bookworm`.
fn host_codename() -> Option<String> {
    let text = fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("VERSION_CODENAME="))
        .map(|value| value.trim_matches('"').to_owned())
}

/// Builds an apt repository (suite `stable`, component `main`) holding `deb`,
/// signs its Release file with a new throwaway key, and returns the public keyring.
fn build_signed_repository(
    scratch: &Path,
    repository: &Path,
    deb: &Path,
    deb_arch: &str,
) -> Result<PathBuf> {
    let pool = repository.join("pool/main");
    let lists = repository.join(format!("dists/stable/main/binary-{deb_arch}"));
    fs::create_dir_all(&pool)?;
    fs::create_dir_all(&lists)?;
    fs::copy(deb, pool.join(deb.file_name().expect("a .deb file name")))?;

    let packages = process::output(
        Command::new("apt-ftparchive")
            .arg("packages")
            .arg("pool")
            .current_dir(repository),
    )?
    .stdout;
    fs::write(lists.join("Packages"), &packages)?;
    fs::write(lists.join("Packages.gz"), crate::assets::gzip(&packages)?)?;

    let release = process::output(
        Command::new("apt-ftparchive")
            .args([
                "-o",
                "APT::FTPArchive::Release::Suite=stable",
                "-o",
                "APT::FTPArchive::Release::Codename=stable",
            ])
            .args([
                "-o",
                &format!("APT::FTPArchive::Release::Architectures={deb_arch}"),
            ])
            .args([
                "-o",
                "APT::FTPArchive::Release::Components=main",
                "release",
                ".",
            ])
            .current_dir(repository.join("dists/stable")),
    )?
    .stdout;
    let release_path = repository.join("dists/stable/Release");
    fs::write(&release_path, release)?;

    let gnupg_home = scratch.join("gnupg");
    fs::create_dir_all(&gnupg_home)?;
    set_mode(&gnupg_home, 0o700)?;
    let gpg = |args: &[&str]| {
        let mut command = Command::new("gpg");
        command
            .env("GNUPGHOME", &gnupg_home)
            .args([
                "--batch",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args);
        command
    };
    process::output(&mut gpg(&[
        "--quick-generate-key",
        "cargo pkg check test repository <test@invalid>",
        "ed25519",
        "sign",
        "1d",
    ]))?;
    let release_text = release_path.to_string_lossy().into_owned();
    let in_release = repository
        .join("dists/stable/InRelease")
        .to_string_lossy()
        .into_owned();
    let detached = repository
        .join("dists/stable/Release.gpg")
        .to_string_lossy()
        .into_owned();
    process::output(&mut gpg(&[
        "--clearsign",
        "--output",
        &in_release,
        &release_text,
    ]))?;
    process::output(&mut gpg(&[
        "--armor",
        "--detach-sign",
        "--output",
        &detached,
        &release_text,
    ]))?;

    let keyring = scratch.join("atcr-test.gpg");
    let public_key = process::output(&mut gpg(&["--export"]))?.stdout;
    if public_key.is_empty() {
        bail!("gpg exported no public key from {}", gnupg_home.display());
    }
    fs::write(&keyring, public_key)?;
    Ok(keyring)
}

/// Runs `args` inside `root` with chroot and returns stdout; fails on a non-zero exit.
fn chroot(root: &Path, args: &[&str]) -> Result<String> {
    let output = process::output(
        Command::new("chroot")
            .arg(root)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("LC_ALL", "C"),
    )?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}
