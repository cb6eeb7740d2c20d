//! The OAuth 2.0 device authorization grant (RFC 8628) against the AppView:
//! request a device code, then poll for the device secret.
//!
//! Polling obeys `interval` (default 5 s) and `slow_down` (+5 s), stops on
//! `access_denied`, `expired_token` or when `expires_in` passes, and retries
//! server errors (5xx), timeouts and connection failures with exponential
//! backoff inside the expiry window. Showing the code and opening the
//! browser are left to the `login` command.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use thiserror::Error;

use super::AppView;
use crate::identity;
use crate::secret::Secret;

/// The interval RFC 8628 prescribes when the server sends none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// The increase of the interval on each `slow_down`.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest `expires_in` accepted: RFC 8628 codes live for minutes, and
/// the bound keeps deadline arithmetic far from overflow.
const MAX_EXPIRES_IN: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest `interval` accepted.
const MAX_INTERVAL: Duration = Duration::from_secs(600);
/// The maximum wait between retries of a failed request.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The AppView's response to `POST /auth/device/code`.
#[derive(Debug)]
pub struct DeviceCode {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// A completed login.
#[derive(Debug)]
pub struct DeviceGrant {
    pub device_secret: Secret,
    pub handle: String,
    pub did: String,
}

#[derive(Debug, Error)]
pub enum DeviceError {
    #[error("the request to {url} failed: {reason}")]
    Request { url: String, reason: String },
    #[error("{url} returned HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} returned invalid JSON: {reason}")]
    Malformed { url: String, reason: String },
    #[error("{url} returned a response without the field {field:?}")]
    MissingField { url: String, field: &'static str },
    #[error("{url} returned an invalid {field:?}: expected {expected}")]
    InvalidField {
        url: String,
        field: &'static str,
        expected: String,
    },
    #[error("the authorization was denied in the browser; nothing was changed")]
    Denied,
    #[error(
        "the device code expired before it was confirmed: run docker-credential-atcr login again"
    )]
    Expired,
    #[error(
        "the AppView kept failing until the device code expired ({last}): run docker-credential-atcr login again later"
    )]
    GaveUp { last: Box<DeviceError> },
    #[error("login cancelled; nothing was changed")]
    Cancelled,
}

impl DeviceError {
    /// Reports whether retrying the same request may succeed.
    fn is_transient(&self) -> bool {
        match self {
            DeviceError::Request { .. } => true,
            DeviceError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// Receives what happens while polling, for the progress display.
pub trait PollObserver {
    /// Called about ten times a second while waiting, with the time left.
    fn waiting(&mut self, remaining: Duration);
    /// Called when a request failed and will be retried after `delay`.
    fn retrying(&mut self, error: &DeviceError, delay: Duration);
    /// Called when the AppView asked to poll less often.
    fn slowed_down(&mut self, interval: Duration);
}

/// Requests a device code for this machine.
pub fn request_code(
    client: &Client,
    appview: &AppView,
    device_name: &str,
) -> Result<DeviceCode, DeviceError> {
    let url = appview.url("/auth/device/code");
    let response = send(
        client
            .post(url.clone())
            .json(&json!({ "device_name": device_name })),
        url.as_str(),
    )?;
    let body = json_body(response, url.as_str())?;

    let field = |name: &'static str| -> Result<String, DeviceError> {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(DeviceError::MissingField {
                url: url.to_string(),
                field: name,
            })
    };
    let expires_in = seconds_field(&body, "expires_in", MAX_EXPIRES_IN, url.as_str())?.ok_or(
        DeviceError::MissingField {
            url: url.to_string(),
            field: "expires_in",
        },
    )?;
    let interval = seconds_field(&body, "interval", MAX_INTERVAL, url.as_str())?;

    Ok(DeviceCode {
        device_code: Secret::new(field("device_code")?),
        user_code: field("user_code")?,
        verification_uri: field("verification_uri")?,
        verification_uri_complete: body
            .get("verification_uri_complete")
            .and_then(Value::as_str)
            .map(str::to_owned),
        expires_in,
        interval: interval.unwrap_or(DEFAULT_INTERVAL),
    })
}

/// Reads an optional number of seconds, which must be above 0 and at most `max`.
fn seconds_field(
    body: &Value,
    field: &'static str,
    max: Duration,
    url: &str,
) -> Result<Option<Duration>, DeviceError> {
    let Some(value) = body.get(field) else {
        return Ok(None);
    };
    let invalid = || DeviceError::InvalidField {
        url: url.to_owned(),
        field,
        expected: format!("a number of seconds above 0 and at most {}", max.as_secs()),
    };
    let seconds = value.as_f64().ok_or_else(invalid)?;
    if !(seconds > 0.0 && seconds <= max.as_secs_f64()) {
        return Err(invalid());
    }
    Ok(Some(Duration::from_secs_f64(seconds)))
}

