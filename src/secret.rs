//! A wrapper for secrets that cannot be printed by accident.
//!
//! `Secret` has a redacted `Debug` and no `Display`, so a secret can reach a
//! log line, an error message or a panic only through an explicit call to
//! [`Secret::expose`]. The buffer is zeroed when the secret is dropped.
//! Serialization is left to the callers that write the protocol output and
//! the stores, so every place where the secret leaves memory is visible.

use std::fmt;

use zeroize::Zeroize;

/// A password, device secret or identity token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// Returns the secret value. Every call is a place where the secret leaves
    /// this wrapper, so keep them few and obvious.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Returns the length of the secret in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Reports whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_is_redacted() {
        let secret = Secret::new("hunter2".to_owned());
        let printed = format!("{secret:?} {:?}", Some(&secret));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn expose_returns_value_unchanged() {
        let secret = Secret::new("tok\n".to_owned());
        assert_eq!(secret.expose(), "tok\n");
        assert_eq!(secret.len(), 4);
    }
}
