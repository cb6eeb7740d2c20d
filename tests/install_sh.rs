//! `install.sh` against a release served on 127.0.0.1 in GitHub's layout.
//!
//! The release holds a real archive made from the helper that cargo built
//! and its `checksums.txt`. The script runs under `/bin/sh`, so it must
//! stay POSIX. A fake `uname` first on PATH stands for the other operating
//! systems and CPUs.

#![cfg(unix)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use support::release_server::{self, ReleaseServer};
use support::{Run, helper_binary, run_with_stdin};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const PACKAGE: &str = "docker-credential-atcr";

/// `install.sh` at the repository root.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

/// The release archive of this machine's platform, made from the built helper
/// once per test process.
///
/// The system's `tar` and `gzip` pack it, because the debug helper is over
/// 100 MB and flate2 without optimizations takes about half a minute for it.
fn helper_archive() -> &'static [u8] {
    static ARCHIVE: OnceLock<Vec<u8>> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(helper_binary(), dir.path().join(PACKAGE)).expect("copy the built helper");
        fs::set_permissions(dir.path().join(PACKAGE), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.path().join("LICENSE"), b"MIT\n").unwrap();
        let archive = dir.path().join("archive.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .args(["-C", &dir.path().to_string_lossy(), PACKAGE, "LICENSE"])
            .env("GZIP", "-1")
            .status()
            .expect("run tar");
        assert!(status.success(), "tar failed to pack the helper");
        fs::read(&archive).unwrap()
    })
}

/// The `checksums.txt` line of [`helper_archive`], computed once.
fn helper_archive_checksums() -> &'static str {
    static CHECKSUMS: OnceLock<String> = OnceLock::new();
    CHECKSUMS.get_or_init(|| {
        format!(
            "{}  {}\n",
            release_server::sha256_hex(helper_archive()),
            release_server::archive_name(VERSION)
        )
    })
}

/// Publishes `archive` as the newest release, with `checksums` as its `checksums.txt`.
fn publish(server: &ReleaseServer, archive: &[u8], checksums: &str) {
    let name = release_server::archive_name(VERSION);
    server.publish(
        VERSION,
        true,
        &[
            (name.as_str(), archive),
            ("checksums.txt", checksums.as_bytes()),
        ],
    );
}

/// Publishes a good release: the real archive and its true SHA-256.
fn publish_good(server: &ReleaseServer) {
    publish(server, helper_archive(), helper_archive_checksums());
}

/// A scratch directory with a HOME, an install directory and a bin directory for fake tools.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let scratch = Scratch {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir_all(scratch.home()).unwrap();
        fs::create_dir_all(scratch.fake_bin()).unwrap();
        scratch
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn fake_bin(&self) -> PathBuf {
        self.dir.path().join("fake-bin")
    }

    /// An install directory that does not exist yet, two levels below the scratch root.
    fn install_dir(&self) -> PathBuf {
        self.dir.path().join("opt/atcr/bin")
    }

    /// Puts a `uname` first on PATH that reports `os` for `-s` and `arch` for `-m`.
    fn fake_uname(&self, os: &str, arch: &str) {
        let path = self.fake_bin().join("uname");
        let script = format!(
            "#!/bin/sh\ncase \"$1\" in\n  -s) echo '{os}' ;;\n  -m) echo '{arch}' ;;\n  *) echo 'fake uname: unexpected argument' >&2; exit 2 ;;\nesac\n"
        );
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs `install.sh` with a clean environment plus `env`.
    fn run(&self, server: &ReleaseServer, env: &[(&str, &str)]) -> Run {
        let system_path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
        let mut command = Command::new("/bin/sh");
        command
            .arg(script())
            .env_clear()
            .env(
                "PATH",
                format!("{}:{system_path}", self.fake_bin().display()),
            )
            .env("HOME", self.home())
            .env("ATCR_RELEASE_BASE_URL", server.base_url())
            .env("INSTALL_DIR", self.install_dir());
        for (key, value) in env {
            command.env(key, value);
        }
        run_with_stdin(command, b"", Duration::from_secs(120))
    }
}

fn assert_nothing_installed(scratch: &Scratch) {
    let installed = scratch.install_dir().join(PACKAGE);
    assert!(
        !installed.exists(),
        "{} exists after a failed install",
        installed.display()
    );
    if let Ok(entries) = fs::read_dir(scratch.install_dir()) {
        let names: Vec<String> = entries
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.is_empty(),
            "the install directory contains {names:?} after a failed install"
        );
    }
}

