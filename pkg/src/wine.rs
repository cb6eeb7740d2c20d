//! A private wine prefix for running the Windows build on Linux.
//!
//! The prefix lives under `target/` and is created on first use with
//! `wineboot`. It runs headless: `WINEDEBUG=-all` silences wine's own
//! logging, and `WINEDLLOVERRIDES="mscoree,mshtml="` turns off the Mono and
//! Gecko installers that would otherwise ask for a display. A persistent
//! `wineserver` keeps later starts fast, and dropping the [`WinePrefix`] stops it.
//!
//! Wine 8.0 (Debian 12) has no `bcryptprimitives.dll`, which every Rust
//! program built by Rust 1.78 or later imports for `ProcessPrng`. The
//! prefix therefore gets a test-only replacement, built with MinGW from
//! `tests/wine/bcryptprimitives.c`. It is never packaged.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The MinGW C compiler that builds the test DLL.
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";

/// A wine prefix owned by `cargo pkg`.
pub struct WinePrefix {
    path: PathBuf,
}

/// The output and exit code of one program run under wine.
#[derive(Debug, Clone)]
pub struct WineRun {
    /// The exit code, or `None` when the program was killed at its deadline.
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl WineRun {
    /// Describes the run for an error message.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}, stdout {:?}, stderr {:?}",
            self.status,
            shorten(&self.stdout),
            shorten(&self.stderr)
        )
    }
}

impl WinePrefix {
    /// Creates (or reuses) the prefix at `path` and installs the test DLL
    /// built from `shim_source`.
    pub fn open(path: &Path, shim_source: &Path) -> Result<WinePrefix> {
        require_tool("wine", "scripts/install-windows-deps.sh installs it")?;
        fs::create_dir_all(path)
            .with_context(|| format!("cannot create the wine prefix folder {}", path.display()))?;
        let path = fs::canonicalize(path)?;
        let prefix = WinePrefix { path };

        let system32 = prefix.system32();
        if !system32.join("kernel32.dll").exists() {
            eprintln!(
                "creating the wine prefix {} (about 20 s)",
                prefix.path.display()
            );
            // wineboot leaves wineserver and winedevice.exe running, so their output goes to the null device:
            // a pipe would stay open after wineboot exits.
            let status = prefix
                .command("wineboot")
                .arg("--init")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .context("cannot run wineboot")?;
            if !system32.join("kernel32.dll").exists() {
                bail!(
                    "wineboot --init ({status}) did not create the prefix {}: run it by hand with WINEPREFIX set to see why",
                    prefix.path.display()
                );
            }
        }

        let dll = system32.join("bcryptprimitives.dll");
        build_shim(shim_source, &dll)?;
        // A persistent wineserver saves about a second per start. It is started here, with no pipe
        // of ours as its output, because a wineserver that `wine` starts inherits that run's stdout
        // and stderr and keeps them open after the run ends.
        let _ = prefix
            .command("wineserver")
            .arg("-p")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // The first program in a fresh wineserver session starts services.exe and winedevice.exe,
        // which inherit its output pipes. `wineboot` starts them here with no pipe of ours.
        let _ = prefix
            .command("wineboot")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        Ok(prefix)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the Linux path of `C:\windows\system32`.
    pub fn system32(&self) -> PathBuf {
        self.path.join("drive_c/windows/system32")
    }

    /// Returns the Linux path of `C:\Program Files`.
    pub fn program_files(&self) -> PathBuf {
        self.path.join("drive_c/Program Files")
    }

    /// Lists the Linux paths of every user's `AppData\Roaming` folder (one per Unix
    /// user that has used the prefix).
    pub fn roaming_app_data_dirs(&self) -> Vec<PathBuf> {
        let users = self.path.join("drive_c/users");
        let Ok(entries) = fs::read_dir(&users) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path().join("AppData/Roaming"))
            .filter(|dir| dir.is_dir())
            .collect()
    }

