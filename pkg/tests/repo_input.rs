//! `cargo pkg repo` stops on bad input with an error that names the value
//! and the fix, before it writes anything.
//!
//! The packages here are empty files with the release's names, because
//! every case fails before a tool reads them, except the one that shows that
//! a failure while writing leaves no partial SITE. The key cases need gpg.

use std::fs;
use std::path::Path;
use std::process::Command;

const VERSION: &str = "1.2.3";
const BASE_URL: &str = "https://atcr-io.github.io/docker-credential-atcr";
const PACKAGES: [&str; 4] = [
    "docker-credential-atcr_1.2.3-1_amd64.deb",
    "docker-credential-atcr_1.2.3-1_arm64.deb",
    "docker-credential-atcr-1.2.3-1.x86_64.rpm",
    "docker-credential-atcr-1.2.3-1.aarch64.rpm",
];

/// Creates a release directory with an empty file for every package.
fn release_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in PACKAGES {
        fs::write(dir.path().join(name), b"").unwrap();
    }
    dir
}

/// Runs `cargo pkg repo` on `dir` with `base_url` and `env`, expects it to
/// fail without writing SITE, and returns what it printed to stderr.
fn repo_error(dir: &Path, base_url: &str, env: &[(&str, &Path)]) -> String {
    repo_error_for_version(dir, VERSION, base_url, env)
}

/// Runs `cargo pkg repo --version version` as [`repo_error`] does.
fn repo_error_for_version(
    dir: &Path,
    version: &str,
    base_url: &str,
    env: &[(&str, &Path)],
) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let site = scratch.path().join("site");
    let mut command = Command::new(env!("CARGO_BIN_EXE_pkg"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("ATCR_REPOSITORY_GPG_KEY")
        .env_remove("GNUPGHOME")
        .args([
            "repo",
            "--version",
            version,
            "--base-url",
            base_url,
            "--out",
        ])
        .arg(&site)
        .arg(dir);
    for (name, value) in env {
        command.env(name, value);
    }

    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "cargo pkg repo succeeded: {stderr}"
    );
    assert!(!site.exists(), "cargo pkg repo wrote {}", site.display());
    let leftovers: Vec<_> = fs::read_dir(scratch.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "cargo pkg repo left {leftovers:?}");
    stderr
}

/// A GnuPG home with one Ed25519 signing key, whose gpg-agent is stopped
/// when it is dropped.
struct KeyHome {
    home: tempfile::TempDir,
    fingerprint: String,
}

impl KeyHome {
    /// Generates a key protected by `passphrase`, or by none when it is empty.
    fn new(passphrase: &str) -> KeyHome {
        let home = tempfile::Builder::new()
            .prefix("atcr-repo-test-")
            .tempdir()
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(home.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let gpg = |args: &[&str]| {
            let output = Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--quiet"])
                .args(args)
                .output()
                .unwrap();
            assert!(output.status.success(), "gpg {args:?} failed: {output:?}");
            String::from_utf8(output.stdout).unwrap()
        };
        gpg(&[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase,
            "--quick-generate-key",
            "cargo pkg repo test <test@invalid>",
            "ed25519",
            "sign",
            "1y",
        ]);
        let listing = gpg(&["--with-colons", "--list-secret-keys"]);
        let fingerprint = listing
            .lines()
            .find_map(|line| line.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').nth(8))
            .unwrap()
            .to_owned();
        let key_home = KeyHome { home, fingerprint };
        // The agent may cache the passphrase from the generation.
        key_home.stop_agent();
        key_home
    }

    fn env(&self) -> [(&str, &Path); 2] {
        [
            ("ATCR_REPOSITORY_GPG_KEY", Path::new(&self.fingerprint)),
            ("GNUPGHOME", self.home.path()),
        ]
    }

    fn stop_agent(&self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "all"])
            .output();
    }
}

impl Drop for KeyHome {
    fn drop(&mut self) {
        self.stop_agent();
    }
}

#[test]
fn version_with_leading_v_is_rejected() {
    let dir = release_dir();
    let error = repo_error_for_version(dir.path(), "v1.2.3", BASE_URL, &[]);
    assert!(error.contains("invalid --version \"v1.2.3\""), "{error}");
    assert!(
        error.contains("drop the leading v: --version 1.2.3"),
        "{error}"
    );
}

#[test]
fn empty_version_is_rejected() {
    let dir = release_dir();
    let error = repo_error_for_version(dir.path(), "", BASE_URL, &[]);
    assert!(error.contains("invalid --version \"\""), "{error}");
}

