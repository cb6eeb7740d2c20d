//! `update`: replace the running binary with a newer release, or, when a
//! package manager installed it, print that manager's upgrade command.
//!
//! This file owns the command's options and the order of the steps. Finding
//! and downloading releases is in `update/release.rs`, checking and installing
//! the archive in `update/install.rs`, and recognizing package managers in
//! `update/package_manager.rs`. Progress goes to stderr; stdout carries only
//! the result lines.

mod install;
mod package_manager;
mod release;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::version::VERSION;
use package_manager::PackageManager;
use release::{DEFAULT_BASE_URL, MAX_ARCHIVE_BYTES, Platform, Release, ReleaseServer, Version};

/// The environment variable that sets the release base URL when `--base-url` is absent.
pub const BASE_URL_ENV: &str = "ATCR_RELEASE_BASE_URL";

/// Options of `update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Print the installed and the newest version and whether an update is available; change nothing
    #[arg(long)]
    pub check: bool,

    /// The releases URL, laid out as GitHub releases (default: $ATCR_RELEASE_BASE_URL, else https://github.com/atcr-io/docker-credential-atcr/releases)
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Install this release, such as 0.2.0, instead of the newest; older releases are allowed
    #[arg(long = "version", value_name = "VERSION")]
    pub target_version: Option<String>,

    /// Reinstall even when the installed version is the same or newer (a package-managed binary is still left to its package manager)
    #[arg(long)]
    pub force: bool,

    /// Look for the dpkg, pacman and rpm databases under DIR instead of /; only tests need this
    #[arg(long, value_name = "DIR", default_value = "/", hide = true)]
    pub package_root: PathBuf,
}

/// Runs `update` with the options in `args`.
pub fn run(args: &UpdateArgs, stdout: &mut impl Write) -> Result<()> {
    let base_url = match &args.base_url {
        Some(url) => url.clone(),
        None => std::env::var(BASE_URL_ENV)
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
    };
    let requested = args
        .target_version
        .as_deref()
        .map(Version::parse)
        .transpose()?;
    let current = Version::parse(VERSION).context("this build's own version is invalid")?;
    let exe = current_exe()?;
    let platform = Platform::current()?;
    let server = ReleaseServer::new(&base_url)?;

    let manager = package_manager::detect(&exe, &args.package_root, |path| {
        package_manager::rpm_owner(path, &args.package_root)
    });
    if let Some(manager) = &manager {
        log::info!("{} was installed by {}", exe.display(), manager.name());
    }

    if args.check {
        let release = server.find_release(&platform, requested.as_ref())?;
        return report_check(
            &current,
            &release,
            requested.is_some(),
            manager.as_ref(),
            stdout,
        );
    }
    if let Some(manager) = manager {
        return print_upgrade_command(&exe, &manager, stdout);
    }

    if cfg!(windows) {
        install::remove_backup(&exe);
    }
    install::check_writable(&exe)?;
    let release = server.find_release(&platform, requested.as_ref())?;

    if !args.force {
        let up_to_date = match &requested {
            Some(version) => *version == current,
            None => release.version <= current,
        };
        if up_to_date {
            writeln!(
                stdout,
                "docker-credential-atcr {current} is up to date (release {}); nothing was changed",
                release.version
            )?;
            eprintln!("run with --force to reinstall");
            return Ok(());
        }
    }

    install_release(&server, &platform, &release, &exe)?;
    writeln!(
        stdout,
        "updated {} from {current} to {}",
        exe.display(),
        release.version
    )?;
    Ok(())
}

/// Downloads, checks and installs `release` over `exe`; on error `exe` is unchanged.
fn install_release(
    server: &ReleaseServer,
    platform: &Platform,
    release: &Release,
    exe: &Path,
) -> Result<()> {
    let archive_url = server.file_url(Some(&release.version), &release.archive);
    eprintln!("downloading {archive_url}");
    let archive = server.download(&archive_url, MAX_ARCHIVE_BYTES)?;

    install::verify_sha256(&archive, release, &archive_url)?;
    let binary = install::extract_binary(&archive, &release.archive, &platform.binary_name())?;

    let staged = install::stage(exe, &binary)?;
    install::check_runs(&staged, &release.version, &release.archive)?;
    install::replace(staged, exe, cfg!(windows))
}

fn report_check(
    current: &Version,
    release: &Release,
    requested: bool,
    manager: Option<&PackageManager>,
    stdout: &mut impl Write,
) -> Result<()> {
    let label = if requested {
        "requested version"
    } else {
        "latest version"
    };
    let available = if requested {
        release.version != *current
    } else {
        release.version > *current
    };

    writeln!(stdout, "current version: {current}")?;
    writeln!(stdout, "{label}: {}", release.version)?;
    writeln!(
        stdout,
        "update available: {}",
        if available { "yes" } else { "no" }
    )?;
    if let Some(manager) = manager {
        writeln!(stdout, "update command: {}", manager.upgrade_command())?;
    }
    Ok(())
}

fn print_upgrade_command(
    exe: &Path,
    manager: &PackageManager,
    stdout: &mut impl Write,
) -> Result<()> {
    let name = manager.name();
    eprintln!(
        "{} was installed by {name}, so {name} updates it; nothing was changed. Run:",
        exe.display()
    );
    writeln!(stdout, "{}", manager.upgrade_command())?;
    if let Some(note) = manager.note() {
        eprintln!("{note}");
    }
    Ok(())
}

/// Returns the running binary's path with links resolved, so the new binary replaces the real file.
fn current_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .context("cannot find the path of the running docker-credential-atcr binary")?;
    exe.canonicalize()
        .with_context(|| format!("cannot resolve the path {}", exe.display()))
}
