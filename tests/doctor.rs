//! `doctor` passes on a working setup and names each problem with its fix.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use support::appview::AppView;
use support::{Run, Sandbox};

/// A sandbox with the helper on PATH, config.json configured and one account logged in.
fn healthy() -> (AppView, Sandbox, PathBuf) {
    let appview = AppView::start();
    let mut sandbox = Sandbox::new();
    let bin = sandbox.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(support::helper_binary(), bin.join("docker-credential-atcr"))
        .unwrap();
    sandbox.set("PATH", format!("{}:/usr/bin:/bin", bin.display()));

    sandbox
        .run(&["login", &appview.url(), "--no-browser"], "")
        .assert_status(0);
    sandbox
        .run(&["configure-docker", &appview.registry()], "")
        .assert_status(0);
    (appview, sandbox, bin)
}

fn doctor(sandbox: &Sandbox) -> Run {
    sandbox.run(&["doctor"], "")
}

/// Asserts that doctor failed, with a ✗ line naming `problem` followed by a fix naming `fix`.
fn assert_problem(run: &Run, problem: &str, fix: &str) {
    assert_eq!(run.status, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with('✗') && line.contains(problem))
        .unwrap_or_else(|| panic!("no failed check names {problem:?}: {}", run.stdout));
    let fix_line = lines.get(at + 1).copied().unwrap_or("");
    assert!(
        fix_line.contains("fix:") && fix_line.contains(fix),
        "the fix {fix:?} follows the problem: {}",
        run.stdout
    );
}

#[test]
fn healthy_setup_passes() {
    let (_appview, sandbox, _bin) = healthy();
    let run = doctor(&sandbox);
    run.assert_status(0);
    assert!(!run.stdout.contains('✗'), "{}", run.stdout);
    assert!(run.stdout.contains("accepts the secret"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Everything looks good."),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_from_path_fails() {
    let (_appview, mut sandbox, _bin) = healthy();
    sandbox.set("PATH", "/usr/bin:/bin");
    assert_problem(
        &doctor(&sandbox),
        "not on PATH",
        "install it into a directory on PATH",
    );
}

#[test]
fn not_executable_fails() {
    let (_appview, mut sandbox, _bin) = healthy();
    let other = sandbox.path().join("other-bin");
    fs::create_dir_all(&other).unwrap();
    fs::copy(
        support::helper_binary(),
        other.join("docker-credential-atcr"),
    )
    .unwrap();
    fs::set_permissions(
        other.join("docker-credential-atcr"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    sandbox.set("PATH", format!("{}:/usr/bin:/bin", other.display()));
    assert_problem(&doctor(&sandbox), "is not executable", "chmod +x");
}

#[test]
fn foreign_architecture_fails() {
    let (_appview, mut sandbox, _bin) = healthy();
    let other = sandbox.path().join("foreign-bin");
    fs::create_dir_all(&other).unwrap();
    // An ELF header for aarch64 (e_machine 183), which the kernel refuses to run on x86_64.
    let mut elf = vec![
        0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 183, 0,
    ];
    elf.resize(64, 0);
    let path = other.join("docker-credential-atcr");
    fs::write(&path, elf).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    sandbox.set("PATH", format!("{}:/usr/bin:/bin", other.display()));
    assert_problem(
        &doctor(&sandbox),
        "does not run on this machine",
        "install the build for",
    );
}

#[test]
fn missing_cred_helper_fails() {
    let (appview, sandbox, _bin) = healthy();
    fs::write(sandbox.docker_config(), r#"{"credsStore":"desktop"}"#).unwrap();
    let run = doctor(&sandbox);
    assert_problem(
        &run,
        "credsStore \"desktop\" answers",
        &format!(
            "docker-credential-atcr configure-docker {}",
            appview.registry()
        ),
    );
}

#[test]
fn invalid_docker_config_fails() {
    let (_appview, sandbox, _bin) = healthy();
    fs::write(sandbox.docker_config(), "{oops").unwrap();
    assert_problem(&doctor(&sandbox), "not valid JSON", "repair");
}

#[test]
fn forced_keyring_without_keyring_fails() {
    let (_appview, mut sandbox, _bin) = healthy();
    sandbox.set("ATCR_CREDENTIAL_STORE", "keyring");
    assert_problem(
        &doctor(&sandbox),
        "ATCR_CREDENTIAL_STORE=keyring",
        "unset ATCR_CREDENTIAL_STORE",
    );
}

#[test]
fn revoked_secret_fails() {
    let (appview, sandbox, _bin) = healthy();
    appview.revoke("atcr_device_alice");
    assert_problem(
        &doctor(&sandbox),
        "rejects the secret",
        &format!("docker-credential-atcr login {}", appview.registry()),
    );
}

#[test]
fn unreachable_appview_fails() {
    let (appview, mut sandbox, _bin) = healthy();
    appview.stall_token_service(std::time::Duration::from_secs(5));
    sandbox.set("ATCR_HTTP_TIMEOUT", "0.5");
    assert_problem(&doctor(&sandbox), "timed out", "check the network");
}

#[test]
fn invalid_timeout_is_a_finding() {
    let (_appview, mut sandbox, _bin) = healthy();
    sandbox.set("ATCR_HTTP_TIMEOUT", "abc");
    assert_problem(
        &doctor(&sandbox),
        "invalid ATCR_HTTP_TIMEOUT \"abc\"",
        "unset ATCR_HTTP_TIMEOUT",
    );
}

#[test]
fn creds_store_of_this_helper_passes() {
    let (_appview, sandbox, _bin) = healthy();
    fs::write(sandbox.docker_config(), r#"{"credsStore":"atcr"}"#).unwrap();
    let run = doctor(&sandbox);
    run.assert_status(0);
    assert!(run.stdout.contains("(credsStore)"), "{}", run.stdout);
}