#[test]
fn base_url_with_password_is_rejected() {
    let dir = release_dir();
    let error = repo_error(dir.path(), "https://user:hunter2@example.com/repo", &[]);
    assert!(error.contains("user name or password"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn packages_of_older_release_are_rejected() {
    let dir = release_dir();
    for name in PACKAGES {
        fs::write(dir.path().join(name.replace("1.2.3", "1.2.2")), b"").unwrap();
    }
    let error = repo_error(dir.path(), BASE_URL, &[]);
    assert!(
        error.contains("docker-credential-atcr_1.2.2-1_amd64.deb"),
        "{error}"
    );
    assert!(
        error.contains("are not the .deb and .rpm files of version 1.2.3"),
        "{error}"
    );
}

#[test]
fn key_with_passphrase_is_rejected() {
    let dir = release_dir();
    let key = KeyHome::new("not empty");
    let error = repo_error(dir.path(), BASE_URL, &key.env());
    assert!(
        error.contains(&format!("the key {} in the GnuPG home", key.fingerprint)),
        "{error}"
    );
    assert!(error.contains("needs a passphrase"), "{error}");
    assert!(error.contains("gpg --passwd"), "{error}");
}

#[test]
fn failure_while_writing_leaves_no_site() {
    // The empty package files pass every input check, and apt-ftparchive
    // fails on them after the site's first files are written.
    let dir = release_dir();
    let key = KeyHome::new("");
    let error = repo_error(dir.path(), BASE_URL, &key.env());
    assert!(error.contains("apt-ftparchive"), "{error}");
}

#[test]
fn base_url_must_be_http() {
    let dir = release_dir();
    let error = repo_error(dir.path(), "ftp://example.com/repo", &[]);
    assert!(
        error.contains(
            "--base-url is `ftp://example.com/repo`, which is not an http:// or https:// URL"
        ),
        "{error}"
    );
}

#[test]
fn missing_dir_is_named() {
    let dir = release_dir();
    let missing = dir.path().join("release");
    let error = repo_error(&missing, BASE_URL, &[]);
    assert!(
        error.contains(&format!("{} is not a directory", missing.display())),
        "{error}"
    );
}

#[test]
fn dir_without_rpm_is_rejected() {
    let dir = release_dir();
    for name in &PACKAGES[2..] {
        fs::remove_file(dir.path().join(name)).unwrap();
    }
    let error = repo_error(dir.path(), BASE_URL, &[]);
    assert!(error.contains("contains no .rpm file"), "{error}");
}

#[test]
fn checksum_mismatch_is_named() {
    let dir = release_dir();
    let listing: String = PACKAGES
        .iter()
        .map(|name| format!("{}  {name}\n", "0".repeat(64)))
        .collect();
    fs::write(dir.path().join("checksums.txt"), listing).unwrap();
    let error = repo_error(dir.path(), BASE_URL, &[]);
    assert!(error.contains("checksum mismatch for "), "{error}");
    assert!(error.contains("download the file again"), "{error}");
}

#[test]
fn unset_key_is_named() {
    let dir = release_dir();
    let error = repo_error(dir.path(), BASE_URL, &[]);
    assert!(
        error.contains("ATCR_REPOSITORY_GPG_KEY is unset"),
        "{error}"
    );
    assert!(error.contains("import-signing-key.sh"), "{error}");
}

#[test]
fn key_must_be_fingerprint() {
    let dir = release_dir();
    let error = repo_error(
        dir.path(),
        BASE_URL,
        &[("ATCR_REPOSITORY_GPG_KEY", Path::new("release@example.com"))],
    );
    assert!(
        error.contains("`release@example.com`, which is not an OpenPGP fingerprint"),
        "{error}"
    );
}

#[test]
fn key_missing_from_gnupg_home_is_named() {
    let dir = release_dir();
    let home = tempfile::tempdir().unwrap();
    let fingerprint = "910FB1A891B11A2F47C560BA99253FD13AC464FA";
    let error = repo_error(
        dir.path(),
        BASE_URL,
        &[
            ("ATCR_REPOSITORY_GPG_KEY", Path::new(fingerprint)),
            ("GNUPGHOME", home.path()),
        ],
    );
    // gpg started an agent for the home when it looked for secret keys.
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", home.path())
        .args(["--kill", "gpg-agent"])
        .output();
    assert!(
        error.contains(&format!(
            "ATCR_REPOSITORY_GPG_KEY is {fingerprint}, but the GnuPG home {} has no secret key with that fingerprint",
            home.path().display()
        )),
        "{error}"
    );
}
