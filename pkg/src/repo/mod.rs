//! `cargo pkg repo --version VER --base-url URL --out SITE DIR`: the signed
//! apt and dnf repositories that users add to install docker-credential-atcr,
//! built from the release's .deb and .rpm files in DIR.
//!
//! SITE is served as it is from URL (the release workflow deploys it to
//! GitHub Pages) and contains:
//!
//! - the apt repository: `dists/stable/` with `Release`, `InRelease`,
//!   `Release.gpg` and `main/binary-<arch>/Packages[.gz]`, and `pool/main/`;
//! - the dnf repository: `rpm/` with the signed .rpm files and `repodata/`;
//! - the public key, ASCII-armored (`docker-credential-atcr.asc`, for dnf) and
//!   binary (`docker-credential-atcr.gpg`, for apt's `Signed-By`);
//! - `docker-credential-atcr.sources` and `docker-credential-atcr.repo`, the
//!   apt and dnf settings that point at URL;
//! - `index.html`, with the commands that add the repositories.
//!
//! Each run writes a new SITE with only DIR's packages, so the repositories
//! offer the latest release and nothing older.

mod apt;
mod dnf;
mod input;
mod key;

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

pub use dnf::index as index_rpm_directory;
pub use key::SigningKey;

use self::input::Packages;
use crate::names::PACKAGE;

/// The armored public key, which dnf's `gpgkey` names.
pub const KEY_ASC: &str = "docker-credential-atcr.asc";
/// The binary public key, which apt's `Signed-By` names.
pub const KEY_GPG: &str = "docker-credential-atcr.gpg";
/// The apt source in deb822 format, for `/etc/apt/sources.list.d/`.
pub const SOURCES_FILE: &str = "docker-credential-atcr.sources";
/// The dnf repository file, for `/etc/yum.repos.d/`.
pub const REPO_FILE: &str = "docker-credential-atcr.repo";
/// The directory of the dnf repository under SITE.
pub const RPM_DIR: &str = "rpm";
/// The path of the binary key on users' machines, which the `.sources` file names.
pub const APT_KEYRING: &str = "/etc/apt/keyrings/docker-credential-atcr.gpg";

/// Runs the task with the signing key from `ATCR_REPOSITORY_GPG_KEY` and
/// `GNUPGHOME`. The inputs are checked before the key, so a wrong DIR shows
/// up without any key set up.
pub fn run(version: &str, base_url: &str, site: &Path, dir: &Path) -> Result<()> {
    let base_url = parse_base_url(base_url)?;
    let packages = input::find(dir, version)?;
    let key = SigningKey::from_env()?;
    write_site(version, &base_url, &packages, site, &key)
}

/// Writes the repositories of the packages in `dir` into `site`, as [`run`]
/// does, but signed with `key`: `cargo pkg check` passes a throwaway key.
pub fn build(
    version: &str,
    base_url: &str,
    dir: &Path,
    site: &Path,
    key: &SigningKey,
) -> Result<()> {
    let base_url = parse_base_url(base_url)?;
    let packages = input::find(dir, version)?;
    write_site(version, &base_url, &packages, site, key)
}

/// Writes the repositories of `packages` into `site`, signed with `key`,
/// with settings that point at `base_url`.
fn write_site(
    version: &str,
    base_url: &str,
    packages: &Packages,
    site: &Path,
    key: &SigningKey,
) -> Result<()> {
    create_empty_dir(site)?;
    write(&site.join(KEY_ASC), &key.export_public(true)?)?;
    write(&site.join(KEY_GPG), &key.export_public(false)?)?;
    apt::write(site, &packages.debs, key)?;
    dnf::write(&site.join(RPM_DIR), &packages.rpms, key)?;

    write(&site.join(SOURCES_FILE), apt_sources(base_url).as_bytes())?;
    write(&site.join(REPO_FILE), dnf_repo(base_url).as_bytes())?;
    write(
        &site.join("index.html"),
        index_html(version, base_url).as_bytes(),
    )?;
    eprintln!(
        "wrote the repositories of {PACKAGE} {version} for {base_url} to {}, signed with {}",
        site.display(),
        key.fingerprint()
    );
    Ok(())
}

/// Returns `text` without a trailing `/` when it is an http(s) URL that can
/// go into the settings files as it is.
pub fn parse_base_url(text: &str) -> Result<String> {
    let url = text.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.and_then(|rest| rest.split('/').next()).unwrap_or("");
    if host.is_empty() {
        bail!(
            "--base-url is `{text}`, which is not an http:// or https:// URL: pass the URL that \
             will serve SITE, such as https://atcr-io.github.io/docker-credential-atcr"
        );
    }
    if let Some(invalid) = url
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'<>\\`?#".contains(*c))
    {
        bail!(
            "--base-url `{text}` contains {invalid:?}, which the apt and dnf settings cannot \
             hold: percent-encode it"
        );
    }
    Ok(url.to_owned())
}

