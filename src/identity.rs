//! Syntax checks for the AT Protocol identifiers that an AppView returns at
//! login: a handle (a DNS name such as `alice.bsky.social`) and a DID (such
//! as `did:plc:abc123`). The helper prints both and stores them in its
//! index, so a value with control characters or spaces is rejected before
//! either happens. The rules follow the AT Protocol specifications at
//! <https://atproto.com/specs/handle> and <https://atproto.com/specs/did>.

/// The maximum length of a handle, a DNS name's limit.
const MAX_HANDLE_LEN: usize = 253;
/// The maximum length of one label of a handle.
const MAX_LABEL_LEN: usize = 63;
/// The maximum length of a DID.
const MAX_DID_LEN: usize = 2048;

/// Returns whether `text` is a valid handle: two or more dot-separated
/// labels of ASCII letters, digits and hyphens, none starting or ending with
/// a hyphen, and a last label that does not start with a digit.
pub fn is_handle(text: &str) -> bool {
    if text.is_empty() || text.len() > MAX_HANDLE_LEN {
        return false;
    }
    let labels: Vec<&str> = text.split('.').collect();
    let valid_labels = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    });
    let top_level = labels.last().and_then(|label| label.bytes().next());
    labels.len() >= 2 && valid_labels && top_level.is_some_and(|byte| !byte.is_ascii_digit())
}

/// Returns whether `text` is a valid DID: `did:`, a method of lowercase
/// letters, `:`, and an identifier of letters, digits and `._:%-` that does
/// not end with `:` or `%`.
pub fn is_did(text: &str) -> bool {
    if text.len() > MAX_DID_LEN {
        return false;
    }
    let Some((method, identifier)) = text
        .strip_prefix("did:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    !method.is_empty()
        && method.bytes().all(|byte| byte.is_ascii_lowercase())
        && !identifier.is_empty()
        && !identifier.ends_with([':', '%'])
        && identifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._:%-".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_accepted() {
        for handle in [
            "alice.bsky.social",
            "bob.example.com",
            "XN--LADA-A.example",
            "a.co",
            "1password.example",
            "sub-domain.example.org",
        ] {
            assert!(is_handle(handle), "{handle}");
        }
    }

    #[test]
    fn handles_rejected() {
        let too_long = format!("{}.com", "a.".repeat(126));
        let long_label = format!("{}.com", "a".repeat(64));
        for handle in [
            "",
            "alice",
            "alice.",
            ".alice.com",
            "alice..com",
            "-alice.com",
            "alice-.com",
            "alice.123",
            "alice bsky.social",
            "alice.bsky.social\n✓ Logged in",
            "\u{1b}[2Jalice.bsky.social",
            "alice_b.example.com",
            "ａｌｉｃｅ.example.com",
            too_long.as_str(),
            long_label.as_str(),
        ] {
            assert!(!is_handle(handle), "{handle:?}");
        }
    }

    #[test]
    fn dids_accepted() {
        for did in [
            "did:plc:z72i7hdynmk6r22z27h6tvur",
            "did:web:example.com",
            "did:web:localhost%3A8080",
            "did:example:a.b_c-d:e",
        ] {
            assert!(is_did(did), "{did}");
        }
    }

    #[test]
    fn dids_rejected() {
        let too_long = format!("did:plc:{}", "a".repeat(2048));
        for did in [
            "",
            "did:",
            "did:plc",
            "did:plc:",
            "did:PLC:abc",
            "did::abc",
            "plc:abc",
            "did:plc:abc:",
            "did:web:example%",
            "did:plc:a b",
            "did:plc:abc\u{1b}]0;title\u{7}",
            too_long.as_str(),
        ] {
            assert!(!is_did(did), "{did:?}");
        }
    }
}