    /// Creates a `wine`-family command (`wine`, `wineboot`, `wineserver`) with the
    /// prefix and the headless settings in its environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("WINEPREFIX", &self.path)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env("WINEARCH", "win64")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        command
    }

    /// Runs `wine PROGRAM ARGS…` with `stdin` written and closed, in the
    /// working directory `cwd`; kills it after `timeout`.
    pub fn run(
        &self,
        program: impl Into<OsString>,
        args: &[&str],
        env: &[(String, Option<String>)],
        stdin: &[u8],
        cwd: &Path,
        timeout: Duration,
    ) -> Result<WineRun> {
        let command = self.program_command(program, args, env, cwd);
        run_with_stdin(command, Some(stdin), timeout)
    }

    /// Runs `wine PROGRAM ARGS…` with a stdin pipe that stays open and is
    /// never written, as a terminal-less client that forgot to close it.
    pub fn run_held_stdin(
        &self,
        program: impl Into<OsString>,
        args: &[&str],
        env: &[(String, Option<String>)],
        cwd: &Path,
        timeout: Duration,
    ) -> Result<WineRun> {
        let command = self.program_command(program, args, env, cwd);
        run_with_stdin(command, None, timeout)
    }

    /// Returns the command `wine PROGRAM ARGS…` in `cwd`, with the `env`
    /// changes applied (`None` unsets the variable).
    fn program_command(
        &self,
        program: impl Into<OsString>,
        args: &[&str],
        env: &[(String, Option<String>)],
        cwd: &Path,
    ) -> Command {
        let mut command = self.command("wine");
        command.arg(program.into()).args(args).current_dir(cwd);
        for (key, value) in env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }

    /// Runs `wine reg …` and returns its output; fails on a non-zero exit.
    pub fn reg(&self, args: &[&str]) -> Result<String> {
        let output = self
            .command("wine")
            .arg("reg")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("cannot run wine reg")?;
        if !output.status.success() {
            bail!(
                "wine reg {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Returns the data of a registry value, or `None` when it does not exist.
    pub fn reg_value(&self, key: &str, name: &str) -> Result<Option<String>> {
        let output = self
            .command("wine")
            .args(["reg", "query", key, "/v", name])
            .stdin(Stdio::null())
            .output()
            .context("cannot run wine reg")?;
        if !output.status.success() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text.lines().find_map(|line| parse_reg_line(line, name)))
    }

    /// Converts a Linux path to the Windows path that wine uses (`Z:\…`).
    pub fn windows_path(&self, path: &Path) -> Result<String> {
        let absolute =
            fs::canonicalize(path).with_context(|| format!("{} does not exist", path.display()))?;
        Ok(format!(
            "Z:{}",
            absolute.display().to_string().replace('/', "\\")
        ))
    }
}

impl Drop for WinePrefix {
    /// Stops the prefix's wineserver and every program still running in it, so no check leaves a
    /// wine process behind.
    fn drop(&mut self) {
        let _ = self
            .command("wineserver")
            .arg("-k")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Parses one line of `reg query` output: `    NAME    REG_TYPE    DATA`.
fn parse_reg_line(line: &str, name: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix(name)?;
    let rest = rest.trim_start();
    let (kind, data) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    kind.starts_with("REG_").then(|| data.trim().to_owned())
}

/// Compiles the `ProcessPrng` DLL into `destination` unless it is newer
/// than its source.
fn build_shim(source: &Path, destination: &Path) -> Result<()> {
    let definition = source.with_extension("def");
    let up_to_date = |input: &Path| -> bool {
        match (
            fs::metadata(input).and_then(|m| m.modified()),
            fs::metadata(destination).and_then(|m| m.modified()),
        ) {
            (Ok(input), Ok(output)) => output >= input,
            _ => false,
        }
    };
    if up_to_date(source) && up_to_date(&definition) {
        return Ok(());
    }

    require_tool(
        MINGW_GCC,
        "install gcc-mingw-w64-x86-64 (scripts/install-windows-deps.sh)",
    )?;
    let output = Command::new(MINGW_GCC)
        .args(["-O2", "-shared", "-o"])
        .arg(destination)
        .arg(source)
        .arg(&definition)
        .arg("-lbcrypt")
        .output()
        .context("cannot run the MinGW compiler")?;
    if !output.status.success() {
        bail!(
            "{MINGW_GCC} failed to build {} from {}:\n{}",
            destination.display(),
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Fails with `hint` when `name` is not an executable on PATH.
pub fn require_tool(name: &str, hint: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{name} is not on PATH: {hint}"))
}

/// Runs `command`, writes `stdin` and closes it (or keeps the pipe open
/// unwritten when `stdin` is `None`), and kills it after `timeout`.
pub fn run_with_stdin(
    mut command: Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> Result<WineRun> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;

    let mut pipe = child.stdin.take();
    let mut held = None;
    let mut writer = None;
    match stdin {
        Some(bytes) => {
            let bytes = bytes.to_vec();
            let mut pipe = pipe.take();
            // A writer thread, so a program that exits without reading cannot block the check.
            writer = Some(thread::spawn(move || {
                if let Some(pipe) = pipe.as_mut() {
                    let _ = pipe.write_all(&bytes);
                }
            }));
        }
        None => held = pipe.take(),
    }
    let run = wait_with_timeout(&mut child, started, timeout);
    drop(held);
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    run
}

fn wait_with_timeout(child: &mut Child, started: Instant, timeout: Duration) -> Result<WineRun> {
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());

    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status.code();
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();

    // A process that the program started can keep the pipes open after the program exits, so the
    // output is taken once the pipes close or after a grace period, whichever comes first.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !(stdout.is_finished() && stderr.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    let stdout = String::from_utf8_lossy(&stdout.output()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.output()).into_owned();
    Ok(WineRun {
        status,
        stdout,
        stderr,
        elapsed,
    })
}

/// A thread that reads a pipe to its end into a shared buffer.
struct PipeReader {
    buffer: Arc<Mutex<Vec<u8>>>,
    thread: thread::JoinHandle<()>,
}

impl PipeReader {
    fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Returns what the pipe delivered so far.
    fn output(&self) -> Vec<u8> {
        self.buffer
            .lock()
            .map(|bytes| bytes.clone())
            .unwrap_or_default()
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> PipeReader {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let shared = Arc::clone(&buffer);
    let thread = thread::spawn(move || {
        let Some(mut pipe) = pipe else { return };
        let mut chunk = [0u8; 8192];
        while let Ok(count) = pipe.read(&mut chunk) {
            if count == 0 {
                break;
            }
            if let Ok(mut bytes) = shared.lock() {
                bytes.extend_from_slice(&chunk[..count]);
            }
        }
    });
    PipeReader { buffer, thread }
}

/// Cuts long output for error messages.
pub fn shorten(text: &str) -> String {
    const LIMIT: usize = 400;
    if text.len() <= LIMIT {
        text.to_owned()
    } else {
        format!(
            "{}… ({} bytes)",
            &text[..text.floor_char_boundary(LIMIT)],
            text.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_line_parses_type_and_data() {
        let line =
            "    PATH    REG_EXPAND_SZ    %SystemRoot%\\system32;C:\\Program Files\\x\\bin\\";
        assert_eq!(
            parse_reg_line(line, "PATH").as_deref(),
            Some("%SystemRoot%\\system32;C:\\Program Files\\x\\bin\\")
        );
        assert_eq!(
            parse_reg_line("    PATHEXT    REG_SZ    .COM", "PATH"),
            None
        );
        assert_eq!(parse_reg_line("HKEY_LOCAL_MACHINE\\System", "PATH"), None);
    }
}
