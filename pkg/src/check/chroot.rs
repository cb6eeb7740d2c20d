//! A fresh minimal Debian root for the apt install checks, unpacked from a
//! cached debootstrap tarball, and running commands inside it.
//!
//! The debootstrap download is cached as a tarball under
//! `<target-dir>/pkg/debootstrap/`, so only the first run fetches Debian's
//! packages. Each root is unpacked anew from it.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result};

use crate::process;
use crate::project::Project;

/// Unpacks a fresh minimal Debian root into `root`, from the cached debootstrap tarball.
pub fn debian_root(project: &Project, deb_arch: &str, root: &Path) -> Result<()> {
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

/// Runs `args` inside `root` with chroot and returns stdout; fails on a non-zero exit.
pub fn run(root: &Path, args: &[&str]) -> Result<String> {
    let output = process::output(&mut command(root, args))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `args` inside `root` with chroot and returns its output whatever its exit status.
pub fn output_unchecked(root: &Path, args: &[&str]) -> Result<Output> {
    process::output_unchecked(&mut command(root, args))
}

/// Creates a command that runs `args` inside `root` in a cleared environment:
/// a standard PATH, the C locale and non-interactive debconf.
fn command(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("chroot");
    command
        .arg(root)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("LC_ALL", "C");
    command
}