/// Returns the apt source that points at `base_url`, in deb822 format.
pub fn apt_sources(base_url: &str) -> String {
    format!(
        "Types: deb\nURIs: {base_url}\nSuites: {suite}\nComponents: {component}\nSigned-By: {APT_KEYRING}\n",
        suite = apt::SUITE,
        component = apt::COMPONENT
    )
}

/// Returns the dnf repository file that points at `base_url`.
pub fn dnf_repo(base_url: &str) -> String {
    format!(
        "[{PACKAGE}]\nname={PACKAGE}\nbaseurl={base_url}/{RPM_DIR}/\nenabled=1\n\
         gpgcheck=1\nrepo_gpgcheck=1\ngpgkey={base_url}/{KEY_ASC}\n"
    )
}

/// Returns the commands that add the apt repository at `base_url` and install the helper.
pub fn apt_commands(base_url: &str) -> String {
    format!(
        "sudo install -d -m 0755 /etc/apt/keyrings\n\
         sudo curl -fsSL -o {APT_KEYRING} {base_url}/{KEY_GPG}\n\
         sudo curl -fsSL -o /etc/apt/sources.list.d/{SOURCES_FILE} {base_url}/{SOURCES_FILE}\n\
         sudo apt update\n\
         sudo apt install {PACKAGE}\n"
    )
}

/// Returns the commands that add the dnf repository at `base_url` and install the helper.
pub fn dnf_commands(base_url: &str) -> String {
    format!(
        "sudo curl -fsSL -o /etc/yum.repos.d/{REPO_FILE} {base_url}/{REPO_FILE}\n\
         sudo dnf install {PACKAGE}\n"
    )
}

/// Returns the page at the site's root, which shows the commands.
fn index_html(version: &str, base_url: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{PACKAGE} package repositories</title>\n</head>\n<body>\n\
         <h1>{PACKAGE} package repositories</h1>\n\
         <p>The signed apt and dnf repositories of {PACKAGE}, now at version {version}.</p>\n\
         <h2>Debian and Ubuntu</h2>\n<pre>{apt}</pre>\n\
         <h2>Fedora, RHEL and other dnf distributions</h2>\n<pre>{dnf}</pre>\n\
         <p>The packages are signed with <a href=\"{KEY_ASC}\">this key</a>.</p>\n\
         </body>\n</html>\n",
        version = escape_html(version),
        apt = escape_html(&apt_commands(base_url)),
        dnf = escape_html(&dnf_commands(base_url)),
    )
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Creates `dir`, which must be missing or empty, so SITE contains nothing from an earlier run.
fn create_empty_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries =
            fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: remove it or pass another --out, because the site must contain \
                 only this release's repositories",
                dir.display()
            );
        }
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    fs::write(path, data).with_context(|| format!("cannot write {}", path.display()))
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
    fn settings_point_at_base_url() {
        let sources = apt_sources(DEFAULT_URL);
        assert!(
            sources.contains(&format!("URIs: {DEFAULT_URL}\n")),
            "{sources}"
        );
        assert!(
            sources.contains(&format!("Signed-By: {APT_KEYRING}\n")),
            "{sources}"
        );
        let repo = dnf_repo(DEFAULT_URL);
        assert!(
            repo.contains(&format!("baseurl={DEFAULT_URL}/rpm/\n")),
            "{repo}"
        );
        assert!(repo.contains("\ngpgcheck=1\nrepo_gpgcheck=1\n"), "{repo}");
        assert!(
            repo.contains(&format!(
                "gpgkey={DEFAULT_URL}/docker-credential-atcr.asc\n"
            )),
            "{repo}"
        );
    }

    #[test]
    fn documents_show_the_commands() {
        for document in ["INSTALLATION.md", "docs/RELEASING.md"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(document);
            let text = fs::read_to_string(&path).unwrap();
            for commands in [apt_commands(DEFAULT_URL), dnf_commands(DEFAULT_URL)] {
                assert!(
                    text.contains(&commands),
                    "{document} does not show these commands:\n{commands}"
                );
            }
        }
    }

    #[test]
    fn site_directory_must_be_empty() {
        let scratch = tempfile::tempdir().unwrap();
        let site = scratch.path().join("site");
        create_empty_dir(&site).unwrap();
        create_empty_dir(&site).unwrap();
        fs::write(site.join("old.deb"), b"").unwrap();
        let error = create_empty_dir(&site).unwrap_err().to_string();
        assert!(error.contains("is not empty"), "{error}");
    }
}
