//! The `--base-url` of `cargo pkg repo`, which the settings files and
//! index.html publish.

use anyhow::{Result, bail};
use url::Url;

use super::{REPO_FILE, SOURCES_FILE};

/// Returns `text` as an http(s) URL that can go into the settings files as
/// it is: parsed as a WHATWG URL (so the scheme and host are lower-cased),
/// without a trailing `/`.
pub fn parse_base_url(text: &str) -> Result<String> {
    let redacted = without_credentials(text);
    // The URL parser would percent-encode or drop some of these silently,
    // and dnf expands `$releasever`-style variables in baseurl.
    if let Some(invalid) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'<>\\`$".contains(*c))
    {
        bail!(
            "--base-url `{redacted}` contains {invalid:?}, which the apt and dnf settings cannot \
             hold: percent-encode it"
        );
    }
    let not_http = || {
        anyhow::anyhow!(
            "--base-url is `{redacted}`, which is not an http:// or https:// URL: pass the URL \
             that will serve SITE, such as https://atcr-io.github.io/docker-credential-atcr"
        )
    };
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase | url::ParseError::EmptyHost) => {
            return Err(not_http());
        }
        Err(error) => bail!("--base-url `{redacted}` is not a valid URL: {error}"),
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(not_http());
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!(
            "--base-url `{redacted}` contains a user name or password, which would be published in \
             {SOURCES_FILE}, {REPO_FILE} and index.html: pass a URL without them"
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!(
            "--base-url `{redacted}` contains a query (`?`) or fragment (`#`), which the apt and \
             dnf settings cannot hold: pass the URL of the directory that serves SITE"
        );
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Returns `text` with any user name and password before the host replaced
/// by `***`, so that messages do not show them.
fn without_credentials(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = text[authority_start..]
        .find(['/', '?', '#', '\\'])
        .map_or(text.len(), |end| authority_start + end);
    match text[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &text[..authority_start],
            &text[authority_start + at..]
        ),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL that the release workflow uses when PACKAGES_BASE_URL is unset.
    const DEFAULT_URL: &str = "https://atcr-io.github.io/docker-credential-atcr";

    #[test]
    fn base_url_accepts_http_and_https() {
        assert_eq!(parse_base_url(DEFAULT_URL).unwrap(), DEFAULT_URL);
        assert_eq!(
            parse_base_url(&format!("{DEFAULT_URL}/")).unwrap(),
            DEFAULT_URL
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn base_url_rejects_other_schemes() {
        for text in [
            "ftp://example.com/repo",
            "example.com",
            "https://",
            "file:///srv",
        ] {
            let error = parse_base_url(text).unwrap_err().to_string();
            assert!(error.contains(&format!("`{text}`")), "{error}");
            assert!(error.contains("not an http:// or https:// URL"), "{error}");
        }
    }

    #[test]
    fn base_url_rejects_characters_settings_cannot_hold() {
        let error = parse_base_url("https://example.com/my repo")
            .unwrap_err()
            .to_string();
        assert!(error.contains("contains ' '"), "{error}");
        assert!(error.contains("percent-encode"), "{error}");
    }

    #[test]
    fn base_url_rejects_dnf_variables() {
        let error = parse_base_url("https://example.com/$releasever")
            .unwrap_err()
            .to_string();
        assert!(error.contains("contains '$'"), "{error}");
    }

    #[test]
    fn base_url_lowercases_scheme_and_host() {
        assert_eq!(
            parse_base_url("HTTPS://Example.COM/Repo/").unwrap(),
            "https://example.com/Repo"
        );
    }

    #[test]
    fn base_url_rejects_credentials_unshown() {
        for text in [
            "https://user:secret@example.com/repo",
            "https://user@example.com/repo",
            "https://:secret@example.com",
        ] {
            let error = parse_base_url(text).unwrap_err().to_string();
            assert!(error.contains("user name or password"), "{error}");
            assert!(error.contains("https://***@example.com"), "{error}");
            assert!(!error.contains("secret"), "{error}");
            assert!(!error.contains("user@"), "{error}");
        }
    }

    #[test]
    fn base_url_error_hides_credentials() {
        let error = parse_base_url("https://user:secret@example.com/my repo")
            .unwrap_err()
            .to_string();
        assert!(error.contains("contains ' '"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn base_url_rejects_invalid_ports() {
        for text in [
            "https://example.com:99999/repo",
            "https://example.com:https",
        ] {
            let error = parse_base_url(text).unwrap_err().to_string();
            assert!(error.contains("is not a valid URL"), "{error}");
            assert!(error.contains("invalid port number"), "{error}");
        }
    }

    #[test]
    fn base_url_rejects_query_and_fragment() {
        for text in [
            "https://example.com/repo?x=1",
            "https://example.com/repo#top",
        ] {
            let error = parse_base_url(text).unwrap_err().to_string();
            assert!(error.contains("query (`?`) or fragment (`#`)"), "{error}");
        }
    }
}
