//! The command-line interface: protocol verbs first, then user commands.
//!
//! This clap definition is the single source for `--help`, the man page and
//! the shell completions. `--help` lists the protocol verbs under their own
//! heading, because people should know that Docker runs them and that they
//! read stdin.

use std::path::PathBuf;

use clap::{Command, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::version::LONG_VERSION;

/// The environment variables, listed after the options in `--help`.
const ENVIRONMENT_HELP: &str = "Environment:
  ATCR_USERNAME, ATCR_TOKEN  credentials that get returns for ATCR_REGISTRY (default atcr.io) without a login
  ATCR_CREDENTIAL_STORE      keyring or file: the store for new secrets (default: the keyring if one answers)
  ATCR_LOG                   log level on stderr: error, warn, info, debug or trace (default: warn)
  ATCR_HTTP_TIMEOUT          seconds one request to the AppView may take, 0.001 to 3600 (default: 10; 5 for status checks)
  ATCR_RELEASE_BASE_URL      the releases URL that update downloads from
  DOCKER_CONFIG              the directory holding Docker's config.json (default: ~/.docker)
  BROWSER                    the browser that login opens";

/// The verbs that container clients run; everything else is for people.
pub const PROTOCOL_VERBS: [&str; 5] = ["get", "store", "erase", "list", "version"];

#[derive(Debug, Parser)]
#[command(
    name = "docker-credential-atcr",
    version = LONG_VERSION,
    about = "Docker credential helper for ATCR, the AT Protocol container registry",
    long_about = "Docker credential helper for ATCR, the AT Protocol container registry.\n\n\
        Docker, Podman, skopeo and other clients run the protocol verbs themselves once \
        config.json names this helper; run `docker-credential-atcr configure-docker` to set that up. \
        Secrets live in the OS keyring (Secret Service, macOS Keychain, Windows Credential Manager), \
        or in a file with mode 0600 where no keyring runs.",
    after_help = ENVIRONMENT_HELP,
    arg_required_else_help = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Print the credential for the server URL read from stdin as JSON
    Get,
    /// Store the {"ServerURL","Username","Secret"} JSON read from stdin
    Store,
    /// Erase the credential for the server URL read from stdin, and log out every ATCR account of that registry
    Erase,
    /// Print every stored server URL and its username as a JSON object
    List,
    /// Print the version, commit and build date on one line
    Version,

    /// Log in to an ATCR registry in the browser (device authorization)
    Login {
        /// The registry, such as atcr.io; http:// is accepted for loopback hosts only
        #[arg(value_name = "REGISTRY", default_value = "atcr.io")]
        registry: String,
        /// Print the URL and code without opening a browser
        #[arg(long)]
        no_browser: bool,
    },
    /// Log out an account and delete its device secret
    Logout {
        /// The registry (default: the only registry with accounts, else atcr.io)
        #[arg(value_name = "REGISTRY")]
        registry: Option<String>,
        /// The handle or DID to log out (default: the active account)
        #[arg(value_name = "HANDLE")]
        handle: Option<String>,
    },
    /// Show every account, the store in use, and whether each secret still works
    Status {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Choose the active account; with two accounts and no HANDLE, toggle
    Switch {
        /// The handle or DID to make active
        #[arg(value_name = "HANDLE")]
        handle: Option<String>,
        /// The registry (default: the only registry with accounts, else atcr.io)
        #[arg(long, value_name = "REGISTRY")]
        registry: Option<String>,
    },
    /// Check the installation, Docker's config.json, the keyring and every account
    Doctor,
    /// Replace this binary with the newest release, or print the package manager's upgrade command
    Update(crate::commands::update::UpdateArgs),
    /// Make Docker use this helper for REGISTRY in config.json (credHelpers)
    ConfigureDocker {
        /// Registry hosts to configure, such as atcr.io or localhost:5000
        #[arg(value_name = "REGISTRY", default_value = "atcr.io")]
        registries: Vec<String>,
        /// Print the config.json that would be written and change nothing
        #[arg(long)]
        dry_run: bool,
        /// The config.json to edit (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print a shell completion script
    Completions {
        /// The shell to generate for
        shell: Shell,
    },
    /// Print the man page (roff) on stdout
    #[command(name = "man")]
    Man,
}

/// Builds the clap command with the grouped help text.
pub fn command() -> Command {
    let command = Cli::command();
    let (verbs, others): (Vec<_>, Vec<_>) = command
        .get_subcommands()
        .partition(|sub| PROTOCOL_VERBS.contains(&sub.get_name()));
    let width = command
        .get_subcommands()
        .map(|sub| sub.get_name().len())
        .max()
        .unwrap_or(0);

    let render = |subcommands: &[&Command]| {
        subcommands
            .iter()
            .map(|sub| {
                format!(
                    "  {:width$}  {}",
                    sub.get_name(),
                    sub.get_about()
                        .map(|about| about.to_string())
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let template = format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n\
         Protocol verbs (run by Docker, Podman, skopeo and other clients; they read stdin):\n{}\n\n\
         Commands:\n{}\n\n\
         Options:\n{{options}}{{after-help}}\n",
        render(&verbs),
        render(&others),
    );
    command.help_template(template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_valid() {
        command().debug_assert();
    }

    #[test]
    fn help_groups_protocol_verbs() {
        let help = command().render_help().to_string();
        let verbs_at = help.find("Protocol verbs").expect(&help);
        let commands_at = help.find("Commands:").expect(&help);
        assert!(verbs_at < commands_at);
        assert!(help[verbs_at..commands_at].contains("  get "), "{help}");
        assert!(help[commands_at..].contains("configure-docker"), "{help}");
        assert!(!help[commands_at..].contains("  get "), "{help}");
    }
}
