//! The command line of the process that ran the helper, so that `get` can
//! see which image `docker push` or `podman pull` is working on.
//!
//! Linux reads `/proc/<ppid>/cmdline`, macOS asks `ps`, Windows reads the
//! parent's command line through `sysinfo`, which uses the process snapshot
//! API. Every failure yields `None`: the caller then falls back to the
//! active account.

/// Returns the parent process's argv, or `None` when it cannot be read.
/// Callers must not log it: other arguments of the parent (such as
/// `--src-creds user:password`) can be secrets.
pub fn command_line() -> Option<Vec<String>> {
    platform::command_line()
}

#[cfg(target_os = "linux")]
mod platform {
    pub fn command_line() -> Option<Vec<String>> {
        let parent = std::os::unix::process::parent_id();
        let bytes = std::fs::read(format!("/proc/{parent}/cmdline")).ok()?;
        let argv: Vec<String> = bytes
            .split(|byte| *byte == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        (!argv.is_empty()).then_some(argv)
    }
}

#[cfg(target_os = "macos")]
mod platform {
    pub fn command_line() -> Option<Vec<String>> {
        let parent = std::os::unix::process::parent_id().to_string();
        let output = std::process::Command::new("/bin/ps")
            .args(["-o", "args=", "-ww", "-p", &parent])
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        // ps joins arguments with spaces; image references contain none, so splitting is safe for matching.
        let text = String::from_utf8_lossy(&output.stdout);
        let argv: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        (!argv.is_empty()).then_some(argv)
    }
}

#[cfg(windows)]
mod platform {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

    pub fn command_line() -> Option<Vec<String>> {
        let mut system = System::new();
        let me = Pid::from_u32(std::process::id());
        let refresh = ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always);
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&[me]), true, refresh);
        let parent = system.process(me)?.parent()?;
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&[parent]), true, refresh);
        let argv: Vec<String> = system
            .process(parent)?
            .cmd()
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        (!argv.is_empty()).then_some(argv)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod platform {
    pub fn command_line() -> Option<Vec<String>> {
        None
    }
}