#[test]
fn installs_latest_into_install_dir() {
    let server = ReleaseServer::start();
    publish_good(&server);
    let scratch = Scratch::new();

    let run = scratch.run(&server, &[]);

    assert_eq!(run.status, Some(0), "install.sh failed: {run:?}");
    let installed = scratch.install_dir().join(PACKAGE);
    assert_eq!(
        fs::read(&installed).unwrap(),
        fs::read(helper_binary()).unwrap(),
        "the installed binary differs from the archive's"
    );
    let mode = fs::metadata(&installed).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "mode of {}", installed.display());
    assert!(
        run.stdout.contains(&format!("{PACKAGE} {VERSION}")),
        "install.sh did not run `version`: {run:?}"
    );
    assert!(run.stderr.contains("verified the SHA-256"), "{run:?}");
    assert!(
        run.stderr.contains("is not on PATH"),
        "no PATH hint for an install directory off PATH: {run:?}"
    );

    let archive = release_server::archive_name(VERSION);
    let requests = server.requests();
    assert_eq!(
        requests,
        vec![
            "/latest/download/checksums.txt".to_owned(),
            format!("/latest/download/{archive}")
        ]
    );
    let leftovers: Vec<_> = fs::read_dir(scratch.install_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![PACKAGE],
        "the install directory holds only the binary"
    );
}

#[test]
fn crlf_upper_case_checksums_accepted() {
    let server = ReleaseServer::start();
    let checksums = helper_archive_checksums();
    let (hash, name) = checksums.trim_end().split_once("  ").unwrap();
    let windows_style = format!("{}  {name}\r\n", hash.to_uppercase());
    publish(&server, helper_archive(), &windows_style);
    let scratch = Scratch::new();

    let run = scratch.run(&server, &[]);

    assert_eq!(run.status, Some(0), "install.sh failed: {run:?}");
    assert!(run.stderr.contains("verified the SHA-256"), "{run:?}");
    assert_eq!(
        fs::read(scratch.install_dir().join(PACKAGE)).unwrap(),
        fs::read(helper_binary()).unwrap()
    );
}

#[test]
fn directory_at_target_is_named() {
    let server = ReleaseServer::start();
    publish_good(&server);
    let scratch = Scratch::new();
    let target = scratch.install_dir().join(PACKAGE);
    fs::create_dir_all(&target).unwrap();

    let run = scratch.run(&server, &[]);

    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("{} is a directory", target.display())),
        "{run:?}"
    );
    assert!(
        fs::read_dir(&target).unwrap().next().is_none(),
        "nothing was moved into the directory"
    );
    let names: Vec<_> = fs::read_dir(scratch.install_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![PACKAGE], "no staged file is left");
}

#[test]
fn pinned_version_uses_download_path() {
    let server = ReleaseServer::start();
    publish_good(&server);
    let scratch = Scratch::new();

    let run = scratch.run(&server, &[("ATCR_VERSION", &format!("v{VERSION}"))]);

    assert_eq!(run.status, Some(0), "install.sh failed: {run:?}");
    let archive = release_server::archive_name(VERSION);
    let requests = server.requests();
    assert_eq!(
        requests,
        vec![
            format!("/download/v{VERSION}/checksums.txt"),
            format!("/download/v{VERSION}/{archive}")
        ]
    );
    assert!(scratch.install_dir().join(PACKAGE).is_file());
}

#[test]
fn existing_binary_is_replaced() {
    let server = ReleaseServer::start();
    publish_good(&server);
    let scratch = Scratch::new();
    fs::create_dir_all(scratch.install_dir()).unwrap();
    fs::write(
        scratch.install_dir().join(PACKAGE),
        b"#!/bin/sh\necho old\n",
    )
    .unwrap();

    let run = scratch.run(&server, &[]);

    assert_eq!(run.status, Some(0), "install.sh failed: {run:?}");
    assert_eq!(
        fs::read(scratch.install_dir().join(PACKAGE)).unwrap(),
        fs::read(helper_binary()).unwrap()
    );
}

#[test]
fn wrong_checksum_installs_nothing() {
    let server = ReleaseServer::start();
    let name = release_server::archive_name(VERSION);
    let wrong = format!("{}  {name}\n", "0".repeat(64));
    publish(&server, helper_archive(), &wrong);
    let scratch = Scratch::new();

    let run = scratch.run(&server, &[]);

    assert_eq!(
        run.status,
        Some(1),
        "install.sh accepted a wrong checksum: {run:?}"
    );
    assert!(
        run.stderr
            .contains(&format!("checksum mismatch for {name}")),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(&"0".repeat(64)),
        "the error names the listed SHA-256: {run:?}"
    );
    assert!(run.stderr.contains("nothing was installed"), "{run:?}");
    assert_nothing_installed(&scratch);
}

