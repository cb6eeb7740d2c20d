//! ATCR accounts end to end: device login against a test AppView on
//! 127.0.0.1, account choice in `get`, `status`, `switch` and `logout`.

mod support;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::appview::{AppView, TokenReply};
use support::{Run, Sandbox, SecretService, run_with_stdin};

fn login(sandbox: &Sandbox, appview: &AppView) -> Run {
    sandbox.run(&["login", &appview.url(), "--no-browser"], "")
}

fn grant(handle: &str, did: &str, secret: &str) -> TokenReply {
    TokenReply::Grant {
        handle: handle.into(),
        did: did.into(),
        secret: secret.into(),
    }
}

/// Runs `get` as the child of a shell whose command line is `parent_argv`,
/// the way Docker runs the helper while pushing or pulling.
fn get_under_parent(sandbox: &Sandbox, server: &str, parent_argv: &[&str]) -> Run {
    let input = sandbox.path().join("get-input");
    fs::write(&input, server).unwrap();
    let mut command = Command::new("sh");
    // `; exit $?` keeps sh from replacing itself with the helper, so sh stays the parent.
    command
        .arg("-c")
        .arg("\"$0\" get < \"$1\"; exit $?")
        .arg(support::helper_binary())
        .arg(&input)
        .args(parent_argv);
    sandbox.apply_env(&mut command);
    run_with_stdin(command, b"", Duration::from_secs(20))
}

#[test]
fn login_then_get_returns_account() {
    let appview = AppView::start();
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(0);
    assert!(
        run.stderr.contains("WDJB-MJHT"),
        "shows the user code: {run:?}"
    );
    assert!(
        run.stderr
            .contains(&format!("{}/device?code=WDJB-MJHT", appview.url())),
        "shows the URL: {run:?}"
    );
    assert!(
        run.stderr.contains("Logged in to") && run.stderr.contains("alice.bsky.social"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("atcr_device_alice") && !run.stdout.contains("atcr_device_alice"),
        "the secret is never printed"
    );

    let got = sandbox.get(&appview.registry());
    got.assert_status(0);
    assert_eq!(got.json()["Username"], "alice.bsky.social");
    assert_eq!(got.json()["Secret"], "atcr_device_alice");

    let requests = appview.requests();
    assert!(
        requests
            .iter()
            .all(|request| request.user_agent.starts_with("docker-credential-atcr/")),
        "{requests:?}"
    );
    let code_request = requests
        .iter()
        .find(|request| request.path == "/auth/device/code")
        .unwrap();
    assert!(
        code_request.body.contains("device_name"),
        "{code_request:?}"
    );
    let poll = requests
        .iter()
        .find(|request| request.path == "/auth/device/token")
        .unwrap();
    assert_eq!(poll.body, r#"{"device_code":"device-code-1"}"#);
}

#[test]
fn login_polls_while_pending() {
    let appview = AppView::start();
    appview.push_replies([
        TokenReply::Pending,
        TokenReply::Pending,
        TokenReply::Pending,
    ]);
    let sandbox = Sandbox::new();

    login(&sandbox, &appview).assert_status(0);
    assert_eq!(
        appview.poll_count(),
        4,
        "three pending answers, then the grant"
    );
}

#[test]
fn slow_down_adds_five_seconds() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::SlowDown]);
    let sandbox = Sandbox::new();

    let started = Instant::now();
    login(&sandbox, &appview).assert_status(0);
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(appview.poll_count(), 2);
}

#[test]
fn denied_login_stores_nothing() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::Pending, TokenReply::Denied]);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(run.stderr.contains("denied"), "{run:?}");
    assert_eq!(sandbox.run(&["list"], "").json(), json!({}));
}

#[test]
fn expired_token_says_login_again() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::Expired]);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(
        run.stderr.contains("expired") && run.stderr.contains("login again"),
        "{run:?}"
    );
}

#[test]
fn expiry_window_ends_polling() {
    let appview = AppView::start();
    appview.set_timing(0.6, 0.1);
    appview.push_replies(std::iter::repeat_n(TokenReply::Pending, 100));
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(run.stderr.contains("expired"), "{run:?}");
    assert!(run.elapsed < Duration::from_secs(5), "{run:?}");
}

