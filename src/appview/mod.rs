//! HTTP to the ATCR AppView: device authorization (`device.rs`) and the
//! credential check (`check.rs`).
//!
//! The AppView origin is `https://<registry host>`. Plain `http://` is
//! accepted only for loopback hosts, which is how tests run a local AppView.
//! Only `login`, `status` and `doctor` build a client: the protocol verbs
//! never touch the network.

pub mod check;
pub mod device;

use std::net::IpAddr;
use std::time::Duration;

use thiserror::Error;
use url::Url;

use crate::server_url::ServerUrl;
use crate::version::VERSION;

/// The default timeout of one HTTP request; `ATCR_HTTP_TIMEOUT` (seconds) overrides it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum AppViewError {
    #[error("invalid registry {input:?}: {reason}")]
    InvalidRegistry { input: String, reason: String },
    #[error(
        "invalid ATCR_HTTP_TIMEOUT {0:?}: set it to a number of seconds from 0.001 to 3600, such as 10"
    )]
    InvalidTimeout(String),
    #[error("cannot create the HTTP client: {0}")]
    Client(String),
}

/// A registry and the AppView origin that serves its auth endpoints.
#[derive(Debug, Clone)]
pub struct AppView {
    /// The registry's server key, as Docker sends it to `get`: `atcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// The origin, such as `https://atcr.io` or `http://127.0.0.1:5000`.
    pub origin: Url,
}

impl AppView {
    /// Parses `atcr.io`, `https://atcr.io` or, for loopback hosts only,
    /// `http://127.0.0.1:PORT`.
    pub fn parse(input: &str) -> Result<AppView, AppViewError> {
        let invalid = |reason: &str| AppViewError::InvalidRegistry {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let server = ServerUrl::parse(input).map_err(|error| invalid(&error.to_string()))?;

        let plain_http = server.key.starts_with("http://");
        let authority = server.key.trim_start_matches("http://");
        if authority.contains('/') {
            return Err(invalid(
                "a registry is a host name without a path, such as atcr.io",
            ));
        }
        let scheme = if plain_http { "http" } else { "https" };
        let origin = Url::parse(&format!("{scheme}://{authority}"))
            .map_err(|error| invalid(&error.to_string()))?;
        if plain_http && !is_loopback(&origin) {
            return Err(invalid(
                "plain http:// is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https://",
            ));
        }
        Ok(AppView {
            registry: authority.to_owned(),
            origin,
        })
    }

    /// The URL of `path` on the AppView.
    pub fn url(&self, path: &str) -> Url {
        self.origin.join(path).expect("paths are valid")
    }

    /// The host that the token service expects as `service`.
    pub fn service(&self) -> &str {
        &self.registry
    }
}

fn is_loopback(origin: &Url) -> bool {
    match origin.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

/// The range of `ATCR_HTTP_TIMEOUT`, in seconds: one millisecond to one hour.
const TIMEOUT_RANGE: std::ops::RangeInclusive<f64> = 0.001..=3600.0;

/// The per-request timeout: `ATCR_HTTP_TIMEOUT` seconds, or [`DEFAULT_TIMEOUT`].
pub fn request_timeout() -> Result<Duration, AppViewError> {
    match std::env::var("ATCR_HTTP_TIMEOUT") {
        Ok(value) if !value.trim().is_empty() => parse_timeout(&value),
        _ => Ok(DEFAULT_TIMEOUT),
    }
}

/// Parses an `ATCR_HTTP_TIMEOUT` value, seconds within [`TIMEOUT_RANGE`].
fn parse_timeout(value: &str) -> Result<Duration, AppViewError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        // NaN is in no range, so it is rejected here too.
        .filter(|seconds| TIMEOUT_RANGE.contains(seconds))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| AppViewError::InvalidTimeout(value.to_owned()))
}

/// An HTTP client with the helper's User-Agent and `timeout` that follows no
/// redirects. It honours `HTTPS_PROXY` and `NO_PROXY`.
pub fn client(timeout: Duration) -> Result<reqwest::blocking::Client, AppViewError> {
    reqwest::blocking::Client::builder()
        .user_agent(format!("docker-credential-atcr/{VERSION}"))
        .timeout(timeout)
        .connect_timeout(timeout)
        // A redirect could take the device code or the Basic credentials to
        // another origin, or turn a check into an unauthenticated 200.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| AppViewError::Client(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scheme_is_https() {
        let appview = AppView::parse("atcr.io").unwrap();
        assert_eq!(appview.registry, "atcr.io");
        assert_eq!(appview.origin.as_str(), "https://atcr.io/");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        let local = AppView::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(local.registry, "127.0.0.1:5000");
        assert_eq!(local.origin.as_str(), "http://127.0.0.1:5000/");
        assert!(AppView::parse("http://localhost:8080").is_ok());
        assert!(AppView::parse("http://[::1]:8080").is_ok());

        let error = AppView::parse("http://atcr.io").unwrap_err().to_string();
        assert!(error.contains("loopback"), "{error}");
    }

    #[test]
    fn registry_with_path_is_rejected() {
        assert!(AppView::parse("atcr.io/alice").is_err());
    }

    #[test]
    fn timeout_accepts_its_range() {
        assert_eq!(parse_timeout("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_timeout(" 0.5 ").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_timeout("0.001").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_timeout("3600").unwrap(), Duration::from_secs(3600));
    }

    #[test]
    fn timeout_rejects_out_of_range() {
        for value in [
            "0", "-5", "0.0001", "3600.5", "1e20", "1.8e19", "inf", "nan", "ten",
        ] {
            let error = parse_timeout(value).unwrap_err().to_string();
            assert!(
                error.contains(&format!("invalid ATCR_HTTP_TIMEOUT {value:?}")),
                "{value}: {error}"
            );
        }
    }
}
