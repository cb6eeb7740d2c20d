//! A release server for one test: a minimal HTTP/1.1 file server on
//! 127.0.0.1 that serves a temporary directory in GitHub's release layout
//! (`latest/download/<file>` and `download/v<ver>/<file>`), and the release
//! files to put in it. It stops when the value is dropped.
//!
//! A path marked with [`ReleaseServer::truncate`] is served with its full
//! `Content-Length` but only half of its body before the connection closes,
//! as an interrupted download looks to the client.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// A running release server.
pub struct ReleaseServer {
    dir: tempfile::TempDir,
    port: u16,
    stop: Arc<AtomicBool>,
    truncated: Arc<Mutex<HashSet<String>>>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl ReleaseServer {
    /// Starts a server with an empty release directory.
    pub fn start() -> ReleaseServer {
        let dir = tempfile::tempdir().expect("create the release directory");
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let truncated = Arc::new(Mutex::new(HashSet::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));

        let root = dir.path().to_path_buf();
        let thread = {
            let (stop, truncated, requests) = (stop.clone(), truncated.clone(), requests.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, truncated, requests) =
                        (root.clone(), truncated.clone(), requests.clone());
                    std::thread::spawn(move || serve(stream, &root, &truncated, &requests));
                }
            })
        };
        ReleaseServer {
            dir,
            port,
            stop,
            truncated,
            requests,
            thread: Some(thread),
        }
    }

    /// Returns the base URL to pass as `--base-url`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Publishes `files` as release `version` under `download/v<version>/`, and
    /// under `latest/download/` as well when `latest` is set.
    pub fn publish(&self, version: &str, latest: bool, files: &[(&str, &[u8])]) {
        let mut dirs = vec![self.dir.path().join(format!("download/v{version}"))];
        if latest {
            dirs.push(self.dir.path().join("latest/download"));
        }
        for dir in dirs {
            fs::create_dir_all(&dir).unwrap();
            for (name, data) in files {
                fs::write(dir.join(name), data).unwrap();
            }
        }
    }

    /// Serves `path` (such as `/download/v1.0.0/a.tar.gz`) with half of its body from now on.
    pub fn truncate(&self, path: &str) {
        self.truncated.lock().unwrap().insert(path.to_owned());
    }

    /// Returns the paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it checks the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves one request and closes the connection.
fn serve(
    mut stream: TcpStream,
    root: &Path,
    truncated: &Mutex<HashSet<String>>,
    requests: &Mutex<Vec<String>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let (Some(method), Some(path)) = (words.next(), words.next()) else {
        return;
    };
    requests.lock().unwrap().push(path.to_owned());

    let relative = Path::new(path.trim_start_matches('/'));
    let safe = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    let body = if method == "GET" && safe {
        fs::read(root.join(relative)).ok()
    } else {
        None
    };

    let Some(body) = body else {
        let _ = stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n",
        );
        return;
    };
    let header = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let sent = if truncated.lock().unwrap().contains(path) {
        &body[..body.len() / 2]
    } else {
        &body[..]
    };
    let _ = stream
        .write_all(header.as_bytes())
        .and_then(|()| stream.write_all(sent))
        .and_then(|()| stream.flush());
}

/// Returns the platform part of archive names for this machine: `<OS>_<arch>`.
pub fn platform() -> String {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows",
        other => panic!("no release archive is named for {other}"),
    };
    let arch = if std::env::consts::ARCH == "aarch64" {
        "arm64"
    } else {
        std::env::consts::ARCH
    };
    format!("{os}_{arch}")
}

/// Returns the `.tar.gz` archive name of `version` for this machine.
pub fn archive_name(version: &str) -> String {
    format!("docker-credential-atcr_{version}_{}.tar.gz", platform())
}

/// Builds a `.tar.gz` with `entries` (name, contents, mode) at its top level.
pub fn tar_gz(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gzip);
    for (name, data, mode) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Returns the lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Builds `checksums.txt` for `files` in `sha256sum` format.
pub fn checksums(files: &[(&str, &[u8])]) -> String {
    files
        .iter()
        .map(|(name, data)| format!("{}  {name}\n", sha256_hex(data)))
        .collect()
}

/// A shell script that acts as release `version` of the helper: `version`
/// prints the version line, and anything else fails.
pub fn fake_helper(version: &str) -> Vec<u8> {
    format!(
        "#!/bin/sh\nif [ \"$1\" = version ]; then\n  echo 'docker-credential-atcr {version} (commit test, built 2026-01-01)'\n  exit 0\nfi\necho 'fake helper' >&2\nexit 1\n"
    )
    .into_bytes()
}
