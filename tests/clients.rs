//! The helper driven by real clients: docker-py's credential store, skopeo
//! pushing to a Distribution registry, and the Docker CLI's `login` and
//! `logout` (client side only: no Docker daemon runs or is contacted).
//!
//! Each scenario runs once against the keyring (a private gnome-keyring on
//! its own D-Bus session bus) and once against the file store. Clients find
//! the helper as `docker-credential-atcr` on PATH, through a symlink to the
//! binary that cargo built. Registries listen on 127.0.0.1 on a free port and
//! every image reference names that address, so no client falls back to
//! Docker Hub or any other remote registry.

mod support;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::oci_image::{MANIFEST_MEDIA_TYPE, OciImage};
use support::registry::Registry;
use support::{Run, Sandbox, SecretService, helper_binary, require_tool, run_with_stdin};

/// How long one client command may run before the test kills it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository that the skopeo tests push to.
const REPOSITORY: &str = "atcr-test/hello";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Keyring,
    File,
}

/// A sandbox whose helper uses `kind`, and the gnome-keyring behind it.
struct Client {
    sandbox: Sandbox,
    kind: StoreKind,
    service: Option<SecretService>,
}

impl Client {
    /// A sandbox with the helper first on PATH as `docker-credential-atcr`.
    fn new(kind: StoreKind) -> Client {
        let (mut sandbox, service) = match kind {
            StoreKind::Keyring => {
                let service = SecretService::start();
                let mut sandbox = Sandbox::with_secret_service(&service);
                // The helper would pick the keyring by itself; forcing it makes a
                // silent fallback to the file store fail the test instead.
                sandbox.set("ATCR_CREDENTIAL_STORE", "keyring");
                (sandbox, Some(service))
            }
            StoreKind::File => (Sandbox::new(), None),
        };

        let bin = sandbox.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(helper_binary(), bin.join("docker-credential-atcr")).unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).unwrap();
        sandbox.set("PATH", path);

        Client {
            sandbox,
            kind,
            service,
        }
    }

    /// Runs `program` with the sandbox's environment and `stdin`.
    fn run(&self, program: &PathBuf, args: &[&str], stdin: &str) -> Run {
        let mut command = Command::new(program);
        command.args(args);
        self.sandbox.apply_env(&mut command);
        run_with_stdin(command, stdin.as_bytes(), CLIENT_TIMEOUT)
    }

    /// Reads the secret for `key` from the store under test, bypassing the helper.
    fn stored_secret(&self, key: &str) -> Option<String> {
        match self.kind {
            StoreKind::Keyring => self.service.as_ref().unwrap().lookup(key),
            StoreKind::File => {
                let text = fs::read_to_string(self.sandbox.secrets_file()).ok()?;
                let file: Value = serde_json::from_str(&text).expect("the secrets file is JSON");
                file["secrets"][key].as_str().map(str::to_owned)
            }
        }
    }

    /// Runs the helper's `list` and returns its output as JSON.
    fn list(&self) -> Value {
        let run = self.sandbox.run(&["list"], "");
        run.assert_status(0);
        run.json()
    }
}

/// Returns a password that differs between runs, so no test passes on a leftover credential.
fn unique_password(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}

/// Returns the interpreter of the virtual environment that contains docker-py.
fn python() -> PathBuf {
    let python = std::env::var_os("ATCR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python")
        });
    assert!(
        python.is_file(),
        "no Python with docker-py at {}: run scripts/install-test-deps.sh (or set ATCR_TEST_PYTHON)",
        python.display()
    );
    python
}

/// Checks whether a client reported HTTP 401. skopeo prints the registry's
/// error code (`unauthorized: authentication required`) and the Docker CLI
/// the status text (`401 Unauthorized`), while a bare "401" could match a port.
fn is_unauthorized(run: &Run) -> bool {
    format!("{}\n{}", run.stdout, run.stderr)
        .to_ascii_lowercase()
        .contains("unauthorized")
}

// docker-py

