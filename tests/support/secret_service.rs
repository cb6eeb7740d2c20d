//! A private Secret Service for one test: `dbus-daemon` on a socket in a
//! temporary directory and `gnome-keyring-daemon` on that bus, unlocked with
//! an empty password. Both are killed when the value is dropped.
//!
//! The bus has no service directories, so nothing is started by D-Bus
//! activation: what answers is exactly what the test started.

use std::fs;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::require_tool;

/// A running session bus, optionally with gnome-keyring on it.
pub struct SecretService {
    dir: tempfile::TempDir,
    bus: Child,
    keyring: Option<Child>,
}

impl SecretService {
    /// Starts a bus and an unlocked gnome-keyring with a default collection.
    pub fn start() -> SecretService {
        let mut service = SecretService::bus_only();
        service.start_keyring();
        service
    }

    /// Starts a bus on which no Secret Service runs.
    pub fn bus_only() -> SecretService {
        let dbus_daemon = require_tool("dbus-daemon");
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("bus");
        let config = dir.path().join("session.conf");
        fs::write(&config, bus_config(&socket)).unwrap();

        let bus = Command::new(dbus_daemon)
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        wait_for(|| socket.exists(), "dbus-daemon to create its socket");

        SecretService {
            dir,
            bus,
            keyring: None,
        }
    }

    /// The address for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> String {
        format!("unix:path={}", self.dir.path().join("bus").display())
    }

    fn start_keyring(&mut self) {
        let daemon = require_tool("gnome-keyring-daemon");
        let home = self.dir.path().join("keyring-home");
        fs::create_dir_all(&home).unwrap();

        let mut keyring = Command::new(daemon)
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.path())
            .env("DBUS_SESSION_BUS_ADDRESS", self.address())
            .env_remove("DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        // An empty line is the empty password: gnome-keyring creates and unlocks the login keyring.
        keyring.stdin.take().unwrap().write_all(b"\n").unwrap();
        self.keyring = Some(keyring);

        wait_for(
            || self.has_default_collection(),
            "gnome-keyring to publish its default collection",
        );
    }

    fn has_default_collection(&self) -> bool {
        self.dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.ReadAlias",
            "string:default",
        ])
        .is_some_and(|reply| reply.contains("/org/freedesktop/secrets/collection/"))
    }

    /// Locks the default collection, as a screen lock or a timeout would.
    pub fn lock_default_collection(&self) {
        let reply = self
            .dbus_send(&[
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/aliases/default",
            ])
            .expect("lock the default collection");
        assert!(
            reply.contains("/org/freedesktop/secrets/"),
            "unexpected reply to Lock: {reply}"
        );
    }

    /// Looks up the secret of the helper's item for `key` with secret-tool, a
    /// libsecret client independent of the helper.
    pub fn lookup(&self, key: &str) -> Option<String> {
        let output = Command::new(require_tool("secret-tool"))
            .args([
                "lookup",
                "service",
                "docker-credential-atcr",
                "username",
                key,
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", self.address())
            .output()
            .expect("run secret-tool");
        output
            .status
            .success()
            .then(|| String::from_utf8(output.stdout).unwrap())
    }

    fn dbus_send(&self, args: &[&str]) -> Option<String> {
        let output = Command::new(require_tool("dbus-send"))
            .arg(format!("--bus={}", self.address()))
            .args(["--print-reply", "--reply-timeout=2000"])
            .args(args)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        if let Some(keyring) = &mut self.keyring {
            let _ = keyring.kill();
            let _ = keyring.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// A Unix socket that accepts connections and never answers: a hung bus.
pub struct HungBus {
    dir: tempfile::TempDir,
    listener: UnixListener,
}

impl HungBus {
    pub fn start() -> HungBus {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("bus")).unwrap();
        listener.set_nonblocking(true).unwrap();
        HungBus { dir, listener }
    }

    pub fn address(&self) -> String {
        format!("unix:path={}", self.dir.path().join("bus").display())
    }

    /// Counts the connections waiting in the backlog (each is accepted and kept open).
    pub fn connection_count(&self) -> usize {
        let mut count = 0;
        while let Ok((stream, _)) = self.listener.accept() {
            std::mem::forget(stream);
            count += 1;
        }
        count
    }
}

fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
