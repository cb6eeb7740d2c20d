//! `cargo pkg`: the one place that builds and checks release artifacts.
//!
//! This file only parses the command line and dispatches to one module per
//! task. To add a task, add a variant to [`Task`] and one match arm that
//! calls the module; keep the work itself in the module.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Dist { target } => anyhow::Result::<()>::Err(anyhow::anyhow!("dist --target {target}: not implemented yet")),
        Task::Snapshot => Err(anyhow::anyhow!("snapshot: not implemented yet")),
        Task::Check { dir } => Err(anyhow::anyhow!("check {}: not implemented yet", dir.display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
