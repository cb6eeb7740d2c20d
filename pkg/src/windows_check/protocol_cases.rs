//! Interprets `tests/data/protocol-cases.json` for a helper that runs
//! somewhere other than this process's host, such as the Windows build
//! under wine. The caller supplies how to run one invocation; this module
//! expands placeholders, builds each step's environment and checks every
//! expectation the file's `conventions` object defines.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::wine::WineRun;

/// The parsed case file.
pub struct CaseDocument {
    base_env: Map<String, Value>,
    cases: Vec<Value>,
}

impl CaseDocument {
    pub fn cases(&self) -> &[Value] {
        &self.cases
    }
}

/// One run of the helper: its arguments (without the program name), stdin
/// (`None` keeps the pipe open, unwritten) and environment changes (`None`
/// unsets the variable).
pub struct Invocation {
    pub args: Vec<String>,
    pub stdin: Option<String>,
    pub env: Vec<(String, Option<String>)>,
}

/// Reads the case file and checks that it has the expected shape.
pub fn load(path: &Path) -> Result<CaseDocument> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the protocol cases {}", path.display()))?;
    let document: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let base_env = document["conventions"]["base_env"]
        .as_object()
        .with_context(|| format!("{} has no conventions.base_env object", path.display()))?
        .clone();
    let cases = document["cases"]
        .as_array()
        .with_context(|| format!("{} has no cases array", path.display()))?
        .clone();
    if cases.is_empty() {
        bail!("{} lists no cases", path.display());
    }
    Ok(CaseDocument { base_env, cases })
}

/// Runs the setup steps, the main step and the post steps of `case`.
/// With `keyring`, `ATCR_CREDENTIAL_STORE` is unset so the helper picks its
/// store itself; otherwise the conventions' file store is used.
pub fn run_case(
    case: &Value,
    document: &CaseDocument,
    tmp: &Path,
    keyring: bool,
    execute: &mut dyn FnMut(&Invocation) -> Result<WineRun>,
) -> Result<()> {
    let env = case_env(case, document, tmp, keyring);

    for (number, step) in steps(case, "setup").iter().enumerate() {
        let run = execute(&invocation(step, &env)?)?;
        check(step, &run).with_context(|| format!("setup step {number}"))?;
    }

    let run = execute(&invocation(case, &env)?)?;
    check(case, &run)?;

    for (number, step) in steps(case, "post").iter().enumerate() {
        let run = execute(&invocation(step, &env)?)?;
        check(step, &run).with_context(|| format!("post step {number}"))?;
    }

    match case["post_check"].as_str() {
        None => {}
        Some("each_list_key_gettable") => {
            let listed = execute(&Invocation {
                args: vec!["list".into()],
                stdin: Some(String::new()),
                env: env.clone(),
            })?;
            let keys: Vec<String> = serde_json::from_str::<Value>(&listed.stdout)
                .ok()
                .and_then(|value| value.as_object().map(|map| map.keys().cloned().collect()))
                .with_context(|| format!("list printed no JSON object: {}", listed.describe()))?;
            for key in keys {
                let got = execute(&Invocation {
                    args: vec!["get".into()],
                    stdin: Some(key.clone()),
                    env: env.clone(),
                })?;
                if got.status != Some(0) {
                    bail!("listed key {key:?} is not gettable: {}", got.describe());
                }
            }
        }
        Some(other) => bail!(
            "unknown post_check {other:?}: teach pkg/src/windows_check/protocol_cases.rs what it means"
        ),
    }
    Ok(())
}

/// base_env, then the case's env, with `${TMP}` replaced and `null` meaning unset.
fn case_env(
    case: &Value,
    document: &CaseDocument,
    tmp: &Path,
    keyring: bool,
) -> Vec<(String, Option<String>)> {
    let tmp = tmp.display().to_string();
    let case_env = case["env"].as_object().cloned().unwrap_or_default();
    let mut env: Vec<(String, Option<String>)> = Vec::new();
    for (key, value) in document.base_env.iter().chain(case_env.iter()) {
        env.retain(|(existing, _)| existing != key);
        env.push((
            key.clone(),
            value.as_str().map(|value| value.replace("${TMP}", &tmp)),
        ));
    }
    if keyring {
        env.retain(|(key, _)| key != "ATCR_CREDENTIAL_STORE");
        env.push(("ATCR_CREDENTIAL_STORE".into(), None));
    }
    env
}

fn steps(case: &Value, name: &str) -> Vec<Value> {
    case[name].as_array().cloned().unwrap_or_default()
}

