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
mod names;
mod process;
mod project;
mod rpm;
mod source;
mod targets;
mod unprivileged;

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
    /// Build the release binary for TARGET and write its archive to dist/
    Dist {
        /// Rust target triple, such as x86_64-unknown-linux-musl
        #[arg(long, value_name = "TARGET")]
        target: String,
    },
    /// Build every artifact this host can build into dist/
    Snapshot,
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
        Task::Dist { target } => dist::dist(&project, &target),
        Task::Snapshot => dist::snapshot(&project),
        Task::Check { dir } => check::run(&project, &dir),
    }
}
