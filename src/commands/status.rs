//! `status [--json]`: every account, the active one marked, the store in
//! use, and whether each AppView still accepts each secret. The checks run
//! in parallel, each bounded by a short timeout. The exit status is 0 only
//! when at least one account exists and every check passed.

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use crate::accounts::{self, Account};
use crate::appview::check::{self, CheckResult};
use crate::store::index::Index;
use crate::store::keyring::{self, Operation};
use crate::store::{Backend, Credentials};

/// The default bound of one check; `ATCR_HTTP_TIMEOUT` overrides it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One account and its check, as `status --json` prints it.
#[derive(Debug, Serialize)]
pub struct AccountStatus {
    pub registry: String,
    pub handle: String,
    pub did: String,
    pub active: bool,
    pub logged_in_at: u64,
    pub store: Backend,
    pub check: CheckResult,
}

/// Returns the bound of one check: `ATCR_HTTP_TIMEOUT` when it is set,
/// otherwise [`CHECK_TIMEOUT`].
pub fn check_timeout() -> Result<Duration, crate::appview::AppViewError> {
    match std::env::var_os("ATCR_HTTP_TIMEOUT") {
        Some(_) => crate::appview::request_timeout(),
        None => Ok(CHECK_TIMEOUT),
    }
}

/// Prints the status; returns whether every account works.
pub fn run(json: bool, credentials: &Credentials, stdout: &mut impl Write) -> Result<bool> {
    let index = Index::load(credentials.paths())?;
    let timeout = check_timeout()?;
    let statuses = check_all(&index, credentials, timeout);
    let store = describe_store(credentials);

    if json {
        let document = json!({ "store": store, "accounts": statuses });
        serde_json::to_writer_pretty(&mut *stdout, &document)?;
        writeln!(stdout)?;
    } else {
        print_text(&statuses, &store, stdout)?;
    }
    Ok(!statuses.is_empty()
        && statuses
            .iter()
            .all(|status| status.check == CheckResult::Accepted))
}

/// Checks every account at once, one thread each.
pub fn check_all(
    index: &Index,
    credentials: &Credentials,
    timeout: Duration,
) -> Vec<AccountStatus> {
    let handles: Vec<_> = index
        .accounts
        .iter()
        .map(|account| {
            let secret = credentials.read_secret(account.store, &account.secret_key());
            let account = account.clone();
            std::thread::spawn(move || {
                let check = match secret {
                    Ok(Some(secret)) => check::check(&account, &secret, timeout),
                    Ok(None) => CheckResult::Unchecked(format!(
                        "the device secret is missing from the {} store",
                        account.store
                    )),
                    Err(error) => CheckResult::Unchecked(error.to_string()),
                };
                (account, check)
            })
        })
        .collect();

    handles
        .into_iter()
        .filter_map(|handle| handle.join().ok())
        .map(|(account, check)| {
            let active = accounts::active_account(index, &account.registry)
                .is_some_and(|active| active.did == account.did);
            to_status(account, active, check)
        })
        .collect()
}

fn to_status(account: Account, active: bool, check: CheckResult) -> AccountStatus {
    AccountStatus {
        registry: account.registry,
        handle: account.handle,
        did: account.did,
        active,
        logged_in_at: account.logged_in_at,
        store: account.store,
        check,
    }
}

/// Which store new secrets go to, and why.
pub fn describe_store(credentials: &Credentials) -> serde_json::Value {
    let file = credentials.paths().secrets_file().display().to_string();
    match credentials.forced() {
        Some(Backend::File) => {
            json!({"backend": "file", "path": file, "reason": "ATCR_CREDENTIAL_STORE=file"})
        }
        Some(Backend::Keyring) => {
            json!({"backend": "keyring", "reason": "ATCR_CREDENTIAL_STORE=keyring"})
        }
        None => match keyring::run(Operation::Probe) {
            Ok(_) => json!({"backend": "keyring", "reason": "the keyring answers"}),
            Err(error) => {
                json!({"backend": "file", "path": file, "reason": error.into_store_error().to_string()})
            }
        },
    }
}

fn print_text(
    statuses: &[AccountStatus],
    store: &serde_json::Value,
    stdout: &mut impl Write,
) -> Result<()> {
    if statuses.is_empty() {
        writeln!(
            stdout,
            "Not logged in to any ATCR registry. Run: docker-credential-atcr login"
        )?;
    }

    let mut registries: Vec<&str> = statuses
        .iter()
        .map(|status| status.registry.as_str())
        .collect();
    registries.sort_unstable();
    registries.dedup();
    for registry in registries {
        writeln!(stdout, "{registry}")?;
        for status in statuses.iter().filter(|status| status.registry == registry) {
            let mark = if status.check == CheckResult::Accepted {
                "✓"
            } else {
                "✗"
            };
            let active = if status.active { " (active)" } else { "" };
            writeln!(stdout, "  {mark} {} {}{active}", status.handle, status.did)?;
            writeln!(
                stdout,
                "    logged in {}, secret in the {} store",
                format_utc(status.logged_in_at),
                status.store
            )?;
            writeln!(stdout, "    {}", status.check)?;
        }
    }

    let backend = store["backend"].as_str().unwrap_or("?");
    let reason = store["reason"].as_str().unwrap_or("");
    match store["path"].as_str() {
        Some(path) => writeln!(stdout, "New secrets go to the file store {path} ({reason})")?,
        None => writeln!(stdout, "New secrets go to the {backend} ({reason})")?,
    }
    Ok(())
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DD HH:MM UTC`, or
/// as the number of seconds when the year would pass 9999.
pub fn format_utc(seconds: u64) -> String {
    let mut rfc3339 = String::new();
    let written = UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .is_some_and(|time| write!(rfc3339, "{}", humantime::format_rfc3339_seconds(time)).is_ok());
    if !written {
        return format!("{seconds} s after 1970");
    }
    // 2026-12-04T21:00:00Z
    format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_utc_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_796_418_000), "2026-12-04 21:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(253_402_300_799), "9999-12-31 23:59 UTC");
        assert_eq!(format_utc(u64::MAX), "18446744073709551615 s after 1970");
    }
}
