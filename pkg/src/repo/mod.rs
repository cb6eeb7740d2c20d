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
//! - `index.html`, with the commands that add the repositories and the
//!   key's fingerprint.
//!
//! Each run writes a new SITE with only DIR's packages, so the repositories
//! offer the latest release and nothing older. The site is built in a
//! temporary directory next to SITE and renamed to SITE only when every step
//! succeeded, so a failed run leaves no partial site.

mod apt;
mod base_url;
mod dnf;
mod input;
mod key;

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

pub use apt::{COMPONENT, SUITE};
pub use base_url::parse_base_url;
pub use dnf::index as index_rpm_directory;
pub use key::SigningKey;

use self::input::Packages;
use crate::names::PACKAGE;
use crate::process;
use crate::project::check_release_version;

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

/// A program that the task runs, and the Debian package that installs it.
struct Tool {
    program: &'static str,
    package: &'static str,
}

/// Every program that the task runs.
const TOOLS: [Tool; 4] = [
    Tool {
        program: "apt-ftparchive",
        package: "apt-utils",
    },
    Tool {
        program: "gpg",
        package: "gnupg",
    },
    Tool {
        program: "rpmsign",
        package: "rpm",
    },
    Tool {
        program: "createrepo_c",
        package: "createrepo-c",
    },
];

/// Runs the task with the signing key from `ATCR_REPOSITORY_GPG_KEY` and
/// `GNUPGHOME`. The arguments, DIR and the tools are checked before the key,
/// so a wrong DIR shows up without any key set up.
pub fn run(version: &str, base_url: &str, site: &Path, dir: &Path) -> Result<()> {
    let (base_url, packages) = check_inputs(version, base_url, site, dir)?;
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
    let (base_url, packages) = check_inputs(version, base_url, site, dir)?;
    write_site(version, &base_url, &packages, site, key)
}

/// Checks the arguments, the packages in `dir` and the tools, and returns
/// the normalized base URL and the packages.
fn check_inputs(
    version: &str,
    base_url: &str,
    site: &Path,
    dir: &Path,
) -> Result<(String, Packages)> {
    check_release_version(version)?;
    let base_url = parse_base_url(base_url)?;
    check_site_is_empty(site)?;
    let packages = input::find(dir, version)?;
    require_tools(&TOOLS)?;
    Ok((base_url, packages))
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
    write_atomically(site, |staging| {
        write(&staging.join(KEY_ASC), &key.export_public(true)?)?;
        write(&staging.join(KEY_GPG), &key.export_public(false)?)?;
        apt::write(staging, &packages.debs, key)?;
        dnf::write(&staging.join(RPM_DIR), &packages.rpms, key)?;

        write(
            &staging.join(SOURCES_FILE),
            apt_sources(base_url).as_bytes(),
        )?;
        write(&staging.join(REPO_FILE), dnf_repo(base_url).as_bytes())?;
        write(
            &staging.join("index.html"),
            index_html(version, base_url, key.fingerprint()).as_bytes(),
        )
    })?;
    eprintln!(
        "wrote the repositories of {PACKAGE} {version} for {base_url} to {}, signed with {}",
        site.display(),
        key.fingerprint()
    );
    Ok(())
}

