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
        Category::Data => "unexpected structure or value",
        Category::Io => "read error",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
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
}
