//! Interprets `tests/data/protocol-cases.json` for a helper that runs
//! somewhere other than this process's host, such as the Windows build
//! under wine. The caller supplies how to run one invocation; this module
//! expands placeholders, builds each step's environment and checks every
//! expectation the file's `conventions` object defines.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::wine::WineRun;

// The expectation logic, shared with the Linux runner in tests/.
#[path = "../../../tests/protocol_cases/expect.rs"]
mod expect;
use expect::{Outcome, expand, steps};

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

/// Checks every expectation of `step` against `run`.
fn check(step: &Value, run: &WineRun) -> Result<()> {
    let outcome = Outcome {
        status: run.status,
        stdout: &run.stdout,
        stderr: &run.stderr,
        elapsed: run.elapsed,
    };
    expect::check(step, &outcome).map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