/// Fails, naming the program and its Debian package, when one of `tools` is not on PATH.
fn require_tools(tools: &[Tool]) -> Result<()> {
    for tool in tools {
        process::require_program(
            tool.program,
            &format!(
                "install the {package} package (`sudo apt-get install {package}`, or \
                 scripts/install-pkg-deps.sh --repo-only)",
                package = tool.package
            ),
        )?;
    }
    Ok(())
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
///
/// `metadata_expire=1h` replaces dnf's default of 48 hours: each release
/// deletes the previous release's .rpm files, so metadata older than the
/// release names files that now return 404.
pub fn dnf_repo(base_url: &str) -> String {
    format!(
        "[{PACKAGE}]\nname={PACKAGE}\nbaseurl={base_url}/{RPM_DIR}/\nenabled=1\n\
         metadata_expire=1h\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey={base_url}/{KEY_ASC}\n"
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

/// Returns the page at the site's root, which shows the commands and the
/// fingerprint of the key with `fingerprint`.
fn index_html(version: &str, base_url: &str, fingerprint: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{PACKAGE} package repositories</title>\n</head>\n<body>\n\
         <h1>{PACKAGE} package repositories</h1>\n\
         <p>The signed apt and dnf repositories of {PACKAGE}, now at version {version}.</p>\n\
         <h2>Debian and Ubuntu</h2>\n<pre>{apt}</pre>\n\
         <h2>Fedora, RHEL and other dnf distributions</h2>\n<pre>{dnf}</pre>\n\
         <h2>Signing key</h2>\n\
         <p>The apt and dnf repository metadata and the .rpm files are signed with \
         <a href=\"{KEY_ASC}\">this key</a>, \
         whose fingerprint is:</p>\n<pre>{spaced}</pre>\n\
         <p>Compare it with the output of <code>gpg --show-keys</code> on the downloaded key, \
         which prints the same digits without spaces, and with the fingerprint that dnf shows \
         when it asks to import the key.</p>\n\
         </body>\n</html>\n",
        version = escape_html(version),
        apt = escape_html(&apt_commands(base_url)),
        dnf = escape_html(&dnf_commands(base_url)),
        spaced = escape_html(&spaced_fingerprint(fingerprint)),
    )
}

/// Returns `fingerprint` in groups of four hex digits, as dnf shows it.
fn spaced_fingerprint(fingerprint: &str) -> String {
    let digits: Vec<char> = fingerprint.chars().collect();
    let groups: Vec<String> = digits
        .chunks(4)
        .map(|group| group.iter().collect())
        .collect();
    groups.join(" ")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Fails unless `site` is missing or an empty directory, so SITE contains
/// nothing from an earlier run.
fn check_site_is_empty(site: &Path) -> Result<()> {
    if !site.exists() {
        return Ok(());
    }
    if !site.is_dir() {
        bail!(
            "{} is not a directory: pass a missing or empty directory as --out",
            site.display()
        );
    }
    let mut entries =
        fs::read_dir(site).with_context(|| format!("cannot list {}", site.display()))?;
    if entries.next().is_some() {
        bail!(
            "{} is not empty: remove it or pass another --out, because the site must contain \
             only this release's repositories",
            site.display()
        );
    }
    Ok(())
}

/// Runs `write_contents` on a new temporary directory next to `site`, and
/// renames that directory to `site` when it succeeds. On any failure the
/// temporary directory is removed and `site` is left as it was.
fn write_atomically(site: &Path, write_contents: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    check_site_is_empty(site)?;
    let staging = staging_dir(site)?;
    write_contents(staging.path())?;
    // rename(2) replaces an empty directory, so an empty SITE is fine.
    fs::rename(staging.path(), site).with_context(|| {
        format!(
            "cannot rename {} to {}",
            staging.path().display(),
            site.display()
        )
    })?;
    // The directory is now `site`, so the TempDir must not remove it.
    let _ = staging.keep();
    Ok(())
}

/// Creates a hidden temporary directory in `site`'s parent, so that it can
/// be renamed to `site`, with the usual mode of a served directory.
fn staging_dir(site: &Path) -> Result<TempDir> {
    let Some(name) = site.file_name() else {
        bail!(
            "--out {} names no directory: pass a path such as ./site",
            site.display()
        );
    };
    let parent = match site.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.partial-", name.to_string_lossy()))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot set the mode of {}", staging.path().display()))?;
    Ok(staging)
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
    fn missing_tool_names_its_package() {
        let tools = [
            Tool {
                program: "sh",
                package: "dash",
            },
            Tool {
                program: "no-such-tool-atcr",
                package: "atcr-tools",
            },
        ];
        let error = require_tools(&tools).unwrap_err().to_string();
        assert!(
            error.starts_with("`no-such-tool-atcr` not found on PATH"),
            "{error}"
        );
        assert!(
            error.contains("`sudo apt-get install atcr-tools`"),
            "{error}"
        );
    }

    #[test]
    fn repo_only_install_covers_tools() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-pkg-deps.sh");
        let script = fs::read_to_string(&path).unwrap();
        let line = script
            .lines()
            .find_map(|line| line.strip_prefix("repo_apt_packages=("))
            .expect("install-pkg-deps.sh sets repo_apt_packages");
        let packages: Vec<&str> = line.trim_end_matches(')').split_whitespace().collect();
        let expected: Vec<&str> = TOOLS.iter().map(|tool| tool.package).collect();
        assert_eq!(packages, expected);
    }

    #[test]
    fn index_shows_fingerprint() {
        let html = index_html(
            "1.2.0",
            DEFAULT_URL,
            "910FB1A891B11A2F47C560BA99253FD13AC464FA",
        );
        assert!(
            html.contains("<pre>910F B1A8 91B1 1A2F 47C5 60BA 9925 3FD1 3AC4 64FA</pre>"),
            "{html}"
        );
        assert!(html.contains("gpg --show-keys"), "{html}");
        assert!(html.contains("now at version 1.2.0"), "{html}");
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
        assert!(repo.contains("\nmetadata_expire=1h\n"), "{repo}");
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

    /// Returns the names in `dir`, sorted.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn site_directory_must_be_empty() {
        let scratch = tempfile::tempdir().unwrap();
        let site = scratch.path().join("site");
        check_site_is_empty(&site).unwrap();
        fs::create_dir(&site).unwrap();
        check_site_is_empty(&site).unwrap();
        fs::write(site.join("old.deb"), b"").unwrap();
        let error = check_site_is_empty(&site).unwrap_err().to_string();
        assert!(error.contains("is not empty"), "{error}");
        let error = check_site_is_empty(&site.join("old.deb"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("is not a directory"), "{error}");
    }

    #[test]
    fn site_appears_only_when_complete() {
        let scratch = tempfile::tempdir().unwrap();
        let site = scratch.path().join("site");
        write_atomically(&site, |staging| {
            assert_ne!(staging, site);
            assert_eq!(staging.parent(), site.parent());
            assert!(!site.exists());
            write(&staging.join("index.html"), b"page")
        })
        .unwrap();
        assert_eq!(names_in(scratch.path()), ["site"]);
        assert_eq!(names_in(&site), ["index.html"]);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&site).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn site_replaces_empty_directory() {
        let scratch = tempfile::tempdir().unwrap();
        let site = scratch.path().join("site");
        fs::create_dir(&site).unwrap();
        write_atomically(&site, |staging| write(&staging.join("index.html"), b"page")).unwrap();
        assert_eq!(names_in(&site), ["index.html"]);
    }

    #[test]
    fn failed_site_leaves_nothing() {
        let scratch = tempfile::tempdir().unwrap();
        for existing in [false, true] {
            let site = scratch.path().join("site");
            if existing {
                fs::create_dir(&site).unwrap();
            }
            let error = write_atomically(&site, |staging| {
                write(&staging.join("KEY.asc"), b"key")?;
                bail!("signing failed")
            })
            .unwrap_err()
            .to_string();
            assert_eq!(error, "signing failed");
            let expected: &[&str] = if existing { &["site"] } else { &[] };
            assert_eq!(names_in(scratch.path()), expected);
            if existing {
                assert_eq!(names_in(&site), Vec::<String>::new());
            }
        }
    }

    #[test]
    fn relative_site_is_staged_in_working_directory() {
        let staging = staging_dir(Path::new("atcr-relative-site-test")).unwrap();
        let parent = staging.path().parent().unwrap().canonicalize().unwrap();
        assert_eq!(
            parent,
            std::env::current_dir().unwrap().canonicalize().unwrap()
        );
        let name = staging.path().file_name().unwrap().to_string_lossy();
        assert!(
            name.starts_with(".atcr-relative-site-test.partial-"),
            "{name}"
        );
    }
}
