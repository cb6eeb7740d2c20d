//! The keyring store against a real Secret Service (gnome-keyring on a
//! private D-Bus session bus), and the file fallback when the keyring is
//! missing, hung, locked or forced off.

mod support;

use std::fs;
use std::time::Duration;

use support::secret_service::HungBus;
use support::{Sandbox, SecretService};

#[test]
fn keyring_round_trip() {
    let service = SecretService::start();
    let sandbox = Sandbox::with_secret_service(&service);

    let stored = sandbox.store("https://atcr.io/", "alice", "s3cret");
    assert!(
        stored.stderr.is_empty(),
        "a keyring store is silent: {stored:?}"
    );
    assert_eq!(
        service.lookup("atcr.io").as_deref(),
        Some("s3cret"),
        "the secret is in gnome-keyring"
    );
    assert!(!sandbox.secrets_file().exists(), "the file store is unused");

    let got = sandbox.get("atcr.io");
    got.assert_status(0);
    assert_eq!(got.json()["Username"], "alice");
    assert_eq!(got.json()["Secret"], "s3cret");

    let listed = sandbox.run(&["list"], "");
    assert_eq!(
        listed.json(),
        serde_json::json!({"https://atcr.io/": "alice"})
    );

    sandbox.run(&["erase"], "atcr.io").assert_status(0);
    assert_eq!(
        service.lookup("atcr.io"),
        None,
        "erase removes the keyring item"
    );
    assert_eq!(
        sandbox.get("atcr.io").stdout_trimmed(),
        "credentials not found in native keychain"
    );
}

#[test]
fn keyring_keeps_70k_secret() {
    let service = SecretService::start();
    let sandbox = Sandbox::with_secret_service(&service);
    let secret = "A".repeat(70_000);

    sandbox.store("atcr.io", "alice", &secret);
    assert_eq!(
        service.lookup("atcr.io").map(|value| value.len()),
        Some(70_000)
    );
    assert_eq!(sandbox.get("atcr.io").json()["Secret"], secret);
}

#[test]
fn missing_bus_falls_back_to_file() {
    let mut sandbox = Sandbox::new();
    sandbox.unset("ATCR_CREDENTIAL_STORE");
    sandbox.set(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", sandbox.path().join("no-bus").display()),
    );

    let stored = sandbox.store("atcr.io", "alice", "s3cret");
    let path = sandbox.secrets_file();
    assert!(
        stored.stderr.contains(&path.display().to_string()),
        "announces the file: {stored:?}"
    );
    assert!(
        stored.stderr.contains("keyring is unavailable"),
        "gives the reason: {stored:?}"
    );
    assert!(stored.stdout.is_empty());
    assert_eq!(
        stored.stderr.lines().count(),
        1,
        "announced once: {stored:?}"
    );

    let got = sandbox.get("atcr.io");
    assert_eq!(got.json()["Secret"], "s3cret");
    assert!(got.stderr.is_empty(), "reads are silent: {got:?}");
}

#[test]
fn bus_without_secret_service_falls_back() {
    let service = SecretService::bus_only();
    let sandbox = Sandbox::with_secret_service(&service);

    let stored = sandbox.store("atcr.io", "alice", "s3cret");
    assert!(stored.stderr.contains("using the file store"), "{stored:?}");
    assert_eq!(sandbox.get("atcr.io").json()["Secret"], "s3cret");
}

#[test]
fn hung_bus_does_not_hang_store() {
    let bus = HungBus::start();
    let mut sandbox = Sandbox::new();
    sandbox.unset("ATCR_CREDENTIAL_STORE");
    sandbox.set("DBUS_SESSION_BUS_ADDRESS", bus.address());

    let stored = sandbox.store("atcr.io", "alice", "s3cret");
    assert!(
        stored.elapsed < Duration::from_secs(5),
        "bounded by the connect timeout: {stored:?}"
    );
    assert!(
        stored.stderr.contains("did not answer") || stored.stderr.contains("answered within"),
        "{stored:?}"
    );
    assert_eq!(sandbox.get("atcr.io").json()["Secret"], "s3cret");
}

#[test]
fn list_and_get_miss_never_touch_bus() {
    let bus = HungBus::start();
    let mut sandbox = Sandbox::new();
    sandbox.unset("ATCR_CREDENTIAL_STORE");
    sandbox.set("DBUS_SESSION_BUS_ADDRESS", bus.address());

    let miss = sandbox.get("atcr.io");
    miss.assert_status(1);
    assert_eq!(
        miss.stdout_trimmed(),
        "credentials not found in native keychain"
    );
    sandbox.run(&["list"], "").assert_status(0);
    assert_eq!(
        bus.connection_count(),
        0,
        "neither verb connected to the bus"
    );
}

#[test]
fn locked_keyring_falls_back_without_losing() {
    let service = SecretService::start();
    let sandbox = Sandbox::with_secret_service(&service);
    sandbox.store("atcr.io", "alice", "in-keyring");
    service.lock_default_collection();

    let stored = sandbox.store("localhost:5000", "bob", "in-file");
    assert!(
        stored.stderr.contains("locked"),
        "names the reason: {stored:?}"
    );
    assert_eq!(
        stored.stderr.matches("ATCR_CREDENTIAL_STORE=file").count(),
        1,
        "the advice appears once: {stored:?}"
    );
    assert!(stored.elapsed < Duration::from_secs(8), "{stored:?}");

    let unset_env = sandbox.get("localhost:5000");
    assert_eq!(
        unset_env.json()["Secret"],
        "in-file",
        "found without any setting"
    );

    let locked = sandbox.get("atcr.io");
    locked.assert_status(1);
    assert!(locked.stdout.contains("locked"), "{locked:?}");
    assert_eq!(locked.stdout.lines().count(), 1);
}

