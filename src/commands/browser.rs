//! Opening the verification URL in a browser, the way `gh auth login` does:
//! never with `--no-browser`, over SSH or without a display; `BROWSER` (a
//! `:`-separated list of commands, `%s` standing for the URL) comes first.

use std::process::{Command, Stdio};

/// Returns why the browser should not be opened, if it should not.
pub fn should_open(no_browser: bool) -> Result<(), &'static str> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if no_browser {
        return Err("--no-browser was given");
    }
    if set("SSH_CONNECTION") || set("SSH_CLIENT") || set("SSH_TTY") {
        return Err("this is an SSH session");
    }
    if cfg!(all(unix, not(target_os = "macos"))) && !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
        return Err("no display (neither DISPLAY nor WAYLAND_DISPLAY is set)");
    }
    Ok(())
}

/// Starts a browser on `url` without waiting for it; returns the command used.
pub fn open(url: &str) -> Result<String, String> {
    if let Ok(browsers) = std::env::var("BROWSER") {
        for entry in browsers
            .split(':')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let mut words = entry.split_whitespace().map(|word| word.replace("%s", url));
            let Some(program) = words.next() else {
                continue;
            };
            let mut args: Vec<String> = words.collect();
            if !entry.contains("%s") {
                args.push(url.to_owned());
            }
            if spawn(&program, &args).is_ok() {
                return Ok(program);
            }
        }
        return Err("no command in BROWSER could be started".into());
    }

    let (program, args): (&str, Vec<String>) = if cfg!(target_os = "macos") {
        ("open", vec![url.to_owned()])
    } else if cfg!(windows) {
        (
            "rundll32",
            vec!["url.dll,FileProtocolHandler".to_owned(), url.to_owned()],
        )
    } else {
        ("xdg-open", vec![url.to_owned()])
    };
    spawn(program, &args)
        .map(|()| program.to_owned())
        .map_err(|error| format!("{program}: {error}"))
}

fn spawn(program: &str, args: &[String]) -> std::io::Result<()> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
}
