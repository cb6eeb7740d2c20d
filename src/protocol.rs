//! The Docker credential-helper wire format: `get`, `store`, `erase` and
//! `list` over stdin and stdout.
//!
//! Clients (the Docker CLI, Podman, skopeo, docker-py, the Go
//! `docker-credential-helpers/client` package) match the three error texts
//! below byte for byte, so they are constants. Every error goes to stdout as
//! one line, and the caller exits with status 1. Nothing else is written to
//! stdout: logs and hints go to stderr. This module reads stdin once, with a
//! size limit, and leaves storage to [`Credentials`].

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::accounts::{self, AccountError};
use crate::json_error;
use crate::parent_process;
use crate::secret::Secret;
use crate::server_url::{ServerUrl, ServerUrlError};
use crate::store::credentials::Credential;
use crate::store::index::Index;
use crate::store::{Credentials, StoreError};

/// `get` or `erase` of a server with no stored credential.
pub const NOT_FOUND: &str = "credentials not found in native keychain";
/// An empty server URL.
pub const MISSING_SERVER_URL: &str = "no credentials server URL";
/// `store` without a username.
pub const MISSING_USERNAME: &str = "no credentials username";

/// The maximum number of stdin bytes a verb reads; a server URL or a credential is far smaller.
pub const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// The verbs that clients run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Store,
    Erase,
    List,
}

/// Failures reported to the client on stdout.
#[derive(Debug, Error)]
pub enum ProtocolError {
    #[error("{NOT_FOUND}")]
    NotFound,
    #[error("{MISSING_SERVER_URL}")]
    MissingServerUrl,
    #[error("{MISSING_USERNAME}")]
    MissingUsername,
    #[error("{0}")]
    InvalidServerUrl(String),
    #[error(
        "stdin is larger than {} bytes: send one server URL or one credentials JSON object",
        MAX_INPUT_BYTES
    )]
    InputTooLarge,
    #[error("stdin is not valid UTF-8 text: send the server URL or the credentials JSON as UTF-8")]
    NotUtf8,
    #[error(
        "invalid credentials JSON on stdin ({0}): expected {{\"ServerURL\":\"…\",\"Username\":\"…\",\"Secret\":\"…\"}}"
    )]
    InvalidJson(String),
    #[error("cannot read stdin: {0}")]
    Read(io::Error),
    #[error("cannot write to stdout: {0}")]
    Write(io::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Account(#[from] AccountError),
}

impl From<ServerUrlError> for ProtocolError {
    fn from(error: ServerUrlError) -> Self {
        match error {
            ServerUrlError::Empty => ProtocolError::MissingServerUrl,
            invalid => ProtocolError::InvalidServerUrl(invalid.to_string()),
        }
    }
}

/// The JSON object that `store` reads. Its field names match in any ASCII
/// letter case, as Go's encoding/json matches them for the reference
/// helpers, so `{"serverurl": …}` works too. Go also folds a few non-ASCII
/// letters, such as `ſ` for `s`, which this does not. A field given twice, in any
/// case, is an error; unknown fields are ignored.
#[derive(Default)]
struct StoreRequest {
    server_url: Option<String>,
    username: Option<String>,
    secret: Option<String>,
}

impl<'de> Deserialize<'de> for StoreRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StoreRequestVisitor)
    }
}

struct StoreRequestVisitor;

impl<'de> serde::de::Visitor<'de> for StoreRequestVisitor {
    type Value = StoreRequest;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON object with ServerURL, Username and Secret")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<StoreRequest, A::Error> {
        let mut request = StoreRequest::default();
        while let Some(key) = map.next_key::<String>()? {
            let (name, field) = match key.to_ascii_lowercase().as_str() {
                "serverurl" => ("ServerURL", &mut request.server_url),
                "username" => ("Username", &mut request.username),
                "secret" => ("Secret", &mut request.secret),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            if field.is_some() {
                return Err(serde::de::Error::duplicate_field(name));
            }
            *field = Some(map.next_value::<Option<String>>()?.unwrap_or_default());
        }
        Ok(request)
    }
}

#[derive(Serialize)]
struct GetResponse<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    #[serde(rename = "Username")]
    username: &'a str,
    #[serde(rename = "Secret")]
    secret: &'a str,
}

/// Runs one verb. On success the caller exits 0; on error it prints the
/// error as one line on stdout and exits 1.
pub fn handle(
    verb: Verb,
    input: impl Read,
    output: &mut impl Write,
    credentials: &Credentials,
) -> Result<(), ProtocolError> {
    match verb {
        Verb::Get => get(&read_input(input)?, output, credentials),
        Verb::Store => store(&read_input(input)?, credentials),
        Verb::Erase => erase(&read_input(input)?, credentials),
        Verb::List => list(output, credentials),
    }
}

