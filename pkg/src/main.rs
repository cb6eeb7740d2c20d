//! `cargo pkg`: the one place that builds and checks release artifacts.
//!
//! This file only parses the command line and dispatches to one module per
//! task. To add a task, add a variant to [`Task`] and one match arm that
//! calls the module; keep the work itself in the module.

mod archive;
mod assets;
mod aur;
mod binary;
mod check;
mod checksums;
mod deb;
mod dist;
mod homebrew;
mod manifests;
mod msi;
mod names;
mod process;
mod project;
mod repo;
mod rpm;
mod sign;
mod source;
mod targets;
mod unprivileged;
mod windows;
mod windows_check;
mod windows_manifests;
mod wine;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::project::Project;

#[derive(Debug, Parser)]
#[command(
    name = "cargo pkg",
    bin_name = "cargo pkg",
    about = "Build and check the release artifacts of docker-credential-atcr",
    long_about = "Build and check the release artifacts of docker-credential-atcr.\n\n\
        Artifacts are written to dist/ under the workspace root. Every task honours \
        SOURCE_DATE_EPOCH; when it is unset, the date of the HEAD commit is used, so two \
        runs on one commit give byte-identical archives and packages."
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Build the release binary for TARGET and write its artifacts to dist/:
    /// the archive, .deb and .rpm for Linux, the archive for macOS, the zip
    /// and MSI for Windows
    Dist {
        /// Rust target triple, such as x86_64-unknown-linux-musl or aarch64-apple-darwin
        #[arg(long, value_name = "TARGET")]
        target: String,
    },
    /// Build every artifact this host can build into dist/
    Snapshot,
    /// Write DIR/checksums.txt (sha256sum format) over every file directly in DIR
    Checksums {
        /// The directory holding the release artifacts
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Render the winget, Scoop, Chocolatey, AUR and Homebrew manifests of
    /// VERSION from DIR's checksums.txt and MSIs
    Manifests {
        /// The release version, such as 1.2.0 or 1.2.0-rc.1
        #[arg(long, value_name = "VERSION")]
        version: String,
        /// The directory holding the release artifacts and checksums.txt
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Where to write the manifests (default: DIR)
        #[arg(long, value_name = "OUT")]
        out: Option<PathBuf>,
    },
    /// Build the signed apt and dnf repositories of VERSION from DIR's .deb and .rpm files
    Repo {
        /// The release version, such as 1.2.0
        #[arg(long, value_name = "VERSION")]
        version: String,
        /// The http(s) URL that will serve SITE, such as https://atcr-io.github.io/docker-credential-atcr
        #[arg(long, value_name = "URL")]
        base_url: String,
        /// The output directory for the repositories, which must be missing or empty
        #[arg(long, value_name = "SITE")]
        out: PathBuf,
        /// The directory holding the .deb and .rpm files (and checksums.txt)
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Run every check on the artifacts in DIR
    Check {
        /// The directory holding the artifacts and checksums.txt
        #[arg(value_name = "DIR", default_value = "dist")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(task: Task) -> Result<()> {
    let project = Project::discover()?;
    match task {
        Task::Dist { target } => match windows::target(&target) {
            Some(target) => windows::dist(&project, &target).map(drop),
            None => dist::dist(&project, &target),
        },
        Task::Snapshot => {
            dist::snapshot(&project).and_then(|()| windows::add_to_snapshot(&project))
        }
        Task::Checksums { dir } => checksums::write_dir(&dir).map(drop),
        Task::Manifests { version, dir, out } => {
            manifests::render_release(&project, &version, &dir, out.as_deref().unwrap_or(&dir))
        }
        Task::Repo {
            version,
            base_url,
            out,
            dir,
        } => repo::run(&version, &base_url, &out, &dir),
        Task::Check { dir } => {
            let packaging = check::run(&project, &dir);
            let windows = windows_check::run(&project, &dir);
            match (packaging, windows) {
                (Err(packaging), Err(windows)) => Err(packaging.context(format!("{windows:#}"))),
                (packaging, windows) => packaging.and(windows),
            }
        }
    }
}
