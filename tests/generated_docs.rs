//! Shell completions and the man page come from the clap definition.

mod support;

use support::Sandbox;

const COMMANDS: [&str; 13] = [
    "get",
    "store",
    "erase",
    "list",
    "version",
    "login",
    "logout",
    "status",
    "switch",
    "doctor",
    "update",
    "configure-docker",
    "completions",
];

#[test]
fn completions_for_every_shell() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = sandbox.run(&["completions", shell], "");
        run.assert_status(0);
        for command in COMMANDS {
            assert!(
                run.stdout.contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
}

#[test]
fn bash_completion_parses() {
    let sandbox = Sandbox::new();
    let script = sandbox.path().join("completion.bash");
    std::fs::write(&script, sandbox.run(&["completions", "bash"], "").stdout).unwrap();
    let output = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn unknown_shell_is_rejected() {
    let run = Sandbox::new().run(&["completions", "tcsh"], "");
    run.assert_status(1);
    assert!(run.stdout.contains("tcsh"), "{run:?}");
}

#[test]
fn man_page_lists_commands() {
    let run = Sandbox::new().run(&["man"], "");
    run.assert_status(0);
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH"),
        "roff output: {}",
        &run.stdout[..200.min(run.stdout.len())]
    );
    assert!(
        run.stdout.contains(".TH docker-credential-atcr 1"),
        "title line"
    );
    let text = run.stdout.replace("\\-", "-");
    for command in COMMANDS {
        assert!(text.contains(command), "the man page lacks {command}");
    }
    assert!(
        text.contains("ATCR_CREDENTIAL_STORE"),
        "the environment section is included"
    );
}

#[test]
fn man_page_renders_with_man() {
    let man = support::require_tool("man");
    let sandbox = Sandbox::new();
    let page = sandbox.path().join("docker-credential-atcr.1");
    std::fs::write(&page, sandbox.run(&["man"], "").stdout).unwrap();
    let output = std::process::Command::new(man)
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("configure-docker"));
}
