//! Normalizing server URLs into store keys.
//!
//! Clients name the same registry in several ways: `atcr.io`,
//! `https://atcr.io`, `https://atcr.io/` and `atcr.io:443` must find one
//! entry, while `localhost:5000` and `localhost:5001` stay distinct. A key is
//! the lower-case host, the port unless it is the scheme's default, and the
//! path without trailing slashes. HTTPS is the default scheme and is left out
//! of the key, while `http://` stays in it: a credential stored for a TLS
//! registry is never handed to a plain-HTTP one. Parsing image references for
//! account choice lives elsewhere.

use thiserror::Error;
use url::Url;

/// Errors from parsing a server URL.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ServerUrlError {
    #[error("no credentials server URL")]
    Empty,
    #[error(
        "invalid server URL {input:?}: {reason}; expected a registry host such as atcr.io or https://atcr.io"
    )]
    Invalid { input: String, reason: String },
}

/// A server URL as a client sent it, and the key it is stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// The URL as the client sent it, without surrounding whitespace.
    pub original: String,
    /// The normalized key; equal keys name the same registry.
    pub key: String,
}

impl ServerUrl {
    /// Parses and normalizes a server URL.
    pub fn parse(input: &str) -> Result<ServerUrl, ServerUrlError> {
        let original = input.trim();
        if original.is_empty() {
            return Err(ServerUrlError::Empty);
        }

        let key = normalize(original)?;
        Ok(ServerUrl {
            original: original.to_owned(),
            key,
        })
    }
}

fn normalize(input: &str) -> Result<String, ServerUrlError> {
    let invalid = |reason: &str| ServerUrlError::Invalid {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };

    let lower = input.to_ascii_lowercase();
    let (scheme, with_scheme) = if lower.starts_with("https://") {
        ("https", input.to_owned())
    } else if lower.starts_with("http://") {
        ("http", input.to_owned())
    } else if lower.contains("://") {
        return Err(invalid("only https:// and http:// URLs name a registry"));
    } else {
        ("https", format!("https://{input}"))
    };

    let url = Url::parse(&with_scheme).map_err(|error| invalid(&error.to_string()))?;
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| invalid("it has no host"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a registry URL has no query or fragment"));
    }

    let mut key = String::new();
    if scheme == "http" {
        key.push_str("http://");
    }
    key.push_str(host);
    // `Url` already drops the scheme's default port (443 or 80).
    if let Some(port) = url.port() {
        key.push(':');
        key.push_str(&port.to_string());
    }
    key.push_str(url.path().trim_end_matches('/'));
    Ok(key)
}

/// Returns the identities (handle or DID) named by the ATCR image references
/// for `registry` in `argv`, in command-line order.
///
/// ATCR image names are `<host>/<identity>/<repo>[:tag|@digest]`. Arguments
/// may carry a transport prefix (`docker://` for skopeo) or be the value of
/// an option (`--tag=atcr.io/alice.bsky.social/app`); the host is compared
/// case-insensitively with the registry's server key.
pub fn image_identities(argv: &[String], registry: &str) -> Vec<String> {
    let prefix = format!("{}/", registry.to_ascii_lowercase());
    argv.iter()
        .filter_map(|arg| {
            let value = arg
                .rsplit_once('=')
                .map_or(arg.as_str(), |(_, value)| value);
            let reference = value.strip_prefix("docker://").unwrap_or(value);
            if reference.len() <= prefix.len()
                || !reference[..prefix.len()].eq_ignore_ascii_case(&prefix)
            {
                return None;
            }
            let (identity, repository) = reference[prefix.len()..].split_once('/')?;
            (!identity.is_empty() && !repository.is_empty()).then(|| identity.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(input: &str) -> String {
        ServerUrl::parse(input).unwrap().key
    }

    #[test]
    fn same_registry_forms_share_key() {
        for form in [
            "atcr.io",
            "https://atcr.io",
            "https://atcr.io/",
            "atcr.io:443",
            "ATCR.io",
            " atcr.io\r\n",
            "https://atcr.io:443//",
        ] {
            assert_eq!(key(form), "atcr.io", "{form:?}");
        }
    }

    #[test]
    fn ports_stay_distinct() {
        assert_eq!(key("localhost:5000"), "localhost:5000");
        assert_ne!(key("localhost:5000"), key("localhost:5001"));
    }

    #[test]
    fn plain_http_is_separate_key() {
        assert_eq!(key("http://atcr.io"), "http://atcr.io");
        assert_eq!(key("http://atcr.io:80/"), "http://atcr.io");
        assert_ne!(key("http://atcr.io"), key("https://atcr.io"));
    }

    #[test]
    fn path_is_kept_without_trailing_slash() {
        assert_eq!(key("https://index.docker.io/v1/"), "index.docker.io/v1");
    }

    #[test]
    fn ipv6_host_keeps_brackets() {
        assert_eq!(key("[::1]:5000"), "[::1]:5000");
    }

    #[test]
    fn original_is_trimmed() {
        assert_eq!(
            ServerUrl::parse("  https://atcr.io/ \n").unwrap().original,
            "https://atcr.io/"
        );
    }

    #[test]
    fn empty_input_is_rejected() {
        assert_eq!(ServerUrl::parse(" \n"), Err(ServerUrlError::Empty));
    }

    fn identities(argv: &[&str]) -> Vec<String> {
        image_identities(
            &argv.iter().map(|arg| arg.to_string()).collect::<Vec<_>>(),
            "atcr.io",
        )
    }

    #[test]
    fn identities_from_client_command_lines() {
        assert_eq!(
            identities(&["docker", "push", "atcr.io/alice.bsky.social/app"]),
            ["alice.bsky.social"]
        );
        assert_eq!(
            identities(&["docker", "pull", "atcr.io/did:plc:abc123/app@sha256:0123"]),
            ["did:plc:abc123"]
        );
        assert_eq!(
            identities(&[
                "skopeo",
                "copy",
                "oci:dir",
                "docker://ATCR.io/bob.example.com/x/y:1"
            ]),
            ["bob.example.com"]
        );
        assert_eq!(
            identities(&[
                "docker-buildx",
                "buildx",
                "build",
                "--tag=atcr.io/carol.dev/app:v1",
                "."
            ]),
            ["carol.dev"]
        );
        assert_eq!(
            identities(&["podman", "push", "-t", "atcr.io/dave.dev/app"]),
            ["dave.dev"]
        );
    }

    #[test]
    fn identities_ignore_other_hosts_and_short_names() {
        assert!(identities(&["docker", "push", "ghcr.io/alice/app"]).is_empty());
        assert!(
            identities(&["docker", "push", "atcr.io/alice"]).is_empty(),
            "no repository"
        );
        assert!(identities(&["docker", "push", "atcr.io.evil.com/alice/app"]).is_empty());
    }

    #[test]
    fn invalid_inputs_name_the_value() {
        for bad in ["ftp://atcr.io", "atcr io", "https://", "atcr.io?x=1"] {
            let error = ServerUrl::parse(bad).unwrap_err().to_string();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }
}