#[test]
fn server_errors_are_retried() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::ServerError, TokenReply::ServerError]);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(0);
    assert!(run.stderr.contains("retrying"), "{run:?}");
    assert_eq!(
        sandbox.get(&appview.registry()).json()["Username"],
        "alice.bsky.social"
    );
}

#[test]
fn persistent_errors_fail_at_expiry() {
    let appview = AppView::start();
    appview.set_timing(2.5, 0.1);
    appview.push_replies(std::iter::repeat_n(TokenReply::ServerError, 100));
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(run.stderr.contains("kept failing"), "{run:?}");
    assert!(
        run.stderr.contains("HTTP 500"),
        "names the last error: {run:?}"
    );
}

#[test]
fn stalled_poll_times_out_and_retries() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::Stall(Duration::from_secs(3))]);
    let mut sandbox = Sandbox::new();
    sandbox.set("ATCR_HTTP_TIMEOUT", "0.3");

    let run = login(&sandbox, &appview);
    run.assert_status(0);
    assert!(run.stderr.contains("timed out"), "{run:?}");
}

#[test]
fn malformed_json_is_reported() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::Malformed]);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(
        run.stderr.contains("invalid JSON") && run.stderr.contains("/auth/device/token"),
        "{run:?}"
    );
}

#[test]
fn missing_field_is_named() {
    let appview = AppView::start();
    appview.push_replies([TokenReply::GrantWithoutDid]);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(run.stderr.contains("\"did\""), "{run:?}");
}

#[test]
fn failed_device_code_request_is_reported() {
    let appview = AppView::start();
    appview.set_code_status(503);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(
        run.stderr.contains("/auth/device/code") && run.stderr.contains("503"),
        "{run:?}"
    );
}

#[test]
fn plain_http_to_remote_host_is_rejected() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["login", "http://atcr.io", "--no-browser"], "");
    run.assert_status(1);
    assert!(run.stderr.contains("loopback"), "{run:?}");
}

#[test]
fn ctrl_c_cancels_cleanly() {
    let appview = AppView::start();
    appview.push_replies(std::iter::repeat_n(TokenReply::Pending, 1000));
    let sandbox = Sandbox::new();

    let mut command = sandbox.command(&["login", &appview.url(), "--no-browser"]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let started = Instant::now();
    while appview.poll_count() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "login never polled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();

    let run = support::wait_with_timeout(child, started, Duration::from_secs(10));
    assert_eq!(run.status, Some(130), "{run:?}");
    assert!(run.stderr.contains("cancelled"), "{run:?}");
    assert_eq!(sandbox.run(&["list"], "").json(), json!({}));
}

#[test]
fn browser_opens_only_with_display() {
    let appview = AppView::start();
    let mut sandbox = Sandbox::new();
    let opened = sandbox.path().join("opened-url");
    let browser = sandbox.path().join("browser.sh");
    fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {}\n", opened.display()),
    )
    .unwrap();
    fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    sandbox.set("BROWSER", &browser);
    sandbox.unset("SSH_CONNECTION");
    sandbox.unset("SSH_CLIENT");
    sandbox.unset("SSH_TTY");

    sandbox.unset("DISPLAY");
    sandbox.unset("WAYLAND_DISPLAY");
    let run = sandbox.run(&["login", &appview.url()], "");
    run.assert_status(0);
    assert!(run.stderr.contains("no display"), "{run:?}");
    assert!(!opened.exists());

    sandbox.set("DISPLAY", ":99");
    sandbox.set("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22");
    let run = sandbox.run(&["login", &appview.url()], "");
    assert!(run.stderr.contains("SSH"), "{run:?}");
    assert!(!opened.exists());

    sandbox.unset("SSH_CONNECTION");
    let run = sandbox.run(&["login", &appview.url()], "");
    run.assert_status(0);
    let started = Instant::now();
    while !opened.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        fs::read_to_string(&opened).unwrap(),
        format!("{}/device?code=WDJB-MJHT", appview.url())
    );
}

#[test]
fn login_again_replaces_secret() {
    let appview = AppView::start();
    let sandbox = Sandbox::new();
    appview.push_replies([grant(
        "alice.bsky.social",
        "did:plc:alice",
        "atcr_device_old",
    )]);
    login(&sandbox, &appview).assert_status(0);
    appview.push_replies([grant(
        "Alice.bsky.social",
        "did:plc:alice",
        "atcr_device_new",
    )]);
    login(&sandbox, &appview).assert_status(0);

    assert_eq!(
        sandbox.get(&appview.registry()).json()["Secret"],
        "atcr_device_new"
    );
    let status = sandbox.run(&["status", "--json"], "").json();
    assert_eq!(status["accounts"].as_array().unwrap().len(), 1, "{status}");
}

