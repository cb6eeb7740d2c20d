//! The releases on the server: archive names for this platform, version
//! numbers, `checksums.txt`, and the HTTP downloads.
//!
//! Releases follow GitHub's layout under a base URL: the newest release's
//! files are at `<base>/latest/download/<file>`, and those of version `<ver>`
//! at `<base>/download/v<ver>/<file>`. The newest version is read from the
//! archive names that its `checksums.txt` lists, so no GitHub API is needed
//! and a plain static file server with the same layout works too.
//! Unpacking and installing an archive is left to `install.rs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use url::Url;

/// The package name, and the binary's name without `.exe`.
pub const PACKAGE: &str = "docker-credential-atcr";

/// The file that lists the SHA-256 of every release file, in `sha256sum` format.
pub const CHECKSUMS: &str = "checksums.txt";

/// Where releases are published, unless `--base-url` or `ATCR_RELEASE_BASE_URL` sets another URL.
pub const DEFAULT_BASE_URL: &str = "https://github.com/atcr-io/docker-credential-atcr/releases";

/// The largest `checksums.txt` accepted; a real one has a few hundred bytes.
const MAX_CHECKSUMS_BYTES: u64 = 1 << 20;

/// The largest archive accepted, so a wrong URL cannot fill the memory; a
/// real archive has a few MiB.
pub const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one whole request, body included, may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

/// The operating system and CPU in release archive names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// `Linux`, `Darwin` or `Windows`.
    pub os: &'static str,
    /// `x86_64` or `arm64`.
    pub arch: &'static str,
}

impl Platform {
    /// Returns the platform this binary was built for, or an error where no
    /// release archive is built for it.
    pub fn current() -> Result<Platform> {
        let os = match std::env::consts::OS {
            "linux" => "Linux",
            "macos" => "Darwin",
            "windows" => "Windows",
            other => bail!(
                "no release archive is built for the operating system {other}: build from source with `cargo install --locked docker-credential-atcr`"
            ),
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "x86_64",
            "aarch64" => "arm64",
            other => bail!(
                "no release archive is built for the CPU architecture {other}: build from source with `cargo install --locked docker-credential-atcr`"
            ),
        };
        Ok(Platform { os, arch })
    }

    /// Returns the archive's file name extension: `.zip` on Windows, `.tar.gz` elsewhere.
    pub fn archive_extension(&self) -> &'static str {
        if self.os == "Windows" {
            ".zip"
        } else {
            ".tar.gz"
        }
    }

    /// Returns the release archive's name, such as `docker-credential-atcr_0.2.0_Linux_x86_64.tar.gz`.
    pub fn archive_name(&self, version: &Version) -> String {
        format!(
            "{PACKAGE}_{version}_{}_{}{}",
            self.os,
            self.arch,
            self.archive_extension()
        )
    }

    /// Returns the version in `name` when `name` is this platform's archive.
    pub fn version_in_archive_name<'a>(&self, name: &'a str) -> Option<&'a str> {
        let suffix = format!("_{}_{}{}", self.os, self.arch, self.archive_extension());
        let version = name
            .strip_prefix(PACKAGE)?
            .strip_prefix('_')?
            .strip_suffix(suffix.as_str())?;
        (!version.is_empty()).then_some(version)
    }

    /// Returns the binary's name inside the archive.
    pub fn binary_name(&self) -> String {
        if self.os == "Windows" {
            format!("{PACKAGE}.exe")
        } else {
            PACKAGE.to_owned()
        }
    }
}

/// A release version: `MAJOR.MINOR.PATCH` with an optional `-PRERELEASE`,
/// ordered as Semantic Versioning 2.0 orders them.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    core: [u64; 3],
    prerelease: Option<String>,
}

