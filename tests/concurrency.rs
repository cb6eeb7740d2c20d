//! Parallel writers and writers killed mid-write never lose entries.

mod support;

use std::fs;
use std::io::Write;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use support::{Sandbox, SecretService};

fn parallel_stores_keep_every_entry(sandbox: &Sandbox) {
    let count = 50;
    let children: Vec<_> = (0..count)
        .map(|i| {
            let mut command = sandbox.command(&["store"]);
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = command.spawn().expect("spawn store");
            let request = serde_json::json!({"ServerURL": format!("registry-{i}.example:5000"), "Username": format!("user{i}"), "Secret": format!("secret-{i}")});
            child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
            child
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a parallel store failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }

    let listed = sandbox.run(&["list"], "").json();
    assert_eq!(listed.as_object().unwrap().len(), count, "{listed}");
    for i in 0..count {
        let got = sandbox.get(&format!("registry-{i}.example:5000"));
        assert_eq!(got.json()["Secret"], format!("secret-{i}"), "entry {i}");
    }
}

#[test]
fn parallel_stores_with_file_store() {
    parallel_stores_keep_every_entry(&Sandbox::new());
}

#[test]
fn parallel_stores_with_keyring() {
    let service = SecretService::start();
    let sandbox = Sandbox::with_secret_service(&service);
    parallel_stores_keep_every_entry(&sandbox);
    assert_eq!(
        service.lookup("registry-7.example:5000").as_deref(),
        Some("secret-7")
    );
}

/// Kills `store` processes at many points of their run, with a secret large
/// enough that some kills land while the files are being written, and checks
/// after each that the earlier entries are intact and the files parse.
#[test]
fn killed_store_keeps_previous_entries() {
    let sandbox = Sandbox::new();
    sandbox.store("atcr.io", "alice", "alice-secret");
    sandbox.store("localhost:5000", "bob", "bob-secret");
    let big_secret = "x".repeat(900 * 1024);

    for attempt in 0..40u64 {
        let mut command = sandbox.command(&["store"]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        let request = serde_json::json!({"ServerURL": "victim.example", "Username": "mallory", "Secret": big_secret});
        let mut stdin = child.stdin.take().unwrap();
        let writer = thread::spawn(move || {
            let _ = stdin.write_all(request.to_string().as_bytes());
        });

        thread::sleep(Duration::from_micros(500 * attempt));
        let _ = child.kill();
        let _ = child.wait();
        let _ = writer.join();

        for (server, secret) in [
            ("atcr.io", "alice-secret"),
            ("localhost:5000", "bob-secret"),
        ] {
            let got = sandbox.get(server);
            assert_eq!(
                got.status,
                Some(0),
                "attempt {attempt}: {server} lost: {got:?}"
            );
            assert_eq!(got.json()["Secret"], secret, "attempt {attempt}");
        }
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(sandbox.index_file()).unwrap())
                .expect("the index parses");
        assert!(index["credentials"].is_object(), "attempt {attempt}");
        let secrets: serde_json::Value =
            serde_json::from_slice(&fs::read(sandbox.secrets_file()).unwrap())
                .expect("the secrets file parses");
        assert!(secrets["secrets"].is_object(), "attempt {attempt}");
    }

    sandbox.store("atcr.io", "alice", "alice-secret");
    let leftovers: Vec<_> = fs::read_dir(sandbox.secrets_file().parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "credentials.json")
        .collect();
    assert!(
        leftovers.is_empty(),
        "the next store removes what killed writers left: {leftovers:?}"
    );
}

/// The index (config directory) and the secrets file (data directory) come
/// from separate variables, so a shell with another XDG_CONFIG_HOME reads
/// an empty index beside the same secrets file. Its writes must not
/// remove the secrets that its index does not name.
#[test]
fn other_config_dir_keeps_secrets() {
    let mut sandbox = Sandbox::new();
    sandbox.store("ghcr.io", "me", "tok");
    let other_config = sandbox.path().join("other-config");
    let home_config = sandbox.path().join("home/.config");

    sandbox.set("XDG_CONFIG_HOME", &other_config);
    sandbox.store("quay.io", "you", "other-tok");
    assert_eq!(sandbox.run(&["erase"], "nothing.example").status, Some(1));

    sandbox.set("XDG_CONFIG_HOME", &home_config);
    let got = sandbox.get("ghcr.io");
    got.assert_status(0);
    assert_eq!(got.json()["Secret"], "tok");
}