#[test]
fn forced_keyring_without_keyring_fails() {
    let mut sandbox = Sandbox::new();
    sandbox.set("ATCR_CREDENTIAL_STORE", "keyring");
    let request = r#"{"ServerURL":"atcr.io","Username":"alice","Secret":"s3cret"}"#;

    let stored = sandbox.run(&["store"], request);
    stored.assert_status(1);
    assert!(
        stored.stdout.contains("keyring is unavailable"),
        "{stored:?}"
    );
    assert!(!sandbox.secrets_file().exists());
    assert_eq!(sandbox.run(&["list"], "").json(), serde_json::json!({}));
}

#[test]
fn invalid_store_setting_is_named() {
    let mut sandbox = Sandbox::new();
    sandbox.set("ATCR_CREDENTIAL_STORE", "vault");
    let run = sandbox.get("atcr.io");
    run.assert_status(1);
    assert!(run.stdout.contains("\"vault\""), "{run:?}");
    assert!(run.stdout.contains("keyring"), "{run:?}");
}

#[test]
fn moving_to_keyring_removes_file_copy() {
    let service = SecretService::start();
    let mut sandbox = Sandbox::with_secret_service(&service);
    sandbox.set("ATCR_CREDENTIAL_STORE", "file");
    sandbox.store("atcr.io", "alice", "old");
    assert!(
        fs::read_to_string(sandbox.secrets_file())
            .unwrap()
            .contains("old")
    );

    sandbox.unset("ATCR_CREDENTIAL_STORE");
    sandbox.store("atcr.io", "alice", "new");
    assert!(
        !fs::read_to_string(sandbox.secrets_file())
            .unwrap()
            .contains("old"),
        "the file copy is gone"
    );
    assert_eq!(service.lookup("atcr.io").as_deref(), Some("new"));
    assert_eq!(sandbox.get("atcr.io").json()["Secret"], "new");
}

#[cfg(unix)]
#[test]
fn file_store_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    sandbox.store("atcr.io", "alice", "s3cret");

    let file_mode = fs::metadata(sandbox.secrets_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    let dir_mode = fs::metadata(sandbox.secrets_file().parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(file_mode, 0o600);
    assert_eq!(dir_mode, 0o700);
}

#[test]
fn erase_without_keyring_deletes_later() {
    let service = SecretService::start();
    let mut sandbox = Sandbox::with_secret_service(&service);
    sandbox.store("atcr.io", "alice", "s3cret");

    sandbox.set(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", sandbox.path().join("no-bus").display()),
    );
    let erased = sandbox.run(&["erase"], "atcr.io");
    erased.assert_status(0);
    assert!(erased.stderr.contains("a later command will"), "{erased:?}");
    assert_eq!(
        sandbox.get("atcr.io").status,
        Some(1),
        "the credential is gone for clients"
    );
    assert_eq!(
        service.lookup("atcr.io").as_deref(),
        Some("s3cret"),
        "the keyring could not be reached"
    );

    sandbox.set("DBUS_SESSION_BUS_ADDRESS", service.address());
    sandbox.store("localhost:5000", "bob", "other");
    assert_eq!(
        service.lookup("atcr.io"),
        None,
        "the next write deleted the leftover"
    );
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(sandbox.index_file()).unwrap()).unwrap();
    assert!(index.get("stale_secrets").is_none(), "{index}");
}

/// Deletions that earlier commands left to do cost a hung keyring one
/// timeout per command, not one per deletion, and none with the file store
/// forced.
#[test]
fn hung_bus_bounds_pending_deletions() {
    let service = SecretService::start();
    let mut sandbox = Sandbox::with_secret_service(&service);
    let servers = ["a.example", "b.example", "c.example", "d.example"];
    for server in servers {
        sandbox.store(server, "alice", "s3cret");
    }
    sandbox.set(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", sandbox.path().join("no-bus").display()),
    );
    for server in servers {
        sandbox.run(&["erase"], server).assert_status(0);
    }

    let bus = HungBus::start();
    sandbox.set("DBUS_SESSION_BUS_ADDRESS", bus.address());
    sandbox.set("ATCR_CREDENTIAL_STORE", "file");
    let forced = sandbox.store("e.example", "bob", "other");
    assert!(
        forced.elapsed < Duration::from_secs(1),
        "the file store does not wait on the keyring: {forced:?}"
    );
    assert_eq!(bus.connection_count(), 0, "nothing connected to the bus");

    sandbox.unset("ATCR_CREDENTIAL_STORE");
    let chosen = sandbox.store("f.example", "bob", "other");
    // One keyring timeout for the first pending deletion and one for the
    // write, which then falls back to the file store: 1.5 s each, where one
    // per deletion would take 7.5 s.
    assert!(
        chosen.elapsed < Duration::from_secs(5),
        "four pending deletions cost one timeout: {chosen:?}"
    );
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(sandbox.index_file()).unwrap()).unwrap();
    assert_eq!(
        index["stale_secrets"].as_array().map(Vec::len),
        Some(servers.len()),
        "every deletion is still recorded: {index}"
    );
}
