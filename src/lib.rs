//! `docker-credential-atcr`: a Docker credential helper for ATCR.
//!
//! `main.rs` only calls [`run`]. Protocol stdout is a wire format, so
//! `print!` is denied crate-wide: output goes through explicit writers.

#![deny(clippy::print_stdout)]

pub mod accounts;
pub mod appview;
pub mod atomic;
pub mod cli;
pub mod commands;
pub mod docker_config;
pub mod identity;
pub mod json_error;
pub mod parent_process;
pub mod paths;
pub mod protocol;
pub mod secret;
pub mod server_url;
pub mod store;
pub mod version;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::FromArgMatches;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use cli::{Cli, CliCommand};
use paths::Paths;
use protocol::{ProtocolError, Verb};
use store::Credentials;

/// Parses `args`, runs the command and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    init_logging();

    let matches = match cli::command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => return report_usage_error(&error),
    };
    let cli = Cli::from_arg_matches(&matches).expect("the matches come from the same definition");

    let stdout = io::stdout();
    let mut stdout = stdout.lock();
    match cli.command {
        CliCommand::Get => run_verb(Verb::Get, &mut stdout),
        CliCommand::Store => run_verb(Verb::Store, &mut stdout),
        CliCommand::Erase => run_verb(Verb::Erase, &mut stdout),
        CliCommand::List => run_verb(Verb::List, &mut stdout),
        CliCommand::Version => {
            finish(writeln!(stdout, "{}", version::version_line()).map_err(Into::into))
        }
        CliCommand::Login {
            registry,
            no_browser,
        } => match with_credentials(|credentials| {
            commands::login::run(&registry, no_browser, credentials)
        }) {
            Err(error)
                if error.is::<commands::login::Cancelled>()
                    || error.downcast_ref::<commands::login::Cancelled>().is_some() =>
            {
                eprintln!("login cancelled; nothing was changed");
                ExitCode::from(commands::login::CANCELLED_STATUS)
            }
            result => finish(result),
        },
        CliCommand::Logout { registry, handle } => finish(with_credentials(|credentials| {
            commands::logout::run(registry.as_deref(), handle.as_deref(), credentials)
        })),
        CliCommand::Status { json } => match with_credentials(|credentials| {
            commands::status::run(json, credentials, &mut stdout)
        }) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(error) => finish(Err(error)),
        },
        CliCommand::Switch { handle, registry } => finish(with_credentials(|credentials| {
            commands::switch::run(registry.as_deref(), handle.as_deref(), credentials)
        })),
        CliCommand::Doctor => {
            match with_credentials(|credentials| commands::doctor::run(credentials, &mut stdout)) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(error) => finish(Err(error)),
            }
        }
        CliCommand::Update(args) => finish(commands::update::run(&args, &mut stdout)),
        CliCommand::ConfigureDocker {
            registries,
            dry_run,
            config,
        } => finish(commands::configure_docker::run(
            &registries,
            dry_run,
            config,
            &mut stdout,
        )),
        CliCommand::Completions { shell } => {
            finish(commands::generate::completions(shell, &mut stdout))
        }
        CliCommand::Man => finish(commands::generate::man_page(&mut stdout)),
    }
}

/// Runs a protocol verb; its errors go to stdout, as clients expect.
fn run_verb(verb: Verb, stdout: &mut impl Write) -> ExitCode {
    let result = Paths::from_env()
        .map_err(|error| {
            ProtocolError::Store(store::StoreError::KeyringUnavailable(error.to_string()))
        })
        .and_then(|paths| Credentials::from_env(paths).map_err(ProtocolError::from))
        .and_then(|credentials| protocol::handle(verb, io::stdin().lock(), stdout, &credentials));

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::debug!("{verb:?} failed: {error}");
            let _ = protocol::write_error(stdout, &error);
            ExitCode::FAILURE
        }
    }
}

/// Runs a user command with the credential storage.
fn with_credentials<T>(
    command: impl FnOnce(&Credentials) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let credentials = Credentials::from_env(Paths::from_env()?)?;
    command(&credentials)
}

/// Reports a user command's error on stderr.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader such as `head` that stops early is not an error of this command.
        Err(error)
            if error
                .downcast_ref::<io::Error>()
                .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints help, version or a usage error on stdout, where a client running a
/// protocol verb reads it, and returns 0 for help and version, 1 otherwise.
fn report_usage_error(error: &clap::Error) -> ExitCode {
    let mut stdout = io::stdout().lock();
    let rendered = error.render().to_string();

    let status = match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    };
    let text = match (error.kind(), error.get(ContextKind::InvalidSubcommand)) {
        (ErrorKind::InvalidSubcommand, Some(ContextValue::String(action))) => format!(
            "unknown action {action:?}: expected get, store, erase, list or version; run docker-credential-atcr --help for every command\n"
        ),
        (
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand,
            _,
        ) => rendered,
        // Clients read one line from stdout, so other usage errors are folded into one.
        _ => format!(
            "{}\n",
            rendered
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    status
}

/// Logs to stderr at the level in `ATCR_LOG` (default `warn`).
fn init_logging() {
    let env = env_logger::Env::new().filter_or("ATCR_LOG", "warn");
    env_logger::Builder::from_env(env)
        .format(|buf, record| {
            writeln!(
                buf,
                "docker-credential-atcr: {}: {}",
                level_name(record.level()),
                record.args()
            )
        })
        .target(env_logger::Target::Stderr)
        .init();
}

fn level_name(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "error",
        log::Level::Warn => "warning",
        log::Level::Info => "info",
        log::Level::Debug => "debug",
        log::Level::Trace => "trace",
    }
}
