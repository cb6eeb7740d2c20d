//! `cargo pkg repo` stops on bad input with an error that names the value
//! and the fix, before it writes anything.
//!
//! The packages here are empty files with the release's names, because
//! every case fails before a tool reads them. The key cases need gpg.

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
            VERSION,
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
    stderr
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