/// An AppView that returns a handle, DID or device secret with terminal
/// control sequences or line breaks cannot make login print or store them.
#[test]
fn login_rejects_invalid_identity() {
    let fake_success = "alice.bsky.social\n\u{1b}[2J✓ Logged in to atcr.io as alice.bsky.social";
    for (handle, did, secret, field) in [
        (fake_success, "did:plc:alice", "atcr_device_alice", "handle"),
        (
            "alice.bsky.social",
            "did:plc:alice\u{1b}]0;title\u{7}",
            "atcr_device_alice",
            "did",
        ),
        (
            "alice.bsky.social",
            "did:plc:alice",
            "atcr_device_alice\n",
            "device_secret",
        ),
    ] {
        let appview = AppView::start();
        let sandbox = Sandbox::new();
        appview.push_replies([grant(handle, did, secret)]);

        let run = login(&sandbox, &appview);

        run.assert_status(1);
        assert!(
            run.stderr
                .contains(&format!("returned an invalid \"{field}\"")),
            "{run:?}"
        );
        assert!(!run.stderr.contains('\u{1b}'), "{run:?}");
        assert!(!run.stdout.contains('\u{1b}'), "{run:?}");
        assert_eq!(sandbox.get(&appview.registry()).status, Some(1));
        assert!(!sandbox.secrets_file().exists(), "nothing was stored");
    }
}

#[test]
fn login_keeps_secret_in_keyring() {
    let service = SecretService::start();
    let appview = AppView::start();
    let sandbox = Sandbox::with_secret_service(&service);

    let run = login(&sandbox, &appview);
    run.assert_status(0);
    assert!(run.stderr.contains("OS keyring"), "{run:?}");
    let key = format!("{}#did:plc:alice", appview.registry());
    assert_eq!(service.lookup(&key).as_deref(), Some("atcr_device_alice"));
    assert!(!sandbox.secrets_file().exists());
}

/// Two accounts on one registry: alice, then bob (bob is active).
fn two_accounts() -> (AppView, Sandbox) {
    let appview = AppView::start();
    let sandbox = Sandbox::new();
    appview.push_replies([grant(
        "alice.bsky.social",
        "did:plc:alice",
        "atcr_device_alice",
    )]);
    login(&sandbox, &appview).assert_status(0);
    appview.push_replies([grant("bob.example.com", "did:plc:bob", "atcr_device_bob")]);
    login(&sandbox, &appview).assert_status(0);
    (appview, sandbox)
}

#[test]
fn parent_command_line_chooses_account() {
    let (appview, sandbox) = two_accounts();
    let registry = appview.registry();

    let alice = get_under_parent(
        &sandbox,
        &registry,
        &[
            "docker",
            "push",
            &format!("{registry}/alice.bsky.social/app:1"),
        ],
    );
    assert_eq!(alice.json()["Username"], "alice.bsky.social", "{alice:?}");
    assert_eq!(alice.json()["Secret"], "atcr_device_alice");

    let by_did = get_under_parent(
        &sandbox,
        &registry,
        &[
            "docker",
            "pull",
            &format!("{registry}/did:plc:alice/app@sha256:00"),
        ],
    );
    assert_eq!(by_did.json()["Username"], "alice.bsky.social", "{by_did:?}");

    let skopeo = get_under_parent(
        &sandbox,
        &registry,
        &[
            "skopeo",
            "copy",
            "oci:x",
            &format!("docker://{registry}/BOB.example.com/app"),
        ],
    );
    assert_eq!(skopeo.json()["Username"], "bob.example.com", "{skopeo:?}");

    let neither = get_under_parent(
        &sandbox,
        &registry,
        &["docker", "push", &format!("{registry}/carol.dev/app")],
    );
    assert_eq!(
        neither.json()["Username"],
        "bob.example.com",
        "falls back to the active account: {neither:?}"
    );
}

