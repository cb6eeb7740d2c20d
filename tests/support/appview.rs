//! A test AppView on 127.0.0.1: the device authorization endpoints and the
//! token service, scripted per test.
//!
//! Token polls consume `TokenReply`s from a queue; when the queue is empty
//! the login is granted. The token service accepts the device secrets it
//! granted unless they were revoked. Every request is recorded.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One scripted answer to `POST /auth/device/token`.
#[derive(Debug, Clone)]
pub enum TokenReply {
    Pending,
    SlowDown,
    Denied,
    Expired,
    ServerError,
    /// Waits this long before answering `authorization_pending`.
    Stall(Duration),
    Malformed,
    /// Grants this account instead of the default one.
    Grant {
        handle: String,
        did: String,
        secret: String,
    },
    /// Grants with a body that lacks `did`.
    GrantWithoutDid,
}

/// A request the AppView received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub user_agent: String,
    pub authorization: String,
    pub body: String,
}

#[derive(Debug)]
struct State {
    token_replies: VecDeque<TokenReply>,
    default_grant: (String, String, String),
    granted: Vec<(String, String)>,
    revoked: HashSet<String>,
    expires_in: f64,
    interval: f64,
    code_status: u16,
    token_service_stall: Option<Duration>,
    token_service_redirect: Option<String>,
    requests: Vec<Recorded>,
}

/// The running server; it stops when the test process ends.
pub struct AppView {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl AppView {
    /// Starts an AppView that grants `alice.bsky.social` after the scripted replies.
    pub fn start() -> AppView {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            token_replies: VecDeque::new(),
            default_grant: (
                "alice.bsky.social".into(),
                "did:plc:alice".into(),
                "atcr_device_alice".into(),
            ),
            granted: Vec::new(),
            revoked: HashSet::new(),
            expires_in: 30.0,
            interval: 0.05,
            code_status: 200,
            token_service_stall: None,
            token_service_redirect: None,
            requests: Vec::new(),
        }));

        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                thread::spawn(move || {
                    let _ = handle(stream, &state, port);
                });
            }
        });
        AppView { port, state }
    }

    /// The registry argument for `login`: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The registry's server key, as Docker sends it to `get`.
    pub fn registry(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn push_replies(&self, replies: impl IntoIterator<Item = TokenReply>) {
        self.state.lock().unwrap().token_replies.extend(replies);
    }

    /// Sets the account granted once the scripted replies run out.
    pub fn set_default_grant(&self, handle: &str, did: &str, secret: &str) {
        self.state.lock().unwrap().default_grant = (handle.into(), did.into(), secret.into());
    }

    pub fn set_timing(&self, expires_in: f64, interval: f64) {
        let mut state = self.state.lock().unwrap();
        state.expires_in = expires_in;
        state.interval = interval;
    }

    /// Makes `POST /auth/device/code` answer with this status.
    pub fn set_code_status(&self, status: u16) {
        self.state.lock().unwrap().code_status = status;
    }

    pub fn revoke(&self, secret: &str) {
        self.state.lock().unwrap().revoked.insert(secret.into());
    }

    /// Makes the token service wait this long before answering.
    pub fn stall_token_service(&self, delay: Duration) {
        self.state.lock().unwrap().token_service_stall = Some(delay);
    }

    /// Makes the token service answer with a 302 to `location`.
    pub fn redirect_token_service(&self, location: &str) {
        self.state.lock().unwrap().token_service_redirect = Some(location.to_owned());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The number of polls of `POST /auth/device/token`.
    pub fn poll_count(&self) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.path == "/auth/device/token")
            .count()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>, port: u16) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();

    let mut content_length = 0;
    let mut user_agent = String::new();
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        let value = value.trim().to_owned();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => content_length = value.parse().unwrap_or(0),
            "user-agent" => user_agent = value,
            "authorization" => authorization = value,
            _ => {}
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let path = target.split('?').next().unwrap_or("").to_owned();

    state.lock().unwrap().requests.push(Recorded {
        method: method.clone(),
        path: path.clone(),
        user_agent,
        authorization: authorization.clone(),
        body: body.clone(),
    });

    let (status, reply) = match (method.as_str(), path.as_str()) {
        ("POST", "/auth/device/code") => device_code(state, port),
        ("POST", "/auth/device/token") => device_token(state),
        ("GET", "/auth/token") => {
            let redirect = state.lock().unwrap().token_service_redirect.clone();
            if let Some(location) = redirect {
                return respond_redirect(stream, &location);
            }
            token_service(state, &authorization)
        }
        _ => (404, r#"{"error":"not_found"}"#.to_owned()),
    };
    respond(stream, status, &reply)
}

fn device_code(state: &Mutex<State>, port: u16) -> (u16, String) {
    let state = state.lock().unwrap();
    if state.code_status != 200 {
        return (state.code_status, r#"{"error":"server_error"}"#.into());
    }
    let body = serde_json::json!({
        "device_code": "device-code-1",
        "user_code": "WDJB-MJHT",
        "verification_uri": format!("http://127.0.0.1:{port}/device"),
        "verification_uri_complete": format!("http://127.0.0.1:{port}/device?code=WDJB-MJHT"),
        "expires_in": state.expires_in,
        "interval": state.interval,
        "unknown_extra_field": true,
    });
    (200, body.to_string())
}

fn device_token(state: &Mutex<State>) -> (u16, String) {
    let reply = state.lock().unwrap().token_replies.pop_front();
    let error = |code: &str| (400, format!(r#"{{"error":"{code}"}}"#));
    match reply {
        Some(TokenReply::Pending) => error("authorization_pending"),
        Some(TokenReply::SlowDown) => error("slow_down"),
        Some(TokenReply::Denied) => error("access_denied"),
        Some(TokenReply::Expired) => error("expired_token"),
        Some(TokenReply::ServerError) => (500, "internal error".into()),
        Some(TokenReply::Stall(delay)) => {
            thread::sleep(delay);
            error("authorization_pending")
        }
        Some(TokenReply::Malformed) => (200, "{\"device_secret\": ".into()),
        Some(TokenReply::GrantWithoutDid) => (
            200,
            r#"{"device_secret":"atcr_device_x","handle":"x.example"}"#.into(),
        ),
        Some(TokenReply::Grant {
            handle,
            did,
            secret,
        }) => grant(state, &handle, &did, &secret),
        None => {
            let (handle, did, secret) = state.lock().unwrap().default_grant.clone();
            grant(state, &handle, &did, &secret)
        }
    }
}

fn grant(state: &Mutex<State>, handle: &str, did: &str, secret: &str) -> (u16, String) {
    state
        .lock()
        .unwrap()
        .granted
        .push((handle.to_owned(), secret.to_owned()));
    (
        200,
        serde_json::json!({"device_secret": secret, "handle": handle, "did": did, "extra": 1})
            .to_string(),
    )
}

fn token_service(state: &Mutex<State>, authorization: &str) -> (u16, String) {
    let stall = state.lock().unwrap().token_service_stall;
    if let Some(delay) = stall {
        thread::sleep(delay);
    }
    let state = state.lock().unwrap();
    let accepted = state.granted.iter().any(|(handle, secret)| {
        !state.revoked.contains(secret)
            && authorization == format!("Basic {}", base64(&format!("{handle}:{secret}")))
    });
    if accepted {
        (200, r#"{"token":"eyJ0.e30.sig","expires_in":300}"#.into())
    } else {
        (401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.into())
    }
}

fn respond(mut stream: TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn respond_redirect(mut stream: TcpStream, location: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()
}

/// Standard base64 with padding, for comparing Basic credentials.
pub fn base64(input: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
