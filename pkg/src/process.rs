//! Running external tools (cargo, git, dpkg, rpm, makepkg…) with errors that
//! name the command and show what it printed.
//!
//! Every task runs its tools through [`run`] or [`output`], so a failing tool
//! always ends `cargo pkg` with the command line, the exit status and the
//! tool's stderr instead of a bare "exit status 1".

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};

/// Runs `command` with stdout and stderr passed through to the terminal;
/// fails when it cannot start or exits non-zero.
pub fn run(command: &mut Command) -> Result<()> {
    let line = describe(command);
    let status = command.stdin(Stdio::null()).status().with_context(|| {
        format!(
            "failed to start `{line}`: is it installed? scripts/install-pkg-deps.sh installs it"
        )
    })?;
    if !status.success() {
        bail!("`{line}` failed with {status}");
    }
    Ok(())
}

/// Runs `command` and returns its captured output; fails when it cannot start
/// or exits non-zero, with its stderr and stdout in the error.
pub fn output(command: &mut Command) -> Result<Output> {
    let captured = output_unchecked(command)?;
    if !captured.status.success() {
        bail!(
            "`{}` failed with {}\nstderr:\n{}\nstdout:\n{}",
            describe(command),
            captured.status,
            String::from_utf8_lossy(&captured.stderr).trim_end(),
            String::from_utf8_lossy(&captured.stdout).trim_end()
        );
    }
    Ok(captured)
}

/// Runs `command` and returns its captured output whatever its exit status;
/// fails only when it cannot start.
pub fn output_unchecked(command: &mut Command) -> Result<Output> {
    let line = describe(command);
    command.stdin(Stdio::null()).output().with_context(|| {
        format!(
            "failed to start `{line}`: is it installed? scripts/install-pkg-deps.sh installs it"
        )
    })
}

/// Runs `command` and returns its stdout as trimmed UTF-8 text.
pub fn stdout_text(command: &mut Command) -> Result<String> {
    let captured = output(command)?;
    let text = String::from_utf8(captured.stdout)
        .with_context(|| format!("`{}` printed invalid UTF-8", describe(command)))?;
    Ok(text.trim().to_owned())
}

/// Fails with `hint` when `program` is not an executable file on PATH.
pub fn require_program(program: &str, hint: &str) -> Result<()> {
    if find_program(program).is_none() {
        bail!("`{program}` not found on PATH: {hint}");
    }
    Ok(())
}

/// Fails unless `<program> --version` prints `<name> <version>`, the release
/// that scripts/install-pkg-deps.sh pins, because another release may write
/// different bytes and break reproducibility.
pub fn require_version(program: &str, version: &str) -> Result<()> {
    require_program(program, "run scripts/install-pkg-deps.sh to install it")?;
    let printed = stdout_text(Command::new(program).arg("--version"))?;
    if printed.split_whitespace().nth(1) != Some(version) {
        bail!(
            "`{program} --version` prints `{printed}`, but cargo pkg needs {version}: run scripts/install-pkg-deps.sh"
        );
    }
    Ok(())
}

/// Formats a command as a shell-like line for messages.
pub fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Returns the first executable file named `program` in the directories on PATH.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_quotes_spaces() {
        let mut command = Command::new("echo");
        command.args(["plain", "two words", "it's"]);
        assert_eq!(describe(&command), r"echo plain 'two words' 'it'\''s'");
    }

    #[test]
    fn failing_command_names_itself() {
        let error = output(Command::new("sh").args(["-c", "echo broken >&2; exit 3"]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`sh -c 'echo broken >&2; exit 3'` failed"),
            "{error}"
        );
        assert!(error.contains("broken"), "{error}");
    }

    #[test]
    fn missing_program_is_named() {
        let error = require_program("no-such-tool-atcr", "install it")
            .unwrap_err()
            .to_string();
        assert_eq!(error, "`no-such-tool-atcr` not found on PATH: install it");
    }
}