fn invocation(step: &Value, env: &[(String, Option<String>)]) -> Result<Invocation> {
    let argv: Vec<String> = step["argv"]
        .as_array()
        .context("a step without argv")?
        .iter()
        .map(|arg| arg.as_str().unwrap_or("").to_owned())
        .collect();
    if argv.first().map(String::as_str) != Some("docker-credential-atcr") {
        bail!("a step runs {:?}, not docker-credential-atcr", argv.first());
    }
    let stdin = match (step["stdin"].as_str(), step["stdin_mode"].as_str()) {
        (Some(stdin), _) => Some(expand(stdin)),
        (None, Some("held_open")) => None,
        (None, mode) => bail!(
            "stdin {:?} with stdin_mode {mode:?} is not supported by this runner",
            step["stdin"]
        ),
    };
    Ok(Invocation {
        args: argv[1..].to_vec(),
        stdin,
        env: env.to_vec(),
    })
}

/// Expands `{{repeat:X:N}}` placeholders.
fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{repeat:") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}").map(|end| end + start) else {
            break;
        };
        let spec = &rest[start + "{{repeat:".len()..end];
        match spec
            .rsplit_once(':')
            .and_then(|(character, count)| Some((character, count.parse::<usize>().ok()?)))
        {
            Some((character, count)) => out.push_str(&character.repeat(count)),
            None => out.push_str(&rest[start..end + 2]),
        }
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
fn check(step: &Value, run: &WineRun) -> Result<()> {
    let fail = |what: String| -> Result<()> { bail!("{what}\n    {}", run.describe()) };

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
            return fail(format!("stdout lacks {needle:?}"));
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
        && run.stdout.trim_end_matches(['\r', '\n']).lines().count() != 1
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
    if let Err(problem) = check_json(step, run) {
        return fail(problem);
    }
    Ok(())
}

fn check_json(step: &Value, run: &WineRun) -> Result<(), String> {
    let keys = [
        "expect_stdout_json",
        "expect_stdout_json_equals",
        "expect_stdout_json_values",
        "expect_stdout_json_len",
        "expect_stdout_single_json_value",
    ];
    if !keys.iter().any(|key| step.get(*key).is_some()) {
        return Ok(());
    }
    let decoded: Value = serde_json::from_str(&run.stdout)
        .map_err(|error| format!("stdout is not one JSON value: {error}"))?;

    if let Some(expected) = step["expect_stdout_json"].as_object() {
        for (key, value) in expected {
            if decoded[key] != expand_value(value) {
                return Err(format!("stdout JSON field {key} is not the expected value"));
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
        if let Some(missing) = values.iter().find(|value| !present.contains(value)) {
            return Err(format!("stdout JSON values lack {missing}"));
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

fn outcome_matches(outcome: &Value, run: &WineRun) -> bool {
    let exit_ok = outcome
        .get("exit")
        .is_none_or(|exit| exit_matches(exit, run.status));
    let stdout_ok = outcome["stdout_trimmed"]
        .as_str()
        .is_none_or(|text| run.stdout.trim() == text);
    exit_ok && stdout_ok
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    fn run(status: i32, stdout: &str) -> WineRun {
        WineRun {
            status: Some(status),
            stdout: stdout.into(),
            stderr: String::new(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn repeat_placeholder_expands() {
        assert_eq!(expand("a{{repeat:B:3}}c"), "aBBBc");
        assert_eq!(expand("{{repeat:A:2}}{{repeat:x:1}}"), "AAx");
    }

    #[test]
    fn checker_rejects_wrong_output() {
        let step = json!({"expect_exit": 1, "expect_stdout_trimmed": "credentials not found in native keychain"});
        assert!(
            check(
                &step,
                &run(1, "credentials not found in native keychain\r\n")
            )
            .is_ok()
        );
        assert!(
            check(&step, &run(0, "credentials not found in native keychain")).is_err(),
            "wrong exit status"
        );
        assert!(check(&step, &run(1, "{}")).is_err(), "wrong stdout");

        let json_step = json!({"expect_stdout_json": {"Secret": "{{repeat:A:3}}"}});
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

    #[test]
    fn keyring_mode_unsets_the_store_variable() {
        let document = CaseDocument {
            base_env: json!({"ATCR_CREDENTIAL_STORE": "file", "HOME": "${TMP}/home"})
                .as_object()
                .unwrap()
                .clone(),
            cases: vec![],
        };
        let env = case_env(&json!({"env": {}}), &document, Path::new("/t"), true);
        assert!(env.contains(&("ATCR_CREDENTIAL_STORE".into(), None)));
        assert!(env.contains(&("HOME".into(), Some("/t/home".into()))));
        let env = case_env(&json!({"env": {}}), &document, Path::new("/t"), false);
        assert!(env.contains(&("ATCR_CREDENTIAL_STORE".into(), Some("file".into()))));
    }
}