fn docker_py_round_trip(kind: StoreKind) {
    let client = Client::new(kind);
    let server = "atcr.io";
    let secret = unique_password("docker-py");
    client
        .sandbox
        .run(&["configure-docker", server], "")
        .assert_status(0);

    let driver = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/docker_py_store.py");
    let request = json!({
        "server": server,
        "username": "alice",
        "secret": secret,
        "config": client.sandbox.docker_config(),
    });
    let run_phase = |phase: &str| {
        let run = client.run(
            &python(),
            &[driver.to_str().unwrap(), phase],
            &request.to_string(),
        );
        assert_eq!(
            run.status,
            Some(0),
            "the docker-py driver's {phase} phase failed: {}",
            run.stderr
        );
        run.json()
    };

    let steps = run_phase("store");

    let link = client.sandbox.path().join("bin/docker-credential-atcr");
    assert_eq!(
        steps["helper_path"],
        json!(link),
        "docker-py found another docker-credential-atcr on PATH"
    );

    assert_eq!(
        steps["get_before_store"]["raised"], "CredentialsNotFound",
        "a miss must map to docker-py's CredentialsNotFound: {}",
        steps["get_before_store"]
    );

    assert!(
        steps["store"].get("returned").is_some(),
        "Store.store raised: {}",
        steps["store"]
    );
    assert_eq!(
        client.stored_secret(server).as_deref(),
        Some(secret.as_str()),
        "store put the secret in the {kind:?} store"
    );

    let got = &steps["get"]["returned"];
    assert_eq!(got["ServerURL"], server, "Store.get returned {got}");
    assert_eq!(
        got["Username"], "alice",
        "Store.get returned the wrong username"
    );
    assert!(
        got["Secret"] == json!(secret),
        "Store.get returned the wrong secret"
    );

    assert_eq!(
        steps["list"]["returned"],
        json!({server: "alice"}),
        "Store.list after store"
    );

    assert_eq!(
        steps["cred_helper_for_server"], "atcr",
        "configure-docker wrote credHelpers that docker-py reads"
    );
    let resolved = &steps["resolve_authconfig"]["returned"];
    assert_eq!(
        resolved["Username"], "alice",
        "docker.auth resolved {resolved} through credHelpers"
    );
    assert!(
        resolved["Password"] == json!(secret),
        "docker.auth resolved the wrong password through credHelpers"
    );

    let steps = run_phase("erase");
    assert_eq!(
        steps["erase"]["returned"],
        Value::Null,
        "Store.erase raised: {}",
        steps["erase"]
    );
    assert_eq!(
        client.stored_secret(server),
        None,
        "erase removed the secret from the {kind:?} store"
    );
    assert_eq!(
        steps["get_after_erase"]["raised"], "CredentialsNotFound",
        "get after erase: {}",
        steps["get_after_erase"]
    );
    assert_eq!(
        steps["erase_missing"]["raised"], "CredentialsNotFound",
        "erasing a missing entry must report not found: {}",
        steps["erase_missing"]
    );
    assert_eq!(
        steps["list_after_erase"]["returned"],
        json!({}),
        "Store.list after erase"
    );
}

#[test]
fn docker_py_keyring() {
    docker_py_round_trip(StoreKind::Keyring);
}

#[test]
fn docker_py_file() {
    docker_py_round_trip(StoreKind::File);
}

// skopeo

/// Runs skopeo with an auth file that contains nothing but `credHelpers` for
/// the registry, so every credential it sends comes from the helper.
struct Skopeo<'a> {
    client: &'a Client,
    registry: &'a Registry,
    auth_file: PathBuf,
}

impl<'a> Skopeo<'a> {
    fn new(client: &'a mut Client, registry: &'a Registry) -> Skopeo<'a> {
        let auth_file = client.sandbox.path().join("auth.json");
        fs::write(
            &auth_file,
            json!({"credHelpers": {registry.host(): "atcr"}}).to_string(),
        )
        .unwrap();

        // An empty registries.conf: no mirrors, no search registries, no system settings.
        let registries_conf = client.sandbox.path().join("registries.conf");
        fs::write(&registries_conf, "unqualified-search-registries = []\n").unwrap();
        client
            .sandbox
            .set("CONTAINERS_REGISTRIES_CONF", &registries_conf);
        client.sandbox.set("REGISTRY_AUTH_FILE", &auth_file);
        // As root, containers/image keeps its blob info cache in
        // /var/lib/containers/cache. A non-zero _CONTAINERS_ROOTLESS_UID (the
        // variable that Podman sets for rootless runs) moves it under the
        // sandbox's XDG_DATA_HOME, so tests share no state outside the sandbox.
        client.sandbox.set("_CONTAINERS_ROOTLESS_UID", "1000");

        Skopeo {
            client,
            registry,
            auth_file,
        }
    }

    fn destination(&self, tag: &str) -> String {
        format!("docker://{}/{REPOSITORY}:{tag}", self.registry.host())
    }

    fn push(&self, image: &OciImage, tag: &str) -> Run {
        let auth_file = self.auth_file.to_str().unwrap();
        let source = image.reference();
        let destination = self.destination(tag);
        let args = [
            "--insecure-policy",
            "copy",
            "--dest-tls-verify=false",
            "--dest-authfile",
            auth_file,
            &source,
            &destination,
        ];
        self.client.run(&require_tool("skopeo"), &args, "")
    }

    fn inspect(&self, tag: &str) -> Run {
        let auth_file = self.auth_file.to_str().unwrap();
        let args = [
            "inspect",
            "--tls-verify=false",
            "--authfile",
            auth_file,
            &self.destination(tag),
        ];
        self.client.run(&require_tool("skopeo"), &args, "")
    }
}

