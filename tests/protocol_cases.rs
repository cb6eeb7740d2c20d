//! Runs every case in `tests/data/protocol-cases.json` against the helper
//! binary: once with the file store, as the cases' conventions say, and once
//! more with the keyring store on a private gnome-keyring.
//!
//! Each case is a command line that broke another credential helper. The
//! runner reports every failing case at once, with what was expected and
//! what the helper printed.

#[path = "protocol_cases/expect.rs"]
mod expect;
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use expect::{Outcome, check, expand, steps};
use serde_json::{Map, Value};
use support::{Run, Sandbox, SecretService, run_with_stdin, wait_with_timeout};

const CASES: &str = include_str!("data/protocol-cases.json");

#[test]
fn protocol_cases_with_file_store() {
    run_all(None);
}

#[test]
fn protocol_cases_with_keyring_store() {
    let service = SecretService::start();
    run_all(Some(&service));
}

fn run_all(service: Option<&SecretService>) {
    let document: Value = serde_json::from_str(CASES).expect("protocol-cases.json is valid JSON");
    let base_env = document["conventions"]["base_env"]
        .as_object()
        .expect("conventions.base_env")
        .clone();
    let cases = document["cases"].as_array().expect("cases");
    assert!(
        cases.len() >= 40,
        "expected the full case list, found {}",
        cases.len()
    );

    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap_or("?");
        if let Err(problem) = run_case(case, &base_env, service) {
            failures.push(format!(
                "{id} ({}): {problem}",
                case["title"].as_str().unwrap_or("")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn run_case(
    case: &Value,
    base_env: &Map<String, Value>,
    service: Option<&SecretService>,
) -> Result<(), String> {
    let sandbox = case_sandbox(case, base_env, service);

    for (number, step) in steps(case, "setup").iter().enumerate() {
        let run = execute(&sandbox, step)?;
        check(step, &outcome(&run)).map_err(|problem| format!("setup step {number}: {problem}"))?;
    }

    let run = execute(&sandbox, case)?;
    check(case, &outcome(&run))?;

    for (number, step) in steps(case, "post").iter().enumerate() {
        let run = execute(&sandbox, step)?;
        check(step, &outcome(&run)).map_err(|problem| format!("post step {number}: {problem}"))?;
    }

    if case["post_check"] == "each_list_key_gettable" {
        let listed = sandbox.run(&["list"], "");
        for key in listed
            .json()
            .as_object()
            .cloned()
            .unwrap_or_default()
            .keys()
        {
            let got = sandbox.run(&["get"], key);
            if got.status != Some(0) {
                return Err(format!("listed key {key:?} is not gettable: {got:?}"));
            }
        }
    }
    Ok(())
}

/// A sandbox with the case's environment: base_env, then the case's env, with
/// `${TMP}` replaced by the sandbox directory and `null` meaning unset.
fn case_sandbox(
    case: &Value,
    base_env: &Map<String, Value>,
    service: Option<&SecretService>,
) -> Sandbox {
    let mut sandbox = match service {
        Some(service) => Sandbox::with_secret_service(service),
        None => Sandbox::new(),
    };
    let tmp = sandbox.path().display().to_string();
    let case_env = case["env"].as_object().cloned().unwrap_or_default();

    for (key, value) in base_env.iter().chain(case_env.iter()) {
        match value.as_str() {
            Some(value) => sandbox.set(key, value.replace("${TMP}", &tmp)),
            None => sandbox.unset(key),
        }
    }
    if service.is_some() {
        // The keyring run lets the helper choose its store, which is the keyring here.
        sandbox.unset("ATCR_CREDENTIAL_STORE");
    }
    sandbox
}

fn execute(sandbox: &Sandbox, step: &Value) -> Result<Run, String> {
    let argv: Vec<String> = step["argv"]
        .as_array()
        .ok_or("a step without argv")?
        .iter()
        .map(|arg| arg.as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(argv[0], "docker-credential-atcr", "cases run the helper");
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let timeout = Duration::from_secs(20);

    match (step["stdin"].as_str(), step["stdin_mode"].as_str()) {
        (Some(stdin), _) => Ok(run_with_stdin(
            sandbox.command(&args),
            expand(stdin).as_bytes(),
            timeout,
        )),
        (None, Some("held_open")) => Ok(run_with_held_stdin(sandbox, &args, timeout)),
        (None, Some("tty")) => Err("stdin_mode tty is not supported by this runner".into()),
        (None, mode) => Err(format!(
            "unsupported stdin {:?} with mode {mode:?}",
            step["stdin"]
        )),
    }
}

/// Runs with a stdin pipe that stays open and is never written.
fn run_with_held_stdin(sandbox: &Sandbox, args: &[&str], timeout: Duration) -> Run {
    let mut command = sandbox.command(args);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn the helper");
    let held = child.stdin.take();
    let run = wait_with_timeout(child, started, timeout);
    drop(held);
    run
}

/// Converts `run` into the outcome that the shared checker reads.
fn outcome(run: &Run) -> Outcome<'_> {
    Outcome {
        status: run.status,
        stdout: &run.stdout,
        stderr: &run.stderr,
        elapsed: run.elapsed,
    }
}
