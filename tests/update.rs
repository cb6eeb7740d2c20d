//! `update` against a release server on 127.0.0.1: a good archive replaces
//! the binary, while a bad checksum or a truncated download leaves it
//! byte-identical. `--check` and package-managed installs change nothing.
//!
//! Each test copies the helper into a temporary directory and runs the copy,
//! because `update` replaces the running binary. The newer release's binary
//! is a shell script that prints the version line, so these tests need Unix.

#![cfg(unix)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::release_server::{self, ReleaseServer};
use support::{Run, Sandbox, helper_binary, run_with_stdin};

const CURRENT: &str = env!("CARGO_PKG_VERSION");
const NEWER: &str = "9.9.9";

/// A copy of the helper in its own directory, and the sandbox it runs in.
struct Installed {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    exe: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let mut sandbox = Sandbox::new();
        // The release server is on loopback, so no proxy may stand in between.
        for key in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "ATCR_RELEASE_BASE_URL",
        ] {
            sandbox.unset(key);
        }
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("docker-credential-atcr");
        fs::copy(helper_binary(), &exe).unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let exe = exe.canonicalize().unwrap();
        Installed { sandbox, dir, exe }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(&self.exe);
        command.args(args);
        self.sandbox.apply_env(&mut command);
        run_with_stdin(command, b"", Duration::from_secs(60))
    }

    fn bytes(&self) -> Vec<u8> {
        fs::read(&self.exe).unwrap()
    }

    /// Lists the names in the binary's directory, to find leftover temporary files.
    fn dir_entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Starts a server whose newest release is `NEWER`, with a fake helper of
/// that version, and returns it and the archive's name.
fn server_with_newer_release() -> (ReleaseServer, String) {
    let server = ReleaseServer::start();
    let archive_name = publish_fake_release(&server, NEWER, true, NEWER);
    (server, archive_name)
}

/// Publishes release `tag` with an archive whose binary is a script that
/// prints `printed` as its version, and the archive's checksums.txt.
/// Returns the archive's name.
fn publish_fake_release(server: &ReleaseServer, tag: &str, latest: bool, printed: &str) -> String {
    let archive_name = release_server::archive_name(tag);
    let archive = release_server::tar_gz(&[
        (
            "docker-credential-atcr",
            &release_server::fake_helper(printed),
            0o755,
        ),
        ("LICENSE", b"MIT", 0o644),
    ]);
    let checksums = release_server::checksums(&[(&archive_name, &archive)]);
    server.publish(
        tag,
        latest,
        &[
            (&archive_name, &archive),
            ("checksums.txt", checksums.as_bytes()),
        ],
    );
    archive_name
}

/// Asserts that a failed `update` exited with 1 and left the binary
/// byte-identical to `before`, with no temporary file beside it.
fn assert_failed_unchanged(installed: &Installed, before: &[u8], run: &Run) {
    assert_eq!(run.status, Some(1), "{run:?}");
    assert_eq!(
        installed.bytes(),
        before,
        "the old binary is byte-identical"
    );
    assert_eq!(
        installed.dir_entries(),
        ["docker-credential-atcr"],
        "no temporary file is left"
    );
}

fn update(installed: &Installed, server: &ReleaseServer, extra: &[&str]) -> Run {
    let base_url = server.base_url();
    let mut args = vec!["update", "--base-url", base_url.as_str()];
    args.extend_from_slice(extra);
    installed.run(&args)
}