#[test]
fn unsupported_architecture_is_named() {
    let server = ReleaseServer::start();
    publish_good(&server);
    let scratch = Scratch::new();
    scratch.fake_uname("Linux", "riscv64");

    let run = scratch.run(&server, &[]);

    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("unsupported CPU architecture 'riscv64' on Linux"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("x86_64 and arm64"),
        "the error lists the supported CPUs: {run:?}"
    );
    assert!(
        server.requests().is_empty(),
        "install.sh downloaded before it checked the platform: {:?}",
        server.requests()
    );
    assert_nothing_installed(&scratch);
}

#[test]
fn unsupported_os_is_named() {
    let server = ReleaseServer::start();
    let scratch = Scratch::new();

    scratch.fake_uname("FreeBSD", "amd64");
    let run = scratch.run(&server, &[]);
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("unsupported operating system 'FreeBSD'"),
        "{run:?}"
    );

    scratch.fake_uname("MINGW64_NT-10.0-19045", "x86_64");
    let run = scratch.run(&server, &[]);
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("install.ps1"),
        "Windows shells are sent to install.ps1: {run:?}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn arm64_name_is_requested_for_aarch64() {
    let server = ReleaseServer::start();
    let name = format!("{PACKAGE}_{VERSION}_Linux_arm64.tar.gz");
    let checksums = format!("{}  {name}\n", "1".repeat(64));
    server.publish(VERSION, true, &[("checksums.txt", checksums.as_bytes())]);
    let scratch = Scratch::new();
    scratch.fake_uname("Linux", "aarch64");

    let run = scratch.run(&server, &[]);

    // The archive itself is not published, so the download fails after the name is chosen.
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        server
            .requests()
            .contains(&format!("/latest/download/{name}")),
        "{:?}",
        server.requests()
    );
    assert_nothing_installed(&scratch);
}

#[test]
fn platform_missing_from_release_is_named() {
    let server = ReleaseServer::start();
    let other = format!("{PACKAGE}_{VERSION}_Darwin_arm64.tar.gz");
    server.publish(
        VERSION,
        true,
        &[(
            "checksums.txt",
            release_server::checksums(&[(other.as_str(), b"x")]).as_bytes(),
        )],
    );
    let scratch = Scratch::new();
    scratch.fake_uname("Linux", "x86_64");

    let run = scratch.run(&server, &[]);

    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("lists no archive for Linux x86_64"),
        "{run:?}"
    );
    assert_nothing_installed(&scratch);
}

#[test]
fn missing_release_is_reported() {
    let server = ReleaseServer::start();
    let scratch = Scratch::new();

    let run = scratch.run(&server, &[("ATCR_VERSION", "7.7.7")]);

    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(run.stderr.contains("cannot download"), "{run:?}");
    assert!(
        run.stderr.contains("/download/v7.7.7/checksums.txt"),
        "the error names the URL: {run:?}"
    );
    assert_nothing_installed(&scratch);
}

#[test]
fn invalid_version_is_rejected() {
    let server = ReleaseServer::start();
    for version in [
        "latest",
        "1.2.3garbage",
        "1.2.3/../..",
        "1.2",
        "01.2.3",
        "1.2.3-",
        "1.2.3\n1.2.3",
    ] {
        let scratch = Scratch::new();
        let run = scratch.run(&server, &[("ATCR_VERSION", version)]);

        assert_eq!(run.status, Some(1), "{version:?}: {run:?}");
        assert!(
            run.stderr.contains("invalid ATCR_VERSION '"),
            "{version:?}: {run:?}"
        );
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn plain_http_base_url_is_rejected() {
    let server = ReleaseServer::start();
    // The second and third URLs name a loopback host only in their user
    // info, and their real hosts are example.com and example.invalid. The
    // script rejects every URL before any download, so nothing resolves them.
    for url in [
        "http://example.com/releases",
        "http://localhost:80@example.com/releases",
        "http://127.0.0.1@example.invalid/releases",
        "http://[::1]:1x/releases",
    ] {
        let scratch = Scratch::new();
        let run = scratch.run(&server, &[("ATCR_RELEASE_BASE_URL", url)]);

        assert_eq!(run.status, Some(1), "{url}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("invalid ATCR_RELEASE_BASE_URL '{url}'")),
            "{url}: {run:?}"
        );
        assert!(
            run.stderr.contains("https://"),
            "the error names the fix: {run:?}"
        );
        assert_nothing_installed(&scratch);
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}
