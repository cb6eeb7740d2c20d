//! A static file server on 127.0.0.1 for the package-manager checks, so
//! apt fetches the test repository over HTTP as it would from a mirror.
//!
//! It serves GET and HEAD for files under one directory, one request per
//! connection (`Connection: close`), and stops when dropped. It binds to an
//! ephemeral port on the loopback address only.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

/// A running server; dropping it stops the server thread.
pub struct Server {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving the files under `root` on 127.0.0.1 at a free port.
    pub fn start(root: &Path) -> Result<Server> {
        let listener =
            TcpListener::bind("127.0.0.1:0").context("cannot bind a port on 127.0.0.1")?;
        let address = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        eprintln!("  serving {} on http://{address}/", root.display());
        let root = root.to_path_buf();
        let flag = Arc::clone(&stopping);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Err(error) = serve(stream, &root) {
                    eprintln!("  http server on {address}: {error}");
                }
            }
        });
        Ok(Server {
            address,
            stopping,
            thread: Some(thread),
        })
    }

    /// Returns the base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread reads the flag and ends.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request from `stream` and sends the response.
fn serve(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }

    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let mut stream = stream;
    if request_line.is_empty() {
        return Ok(());
    }
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, "405 Method Not Allowed", b"", method == "HEAD");
    }
    match resolve(root, target).and_then(|path| std::fs::read(path).ok()) {
        Some(body) => respond(&mut stream, "200 OK", &body, method == "HEAD"),
        None => respond(&mut stream, "404 Not Found", b"", method == "HEAD"),
    }
}

/// Maps a request target to a file under `root`; `None` for anything that
/// could escape it (`..`, absolute segments) or is not a file.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?.trim_start_matches('/');
    let relative = Path::new(path);
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let full = root.join(relative);
    full.is_file().then_some(full)
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(server: &Server, target: &str) -> String {
        let mut stream = TcpStream::connect(server.address).unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn serves_files_and_rejects_escapes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("dists/stable")).unwrap();
        std::fs::write(root.path().join("dists/stable/Release"), b"Suite: stable\n").unwrap();
        let server = Server::start(root.path()).unwrap();

        let found = get(&server, "/dists/stable/Release");
        assert!(found.starts_with("HTTP/1.1 200 OK\r\n"), "{found}");
        assert!(found.ends_with("\r\n\r\nSuite: stable\n"), "{found}");

        let missing = get(&server, "/dists/stable/InRelease");
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

        let escape = get(&server, "/../etc/passwd");
        assert!(escape.starts_with("HTTP/1.1 404"), "{escape}");
        assert!(server.url().starts_with("http://127.0.0.1:"));
    }
}