/// Polls until the user confirms, denies or the code expires.
pub fn wait_for_grant(
    client: &Client,
    appview: &AppView,
    code: &DeviceCode,
    cancelled: &AtomicBool,
    observer: &mut dyn PollObserver,
) -> Result<DeviceGrant, DeviceError> {
    let deadline = Instant::now() + code.expires_in;
    let mut interval = code.interval;
    let mut backoff = Duration::from_secs(1);
    let mut last_error: Option<DeviceError> = None;
    let mut delay = interval;

    loop {
        sleep_until(Instant::now() + delay, deadline, cancelled, observer)?;
        if Instant::now() >= deadline {
            return Err(
                last_error.map_or(DeviceError::Expired, |last| DeviceError::GaveUp {
                    last: Box::new(last),
                }),
            );
        }

        match poll_once(client, appview, code) {
            Ok(Poll::Granted(grant)) => return Ok(grant),
            Ok(Poll::Pending) => delay = interval,
            Ok(Poll::SlowDown) => {
                interval += SLOW_DOWN_STEP;
                observer.slowed_down(interval);
                delay = interval;
            }
            Err(error) if error.is_transient() => {
                delay = backoff.max(interval);
                observer.retrying(&error, delay);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                last_error = Some(error);
                continue;
            }
            Err(error) => return Err(error),
        }
        backoff = Duration::from_secs(1);
        last_error = None;
    }
}

enum Poll {
    Granted(DeviceGrant),
    Pending,
    SlowDown,
}

fn poll_once(client: &Client, appview: &AppView, code: &DeviceCode) -> Result<Poll, DeviceError> {
    let url = appview.url("/auth/device/token");
    let request = client
        .post(url.clone())
        .json(&json!({ "device_code": code.device_code.expose() }));
    let response = request
        .send()
        .map_err(|error| request_error(url.as_str(), &error))?;
    let status = response.status();

    if status == StatusCode::BAD_REQUEST {
        let body = json_body(response, url.as_str())?;
        return match body.get("error").and_then(Value::as_str) {
            Some("authorization_pending") => Ok(Poll::Pending),
            Some("slow_down") => Ok(Poll::SlowDown),
            Some("access_denied") => Err(DeviceError::Denied),
            Some("expired_token") => Err(DeviceError::Expired),
            Some(other) => Err(DeviceError::Status {
                url: url.to_string(),
                status: 400,
                body: format!("error {other:?}"),
            }),
            None => Err(DeviceError::MissingField {
                url: url.to_string(),
                field: "error",
            }),
        };
    }

    let body = json_body(check_status(response, url.as_str())?, url.as_str())?;
    let field = |name: &'static str| -> Result<String, DeviceError> {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or(DeviceError::MissingField {
                url: url.to_string(),
                field: name,
            })
    };
    // The handle and DID are printed and stored, so a value that is not an
    // identifier (with control characters, say) is rejected, and not quoted.
    let invalid = |field: &'static str, expected: &str| DeviceError::InvalidField {
        url: url.to_string(),
        field,
        expected: expected.to_owned(),
    };
    let handle = field("handle")?;
    if !identity::is_handle(&handle) {
        return Err(invalid(
            "handle",
            "an AT Protocol handle such as alice.bsky.social",
        ));
    }
    let did = field("did")?;
    if !identity::is_did(&did) {
        return Err(invalid("did", "a DID such as did:plc:abc123"));
    }
    // The secret goes into Basic authentication headers and Docker's
    // config, where a space or a line break would split or end it.
    let device_secret = Secret::new(field("device_secret")?);
    if device_secret
        .expose()
        .chars()
        .any(|character| character.is_whitespace() || character.is_control())
    {
        return Err(invalid(
            "device_secret",
            "a token without spaces or control characters",
        ));
    }
    Ok(Poll::Granted(DeviceGrant {
        device_secret,
        handle,
        did,
    }))
}

/// Sleeps until `until` (or `deadline`, if sooner), waking to report progress and check for Ctrl-C.
fn sleep_until(
    until: Instant,
    deadline: Instant,
    cancelled: &AtomicBool,
    observer: &mut dyn PollObserver,
) -> Result<(), DeviceError> {
    let until = until.min(deadline);
    loop {
        if cancelled.load(Ordering::SeqCst) {
            return Err(DeviceError::Cancelled);
        }
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        observer.waiting(deadline.saturating_duration_since(now));
        std::thread::sleep((until - now).min(Duration::from_millis(100)));
    }
}

fn send(request: reqwest::blocking::RequestBuilder, url: &str) -> Result<Response, DeviceError> {
    let response = request.send().map_err(|error| request_error(url, &error))?;
    check_status(response, url)
}

fn check_status(response: Response, url: &str) -> Result<Response, DeviceError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().unwrap_or_default();
    Err(DeviceError::Status {
        url: url.to_owned(),
        status: status.as_u16(),
        body: summarize(&body),
    })
}

/// Parses a response body as a JSON object, whatever the status.
fn json_body(response: Response, url: &str) -> Result<Value, DeviceError> {
    let text = response
        .text()
        .map_err(|error| request_error(url, &error))?;
    let value: Value = serde_json::from_str(&text).map_err(|error| DeviceError::Malformed {
        url: url.to_owned(),
        reason: error.to_string(),
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(DeviceError::Malformed {
            url: url.to_owned(),
            reason: "the body is not a JSON object".into(),
        })
    }
}

fn request_error(url: &str, error: &reqwest::Error) -> DeviceError {
    let reason = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.to_string()
    };
    DeviceError::Request {
        url: url.to_owned(),
        reason,
    }
}

/// Shortens an error body for a one-line message. Bodies of error responses
/// never carry the device secret: it is only sent on success.
fn summarize(body: &str) -> String {
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.len() > 200 {
        format!("{}…", &line[..line.floor_char_boundary(200)])
    } else {
        line
    }
}
