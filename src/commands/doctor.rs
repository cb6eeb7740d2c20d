//! `doctor`: the troubleshooting a user would otherwise do by hand. Each
//! check prints what is wrong and the fix; the exit status is 0 only when
//! every check passes.
//!
//! Checks: the helper is on PATH under the name Docker runs, is executable
//! and runs on this machine; config.json sends every logged-in registry to
//! this helper and no `credsStore` answers in its place; the keyring answers
//! or the file fallback is in use; each AppView is reachable and accepts each
//! account's secret.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::accounts::DEFAULT_REGISTRY;
use crate::appview::check::CheckResult;
use crate::commands::status;
use crate::docker_config::{self, HELPER_NAME};
use crate::store::index::Index;
use crate::store::keyring::{self, Operation};
use crate::store::{Backend, Credentials};
use crate::version::VERSION;

const EXECUTABLE: &str = "docker-credential-atcr";

/// The outcome of one check.
struct Finding {
    passed: bool,
    summary: String,
    fix: Option<String>,
}

impl Finding {
    fn pass(summary: impl Into<String>) -> Finding {
        Finding {
            passed: true,
            summary: summary.into(),
            fix: None,
        }
    }

    fn fail(summary: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            passed: false,
            summary: summary.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Runs every check and prints the findings; returns whether all passed.
pub fn run(credentials: &Credentials, stdout: &mut impl Write) -> Result<bool> {
    let index = Index::load(credentials.paths())?;

    let mut findings = check_executable();
    findings.extend(check_docker_config(&index));
    findings.push(check_store(credentials, &index));
    findings.extend(check_accounts(credentials, &index));

    for finding in &findings {
        let mark = if finding.passed { "✓" } else { "✗" };
        writeln!(stdout, "{mark} {}", finding.summary)?;
        if let Some(fix) = &finding.fix {
            writeln!(stdout, "  fix: {fix}")?;
        }
    }
    let failed = findings.iter().filter(|finding| !finding.passed).count();
    if failed == 0 {
        writeln!(stdout, "Everything looks good.")?;
    } else {
        writeln!(
            stdout,
            "{failed} problem{} found.",
            if failed == 1 { "" } else { "s" }
        )?;
    }
    Ok(failed == 0)
}

/// The helper must be on PATH under the name Docker runs, be executable, and start here.
fn check_executable() -> Vec<Finding> {
    let name = format!("{EXECUTABLE}{}", std::env::consts::EXE_SUFFIX);
    let Some(path) = find_on_path(&name) else {
        return vec![Finding::fail(
            format!("{name} is not on PATH, so Docker cannot run it"),
            "install it into a directory on PATH, such as /usr/local/bin, or add its directory to PATH",
        )];
    };

    let mut findings = vec![Finding::pass(format!(
        "{name} is on PATH: {}",
        path.display()
    ))];
    if !is_executable(&path) {
        findings.push(Finding::fail(
            format!("{} is not executable", path.display()),
            format!("run: chmod +x {}", path.display()),
        ));
        return findings;
    }

    let arch = std::env::consts::ARCH;
    match Command::new(&path).arg("version").output() {
        Ok(output) if output.status.success() => {
            let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            if line.contains(VERSION) {
                findings.push(Finding::pass(format!(
                    "it runs on this machine ({arch}): {line}"
                )));
            } else {
                findings.push(Finding::fail(
                    format!(
                        "{} is another version ({line}) than this one ({VERSION})",
                        path.display()
                    ),
                    "remove the older copy or put this one first on PATH",
                ));
            }
        }
        Ok(output) => findings.push(Finding::fail(
            format!("{} version failed with {}", path.display(), output.status),
            "reinstall docker-credential-atcr",
        )),
        Err(error) => findings.push(Finding::fail(
            format!(
                "{} does not run on this machine ({arch}): {error}",
                path.display()
            ),
            format!("install the build for {} {arch}", std::env::consts::OS),
        )),
    }
    findings
}

/// Every logged-in registry must map to this helper in `credHelpers`.
fn check_docker_config(index: &Index) -> Vec<Finding> {
    let path = match docker_config::default_path() {
        Ok(path) => path,
        Err(error) => {
            return vec![Finding::fail(
                error.to_string(),
                "set HOME or DOCKER_CONFIG",
            )];
        }
    };
    let mut registries: Vec<String> = index
        .accounts
        .iter()
        .map(|account| account.registry.clone())
        .collect();
    registries.sort();
    registries.dedup();
    if registries.is_empty() {
        registries.push(DEFAULT_REGISTRY.to_owned());
    }

    let plan = match docker_config::plan(&path, &registries) {
        Ok(plan) => plan,
        Err(error) => {
            return vec![Finding::fail(
                error.to_string(),
                format!("repair {}", path.display()),
            )];
        }
    };
    if plan.creds_store.as_deref() == Some(HELPER_NAME)
        && plan.changed.iter().all(|(_, previous)| previous.is_none())
    {
        return vec![Finding::pass(format!(
            "{} sends every registry to this helper (credsStore)",
            plan.path.display()
        ))];
    }
    if plan.changed.is_empty() {
        return vec![Finding::pass(format!(
            "{} sends {} to this helper",
            plan.path.display(),
            registries.join(", ")
        ))];
    }

    plan.changed
        .iter()
        .map(|(registry, previous)| {
            let current = match (previous, &plan.creds_store) {
                (Some(helper), _) => format!("uses the credential helper {helper:?}"),
                (None, Some(store)) => format!("has no credHelpers entry, so credsStore {store:?} answers in place of {HELPER_NAME:?}"),
                (None, None) => "has no credHelpers entry".to_owned(),
            };
            Finding::fail(format!("{} {current} for {registry}", plan.path.display()), format!("run: docker-credential-atcr configure-docker {registry}"))
        })
        .collect()
}

/// The keyring answers, or the file fallback is in use and nothing needs the keyring.
fn check_store(credentials: &Credentials, index: &Index) -> Finding {
    if credentials.forced() == Some(Backend::File) {
        return Finding::pass(format!(
            "the file store is in use (ATCR_CREDENTIAL_STORE=file): {}",
            credentials.paths().secrets_file().display()
        ));
    }

    let error = match keyring::run(Operation::Probe) {
        Ok(_) => return Finding::pass("the OS keyring answers"),
        Err(error) => error.into_store_error(),
    };
    let in_keyring = index
        .credentials
        .values()
        .filter(|entry| entry.store == Backend::Keyring)
        .count()
        + index
            .accounts
            .iter()
            .filter(|account| account.store == Backend::Keyring)
            .count();

    if credentials.forced() == Some(Backend::Keyring) {
        Finding::fail(
            format!("ATCR_CREDENTIAL_STORE=keyring, but {error}"),
            "start the Secret Service (gnome-keyring, KWallet) or unset ATCR_CREDENTIAL_STORE",
        )
    } else if in_keyring > 0 {
        Finding::fail(
            format!("{in_keyring} secret(s) are in the keyring, but {error}"),
            "unlock or start the keyring, or log in again to move the secrets to the file store",
        )
    } else {
        Finding::pass(format!(
            "the file store is in use because {error}: {}",
            credentials.paths().secrets_file().display()
        ))
    }
}

/// Each AppView is reachable and accepts each account's secret.
fn check_accounts(credentials: &Credentials, index: &Index) -> Vec<Finding> {
    if index.accounts.is_empty() {
        return vec![Finding::pass(
            "no ATCR accounts to check (log in with: docker-credential-atcr login)",
        )];
    }
    let timeout = match status::check_timeout() {
        Ok(timeout) => timeout,
        Err(error) => {
            return vec![Finding::fail(
                format!("the accounts were not checked: {error}"),
                "unset ATCR_HTTP_TIMEOUT or set it to a number of seconds from 0.001 to 3600",
            )];
        }
    };

    status::check_all(index, credentials, timeout)
        .into_iter()
        .map(|status| {
            let who = format!("{} on {}", status.handle, status.registry);
            match &status.check {
                CheckResult::Accepted => {
                    Finding::pass(format!("{who}: the AppView accepts the secret"))
                }
                CheckResult::Rejected => Finding::fail(
                    format!("{who}: the AppView rejects the secret (revoked or wrong)"),
                    format!("run: docker-credential-atcr login {}", status.registry),
                ),
                CheckResult::Unreachable(reason) => Finding::fail(
                    format!("{who}: {reason}"),
                    "check the network, proxy (HTTPS_PROXY) and the registry name",
                ),
                CheckResult::Unchecked(reason) => Finding::fail(
                    format!("{who}: {reason}"),
                    format!("run: docker-credential-atcr login {}", status.registry),
                ),
            }
        })
        .collect()
}

/// Finds the first file named `name` in the directories of PATH.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
