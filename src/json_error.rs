//! Describing JSON errors without quoting the input.
//!
//! serde_json's messages can quote the offending value, and the helper's
//! JSON (the protocol's stdin, the file store, Docker's `config.json` with
//! its `auths`) may hold secrets, so errors name the kind and the position
//! only.

use serde_json::error::Category;

/// Describes `error` by its kind and position, such as `syntax error at line 1 column 7`.
pub fn describe(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        Category::Syntax => "syntax error",
        Category::Eof => "unexpected end of input",
        Category::Data => {
            return format!(
                "{} at line {} column {}",
                data_kind(error),
                error.line(),
                error.column()
            );
        }
        Category::Io => "read error",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
}

/// Names a data error. Duplicate and missing fields are named, because
/// serde takes those names from the expected structure, never from a value.
/// Every other data error (such as a wrong type, whose message quotes the
/// value) stays generic.
fn data_kind(error: &serde_json::Error) -> String {
    let message = error.to_string();
    for prefix in ["duplicate field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((field, _)) = rest.split_once('`')
        {
            return format!("{prefix}{field}`");
        }
    }
    "unexpected structure or value".to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn description_omits_values() {
        let error =
            serde_json::from_str::<std::collections::BTreeMap<String, u8>>(r#"{"a":"hunter2"}"#)
                .unwrap_err();
        let text = super::describe(&error);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("line 1 column"), "{text}");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Credentials {
        #[serde(rename = "Secret")]
        secret: String,
    }

    #[test]
    fn duplicate_field_is_named() {
        let error = serde_json::from_str::<Credentials>(r#"{"Secret":"a","Secret":"hunter2"}"#)
            .unwrap_err();
        let text = super::describe(&error);
        assert!(
            text.starts_with("duplicate field `Secret` at line 1 column"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn missing_field_is_named() {
        let error = serde_json::from_str::<Credentials>("{}").unwrap_err();
        let text = super::describe(&error);
        assert!(
            text.starts_with("missing field `Secret` at line 1 column"),
            "{text}"
        );
    }
}