#[test]
fn good_archive_replaces_binary() {
    let installed = Installed::new();
    let (server, _) = server_with_newer_release();

    let run = update(&installed, &server, &[]);

    run.assert_status(0);
    assert_eq!(
        installed.bytes(),
        release_server::fake_helper(NEWER),
        "the binary is the release's"
    );
    assert!(
        run.stdout.contains(&format!("from {CURRENT} to {NEWER}")),
        "{run:?}"
    );
    let version = installed.run(&["version"]);
    assert!(
        version
            .stdout
            .starts_with(&format!("docker-credential-atcr {NEWER} ")),
        "{version:?}"
    );
    assert_eq!(
        installed.dir_entries(),
        ["docker-credential-atcr"],
        "no temporary file is left"
    );
    assert_eq!(
        fs::metadata(&installed.exe).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

#[test]
fn bad_checksum_keeps_old_binary() {
    let installed = Installed::new();
    let (server, archive_name) = server_with_newer_release();
    let wrong = format!("{}  {archive_name}\n", "0".repeat(64));
    server.publish(NEWER, true, &[("checksums.txt", wrong.as_bytes())]);
    let before = installed.bytes();

    let run = update(&installed, &server, &[]);

    assert_failed_unchanged(&installed, &before, &run);
    assert!(
        run.stderr
            .contains(&format!("checksum mismatch for {archive_name}")),
        "{run:?}"
    );
    assert!(run.stderr.contains("checksums.txt"), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn truncated_download_keeps_old_binary() {
    let installed = Installed::new();
    let (server, archive_name) = server_with_newer_release();
    server.truncate(&format!("/download/v{NEWER}/{archive_name}"));
    let before = installed.bytes();

    let run = update(&installed, &server, &[]);

    assert_failed_unchanged(&installed, &before, &run);
    assert!(run.stderr.contains(&archive_name), "{run:?}");
    assert!(
        run.stderr.contains("truncated") || run.stderr.contains("broke off"),
        "{run:?}"
    );
}

#[test]
fn missing_release_names_url() {
    let installed = Installed::new();
    let server = ReleaseServer::start();
    let before = installed.bytes();

    let run = update(&installed, &server, &[]);

    assert_failed_unchanged(&installed, &before, &run);
    assert!(
        run.stderr.contains(&format!(
            "{}/latest/download/checksums.txt",
            server.base_url()
        )),
        "{run:?}"
    );
    assert!(run.stderr.contains("404"), "{run:?}");
}

#[test]
fn check_reports_versions_only() {
    let installed = Installed::new();
    let (server, _) = server_with_newer_release();
    let before = installed.bytes();

    let run = update(&installed, &server, &["--check"]);

    run.assert_status(0);
    assert_eq!(installed.bytes(), before, "--check changes nothing");
    assert!(
        run.stdout
            .contains(&format!("current version: {CURRENT}\n")),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(&format!("latest version: {NEWER}\n")),
        "{run:?}"
    );
    assert!(run.stdout.contains("update available: yes\n"), "{run:?}");
    let archive_requests = server
        .requests()
        .iter()
        .filter(|path| path.ends_with(".tar.gz"))
        .count();
    assert_eq!(archive_requests, 0, "--check downloads no archive");
}

#[test]
fn same_version_needs_force() {
    let installed = Installed::new();
    let server = ReleaseServer::start();
    // A script, because packing and checking the 100 MiB debug binary takes a minute.
    publish_fake_release(&server, CURRENT, true, CURRENT);

    let run = update(&installed, &server, &[]);
    run.assert_status(0);
    assert!(run.stdout.contains("is up to date"), "{run:?}");
    assert!(
        !server
            .requests()
            .iter()
            .any(|path| path.ends_with(".tar.gz")),
        "no archive is downloaded"
    );

    let forced = update(&installed, &server, &["--force"]);
    forced.assert_status(0);
    assert!(
        forced
            .stdout
            .contains(&format!("from {CURRENT} to {CURRENT}")),
        "{forced:?}"
    );
    assert_eq!(installed.bytes(), release_server::fake_helper(CURRENT));
    assert_eq!(installed.dir_entries(), ["docker-credential-atcr"]);
}

#[test]
fn version_option_installs_that_release() {
    let installed = Installed::new();
    let (server, _) = server_with_newer_release();
    let older = "9.9.8";
    publish_fake_release(&server, older, false, older);

    let run = update(&installed, &server, &["--version", older]);

    run.assert_status(0);
    assert_eq!(installed.bytes(), release_server::fake_helper(older));
    assert!(
        server
            .requests()
            .contains(&format!("/download/v{older}/checksums.txt")),
        "{:?}",
        server.requests()
    );
}

#[test]
fn wrong_version_in_archive_rejected() {
    let installed = Installed::new();
    let server = ReleaseServer::start();
    publish_fake_release(&server, NEWER, true, "1.0.0");
    let before = installed.bytes();

    let run = update(&installed, &server, &[]);

    assert_failed_unchanged(&installed, &before, &run);
    assert!(
        run.stderr.contains("docker-credential-atcr 1.0.0"),
        "{run:?}"
    );
}

#[test]
fn apt_installed_prints_command() {
    let installed = Installed::new();
    let (server, _) = server_with_newer_release();
    let root = tempfile::tempdir().unwrap();
    let info = root.path().join("var/lib/dpkg/info");
    fs::create_dir_all(&info).unwrap();
    fs::write(
        info.join("docker-credential-atcr.list"),
        format!("/.\n{}\n", installed.exe.display()),
    )
    .unwrap();
    let before = installed.bytes();

    let run = update(
        &installed,
        &server,
        &["--package-root", &path_text(root.path())],
    );

    run.assert_status(0);
    assert_eq!(
        installed.bytes(),
        before,
        "a package-managed binary is left alone"
    );
    assert_eq!(
        run.stdout,
        "sudo apt-get update && sudo apt-get install --only-upgrade docker-credential-atcr\n"
    );
    assert!(run.stderr.contains("installed by apt"), "{run:?}");
    assert!(
        server.requests().is_empty(),
        "nothing is downloaded: {:?}",
        server.requests()
    );
}

#[test]
fn plain_http_to_other_host_rejected() {
    let installed = Installed::new();
    let run = installed.run(&[
        "update",
        "--check",
        "--base-url",
        "http://example.invalid/releases",
    ]);

    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(run.stderr.contains("plain http"), "{run:?}");
}

fn path_text(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}
