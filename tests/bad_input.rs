//! Bad input to the protocol verbs: a one-line error on stdout, exit 1, no
//! panic, and the store exactly as it was.

mod support;

use std::fs;

use support::Sandbox;

/// The store's files, to compare before and after a failed command.
fn snapshot(sandbox: &Sandbox) -> (Vec<u8>, Vec<u8>) {
    (
        fs::read(sandbox.index_file()).unwrap_or_default(),
        fs::read(sandbox.secrets_file()).unwrap_or_default(),
    )
}

fn assert_rejected(sandbox: &Sandbox, verb: &str, stdin: &[u8], expected_text: &str) {
    let before = snapshot(sandbox);
    let run = sandbox.run(&[verb], stdin);

    assert_eq!(run.status, Some(1), "{verb} exits 1: {run:?}");
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "{verb} prints one line: {run:?}"
    );
    assert!(
        run.stdout.contains(expected_text),
        "{verb} names the problem ({expected_text:?}): {run:?}"
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{verb} does not panic: {run:?}"
    );
    assert_eq!(
        snapshot(sandbox),
        before,
        "{verb} leaves the store unchanged"
    );
}

fn sandbox_with_entry() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.store("atcr.io", "alice", "s3cret");
    sandbox
}

#[test]
fn malformed_json_is_rejected() {
    let sandbox = sandbox_with_entry();
    for input in [
        &b"not json"[..],
        b"{\"ServerURL\":\"atcr.io\"",
        b"[1,2]",
        b"[\"atcr.io\",\"alice\",\"s3cret\"]",
        b"{\"ServerURL\":5,\"Username\":\"a\",\"Secret\":\"b\"}",
    ] {
        assert_rejected(&sandbox, "store", input, "invalid credentials JSON");
    }
}

#[test]
fn empty_stdin_is_rejected() {
    let sandbox = sandbox_with_entry();
    assert_rejected(&sandbox, "store", b"", "stdin is empty");
    assert_rejected(&sandbox, "get", b"", "no credentials server URL");
    assert_rejected(&sandbox, "erase", b"", "no credentials server URL");
}

#[test]
fn non_utf8_stdin_is_rejected() {
    let sandbox = sandbox_with_entry();
    let bytes = b"atcr.io\xff\xfe";
    for verb in ["get", "store", "erase"] {
        assert_rejected(&sandbox, verb, bytes, "not valid UTF-8");
    }
}

#[test]
fn oversized_stdin_is_rejected() {
    let sandbox = sandbox_with_entry();
    let secret = "A".repeat(1024 * 1024 + 10);
    let request = format!(r#"{{"ServerURL":"atcr.io","Username":"alice","Secret":"{secret}"}}"#);
    for verb in ["get", "store", "erase"] {
        assert_rejected(
            &sandbox,
            verb,
            request.as_bytes(),
            "larger than 1048576 bytes",
        );
    }
}

#[test]
fn invalid_server_url_is_named() {
    let sandbox = sandbox_with_entry();
    assert_rejected(&sandbox, "get", b"ftp://atcr.io", "\"ftp://atcr.io\"");
    assert_rejected(&sandbox, "erase", b"atcr io", "invalid server URL");
}

#[test]
fn errors_never_echo_secret() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &["store"],
        r#"{"ServerURL":"atcr.io","Username":"alice","Secret":"hunter2"#,
    );
    assert_eq!(run.status, Some(1));
    assert!(
        !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
        "{run:?}"
    );
}

#[test]
fn get_miss_hint_omits_password() {
    let run = Sandbox::new().run(&["get"], "https://user:hunter2@nothing.example");
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("no credentials for nothing.example"),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
        "{run:?}"
    );
}

#[test]
fn corrupt_index_is_reported_not_replaced() {
    let sandbox = sandbox_with_entry();
    fs::write(sandbox.index_file(), b"{broken").unwrap();

    let run = sandbox.run(
        &["store"],
        r#"{"ServerURL":"ghcr.io","Username":"bob","Secret":"x"}"#,
    );
    assert_eq!(run.status, Some(1));
    assert!(run.stdout.contains("index.json"), "{run:?}");
    assert_eq!(
        fs::read(sandbox.index_file()).unwrap(),
        b"{broken",
        "the damaged file is kept for the user to repair"
    );
}

#[test]
fn corrupt_secrets_file_is_not_quoted() {
    let sandbox = sandbox_with_entry();
    fs::write(sandbox.secrets_file(), r#"{"secrets":"hunter2-leaked"}"#).unwrap();

    for verb in ["get", "erase"] {
        let run = sandbox.run(&[verb], "atcr.io");
        assert_eq!(run.status, Some(1), "{run:?}");
        assert!(
            run.stdout
                .contains("credentials.json is invalid (unexpected structure or value at line 1"),
            "{run:?}"
        );
        assert!(
            !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
            "{verb} must not quote the file: {run:?}"
        );
    }
}

#[test]
fn usage_error_is_one_line() {
    let run = Sandbox::new().run(&["get", "atcr.io"], "");
    assert_eq!(run.status, Some(1));
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(
        run.stdout.contains("Usage: docker-credential-atcr get"),
        "{run:?}"
    );
}