fn skopeo_push_uses_helper(kind: StoreKind) {
    let registry = Registry::start("pusher", &unique_password("skopeo"));
    let mut client = Client::new(kind);
    let image = OciImage::write(&client.sandbox.path().join("image"), "v1");
    let host = registry.host();
    let skopeo = Skopeo::new(&mut client, &registry);
    let client = skopeo.client;

    let refused = skopeo.push(&image, "v1");
    assert_ne!(
        refused.status,
        Some(0),
        "the push succeeded without stored credentials: {refused:#?}"
    );
    assert!(
        is_unauthorized(&refused),
        "the push failed for a reason other than 401 Unauthorized: {refused:#?}"
    );

    client
        .sandbox
        .store(&host, &registry.username, &registry.password);
    assert_eq!(
        client.stored_secret(&host).as_deref(),
        Some(registry.password.as_str()),
        "the password is in the {kind:?} store"
    );

    let pushed = skopeo.push(&image, "v1");
    assert_eq!(
        pushed.status,
        Some(0),
        "the push with the helper's credentials failed: {pushed:#?}\n{}",
        registry.log()
    );

    let manifest_path = format!("/v2/{REPOSITORY}/manifests/v1");
    let manifest = registry.get(&manifest_path, MANIFEST_MEDIA_TYPE, true);
    assert_eq!(
        manifest.status, 200,
        "the registry does not hold the pushed manifest: {manifest:?}"
    );
    assert_eq!(
        manifest.header("Docker-Content-Digest"),
        Some(image.manifest_digest.as_str()),
        "the registry holds a different manifest"
    );
    let anonymous = registry.get(&manifest_path, MANIFEST_MEDIA_TYPE, false);
    assert_eq!(
        anonymous.status, 401,
        "the registry must reject requests without credentials"
    );

    let inspected = skopeo.inspect("v1");
    assert_eq!(
        inspected.status,
        Some(0),
        "skopeo inspect with the helper's credentials failed: {inspected:#?}"
    );
    assert_eq!(
        inspected.json()["Digest"],
        image.manifest_digest.as_str(),
        "skopeo inspect read another manifest"
    );

    client.sandbox.run(&["erase"], &host).assert_status(0);
    assert_eq!(
        client.stored_secret(&host),
        None,
        "erase removed the password from the {kind:?} store"
    );

    let refused_again = skopeo.push(&image, "v2");
    assert_ne!(
        refused_again.status,
        Some(0),
        "the push succeeded after erase: {refused_again:#?}"
    );
    assert!(
        is_unauthorized(&refused_again),
        "the push after erase failed for a reason other than 401 Unauthorized: {refused_again:#?}"
    );
    let tags = registry.get(
        &format!("/v2/{REPOSITORY}/tags/list"),
        "application/json",
        true,
    );
    assert_eq!(
        tags.status, 200,
        "cannot list the repository's tags: {tags:?}"
    );
    let tags: Value = serde_json::from_str(&tags.body).expect("the tag list is JSON");
    assert_eq!(
        tags["tags"],
        json!(["v1"]),
        "only the authenticated push created a tag"
    );
}

#[test]
fn skopeo_push_keyring() {
    skopeo_push_uses_helper(StoreKind::Keyring);
}

#[test]
fn skopeo_push_file() {
    skopeo_push_uses_helper(StoreKind::File);
}

// Docker CLI

/// Creates a sandbox for the Docker CLI whose DOCKER_HOST socket does not
/// exist, so the CLI reaches no daemon and logs in client side.
fn docker_client(kind: StoreKind) -> Client {
    let mut client = Client::new(kind);
    let socket = client.sandbox.path().join("no-docker-daemon.sock");
    client
        .sandbox
        .set("DOCKER_HOST", format!("unix://{}", socket.display()));
    client.sandbox.set("DOCKER_CLI_HINTS", "false");
    client.sandbox.unset("DOCKER_CONTEXT");
    client.sandbox.unset("DOCKER_TLS_VERIFY");
    client
}

