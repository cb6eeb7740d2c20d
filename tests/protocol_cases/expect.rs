//! The expectations of `tests/data/protocol-cases.json`, shared by its two
//! runners: tests/protocol_cases.rs runs the Linux helper, and pkg's Windows
//! check (pkg/src/windows_check/protocol_cases.rs) runs the .exe under wine.
//! Each runner starts a step its own way and passes what the run gave here,
//! so both read the file's `conventions` alike.
//!
//! Only serde_json and the standard library are used, because both crates
//! compile this file (`#[path]`).

use std::time::Duration;

use serde_json::{Map, Value};

/// The exit status, outputs and duration of one run of the helper.
pub struct Outcome<'a> {
    pub status: Option<i32>,
    pub stdout: &'a str,
    pub stderr: &'a str,
    pub elapsed: Duration,
}

/// Returns the `setup` or `post` steps of `case`.
pub fn steps(case: &Value, name: &str) -> Vec<Value> {
    case[name].as_array().cloned().unwrap_or_default()
}

/// Replaces each `{{repeat:X:N}}` with N copies of X. A placeholder of
/// another form stays as it is, so the check that uses it fails.
pub fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{repeat:") {
        let Some(end) = rest[start..].find("}}").map(|end| end + start) else {
            break;
        };
        out.push_str(&rest[..start]);
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

/// Checks every expectation of `step` against `outcome`. The error names the
/// first unmet expectation, then the exit status and both outputs.
pub fn check(step: &Value, outcome: &Outcome) -> Result<(), String> {
    let fail = |what: String| {
        Err(format!(
            "{what}\n    exit {:?}, stdout {:?}, stderr {:?}",
            outcome.status,
            shorten(outcome.stdout),
            shorten(outcome.stderr)
        ))
    };

    if let Some(expected) = step.get("expect_exit")
        && !exit_matches(expected, outcome.status)
    {
        return fail(format!("expected exit {expected}"));
    }
    if let Some(max) = step["max_seconds"].as_f64()
        && outcome.elapsed.as_secs_f64() > max
    {
        return fail(format!(
            "took {:.2} s, more than {max} s",
            outcome.elapsed.as_secs_f64()
        ));
    }
    for needle in step["expect_stdout_contains"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let needle = expand(needle.as_str().unwrap_or(""));
        if !outcome.stdout.contains(&needle) {
            return fail(format!("stdout lacks {:?}", shorten(&needle)));
        }
    }
    if let Some(expected) = step["expect_stdout_trimmed"].as_str()
        && outcome.stdout.trim() != expected
    {
        return fail(format!("stdout is not {expected:?}"));
    }
    if step["expect_stdout_nonempty"] == true && outcome.stdout.trim().is_empty() {
        return fail("stdout is empty".into());
    }
    // Windows programs may end lines with \r\n.
    if step["expect_stdout_single_line"] == true
        && outcome
            .stdout
            .trim_end_matches(['\r', '\n'])
            .lines()
            .count()
            != 1
    {
        return fail("stdout is not a single line".into());
    }
    if let Some(allowed) = step["expect_one_of"].as_array()
        && !allowed.iter().any(|one| one_matches(one, outcome))
    {
        return fail(format!(
            "no allowed outcome matched: {}",
            Value::Array(allowed.clone())
        ));
    }
    check_json(step, outcome).or_else(fail)
}

fn check_json(step: &Value, outcome: &Outcome) -> Result<(), String> {
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
    let decoded: Value = serde_json::from_str(outcome.stdout)
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

/// Returns whether `status` matches `expect_exit`: a code, a list of codes,
/// or "nonzero".
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

/// Returns whether `outcome` matches one entry of `expect_one_of`, which has
/// an optional `exit` and `stdout_trimmed`.
fn one_matches(allowed: &Value, outcome: &Outcome) -> bool {
    let exit_ok = allowed
        .get("exit")
        .is_none_or(|exit| exit_matches(exit, outcome.status));
    let stdout_ok = allowed["stdout_trimmed"]
        .as_str()
        .is_none_or(|text| outcome.stdout.trim() == text);
    exit_ok && stdout_ok
}

/// Returns `text` cut to 300 bytes, for error messages.
pub fn shorten(text: &str) -> String {
    const LIMIT: usize = 300;
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
    use serde_json::json;

    use super::*;

    fn outcome(status: i32, stdout: &str) -> Outcome<'_> {
        Outcome {
            status: Some(status),
            stdout,
            stderr: "",
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn repeat_placeholder_expands() {
        assert_eq!(expand("a{{repeat:B:3}}c"), "aBBBc");
        assert_eq!(expand("{{repeat:A:2}}{{repeat:x:1}}"), "AAx");
        assert_eq!(expand("{{repeat:A}}b"), "{{repeat:A}}b", "no count");
        assert_eq!(expand("a{{repeat:A:2"), "a{{repeat:A:2", "unclosed");
    }

    #[test]
    fn checker_rejects_wrong_output() {
        let step = json!({
            "expect_exit": 1,
            "expect_stdout_trimmed": "credentials not found in native keychain",
        });
        let found = "credentials not found in native keychain";
        assert!(check(&step, &outcome(1, &format!("{found}\n"))).is_ok());
        assert!(check(&step, &outcome(1, &format!("{found}\r\n"))).is_ok());
        assert!(
            check(&step, &outcome(0, found)).is_err(),
            "wrong exit status"
        );
        assert!(check(&step, &outcome(1, "{}")).is_err(), "wrong stdout");

        let json_step = json!({"expect_stdout_json": {"Secret": "{{repeat:A:3}}"}});
        assert!(check(&json_step, &outcome(0, r#"{"Secret":"AAA"}"#)).is_ok());
        assert!(
            check(&json_step, &outcome(0, r#"{"Secret":"AA"}"#)).is_err(),
            "wrong secret"
        );
        assert!(
            check(&json_step, &outcome(0, r#"{"Secret":"AAA"}{}"#)).is_err(),
            "two JSON values"
        );
    }

    #[test]
    fn expect_exit_forms_match() {
        assert!(exit_matches(&json!(1), Some(1)));
        assert!(exit_matches(&json!([0, 1]), Some(1)));
        assert!(exit_matches(&json!("nonzero"), Some(3)));
        assert!(!exit_matches(&json!("nonzero"), Some(0)));
        assert!(!exit_matches(&json!("nonzero"), None), "killed by a signal");
    }
}
