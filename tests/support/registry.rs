//! A private container registry for one test: Distribution's registry
//! (Debian's `docker-registry`, version 2.8) on 127.0.0.1 with htpasswd basic
//! auth and no TLS, storing blobs in a temporary directory. It is killed when
//! the value is dropped.
//!
//! `Registry::get` sends requests through a minimal HTTP/1.0 client, so tests
//! can check what the registry contains with credentials that never pass
//! through the helper.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{check_output, require_tool};

/// How many ports to try when another process takes the chosen port first.
const START_ATTEMPTS: usize = 5;

/// How long the registry may take to accept requests on its port.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running registry and the one account it accepts.
pub struct Registry {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    pub username: String,
    pub password: String,
}

/// The status line, headers and body of one HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// Returns the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Registry {
    /// Starts a registry that accepts only `username` with `password`.
    pub fn start(username: &str, password: &str) -> Registry {
        let docker_registry = require_tool("docker-registry");
        let htpasswd = require_tool("htpasswd");
        let dir = tempfile::tempdir().expect("create the registry's directory");

        // -B selects bcrypt, the only hash that Distribution's htpasswd auth accepts.
        let entry = check_output(Command::new(htpasswd).args(["-Bbn", username, password])).stdout;
        fs::write(dir.path().join("htpasswd"), entry).unwrap();
        fs::create_dir_all(dir.path().join("storage")).unwrap();

        let log_path = dir.path().join("registry.log");
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let config = dir.path().join("config.yml");
            fs::write(&config, registry_config(dir.path(), port)).unwrap();

            let mut child = Command::new(&docker_registry)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&log_path).unwrap())
                .spawn()
                .expect("start docker-registry");
            if wait_until_ready(&mut child, port, &log_path) {
                return Registry {
                    dir,
                    child,
                    port,
                    username: username.to_owned(),
                    password: password.to_owned(),
                };
            }
            // Another process took the port between choosing and binding it: try another.
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start on any of {START_ATTEMPTS} free ports");
    }

    /// Returns the registry's address as clients name it: `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Returns the registry's log so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Sends `GET path` with `accept`, using the registry's account when
    /// `authenticated` is true.
    pub fn get(&self, path: &str, accept: &str, authenticated: bool) -> Response {
        let mut headers = vec![("Accept".to_owned(), accept.to_owned())];
        if authenticated {
            let token = base64(format!("{}:{}", self.username, self.password).as_bytes());
            headers.push(("Authorization".to_owned(), format!("Basic {token}")));
        }
        request(self.port, path, &headers).unwrap_or_else(|error| {
            panic!(
                "GET {path} from the registry failed: {error}\n{}",
                self.log()
            )
        })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `port` responds as a Distribution registry. Returns false if
/// the process exits first, which means that it could not bind the port.
fn wait_until_ready(child: &mut Child, port: u16, log_path: &Path) -> bool {
    let log = || fs::read_to_string(log_path).unwrap_or_default();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll docker-registry") {
            eprintln!(
                "docker-registry on port {port} exited with {status}:\n{}",
                log()
            );
            return false;
        }
        if let Ok(response) = request(port, "/v2/", &[])
            && response.header("Docker-Distribution-Api-Version").is_some()
        {
            return true;
        }
        assert!(
            started.elapsed() < START_TIMEOUT,
            "timed out waiting for docker-registry on port {port}:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Returns a port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port on 127.0.0.1");
    listener.local_addr().unwrap().port()
}

fn registry_config(dir: &Path, port: u16) -> String {
    format!(
        "version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: atcr-test-http-secret
auth:
  htpasswd:
    realm: atcr-test
    path: {htpasswd}
",
        storage = dir.join("storage").display(),
        htpasswd = dir.join("htpasswd").display(),
    )
}

/// Sends one HTTP/1.0 GET to 127.0.0.1:`port`. HTTP/1.0 keeps the response
/// free of chunked encoding, so the body is the bytes after the headers.
fn request(port: u16, path: &str, headers: &[(String, String)]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;

    let mut text = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes())?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::other(format!("invalid HTTP status line {status_line:?}"))
        })?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Encodes `bytes` as standard base64 with padding (RFC 4648, section 4).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let group = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let bits = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for position in 0..4 {
            if position <= chunk.len() {
                encoded.push(ALPHABET[(bits >> (18 - 6 * position) & 0x3f) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}
