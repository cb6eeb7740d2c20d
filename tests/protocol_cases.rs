//! Runs every case in `tests/data/protocol-cases.json` against the helper
//! binary: once with the file store, as the cases' conventions say, and once
//! more with the keyring store on a private gnome-keyring.
//!
//! Each case is a command line that broke another credential helper. The
//! runner reports every failing case at once, with what was expected and
//! what the helper printed.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

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
        check(step, &run).map_err(|problem| format!("setup step {number}: {problem}"))?;
    }

    let run = execute(&sandbox, case)?;
    check(case, &run)?;

    for (number, step) in steps(case, "post").iter().enumerate() {
        let run = execute(&sandbox, step)?;
        check(step, &run).map_err(|problem| format!("post step {number}: {problem}"))?;
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

fn steps(case: &Value, name: &str) -> Vec<Value> {
    case[name].as_array().cloned().unwrap_or_default()
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

/// Expands `{{repeat:X:N}}` placeholders.
fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{repeat:") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed placeholder") + start;
        let spec = &rest[start + "{{repeat:".len()..end];
        let (character, count) = spec.rsplit_once(':').expect("repeat:X:N");
        out.push_str(&character.repeat(count.parse().expect("a count")));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn expand_value(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(expand(text)),
        Value::Array(items) => Value::Array(items.iter().map(expand_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), expand_value(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Checks every expectation of `step` against `run`.
fn check(step: &Value, run: &Run) -> Result<(), String> {
    let fail = |what: String| {
        Err(format!(
            "{what}\n    exit {:?}, stdout {:?}, stderr {:?}",
            run.status,
            shorten(&run.stdout),
            shorten(&run.stderr)
        ))
    };

    if let Some(expected) = step.get("expect_exit")
        && !exit_matches(expected, run.status)
    {
        return fail(format!("expected exit {expected}"));
    }
    if let Some(max) = step["max_seconds"].as_f64()
        && run.elapsed.as_secs_f64() > max
    {
        return fail(format!(
            "took {:.2} s, more than {max} s",
            run.elapsed.as_secs_f64()
        ));
    }
    for needle in step["expect_stdout_contains"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let needle = expand(needle.as_str().unwrap_or(""));
        if !run.stdout.contains(&needle) {
            return fail(format!("stdout lacks {:?}", shorten(&needle)));
        }
    }
    if let Some(expected) = step["expect_stdout_trimmed"].as_str()
        && run.stdout.trim() != expected
    {
        return fail(format!("stdout is not {expected:?}"));
    }
    if step["expect_stdout_nonempty"] == true && run.stdout.trim().is_empty() {
        return fail("stdout is empty".into());
    }
    if step["expect_stdout_single_line"] == true
        && run.stdout.trim_end_matches('\n').lines().count() != 1
    {
        return fail("stdout is not a single line".into());
    }
    if let Some(outcomes) = step["expect_one_of"].as_array()
        && !outcomes.iter().any(|outcome| outcome_matches(outcome, run))
    {
        return fail(format!(
            "no allowed outcome matched: {}",
            Value::Array(outcomes.clone())
        ));
    }
    check_json(step, run).or_else(fail)
}

fn check_json(step: &Value, run: &Run) -> Result<(), String> {
    let wants_json = [
        "expect_stdout_json",
        "expect_stdout_json_equals",
        "expect_stdout_json_values",
        "expect_stdout_json_len",
        "expect_stdout_single_json_value",
    ]
    .iter()
    .any(|key| step.get(*key).is_some());
    if !wants_json {
        return Ok(());
    }
    let decoded: Value = serde_json::from_str(&run.stdout)
        .map_err(|error| format!("stdout is not one JSON value: {error}"))?;

    if let Some(expected) = step["expect_stdout_json"].as_object() {
        for (key, value) in expected {
            if decoded[key] != expand_value(value) {
                return Err(format!(
                    "stdout JSON field {key} is not {}",
                    shorten(&value.to_string())
                ));
            }
        }
    }
    if let Some(expected) = step.get("expect_stdout_json_equals")
        && decoded != *expected
    {
        return Err(format!("stdout JSON is not {expected}"));
    }
    if let Some(values) = step["expect_stdout_json_values"].as_array() {
        let present: Vec<&Value> = decoded
            .as_object()
            .map(|map| map.values().collect())
            .unwrap_or_default();
        for value in values {
            if !present.contains(&value) {
                return Err(format!("stdout JSON values lack {value}"));
            }
        }
    }
    if let Some(length) = step["expect_stdout_json_len"].as_u64()
        && decoded.as_object().map(Map::len) != Some(length as usize)
    {
        return Err(format!("stdout JSON does not have {length} entries"));
    }
    Ok(())
}

fn exit_matches(expected: &Value, status: Option<i32>) -> bool {
    match expected {
        Value::Number(number) => status.map(i64::from) == number.as_i64(),
        Value::Array(allowed) => allowed
            .iter()
            .any(|value| status.map(i64::from) == value.as_i64()),
        Value::String(word) if word == "nonzero" => status.is_some_and(|code| code != 0),
        _ => false,
    }
}

fn outcome_matches(outcome: &Value, run: &Run) -> bool {
    let exit_ok = outcome
        .get("exit")
        .is_none_or(|exit| exit_matches(exit, run.status));
    let stdout_ok = outcome["stdout_trimmed"]
        .as_str()
        .is_none_or(|text| run.stdout.trim() == text);
    exit_ok && stdout_ok
}

fn shorten(text: &str) -> String {
    if text.len() <= 300 {
        text.to_owned()
    } else {
        format!(
            "{}… ({} bytes)",
            &text[..text.floor_char_boundary(300)],
            text.len()
        )
    }
}

#[test]
fn repeat_placeholder_expands() {
    assert_eq!(expand("a{{repeat:B:3}}c"), "aBBBc");
    assert_eq!(expand("{{repeat:A:2}}{{repeat:x:1}}"), "AAx");
}

#[test]
fn checker_rejects_wrong_output() {
    let step = serde_json::json!({
        "expect_exit": 1,
        "expect_stdout_trimmed": "credentials not found in native keychain",
    });
    let run = |status, stdout: &str| Run {
        status: Some(status),
        stdout: stdout.into(),
        stderr: String::new(),
        elapsed: Duration::ZERO,
    };

    assert!(check(&step, &run(1, "credentials not found in native keychain\n")).is_ok());
    assert!(
        check(&step, &run(0, "credentials not found in native keychain\n")).is_err(),
        "wrong exit status"
    );
    assert!(check(&step, &run(1, "{}")).is_err(), "wrong stdout");

    let json_step = serde_json::json!({"expect_stdout_json": {"Secret": "{{repeat:A:3}}"}});
    assert!(check(&json_step, &run(0, r#"{"Secret":"AAA"}"#)).is_ok());
    assert!(
        check(&json_step, &run(0, r#"{"Secret":"AA"}"#)).is_err(),
        "wrong secret"
    );
    assert!(
        check(&json_step, &run(0, r#"{"Secret":"AAA"}{}"#)).is_err(),
        "two JSON values"
    );
}
