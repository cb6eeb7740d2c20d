//! Reading and safely rewriting Docker's `config.json`.
//!
//! The file belongs to the user and to Docker, so this module changes only
//! the `credHelpers` entries it is asked to and keeps every other key, value
//! and the key order. It refuses to touch a file that is not valid JSON,
//! keeps a backup of the previous version, writes atomically with the old
//! file's permissions, follows a symlinked `config.json` to its target, and
//! re-reads the file before replacing it so a concurrent writer (such as
//! `docker login`) is not overwritten.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use thiserror::Error;

use crate::atomic;
use crate::server_url::ServerUrl;

/// The `credHelpers` value that makes Docker run `docker-credential-atcr`.
pub const HELPER_NAME: &str = "atcr";

#[derive(Debug, Error)]
pub enum DockerConfigError {
    #[error("cannot find Docker's config.json: set DOCKER_CONFIG or HOME")]
    NoHome,
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    #[error("{} is not valid JSON ({reason}); fix it by hand", path.display())]
    InvalidJson { path: PathBuf, reason: String },
    #[error("{} must hold a JSON object, and {what}; fix it by hand", path.display())]
    WrongShape { path: PathBuf, what: &'static str },
    #[error("invalid registry {registry:?}: {reason}")]
    InvalidRegistry { registry: String, reason: String },
    #[error("{} kept changing while being updated; run the command again", path.display())]
    Contended { path: PathBuf },
    #[error(
        "{} is read-only: make it writable (chmod u+w on Unix) and run the command again",
        path.display()
    )]
    ReadOnly { path: PathBuf },
}

/// The result of editing the configuration in memory.
#[derive(Debug)]
pub struct Plan {
    /// The file that is (or would be) written, after following symlinks.
    pub path: PathBuf,
    /// The file's bytes when it was read; `None` if it did not exist.
    pub before: Option<Vec<u8>>,
    /// The new content.
    pub after: Vec<u8>,
    /// Registries whose entry was added or changed, with the previous helper if there was one.
    pub changed: Vec<(String, Option<String>)>,
    /// The `credsStore` value, which applies to every registry without a `credHelpers` entry.
    pub creds_store: Option<String>,
}

/// Returns `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`.
pub fn default_path() -> Result<PathBuf, DockerConfigError> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let home = dirs::home_dir().ok_or(DockerConfigError::NoHome)?;
    Ok(home.join(".docker").join("config.json"))
}

/// Turns `atcr.io`, `https://atcr.io/` or `localhost:5000` into the host key
/// that Docker looks up in `credHelpers`.
pub fn registry_host(registry: &str) -> Result<String, DockerConfigError> {
    let invalid = |reason: String| DockerConfigError::InvalidRegistry {
        registry: registry.to_owned(),
        reason,
    };
    let server = ServerUrl::parse(registry).map_err(|error| invalid(error.to_string()))?;
    if server.key.starts_with("http://") {
        return Err(invalid(
            "credHelpers keys are host names: drop the http:// prefix".into(),
        ));
    }
    if server.key.contains('/') {
        return Err(invalid(
            "credHelpers keys are host names without a path, such as atcr.io".into(),
        ));
    }
    Ok(server.key)
}

/// Reads `path` and computes the content with each of `hosts` mapped to this helper.
pub fn plan(path: &Path, hosts: &[String]) -> Result<Plan, DockerConfigError> {
    let path = resolve_symlink(path)?;
    let before = read_optional(&path)?;

    let mut root = parse(&path, before.as_deref())?;
    let creds_store = root
        .get("credsStore")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let helpers = root
        .entry("credHelpers")
        .or_insert_with(|| Value::Object(Map::new()));
    // Docker reads `"credHelpers": null` as no entries, so it is replaced too.
    if helpers.is_null() {
        *helpers = Value::Object(Map::new());
    }
    let Value::Object(helpers) = helpers else {
        return Err(DockerConfigError::WrongShape {
            path,
            what: "\"credHelpers\" must be an object",
        });
    };

    let mut changed = Vec::new();
    for host in hosts {
        let previous = helpers.get(host).map(|value| {
            value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned)
        });
        if previous.as_deref() != Some(HELPER_NAME) {
            helpers.insert(host.clone(), Value::String(HELPER_NAME.to_owned()));
            changed.push((host.clone(), previous));
        }
    }

    let after = serialize(&root);
    Ok(Plan {
        path,
        before,
        after,
        changed,
        creds_store,
    })
}