#[test]
fn two_registries_keep_own_accounts() {
    let first = AppView::start();
    let second = AppView::start();
    second.set_default_grant("bob.example.com", "did:plc:bob", "atcr_device_bob");
    let sandbox = Sandbox::new();
    login(&sandbox, &first).assert_status(0);
    login(&sandbox, &second).assert_status(0);

    assert_eq!(
        sandbox.get(&first.registry()).json()["Username"],
        "alice.bsky.social"
    );
    assert_eq!(
        sandbox.get(&second.registry()).json()["Username"],
        "bob.example.com"
    );
    let listed = sandbox.run(&["list"], "").json();
    assert_eq!(listed[first.registry()], "alice.bsky.social");
    assert_eq!(listed[second.registry()], "bob.example.com");
}

#[test]
fn switch_toggles_and_chooses() {
    let (appview, sandbox) = two_accounts();
    let registry = appview.registry();

    sandbox.run(&["switch"], "").assert_status(0);
    assert_eq!(
        sandbox.get(&registry).json()["Username"],
        "alice.bsky.social"
    );
    sandbox.run(&["switch"], "").assert_status(0);
    assert_eq!(sandbox.get(&registry).json()["Username"], "bob.example.com");
    sandbox
        .run(&["switch", "did:plc:alice"], "")
        .assert_status(0);
    assert_eq!(
        sandbox.get(&registry).json()["Username"],
        "alice.bsky.social"
    );

    let unknown = sandbox.run(&["switch", "mallory.example"], "");
    unknown.assert_status(1);
    assert!(
        unknown
            .stderr
            .contains("alice.bsky.social, bob.example.com"),
        "lists the accounts: {unknown:?}"
    );
}

