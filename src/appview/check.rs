//! Checking whether the AppView still accepts an account's device secret,
//! through the registry's token service:
//! `GET /auth/token?service=<host>&scope=repository:<handle>/<repo>:pull`
//! with HTTP Basic authentication. `200` means accepted; `401` and `403`
//! mean revoked or wrong. `status` and `doctor` use it; `get` never does.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Serialize;

use super::{AppView, client};
use crate::accounts::Account;
use crate::secret::Secret;

/// The repository named in the check's scope. Token services issue a token
/// for any scope and grant only what the account may do, so any name works.
const CHECK_REPOSITORY: &str = "docker-credential-atcr-check";

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum CheckResult {
    Accepted,
    Rejected,
    Unreachable(String),
    Unchecked(String),
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckResult::Accepted => f.write_str("the AppView accepts the secret"),
            CheckResult::Rejected => {
                f.write_str("the AppView rejects the secret (revoked or wrong)")
            }
            CheckResult::Unreachable(reason) => write!(f, "the AppView is unreachable: {reason}"),
            CheckResult::Unchecked(reason) => write!(f, "not checked: {reason}"),
        }
    }
}

/// Checks `secret` for `account` with one request bounded by `timeout`.
pub fn check(account: &Account, secret: &Secret, timeout: Duration) -> CheckResult {
    let appview = match AppView::parse(&account.origin) {
        Ok(appview) => appview,
        Err(error) => return CheckResult::Unchecked(error.to_string()),
    };
    let http = match client(timeout) {
        Ok(http) => http,
        Err(error) => return CheckResult::Unchecked(error.to_string()),
    };

    let mut url = appview.url("/auth/token");
    url.query_pairs_mut()
        .append_pair("service", appview.service())
        .append_pair(
            "scope",
            &format!(
                "repository:{}/{CHECK_REPOSITORY}:pull",
                account.handle.to_ascii_lowercase()
            ),
        );

    let response = http
        .get(url.clone())
        .basic_auth(&account.handle, Some(secret.expose()))
        .send();
    match response {
        Ok(response) if response.status().is_success() => CheckResult::Accepted,
        Ok(response)
            if matches!(
                response.status(),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ) =>
        {
            CheckResult::Rejected
        }
        Ok(response) => CheckResult::Unreachable(format!(
            "{} returned HTTP {}",
            url.path(),
            response.status().as_u16()
        )),
        Err(error) if error.is_timeout() => CheckResult::Unreachable(format!(
            "{} timed out after {} s",
            appview.origin,
            timeout.as_secs_f64()
        )),
        Err(error) if error.is_connect() => {
            CheckResult::Unreachable(format!("cannot connect to {}", appview.origin))
        }
        Err(error) => CheckResult::Unreachable(error.to_string()),
    }
}