/// Writes `plan` unless the file changed since it was read. Returns the
/// backup's path when there was a previous file.
pub fn apply(plan: &Plan) -> Result<Option<PathBuf>, DockerConfigError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |error| DockerConfigError::Io {
            action,
            path,
            error,
        }
    };

    if read_optional(&plan.path)? != plan.before {
        return Err(DockerConfigError::Contended {
            path: plan.path.clone(),
        });
    }
    // The replacement is written beside the file and renamed over it, which
    // a read-only file does not prevent, so its mode is checked here.
    if fs::metadata(&plan.path).is_ok_and(|meta| meta.permissions().readonly()) {
        return Err(DockerConfigError::ReadOnly {
            path: plan.path.clone(),
        });
    }

    let dir = plan.path.parent().unwrap_or(Path::new("."));
    atomic::create_private_dir(dir).map_err(io("create", dir))?;

    let backup = match &plan.before {
        Some(before) => {
            let backup = backup_path(&plan.path);
            atomic::write_file(&backup, before, 0o600).map_err(io("write the backup", &backup))?;
            Some(backup)
        }
        None => None,
    };

    let mode = existing_mode(&plan.path).unwrap_or(0o600);
    atomic::write_file(&plan.path, &plan.after, mode).map_err(io("write", &plan.path))?;
    Ok(backup)
}

/// The backup of `config.json` is `config.json.bak` beside it.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".bak");
    path.with_file_name(name)
}

fn resolve_symlink(path: &Path) -> Result<PathBuf, DockerConfigError> {
    match fs::canonicalize(path) {
        Ok(target) => Ok(target),
        // A dangling link: write its target, not over the link.
        Err(error)
            if error.kind() == io::ErrorKind::NotFound
                && fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) =>
        {
            let target = fs::read_link(path).map_err(|error| DockerConfigError::Io {
                action: "read the link",
                path: path.to_owned(),
                error,
            })?;
            Ok(path.parent().unwrap_or(Path::new(".")).join(target))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(path.to_owned()),
        Err(error) => Err(DockerConfigError::Io {
            action: "resolve",
            path: path.to_owned(),
            error,
        }),
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, DockerConfigError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(DockerConfigError::Io {
            action: "read",
            path: path.to_owned(),
            error,
        }),
    }
}

fn parse(path: &Path, bytes: Option<&[u8]>) -> Result<Map<String, Value>, DockerConfigError> {
    let Some(bytes) = bytes.filter(|bytes| !bytes.iter().all(u8::is_ascii_whitespace)) else {
        return Ok(Map::new());
    };
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DockerConfigError::WrongShape {
            path: path.to_owned(),
            what: "its top level is not an object",
        }),
        Err(error) => Err(DockerConfigError::InvalidJson {
            path: path.to_owned(),
            reason: crate::json_error::describe(&error),
        }),
    }
}

/// Serializes like Docker does: tab indentation and a trailing newline-free body.
fn serialize(root: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(root, &mut serializer).expect("JSON values always serialize");
    out
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|meta| meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_forms_become_hosts() {
        assert_eq!(registry_host("https://atcr.io/").unwrap(), "atcr.io");
        assert_eq!(registry_host("localhost:5000").unwrap(), "localhost:5000");
        assert!(registry_host("http://atcr.io").is_err());
        assert!(registry_host("atcr.io/alice").is_err());
    }

    #[test]
    fn plan_keeps_other_keys_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(
            &path,
            r#"{"zeta":1,"auths":{"ghcr.io":{}},"credHelpers":{"gcr.io":"gcloud"}}"#,
        )
        .unwrap();

        let plan = plan(&path, &["atcr.io".to_owned()]).unwrap();
        let text = String::from_utf8(plan.after).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["credHelpers"]["atcr.io"], "atcr");
        assert_eq!(value["credHelpers"]["gcr.io"], "gcloud");
        assert_eq!(value["auths"]["ghcr.io"], serde_json::json!({}));
        assert!(text.find("zeta").unwrap() < text.find("auths").unwrap());
    }

    #[test]
    fn plan_is_empty_when_configured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, r#"{"credHelpers":{"atcr.io":"atcr"}}"#).unwrap();
        assert!(
            plan(&path, &["atcr.io".to_owned()])
                .unwrap()
                .changed
                .is_empty()
        );
    }

    #[test]
    fn null_cred_helpers_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, r#"{"auths":{},"credHelpers":null}"#).unwrap();

        let plan = plan(&path, &["atcr.io".to_owned()]).unwrap();

        let after: Value = serde_json::from_slice(&plan.after).unwrap();
        assert_eq!(after["credHelpers"]["atcr.io"], "atcr");
        assert!(after["auths"].is_object(), "{after}");
        assert_eq!(plan.changed, [("atcr.io".to_owned(), None)]);
    }

    #[test]
    fn wrong_cred_helpers_shape_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, r#"{"credHelpers":["atcr.io"]}"#).unwrap();
        let error = plan(&path, &["atcr.io".to_owned()]).unwrap_err();
        assert!(error.to_string().contains("must be an object"), "{error}");
    }

    #[test]
    fn apply_rejects_concurrent_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, "{}").unwrap();
        let plan = plan(&path, &["atcr.io".to_owned()]).unwrap();
        fs::write(&path, r#"{"auths":{}}"#).unwrap();
        assert!(matches!(
            apply(&plan),
            Err(DockerConfigError::Contended { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), r#"{"auths":{}}"#);
    }
}