/// A handle that moved to a new DID names the newest login, for `get`
/// under a parent process, `switch` and `logout`.
#[test]
fn moved_handle_names_newest_login() {
    let appview = AppView::start();
    let sandbox = Sandbox::new();
    let registry = appview.registry();
    appview.push_replies([grant("alice.example.com", "did:plc:old", "atcr_device_old")]);
    login(&sandbox, &appview).assert_status(0);
    // Login times are whole seconds, so the second login must come later.
    std::thread::sleep(Duration::from_millis(1100));
    appview.push_replies([grant("alice.example.com", "did:plc:new", "atcr_device_new")]);
    login(&sandbox, &appview).assert_status(0);
    appview.push_replies([grant("bob.example.com", "did:plc:bob", "atcr_device_bob")]);
    login(&sandbox, &appview).assert_status(0);

    let pushed = get_under_parent(
        &sandbox,
        &registry,
        &[
            "docker",
            "push",
            &format!("{registry}/alice.example.com/app:1"),
        ],
    );
    assert_eq!(pushed.json()["Secret"], "atcr_device_new", "{pushed:?}");

    sandbox
        .run(&["switch", "alice.example.com"], "")
        .assert_status(0);
    assert_eq!(sandbox.get(&registry).json()["Secret"], "atcr_device_new");

    sandbox
        .run(&["logout", &appview.url(), "alice.example.com"], "")
        .assert_status(0);
    let status = sandbox.run(&["status", "--json"], "").json();
    let dids: Vec<&str> = status["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["did"].as_str().unwrap())
        .collect();
    assert!(dids.contains(&"did:plc:old"), "{status}");
    assert!(
        !dids.contains(&"did:plc:new"),
        "logout removed the newest: {status}"
    );
}

#[test]
fn handle_as_registry_suggests_command() {
    let (appview, sandbox) = two_accounts();
    let registry = appview.registry();

    let logout = sandbox.run(&["logout", "alice.bsky.social"], "");
    logout.assert_status(1);
    assert!(
        logout.stderr.contains(&format!(
            "\"alice.bsky.social\" is an account, not a registry: run docker-credential-atcr logout {registry} alice.bsky.social"
        )),
        "{logout:?}"
    );

    let by_did = sandbox.run(&["logout", "did:plc:bob"], "");
    by_did.assert_status(1);
    assert!(
        by_did.stderr.contains(&format!(
            "run docker-credential-atcr logout {registry} bob.example.com"
        )),
        "{by_did:?}"
    );

    let switch = sandbox.run(&["switch", "--registry", "bob.example.com"], "");
    switch.assert_status(1);
    assert!(
        switch.stderr.contains(&format!(
            "run docker-credential-atcr switch bob.example.com --registry {registry}"
        )),
        "{switch:?}"
    );
    assert_eq!(
        sandbox.get(&registry).json()["Username"],
        "bob.example.com",
        "nothing changed"
    );
}

#[test]
fn logout_removes_account() {
    let (appview, sandbox) = two_accounts();
    let registry = appview.registry();

    sandbox
        .run(&["logout", &appview.url(), "bob.example.com"], "")
        .assert_status(0);
    assert_eq!(
        sandbox.get(&registry).json()["Username"],
        "alice.bsky.social",
        "alice becomes active"
    );
    sandbox.run(&["logout"], "").assert_status(0);
    assert_eq!(
        sandbox.get(&registry).stdout_trimmed(),
        "credentials not found in native keychain"
    );

    let again = sandbox.run(&["logout", &appview.url()], "");
    again.assert_status(1);
    assert!(again.stderr.contains("not logged in"), "{again:?}");
    assert!(
        !fs::read_to_string(sandbox.secrets_file())
            .unwrap()
            .contains("atcr_device"),
        "the secrets are gone"
    );
}

#[test]
fn docker_logout_erases_active_account() {
    let appview = AppView::start();
    let sandbox = Sandbox::new();
    login(&sandbox, &appview).assert_status(0);

    sandbox.run(&["erase"], appview.registry()).assert_status(0);
    assert_eq!(sandbox.get(&appview.registry()).status, Some(1));
    assert_eq!(
        sandbox.run(&["erase"], appview.registry()).stdout_trimmed(),
        "credentials not found in native keychain"
    );
}

/// Docker's `logout` runs `erase` for the address as typed, its host name,
/// and the host with `http://` and with `https://` (docker/cli,
/// cli/command/registry/logout.go). Every account goes with the first call,
/// so how many spellings Docker tries does not matter.
#[test]
fn docker_logout_sequence_erases_every_account() {
    let (appview, sandbox) = two_accounts();
    appview.push_replies([grant(
        "carol.example.org",
        "did:plc:carol",
        "atcr_device_carol",
    )]);
    login(&sandbox, &appview).assert_status(0);
    sandbox.store(&appview.registry(), "dockeruser", "password");
    let host = appview.registry();

    let first = sandbox.run(&["erase"], &host);
    first.assert_status(0);
    for spelling in [
        host.clone(),
        format!("http://{host}"),
        format!("https://{host}"),
    ] {
        let again = sandbox.run(&["erase"], &spelling);
        assert_eq!(
            again.stdout_trimmed(),
            "credentials not found in native keychain",
            "erase {spelling} after the first erase: {again:?}"
        );
    }

    assert_eq!(sandbox.get(&host).status, Some(1), "get after logout");
    assert_eq!(sandbox.run(&["list"], "").json(), json!({}));
    let status = sandbox.run(&["status", "--json"], "");
    status.assert_status(1);
    assert_eq!(status.json()["accounts"], json!([]), "{status:?}");
    assert!(
        !fs::read_to_string(sandbox.secrets_file())
            .unwrap()
            .contains("atcr_device"),
        "the device secrets are gone"
    );
}

#[test]
fn environment_token_only_for_its_registry() {
    let mut sandbox = Sandbox::new();
    sandbox.set("ATCR_USERNAME", "ci.example.com");
    sandbox.set("ATCR_TOKEN", "atcr_device_ci");

    let got = sandbox.get("https://atcr.io/");
    assert_eq!(got.json()["Username"], "ci.example.com");
    assert_eq!(got.json()["Secret"], "atcr_device_ci");
    assert_eq!(
        sandbox.get("ghcr.io").status,
        Some(1),
        "never leaks to another registry"
    );

    sandbox.set("ATCR_REGISTRY", "localhost:5000");
    assert_eq!(sandbox.get("atcr.io").status, Some(1));
    assert_eq!(
        sandbox.get("localhost:5000").json()["Secret"],
        "atcr_device_ci"
    );

    sandbox.unset("ATCR_USERNAME");
    let missing = sandbox.get("localhost:5000");
    missing.assert_status(1);
    assert!(missing.stdout.contains("ATCR_USERNAME"), "{missing:?}");
}

#[test]
fn status_reports_revoked_secret() {
    let (appview, sandbox) = two_accounts();
    appview.revoke("atcr_device_bob");

    let run = sandbox.run(&["status", "--json"], "");
    run.assert_status(1);
    let status = run.json();
    let accounts = status["accounts"].as_array().unwrap();
    let state = |handle: &str| {
        accounts
            .iter()
            .find(|account| account["handle"] == handle)
            .unwrap()["check"]["state"]
            .clone()
    };
    assert_eq!(state("alice.bsky.social"), "accepted", "{status}");
    assert_eq!(state("bob.example.com"), "rejected", "{status}");
    let active: Vec<_> = accounts
        .iter()
        .filter(|account| account["active"] == true)
        .map(|account| account["handle"].clone())
        .collect();
    assert_eq!(active, ["bob.example.com"]);
    assert_eq!(status["store"]["backend"], "file");

    let text = sandbox.run(&["status"], "");
    assert!(
        text.stdout.contains("✗ bob.example.com") && text.stdout.contains("(active)"),
        "{text:?}"
    );
    assert!(text.stdout.contains("✓ alice.bsky.social"), "{text:?}");
}

#[test]
fn status_checks_run_in_parallel() {
    let (appview, mut sandbox) = two_accounts();
    appview.stall_token_service(Duration::from_secs(3));
    sandbox.set("ATCR_HTTP_TIMEOUT", "1");

    let run = sandbox.run(&["status", "--json"], "");
    run.assert_status(1);
    assert!(
        run.elapsed < Duration::from_millis(1900),
        "two 1 s timeouts ran in parallel: {run:?}"
    );
    for account in run.json()["accounts"].as_array().unwrap() {
        assert_eq!(account["check"]["state"], "unreachable", "{account}");
    }
}

#[test]
fn status_without_accounts_fails() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["status"], "");
    run.assert_status(1);
    assert!(run.stdout.contains("Not logged in"), "{run:?}");
}