/// Returns `text` for a one-line hint on stderr: control characters
/// escaped, and cut to 200 characters, because stdin may hold up to 1 MiB.
fn for_hint(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    let escaped: String = text.escape_debug().collect();
    match escaped.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}… ({} bytes)", &escaped[..cut], text.len()),
        None => escaped,
    }
}

/// Writes `error` as the one line that clients read from stdout.
pub fn write_error(output: &mut impl Write, error: &ProtocolError) -> io::Result<()> {
    let line = error.to_string().replace(['\r', '\n'], " ");
    writeln!(output, "{line}")?;
    output.flush()
}

fn get(
    input: &str,
    output: &mut impl Write,
    credentials: &Credentials,
) -> Result<(), ProtocolError> {
    let server = ServerUrl::parse(input)?;
    let Some(credential) =
        accounts::credential_for(&server, credentials, parent_process::command_line)?
    else {
        // The key, not the URL as given, because the URL may carry a user
        // name and password (https://user:password@host).
        let shown = for_hint(&server.key);
        if server.key.contains('/') {
            eprintln!("docker-credential-atcr: no credentials for {shown}");
        } else {
            eprintln!(
                "docker-credential-atcr: no credentials for {shown}; run: docker-credential-atcr login {shown}"
            );
        }
        return Err(ProtocolError::NotFound);
    };

    let response = GetResponse {
        server_url: &server.original,
        username: &credential.username,
        secret: credential.secret.expose(),
    };
    let mut json = serde_json::to_vec(&response).expect("strings always serialize");
    json.push(b'\n');
    let written = output.write_all(&json).and_then(|()| output.flush());
    zeroize::Zeroize::zeroize(&mut json);
    written.map_err(ProtocolError::Write)
}

fn store(input: &str, credentials: &Credentials) -> Result<(), ProtocolError> {
    if input.trim().is_empty() {
        return Err(ProtocolError::InvalidJson("stdin is empty".into()));
    }
    if !input.trim_start().starts_with('{') {
        return Err(ProtocolError::InvalidJson(
            "stdin is not a JSON object".into(),
        ));
    }
    let request: StoreRequest = serde_json::from_str(input)
        .map_err(|error| ProtocolError::InvalidJson(json_error::describe(&error)))?;

    let server = ServerUrl::parse(request.server_url.as_deref().unwrap_or(""))?;
    let username = request
        .username
        .filter(|name| !name.is_empty())
        .ok_or(ProtocolError::MissingUsername)?;
    let credential = Credential {
        username,
        secret: Secret::new(request.secret.unwrap_or_default()),
    };

    credentials.store(&server, &credential)?;

    // `get` prefers a logged-in ATCR account to what `store` put there. So
    // `docker login -u NAME` succeeds, but pushes would run as the account,
    // and the user gets a warning.
    let index = Index::load(credentials.paths())?;
    if let Some(account) = accounts::active_account(&index, &server.key) {
        log::warn!(
            "stored the credential of {} for {}, but get returns the logged-in ATCR account {} \
             instead: run `docker-credential-atcr logout {}` to use the stored one",
            credential.username,
            server.key,
            account.handle,
            server.key
        );
    }
    Ok(())
}

/// Erases everything that `get` could return for the server: the credential
/// that `store` put there and every ATCR account of the registry, so `docker
/// logout atcr.io` logs the user out. Docker calls `erase` once for each
/// spelling of the address. The first call removes everything and the later
/// ones report not found, which Docker accepts when one call succeeded.
fn erase(input: &str, credentials: &Credentials) -> Result<(), ProtocolError> {
    let server = ServerUrl::parse(input)?;
    let erased_stored = credentials.erase(&server)?;
    let logged_out = accounts::remove_registry(credentials, &server.key)?;

    if erased_stored || logged_out > 0 {
        Ok(())
    } else {
        Err(ProtocolError::NotFound)
    }
}

fn list(output: &mut impl Write, credentials: &Credentials) -> Result<(), ProtocolError> {
    let entries = credentials.list()?;
    let mut json = serde_json::to_vec(&entries).expect("strings always serialize");
    json.push(b'\n');
    output
        .write_all(&json)
        .and_then(|()| output.flush())
        .map_err(ProtocolError::Write)
}

