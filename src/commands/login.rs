//! `login [REGISTRY]`: device authorization in the browser, then the device
//! secret goes to the keyring (or the file fallback) and the account to the
//! index, as the registry's active account.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::accounts::{self, Account};
use crate::appview::device::{self, DeviceError, PollObserver};
use crate::appview::{self, AppView};
use crate::commands::browser;
use crate::docker_config;
use crate::store::{Backend, Credentials};

/// Exit status for a login cancelled with Ctrl-C, as shells report SIGINT.
pub const CANCELLED_STATUS: u8 = 130;

/// Runs the device authorization flow against `registry`.
pub fn run(registry: &str, no_browser: bool, credentials: &Credentials) -> Result<()> {
    let appview = AppView::parse(registry)?;
    let http = appview::client(appview::request_timeout()?)?;

    let code = device::request_code(&http, &appview, &device_name())
        .with_context(|| format!("login to {} failed", appview.registry))?;
    let url = printable(
        &code
            .verification_uri_complete
            .clone()
            .unwrap_or_else(|| code.verification_uri.clone()),
    );
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        anyhow::bail!(
            "login to {} failed: the AppView sent the verification URL {url:?}, which is not an http(s) URL",
            appview.registry
        );
    }

    eprintln!(
        "! First copy your one-time code: {}",
        printable(&code.user_code)
    );
    eprintln!("  Then confirm it at: {url}");
    match browser::should_open(no_browser) {
        Ok(()) => match browser::open(&url) {
            Ok(opener) => eprintln!("  Opened {url} with {opener}."),
            Err(error) => eprintln!("  Could not open a browser ({error}); open the URL yourself."),
        },
        Err(reason) => eprintln!("  Not opening a browser: {reason}."),
    }

    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancelled);
    // A second handler cannot be installed in the same process; then Ctrl-C simply ends it.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));

    let mut progress = Progress::new();
    let grant = device::wait_for_grant(&http, &appview, &code, &cancelled, &mut progress);
    progress.clear();
    let grant = grant.map_err(|error| match error {
        DeviceError::Cancelled => anyhow::Error::new(error).context(Cancelled),
        other => anyhow::Error::new(other).context(format!("login to {} failed", appview.registry)),
    })?;

    let account = Account {
        registry: appview.registry.clone(),
        origin: appview.origin.to_string(),
        handle: grant.handle.clone(),
        did: grant.did.clone(),
        logged_in_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs()),
        store: Backend::Keyring,
    };
    let backend =
        accounts::save_login(credentials, account, &grant.device_secret).with_context(|| {
            format!(
                "logged in as {}, but the device secret could not be stored",
                grant.handle
            )
        })?;

    eprintln!(
        "✓ Logged in to {} as {} ({})",
        appview.registry, grant.handle, grant.did
    );
    match backend {
        Backend::Keyring => eprintln!("  The device secret is in the OS keyring."),
        Backend::File => eprintln!(
            "  The device secret is in {}.",
            credentials.paths().secrets_file().display()
        ),
    }
    hint_configure_docker(&appview.registry);
    Ok(())
}

/// Marks an error as a Ctrl-C, for the exit status.
#[derive(Debug)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

fn hint_configure_docker(registry: &str) {
    let Ok(path) = docker_config::default_path() else {
        return;
    };
    if let Ok(plan) = docker_config::plan(&path, &[registry.to_owned()])
        && !plan.changed.is_empty()
    {
        eprintln!(
            "  Docker does not use this helper for {registry} yet: run docker-credential-atcr configure-docker {registry}"
        );
    }
}

/// Replaces control characters, so text from the AppView cannot move the
/// cursor or recolor the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                '?'
            } else {
                character
            }
        })
        .collect()
}

/// Returns the name the AppView shows for this device: the host name.
fn device_name() -> String {
    let from_env = ["COMPUTERNAME", "HOSTNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()));
    let from_proc = || {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
    };
    from_env
        .or_else(from_proc)
        .unwrap_or_else(|| "docker-credential-atcr".to_owned())
}

/// A spinner with the time left on a terminal; one line otherwise.
struct Progress {
    terminal: bool,
    frame: usize,
    announced: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            frame: 0,
            announced: false,
        }
    }

    fn clear(&self) {
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
    }
}

impl PollObserver for Progress {
    fn waiting(&mut self, remaining: Duration) {
        if !self.terminal {
            if !self.announced {
                eprintln!(
                    "  Waiting for confirmation in the browser (the code expires in {} s)...",
                    remaining.as_secs()
                );
                self.announced = true;
            }
            return;
        }
        const FRAMES: [&str; 4] = ["|", "/", "-", "\\"];
        self.frame = (self.frame + 1) % FRAMES.len();
        let seconds = remaining.as_secs();
        eprint!(
            "\r\x1b[2K{} Waiting for confirmation in the browser ({}:{:02} left)",
            FRAMES[self.frame],
            seconds / 60,
            seconds % 60
        );
        let _ = std::io::stderr().flush();
    }

    fn retrying(&mut self, error: &DeviceError, delay: Duration) {
        self.clear();
        eprintln!("  {error}; retrying in {} s", delay.as_secs_f64().ceil());
    }

    fn slowed_down(&mut self, interval: Duration) {
        log::debug!(
            "the AppView asked to slow down: polling every {} s",
            interval.as_secs_f64()
        );
    }
}