impl Version {
    /// Parses `0.2.0`, `v0.2.0` or `1.0.0-rc.1`; the error names the value and the expected form.
    pub fn parse(text: &str) -> Result<Version> {
        let invalid = || {
            anyhow::anyhow!(
                "invalid version {text:?}: expected MAJOR.MINOR.PATCH such as 0.2.0, optionally with a -PRERELEASE suffix"
            )
        };
        let trimmed = text.strip_prefix('v').unwrap_or(text);
        let (core_text, prerelease) = match trimmed.split_once('-') {
            Some((core, prerelease)) => (core, Some(prerelease)),
            None => (trimmed, None),
        };

        let parts: Vec<&str> = core_text.split('.').collect();
        if parts.len() != 3 {
            return Err(invalid());
        }
        let mut core = [0; 3];
        for (slot, part) in core.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(invalid());
            }
            *slot = part.parse().map_err(|_| invalid())?;
        }

        if let Some(prerelease) = prerelease {
            let valid = prerelease.split('.').all(|identifier| {
                !identifier.is_empty()
                    && identifier
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            });
            if !valid {
                return Err(invalid());
            }
        }
        Ok(Version {
            text: trimmed.to_owned(),
            core,
            prerelease: prerelease.map(str::to_owned),
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (&self.prerelease, &other.prerelease) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(left), Some(right)) => compare_prereleases(left, right),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

/// Compares pre-release identifiers: numbers numerically and below words,
/// words in ASCII order, and a shorter list first when all else is equal.
fn compare_prereleases(left: &str, right: &str) -> Ordering {
    let mut left_parts = left.split('.');
    let mut right_parts = right.split('.');
    loop {
        let (left, right) = match (left_parts.next(), right_parts.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(left), Some(right)) => (left, right),
        };
        let order = match (left.parse::<u64>(), right.parse::<u64>()) {
            (Ok(left), Ok(right)) => left.cmp(&right),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => left.cmp(right),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// Parses `checksums.txt` into file name → lowercase hex SHA-256. It accepts
/// what `sha256sum --check` accepts: `<hash>  <name>` or `<hash> *<name>`,
/// one a line. `url` is only for messages.
pub fn parse_checksums(url: &str, text: &str) -> Result<BTreeMap<String, String>> {
    let mut entries = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }

        let parsed = line.split_once(' ').and_then(|(hash, rest)| {
            let name = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*'))?;
            Some((hash, name))
        });
        let Some((hash, name)) = parsed else {
            bail!(
                "{url}, line {number}: invalid line {line:?}: expected `<sha256>  <file name>` as sha256sum prints it"
            );
        };
        if hash.len() != 64 || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            bail!("{url}, line {number}: invalid SHA-256 {hash:?}: expected 64 hex digits");
        }
        if entries
            .insert(name.to_owned(), hash.to_ascii_lowercase())
            .is_some()
        {
            bail!("{url}, line {number}: {name} is listed twice");
        }
    }
    Ok(entries)
}

/// One release's archive for this platform and the SHA-256 that its `checksums.txt` lists.
#[derive(Debug, Clone)]
pub struct Release {
    pub version: Version,
    /// The archive's file name.
    pub archive: String,
    /// The archive's expected SHA-256, in lowercase hex.
    pub sha256: String,
    /// The `checksums.txt` that listed the archive.
    pub checksums_url: String,
}

/// The release server under one base URL, and the HTTP client for it.
#[derive(Debug)]
pub struct ReleaseServer {
    base: String,
    client: reqwest::blocking::Client,
}

