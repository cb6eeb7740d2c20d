//! `configure-docker` edits Docker's config.json safely.

mod support;

use std::fs;

use serde_json::{Value, json};
use support::Sandbox;

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn creates_missing_config() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["configure-docker"], "");
    run.assert_status(0);
    assert_eq!(
        read_json(&sandbox.docker_config()),
        json!({"credHelpers": {"atcr.io": "atcr"}})
    );
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn keeps_other_keys_and_backs_up() {
    let sandbox = Sandbox::new();
    let original = r#"{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"experimental":"enabled"}"#;
    fs::create_dir_all(sandbox.docker_config().parent().unwrap()).unwrap();
    fs::write(sandbox.docker_config(), original).unwrap();

    sandbox
        .run(&["configure-docker", "atcr.io", "localhost:5000"], "")
        .assert_status(0);

    let config = read_json(&sandbox.docker_config());
    assert_eq!(
        config["credHelpers"],
        json!({"gcr.io": "gcloud", "atcr.io": "atcr", "localhost:5000": "atcr"})
    );
    assert_eq!(config["auths"]["ghcr.io"]["auth"], "dXNlcjpwYXNz");
    assert_eq!(config["credsStore"], "desktop");
    assert_eq!(config["experimental"], "enabled");
    let backup = sandbox.docker_config().with_file_name("config.json.bak");
    assert_eq!(fs::read_to_string(backup).unwrap(), original);
}

#[test]
fn second_run_changes_nothing() {
    let sandbox = Sandbox::new();
    sandbox.run(&["configure-docker"], "").assert_status(0);
    let first = fs::read(sandbox.docker_config()).unwrap();
    let modified = fs::metadata(sandbox.docker_config())
        .unwrap()
        .modified()
        .unwrap();

    let run = sandbox.run(&["configure-docker", "https://atcr.io/"], "");
    run.assert_status(0);
    assert!(run.stderr.contains("already uses"), "{run:?}");
    assert_eq!(fs::read(sandbox.docker_config()).unwrap(), first);
    assert_eq!(
        fs::metadata(sandbox.docker_config())
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "the file was not rewritten"
    );
}

#[test]
fn invalid_json_is_refused() {
    let sandbox = Sandbox::new();
    fs::create_dir_all(sandbox.docker_config().parent().unwrap()).unwrap();
    fs::write(sandbox.docker_config(), "{\"auths\": {,}").unwrap();

    let run = sandbox.run(&["configure-docker"], "");
    run.assert_status(1);
    assert!(
        run.stderr
            .contains(&sandbox.docker_config().display().to_string()),
        "names the file: {run:?}"
    );
    assert!(
        run.stderr.contains("line 1 column"),
        "names the parse error: {run:?}"
    );
    assert_eq!(
        fs::read_to_string(sandbox.docker_config()).unwrap(),
        "{\"auths\": {,}"
    );
    assert!(
        !sandbox
            .docker_config()
            .with_file_name("config.json.bak")
            .exists()
    );
}

#[test]
fn dry_run_prints_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["configure-docker", "--dry-run"], "");
    run.assert_status(0);
    assert_eq!(run.json(), json!({"credHelpers": {"atcr.io": "atcr"}}));
    assert!(!sandbox.docker_config().exists());
}

#[test]
fn warns_when_not_on_path() {
    let mut sandbox = Sandbox::new();
    sandbox.set("PATH", "/nonexistent");
    let run = sandbox.run(&["configure-docker", "--dry-run"], "");
    assert!(run.stderr.contains("not on PATH"), "{run:?}");

    let bin = sandbox.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(support::helper_binary(), bin.join("docker-credential-atcr"))
        .unwrap();
    sandbox.set("PATH", &bin);
    let run = sandbox.run(&["configure-docker", "--dry-run"], "");
    assert!(!run.stderr.contains("not on PATH"), "{run:?}");
}

#[test]
fn follows_symlinked_config() {
    let sandbox = Sandbox::new();
    let target = sandbox.path().join("dotfiles/docker.json");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(&target, r#"{"auths":{}}"#).unwrap();
    fs::create_dir_all(sandbox.docker_config().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, sandbox.docker_config()).unwrap();

    sandbox.run(&["configure-docker"], "").assert_status(0);
    assert!(
        fs::symlink_metadata(sandbox.docker_config())
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    assert_eq!(read_json(&target)["credHelpers"]["atcr.io"], "atcr");
}

#[test]
fn rejects_registry_with_path() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["configure-docker", "atcr.io/alice/app"], "");
    run.assert_status(1);
    assert!(run.stderr.contains("\"atcr.io/alice/app\""), "{run:?}");
    assert!(!sandbox.docker_config().exists());
}

#[test]
fn keeps_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    fs::create_dir_all(sandbox.docker_config().parent().unwrap()).unwrap();
    fs::write(sandbox.docker_config(), "{}").unwrap();
    fs::set_permissions(sandbox.docker_config(), fs::Permissions::from_mode(0o640)).unwrap();

    sandbox.run(&["configure-docker"], "").assert_status(0);
    assert_eq!(
        fs::metadata(sandbox.docker_config())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
}

#[test]
fn read_only_config_is_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let config = sandbox.docker_config();
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, r#"{"auths": {}}"#).unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o444)).unwrap();

    let run = sandbox.run(&["configure-docker"], "");

    run.assert_status(1);
    assert!(run.stderr.contains("is read-only"), "{run:?}");
    assert!(
        run.stderr.contains("chmod u+w"),
        "the error names the fix: {run:?}"
    );
    assert_eq!(fs::read_to_string(&config).unwrap(), r#"{"auths": {}}"#);
    assert_eq!(
        fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert!(
        !config.with_extension("json.bak").exists(),
        "no backup is written"
    );
}

#[test]
fn writes_target_of_dangling_symlink() {
    let sandbox = Sandbox::new();
    let target = sandbox.path().join("dotfiles/docker.json");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::create_dir_all(sandbox.docker_config().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, sandbox.docker_config()).unwrap();

    sandbox.run(&["configure-docker"], "").assert_status(0);
    assert!(
        fs::symlink_metadata(sandbox.docker_config())
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    assert_eq!(read_json(&target)["credHelpers"]["atcr.io"], "atcr");
}