fn docker_login_logout(kind: StoreKind) {
    let registry = Registry::start("pusher", &unique_password("docker"));
    let client = docker_client(kind);
    let docker = require_tool("docker");
    let host = registry.host();
    client
        .sandbox
        .run(&["configure-docker", &host], "")
        .assert_status(0);

    let rejected = client.run(
        &docker,
        &["login", &host, "-u", &registry.username, "--password-stdin"],
        "wrong-password",
    );
    assert_ne!(
        rejected.status,
        Some(0),
        "docker login accepted a wrong password: {rejected:#?}"
    );
    assert!(
        is_unauthorized(&rejected),
        "docker login failed for a reason other than 401 Unauthorized: {rejected:#?}"
    );
    assert_eq!(client.list(), json!({}), "a failed login stores nothing");

    let login = client.run(
        &docker,
        &["login", &host, "-u", &registry.username, "--password-stdin"],
        &registry.password,
    );
    assert_eq!(
        login.status,
        Some(0),
        "docker login failed: {login:#?}\n{}",
        registry.log()
    );
    assert!(
        login.stdout.contains("Login Succeeded"),
        "docker login did not confirm: {login:#?}"
    );

    let got = client.sandbox.get(&host);
    got.assert_status(0);
    assert_eq!(
        got.json()["Username"],
        registry.username.as_str(),
        "docker login stored another username"
    );
    assert!(
        got.json()["Secret"] == json!(registry.password),
        "docker login stored another secret"
    );
    assert_eq!(
        client.stored_secret(&host).as_deref(),
        Some(registry.password.as_str()),
        "docker login put the password in the {kind:?} store"
    );
    let config = fs::read_to_string(client.sandbox.docker_config()).unwrap();
    assert!(
        !config.contains(&registry.password),
        "docker login wrote the password into config.json"
    );
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        config["credHelpers"][&host], "atcr",
        "docker login kept credHelpers: {config}"
    );

    let logout = client.run(&docker, &["logout", &host], "");
    assert_eq!(logout.status, Some(0), "docker logout failed: {logout:#?}");
    assert_eq!(
        client.list(),
        json!({}),
        "docker logout erased the helper's entry"
    );
    let miss = client.sandbox.get(&host);
    miss.assert_status(1);
    assert_eq!(
        miss.stdout_trimmed(),
        "credentials not found in native keychain",
        "get after logout"
    );
    assert_eq!(
        client.stored_secret(&host),
        None,
        "docker logout removed the password from the {kind:?} store"
    );
}

#[test]
fn docker_login_logout_keyring() {
    docker_login_logout(StoreKind::Keyring);
}

#[test]
fn docker_login_logout_file() {
    docker_login_logout(StoreKind::File);
}

/// `docker logout` erases a credential that the helper stored directly.
#[test]
fn docker_logout_erases_stored() {
    let client = docker_client(StoreKind::File);
    let docker = require_tool("docker");
    let host = "127.0.0.1:5999";
    client
        .sandbox
        .run(&["configure-docker", host], "")
        .assert_status(0);
    client
        .sandbox
        .store(host, "alice", &unique_password("logout"));
    assert_eq!(client.list(), json!({host: "alice"}), "list after store");

    let logout = client.run(&docker, &["logout", host], "");
    assert_eq!(logout.status, Some(0), "docker logout failed: {logout:#?}");
    assert_eq!(
        client.list(),
        json!({}),
        "docker logout erased the helper's entry"
    );
}

/// `docker logout` logs out every ATCR account of the registry, although it
/// runs `erase` once for each spelling of the address.
#[test]
fn docker_logout_removes_every_account() {
    let appview = support::appview::AppView::start();
    let client = docker_client(StoreKind::File);
    let docker = require_tool("docker");
    let host = appview.registry();
    for name in ["alice", "bob", "carol"] {
        appview.push_replies([support::appview::TokenReply::Grant {
            handle: format!("{name}.example.com"),
            did: format!("did:plc:{name}"),
            secret: format!("atcr_device_{name}"),
        }]);
        client
            .sandbox
            .run(&["login", &appview.url(), "--no-browser"], "")
            .assert_status(0);
    }
    client
        .sandbox
        .run(&["configure-docker", &host], "")
        .assert_status(0);

    let logout = client.run(&docker, &["logout", &host], "");
    assert_eq!(logout.status, Some(0), "docker logout failed: {logout:#?}");
    assert_eq!(client.list(), json!({}), "list after docker logout");
    assert_eq!(
        client.sandbox.get(&host).stdout_trimmed(),
        "credentials not found in native keychain",
        "get after docker logout"
    );
    let status = client.sandbox.run(&["status", "--json"], "");
    assert_eq!(status.json()["accounts"], json!([]), "{status:?}");
}