/// Reads all of stdin, at most [`MAX_INPUT_BYTES`], as UTF-8.
fn read_input(input: impl Read) -> Result<String, ProtocolError> {
    let mut bytes = Vec::new();
    input
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ProtocolError::Read)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(ProtocolError::InputTooLarge);
    }
    String::from_utf8(bytes).map_err(|error| {
        zeroize::Zeroize::zeroize(&mut error.into_bytes());
        ProtocolError::NotUtf8
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;
    use crate::store::Backend;

    fn file_credentials() -> (tempfile::TempDir, Credentials) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().join("config"),
            data_dir: dir.path().join("data"),
        };
        (dir, Credentials::new(paths, Some(Backend::File)))
    }

    fn run(
        verb: Verb,
        input: &str,
        credentials: &Credentials,
    ) -> (Result<(), ProtocolError>, String) {
        let mut output = Vec::new();
        let result = handle(verb, input.as_bytes(), &mut output, credentials);
        (result, String::from_utf8(output).unwrap())
    }

    #[test]
    fn store_then_get_returns_credential() {
        let (_dir, credentials) = file_credentials();
        let (result, _) = run(
            Verb::Store,
            r#"{"ServerURL":"https://atcr.io/","Username":"alice","Secret":"s3cret"}"#,
            &credentials,
        );
        result.unwrap();

        let (result, output) = run(Verb::Get, "atcr.io\n", &credentials);
        result.unwrap();
        let value: serde_json::Value = serde_json::from_str(&output).unwrap();
        assert_eq!(value["ServerURL"], "atcr.io");
        assert_eq!(value["Username"], "alice");
        assert_eq!(value["Secret"], "s3cret");
    }

    #[test]
    fn get_miss_is_not_found() {
        let (_dir, credentials) = file_credentials();
        let (result, output) = run(Verb::Get, "atcr.io", &credentials);
        assert_eq!(result.unwrap_err().to_string(), NOT_FOUND);
        assert!(output.is_empty());
    }

    #[test]
    fn list_of_empty_store_is_empty_object() {
        let (_dir, credentials) = file_credentials();
        let (result, output) = run(Verb::List, "", &credentials);
        result.unwrap();
        assert_eq!(output, "{}\n");
    }

    #[test]
    fn store_errors_use_exact_texts() {
        let (_dir, credentials) = file_credentials();
        let (result, _) = run(
            Verb::Store,
            r#"{"ServerURL":"atcr.io","Secret":"x"}"#,
            &credentials,
        );
        assert_eq!(result.unwrap_err().to_string(), MISSING_USERNAME);
        let (result, _) = run(
            Verb::Store,
            r#"{"Username":"alice","Secret":"x"}"#,
            &credentials,
        );
        assert_eq!(result.unwrap_err().to_string(), MISSING_SERVER_URL);
    }

    #[test]
    fn json_error_does_not_quote_input() {
        let (_dir, credentials) = file_credentials();
        let (result, _) = run(
            Verb::Store,
            r#"{"ServerURL":"atcr.io","Username":"a","Secret":"hunter2"#,
            &credentials,
        );
        let message = result.unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn oversized_input_is_rejected() {
        let (_dir, credentials) = file_credentials();
        let big = "a".repeat(MAX_INPUT_BYTES as usize + 1);
        let (result, _) = run(Verb::Get, &big, &credentials);
        assert!(matches!(result, Err(ProtocolError::InputTooLarge)));
    }

    #[test]
    fn non_utf8_input_is_rejected() {
        let (_dir, credentials) = file_credentials();
        let mut output = Vec::new();
        let result = handle(
            Verb::Get,
            &[0xff, 0xfe, b'a'][..],
            &mut output,
            &credentials,
        );
        assert!(matches!(result, Err(ProtocolError::NotUtf8)));
    }

    #[test]
    fn error_line_is_single_line() {
        let mut output = Vec::new();
        write_error(&mut output, &ProtocolError::InvalidServerUrl("a\nb".into())).unwrap();
        assert_eq!(output, b"a b\n");
    }

    #[test]
    fn hint_text_is_one_short_line() {
        assert_eq!(for_hint("atcr.io"), "atcr.io");
        assert_eq!(for_hint("a\nb\u{1b}"), "a\\nb\\u{1b}");
        let long = "x".repeat(5000);
        let shown = for_hint(&long);
        assert!(shown.starts_with(&"x".repeat(200)), "{shown}");
        assert!(shown.ends_with("… (5000 bytes)"), "{shown}");
        assert!(shown.chars().count() < 220, "{shown}");
    }

    #[test]
    fn store_fields_match_any_case() {
        let request: StoreRequest =
            serde_json::from_str(r#"{"serverurl":"atcr.io","USERNAME":"alice","sEcReT":"s"}"#)
                .unwrap();
        assert_eq!(request.server_url.as_deref(), Some("atcr.io"));
        assert_eq!(request.username.as_deref(), Some("alice"));
        assert_eq!(request.secret.as_deref(), Some("s"));
    }

    #[test]
    fn store_field_twice_in_any_case_rejected() {
        let error = serde_json::from_str::<StoreRequest>(
            r#"{"Secret":"a","secret":"b","ServerURL":"atcr.io"}"#,
        )
        .err()
        .unwrap();
        assert_eq!(
            json_error::describe(&error),
            "duplicate field `Secret` at line 1 column 22"
        );
    }
}