impl ReleaseServer {
    /// Checks `base_url` and builds the client. Plain `http` is accepted only
    /// for loopback hosts, because a checksum fetched over an unauthenticated
    /// connection proves nothing about the archive.
    pub fn new(base_url: &str) -> Result<ReleaseServer> {
        let url = Url::parse(base_url).map_err(|error| {
            anyhow::anyhow!("invalid release base URL {base_url:?} ({error}): expected a URL such as {DEFAULT_BASE_URL}")
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => bail!(
                "the release base URL {base_url} uses plain http: use https, because checksums fetched without TLS do not protect the download (http is accepted only for 127.0.0.1, ::1 and localhost)"
            ),
            other => bail!(
                "the release base URL {base_url} uses the scheme {other:?}: expected an https URL such as {DEFAULT_BASE_URL}"
            ),
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!(
                "the release base URL {base_url} has a query or fragment: expected a plain directory URL such as {DEFAULT_BASE_URL}"
            );
        }

        let client = reqwest::blocking::Client::builder()
            .user_agent(format!("{PACKAGE}/{}", crate::version::VERSION))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot create the HTTP client")?;
        Ok(ReleaseServer {
            base: url.as_str().trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// The URL of `file` in the release `version`, or in the newest release when `version` is `None`.
    pub fn file_url(&self, version: Option<&Version>, file: &str) -> String {
        match version {
            Some(version) => format!("{}/download/v{version}/{file}", self.base),
            None => format!("{}/latest/download/{file}", self.base),
        }
    }

    /// Finds this platform's archive in the release `requested`, or in the
    /// newest release, from that release's `checksums.txt`.
    pub fn find_release(
        &self,
        platform: &Platform,
        requested: Option<&Version>,
    ) -> Result<Release> {
        let checksums_url = self.file_url(requested, CHECKSUMS);
        let body = self.download(&checksums_url, MAX_CHECKSUMS_BYTES)?;
        let text = String::from_utf8(body)
            .map_err(|_| anyhow::anyhow!("{checksums_url} is not UTF-8 text: check --base-url"))?;
        let checksums = parse_checksums(&checksums_url, &text)?;

        let (version, archive) = match requested {
            Some(version) => (version.clone(), platform.archive_name(version)),
            None => newest_archive(&checksums, platform, &checksums_url)?,
        };
        let Some(sha256) = checksums.get(&archive) else {
            bail!(
                "{checksums_url} does not list {archive}, so release {version} has no archive for {} {}: install a release that has one, or build from source with `cargo install --locked docker-credential-atcr`",
                platform.os,
                platform.arch
            );
        };
        Ok(Release {
            version,
            archive,
            sha256: sha256.clone(),
            checksums_url,
        })
    }

    /// Downloads `url` into memory, at most `max_bytes`. A body shorter than
    /// its `Content-Length`, or a connection that breaks mid-body, is an error.
    pub fn download(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>> {
        log::info!("downloading {url}");
        let response = self.client.get(url).send().map_err(|error| {
            anyhow::anyhow!(
                "cannot download {url}: {}: check the network and --base-url",
                error_chain(&error)
            )
        })?;

        let status = response.status();
        if !status.is_success() {
            let hint = if status == reqwest::StatusCode::NOT_FOUND {
                "the release or file does not exist: check --base-url and --version"
            } else {
                "try again later, and check --base-url"
            };
            bail!("cannot download {url}: the server returned {status}: {hint}");
        }

        let expected = response.content_length();
        if let Some(expected) = expected
            && expected > max_bytes
        {
            bail!(
                "{url} has {expected} bytes, more than the {max_bytes} accepted: check --base-url"
            );
        }

        let mut body = Vec::new();
        let mut reader = response.take(max_bytes + 1);
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let count = match reader.read(&mut buffer) {
                Ok(count) => count,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => bail!(
                    "the download of {url} broke off after {} bytes ({}): nothing was changed; run the update again",
                    body.len(),
                    error_chain(&error)
                ),
            };
            if count == 0 {
                break;
            }
            body.extend_from_slice(&buffer[..count]);
        }

        if body.len() as u64 > max_bytes {
            bail!("{url} has more than the {max_bytes} bytes accepted: check --base-url");
        }
        if let Some(expected) = expected
            && body.len() as u64 != expected
        {
            bail!(
                "the download of {url} is truncated: received {} of {expected} bytes; nothing was changed; run the update again",
                body.len()
            );
        }
        Ok(body)
    }
}

/// Picks this platform's archive from a `checksums.txt` of the newest release.
fn newest_archive(
    checksums: &BTreeMap<String, String>,
    platform: &Platform,
    checksums_url: &str,
) -> Result<(Version, String)> {
    let mut found: Vec<(Version, String)> = Vec::new();
    for name in checksums.keys() {
        if let Some(text) = platform.version_in_archive_name(name) {
            let version = Version::parse(text)
                .with_context(|| format!("{checksums_url} lists the archive {name}"))?;
            found.push((version, name.clone()));
        }
    }

    match found.len() {
        0 => bail!(
            "{checksums_url} lists no archive for {} {} (expected a name like {}): the newest release has no prebuilt binary for this platform; build from source with `cargo install --locked docker-credential-atcr`",
            platform.os,
            platform.arch,
            platform
                .archive_name(&Version::parse("0.0.0")?)
                .replace("0.0.0", "<version>"),
        ),
        1 => Ok(found.remove(0)),
        _ => {
            let names: Vec<&str> = found.iter().map(|(_, name)| name.as_str()).collect();
            bail!(
                "{checksums_url} lists several archives for {} {} ({}): expected one; choose one with --version",
                platform.os,
                platform.arch,
                names.join(", ")
            )
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

/// Joins an error and its sources, because reqwest puts the cause (refused, timed out) in the sources.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX_X86_64: Platform = Platform {
        os: "Linux",
        arch: "x86_64",
    };
    const WINDOWS_ARM64: Platform = Platform {
        os: "Windows",
        arch: "arm64",
    };
    const HASH: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn version(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn archive_names_per_platform() {
        assert_eq!(
            LINUX_X86_64.archive_name(&version("0.2.0")),
            "docker-credential-atcr_0.2.0_Linux_x86_64.tar.gz"
        );
        assert_eq!(
            WINDOWS_ARM64.archive_name(&version("v1.0.0")),
            "docker-credential-atcr_1.0.0_Windows_arm64.zip"
        );
        assert_eq!(WINDOWS_ARM64.binary_name(), "docker-credential-atcr.exe");
        assert_eq!(LINUX_X86_64.binary_name(), "docker-credential-atcr");
    }

    #[test]
    fn version_read_from_archive_name() {
        assert_eq!(
            LINUX_X86_64
                .version_in_archive_name("docker-credential-atcr_0.2.0_Linux_x86_64.tar.gz"),
            Some("0.2.0")
        );
        assert_eq!(
            LINUX_X86_64.version_in_archive_name("docker-credential-atcr_0.2.0_Linux_arm64.tar.gz"),
            None
        );
        assert_eq!(
            LINUX_X86_64.version_in_archive_name("docker-credential-atcr_0.2.0-1_amd64.deb"),
            None
        );
        assert_eq!(
            LINUX_X86_64.version_in_archive_name("docker-credential-atcr__Linux_x86_64.tar.gz"),
            None
        );
        assert_eq!(
            WINDOWS_ARM64.version_in_archive_name("docker-credential-atcr_3.1.4_Windows_arm64.zip"),
            Some("3.1.4")
        );
    }

    #[test]
    fn version_parse_accepts_release_forms() {
        assert_eq!(version("v0.2.0").to_string(), "0.2.0");
        assert_eq!(version("1.0.0-rc.1").to_string(), "1.0.0-rc.1");
    }

    #[test]
    fn version_parse_rejects_bad_input() {
        for text in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "1..3",
            "a.b.c",
            "1.2.3-",
            "1.2.3-rc..1",
            "1.2.3/../x",
            "1.2.3+build",
            " 1.2.3",
        ] {
            let error = Version::parse(text).unwrap_err().to_string();
            assert!(
                error.contains("invalid version") && error.contains("MAJOR.MINOR.PATCH"),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn version_order_follows_semver() {
        let ordered = [
            "0.9.9",
            "0.10.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(
                version(pair[0]) < version(pair[1]),
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(version("v1.2.3"), version("1.2.3"));
    }

    #[test]
    fn checksums_parse_both_sha256sum_modes() {
        let text = format!("{HASH}  a.tar.gz\n{} *b.zip\r\n\n", HASH.to_uppercase());
        let entries = parse_checksums("http://x/checksums.txt", &text).unwrap();
        assert_eq!(entries.get("a.tar.gz").map(String::as_str), Some(HASH));
        assert_eq!(entries.get("b.zip").map(String::as_str), Some(HASH));
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn checksums_errors_name_url_and_line() {
        let cases = [
            ("garbage\n", "line 1: invalid line"),
            (
                &format!("{HASH}  a\nabc  b\n") as &str,
                "line 2: invalid SHA-256",
            ),
            (
                &format!("{HASH}  a\n{HASH}  a\n"),
                "line 2: a is listed twice",
            ),
        ];
        for (text, expected) in cases {
            let error = parse_checksums("http://x/checksums.txt", text)
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("http://x/checksums.txt, "), "{error}");
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn newest_archive_picks_this_platform() {
        let checksums: BTreeMap<String, String> = [
            "docker-credential-atcr_0.3.0_Linux_arm64.tar.gz",
            "docker-credential-atcr_0.3.0_Linux_x86_64.tar.gz",
            "docker-credential-atcr_0.3.0-1_amd64.deb",
            "docker-credential-atcr-0.3.0.tar.gz",
        ]
        .iter()
        .map(|name| (name.to_string(), HASH.to_owned()))
        .collect();
        let (found, name) = newest_archive(&checksums, &LINUX_X86_64, "u").unwrap();
        assert_eq!(found, version("0.3.0"));
        assert_eq!(name, "docker-credential-atcr_0.3.0_Linux_x86_64.tar.gz");

        let error = newest_archive(&checksums, &WINDOWS_ARM64, "u")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("lists no archive for Windows arm64"),
            "{error}"
        );
        assert!(
            error.contains("docker-credential-atcr_<version>_Windows_arm64.zip"),
            "{error}"
        );
    }

    #[test]
    fn base_url_must_be_https_or_loopback() {
        assert!(ReleaseServer::new("https://example.com/releases").is_ok());
        assert!(ReleaseServer::new("http://127.0.0.1:8080/").is_ok());
        assert!(ReleaseServer::new("http://[::1]:8080").is_ok());
        assert!(ReleaseServer::new("http://localhost:1/r").is_ok());

        let error = ReleaseServer::new("http://example.com/releases")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("plain http") && error.contains("use https"),
            "{error}"
        );
        let error = ReleaseServer::new("ftp://example.com/")
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"ftp\""), "{error}");
        let error = ReleaseServer::new("not a url").unwrap_err().to_string();
        assert!(
            error.contains("invalid release base URL \"not a url\""),
            "{error}"
        );
    }

    #[test]
    fn file_urls_follow_github_layout() {
        let server = ReleaseServer::new("https://example.com/owner/repo/releases/").unwrap();
        assert_eq!(
            server.file_url(None, CHECKSUMS),
            "https://example.com/owner/repo/releases/latest/download/checksums.txt"
        );
        assert_eq!(
            server.file_url(Some(&version("0.2.0")), "a.zip"),
            "https://example.com/owner/repo/releases/download/v0.2.0/a.zip"
        );
    }
}
