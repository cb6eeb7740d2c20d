//! Shared fixtures for the integration tests: a sandboxed helper process
//! and a private Secret Service.
//!
//! Every test gets its own HOME, XDG directories and DOCKER_CONFIG, so tests
//! run in parallel without sharing state and never touch the user's files.
//! `SecretService` starts a private D-Bus session bus and a real
//! gnome-keyring on it, unlocked with an empty password.

#![allow(dead_code)]

pub mod appview;
pub mod oci_image;
pub mod registry;
pub mod release_server;
pub mod secret_service;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use secret_service::SecretService;

/// The helper binary that cargo built for these tests.
pub fn helper_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_docker-credential-atcr"))
}

/// Fails with a message naming the missing tool and the script that installs it.
pub fn require_tool(name: &str) -> PathBuf {
    find_on_path(name)
        .unwrap_or_else(|| panic!("{name} is not on PATH: run scripts/install-test-deps.sh"))
}

/// Finds an executable on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A temporary home for one test, and the environment the helper runs in.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, Option<OsString>>,
}

/// What a helper run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn stdout_trimmed(&self) -> &str {
        self.stdout.trim()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {self:?}"))
    }

    /// Panics with the whole run when the exit status is not `expected`.
    pub fn assert_status(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status,
            Some(expected),
            "unexpected exit status: {self:#?}"
        );
        self
    }
}

impl Sandbox {
    /// A sandbox whose helper uses the file store and sees no D-Bus session.
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let mut sandbox = Sandbox {
            dir,
            env: BTreeMap::new(),
        };

        let home = sandbox.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        sandbox.set("HOME", &home);
        sandbox.set("XDG_CONFIG_HOME", home.join(".config"));
        sandbox.set("XDG_DATA_HOME", home.join(".local/share"));
        sandbox.set("XDG_CACHE_HOME", home.join(".cache"));
        sandbox.set("XDG_STATE_HOME", home.join(".local/state"));
        sandbox.set("XDG_RUNTIME_DIR", sandbox.dir.path().join("no-runtime-dir"));
        sandbox.set("DOCKER_CONFIG", home.join(".docker"));
        sandbox.set("ATCR_CREDENTIAL_STORE", "file");
        sandbox.unset("DBUS_SESSION_BUS_ADDRESS");
        sandbox.unset("ATCR_LOG");
        sandbox.unset("ATCR_TOKEN");
        sandbox.unset("ATCR_USERNAME");
        sandbox.unset("ATCR_REGISTRY");
        sandbox
    }

    /// A sandbox whose helper chooses its store itself, with `service`'s bus as its session bus.
    pub fn with_secret_service(service: &SecretService) -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox.unset("ATCR_CREDENTIAL_STORE");
        sandbox.set("DBUS_SESSION_BUS_ADDRESS", service.address());
        sandbox
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// The file store's secrets file.
    pub fn secrets_file(&self) -> PathBuf {
        self.home()
            .join(".local/share/docker-credential-atcr/credentials.json")
    }

    /// The account index.
    pub fn index_file(&self) -> PathBuf {
        self.home()
            .join(".config/docker-credential-atcr/index.json")
    }

    pub fn docker_config(&self) -> PathBuf {
        self.home().join(".docker/config.json")
    }

    pub fn set(&mut self, key: &str, value: impl Into<OsString>) {
        self.env.insert(key.to_owned(), Some(value.into()));
    }

    pub fn unset(&mut self, key: &str) {
        self.env.insert(key.to_owned(), None);
    }

    /// A command for the helper binary with the sandbox's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(helper_binary());
        command.args(args);
        self.apply_env(&mut command);
        command
    }

    /// Applies the sandbox's environment to any command (a client, a script).
    pub fn apply_env(&self, command: &mut Command) {
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
    }

    /// Runs the helper with `stdin` written and closed; kills it after 30 s.
    pub fn run(&self, args: &[&str], stdin: impl AsRef<[u8]>) -> Run {
        let command = self.command(args);
        run_with_stdin(command, stdin.as_ref(), Duration::from_secs(30))
    }

    /// Stores a credential and asserts success.
    pub fn store(&self, server: &str, username: &str, secret: &str) -> Run {
        let request =
            serde_json::json!({"ServerURL": server, "Username": username, "Secret": secret});
        let run = self.run(&["store"], request.to_string());
        run.assert_status(0);
        run
    }

    /// Runs `get` and returns the run.
    pub fn get(&self, server: &str) -> Run {
        self.run(&["get"], server)
    }
}

/// Runs `command`, writes `stdin` and closes it, and waits at most `timeout`.
pub fn run_with_stdin(mut command: Command, stdin: &[u8], timeout: Duration) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = spawn_retrying(&mut command);

    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    // A writer thread, so a child that exits without reading cannot block the test.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let run = wait_with_timeout(child, started, timeout);
    let _ = writer.join();
    run
}

/// Spawns `command`, retrying while the executable is busy: a binary that a
/// test just copied stays open for writing in any child that another test
/// thread forks before that child's exec, and exec then fails with ETXTBSY.
pub fn spawn_retrying(command: &mut Command) -> Child {
    let started = Instant::now();
    loop {
        match command.spawn() {
            Ok(child) => return child,
            Err(error)
                if error.kind() == std::io::ErrorKind::ExecutableFileBusy
                    && started.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("cannot spawn {command:?}: {error}"),
        }
    }
}

/// Waits for `child` and collects its output; kills it after `timeout`.
pub fn wait_with_timeout(mut child: Child, started: Instant, timeout: Duration) -> Run {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read = |pipe: Option<std::process::ChildStdout>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = std::io::Read::read_to_end(&mut pipe, &mut text);
            }
            text
        })
    };
    let stdout_reader = read(stdout);
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut pipe) = stderr {
            let _ = std::io::Read::read_to_end(&mut pipe, &mut text);
        }
        text
    });

    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status.code();
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();

    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr_reader.join().unwrap()).into_owned(),
        elapsed,
    }
}

/// Runs a command to completion and panics with its output if it fails.
pub fn check_output(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