#[test]
fn locked_keyring_login_keeps_secret_in_file() {
    let service = SecretService::start();
    service.lock_default_collection();
    let appview = AppView::start();
    let sandbox = Sandbox::with_secret_service(&service);

    let run = login(&sandbox, &appview);
    run.assert_status(0);
    assert!(run.stderr.contains("locked"), "says why: {run:?}");
    assert!(
        run.stderr
            .contains(&sandbox.secrets_file().display().to_string()),
        "says where: {run:?}"
    );
    assert_eq!(
        sandbox.get(&appview.registry()).json()["Secret"],
        "atcr_device_alice"
    );
}

#[test]
fn huge_expiry_is_rejected() {
    let appview = AppView::start();
    appview.set_timing(1e300, 1.0);
    let sandbox = Sandbox::new();

    let run = login(&sandbox, &appview);
    run.assert_status(1);
    assert!(run.stderr.contains("invalid \"expires_in\""), "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
}

#[test]
fn status_does_not_follow_redirects() {
    let appview = AppView::start();
    let sandbox = Sandbox::new();
    login(&sandbox, &appview).assert_status(0);
    let other = AppView::start();
    appview.redirect_token_service(&format!("{}/auth/token", other.url()));

    let run = sandbox.run(&["status", "--json"], "");
    run.assert_status(1);
    assert_eq!(
        run.json()["accounts"][0]["check"]["state"],
        "unreachable",
        "{run:?}"
    );
    assert!(other.requests().is_empty(), "the redirect was not followed");
}

#[test]
fn list_and_erase_match_get() {
    let appview = AppView::start();
    let sandbox = Sandbox::new();
    login(&sandbox, &appview).assert_status(0);
    let stored = sandbox.store(&appview.registry(), "dockeruser", "password");
    assert!(
        stored
            .stderr
            .contains("but get returns the logged-in ATCR account alice.bsky.social instead"),
        "store warns that get returns the account: {stored:?}"
    );
    assert!(stored.stdout.is_empty(), "{stored:?}");

    assert_eq!(
        sandbox.get(&appview.registry()).json()["Username"],
        "alice.bsky.social"
    );
    assert_eq!(
        sandbox.run(&["list"], "").json()[appview.registry()],
        "alice.bsky.social",
        "list shows what get returns"
    );

    sandbox.run(&["erase"], appview.registry()).assert_status(0);
    assert_eq!(
        sandbox.get(&appview.registry()).status,
        Some(1),
        "one docker logout logs out"
    );
}
