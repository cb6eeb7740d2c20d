//! The OpenPGP key that signs the repositories: a secret key in a GnuPG home,
//! named by its fingerprint.
//!
//! `cargo pkg repo` reads the fingerprint from `ATCR_REPOSITORY_GPG_KEY` and
//! the home from `GNUPGHOME` (gpg's own variable, so an unset one means
//! `~/.gnupg`). The key must have no passphrase, because every gpg run here
//! is non-interactive.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::process;

/// The variable that names the signing key's fingerprint.
pub const KEY_VARIABLE: &str = "ATCR_REPOSITORY_GPG_KEY";

/// A secret key that gpg can sign with.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The GnuPG home; `None` leaves gpg on its default, `~/.gnupg`.
    gnupg_home: Option<PathBuf>,
    /// The fingerprint in uppercase hex, without spaces.
    fingerprint: String,
}

impl SigningKey {
    /// Finds the key that `ATCR_REPOSITORY_GPG_KEY` names in the GnuPG home that `GNUPGHOME` names.
    pub fn from_env() -> Result<SigningKey> {
        let Some(value) = std::env::var(KEY_VARIABLE)
            .ok()
            .filter(|value| !value.trim().is_empty())
        else {
            bail!(
                "{KEY_VARIABLE} is unset: set it to the fingerprint of the repository signing key, \
                 and GNUPGHOME to the GnuPG home that contains its secret key \
                 (scripts/release/import-signing-key.sh prints both)"
            );
        };
        let gnupg_home = std::env::var_os("GNUPGHOME")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        SigningKey::find(gnupg_home, &value)
    }

    /// Checks that the secret key with `fingerprint` is in `gnupg_home` and can sign.
    pub fn find(gnupg_home: Option<PathBuf>, fingerprint: &str) -> Result<SigningKey> {
        let Some(normalized) = normalize_fingerprint(fingerprint) else {
            bail!(
                "{KEY_VARIABLE} is `{fingerprint}`, which is not an OpenPGP fingerprint: set it to \
                 the 40 hex digits on the `fpr` line of `gpg --with-colons --list-secret-keys`"
            );
        };
        if let Some(home) = &gnupg_home
            && !home.is_dir()
        {
            bail!(
                "GNUPGHOME is {}, which is not a directory: point it at the GnuPG home that contains the signing key",
                home.display()
            );
        }
        let key = SigningKey {
            gnupg_home,
            fingerprint: normalized,
        };

        let listing = process::output_unchecked(key.gpg().args([
            "--with-colons",
            "--list-secret-keys",
            "--",
            &key.fingerprint,
        ]))?;
        if !listing.status.success() {
            bail!(
                "{KEY_VARIABLE} is {}, but {} has no secret key with that fingerprint: import the \
                 key there (scripts/release/import-signing-key.sh does) or correct the variable",
                key.fingerprint,
                key.home_description()
            );
        }
        let listing = String::from_utf8_lossy(&listing.stdout);
        if !can_sign(&listing) {
            bail!(
                "the key {} in {} cannot sign: it is expired or revoked, or it has no signing key; \
                 renew it or set {KEY_VARIABLE} to another key",
                key.fingerprint,
                key.home_description()
            );
        }
        Ok(key)
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn gnupg_home(&self) -> Option<&Path> {
        self.gnupg_home.as_deref()
    }

    /// Names the GnuPG home for messages.
    pub fn home_description(&self) -> String {
        match &self.gnupg_home {
            Some(home) => format!("the GnuPG home {}", home.display()),
            None => "the default GnuPG home ~/.gnupg (GNUPGHOME is unset)".to_owned(),
        }
    }

    /// Returns the public key, binary or ASCII-armored, without third-party signatures.
    pub fn export_public(&self, armor: bool) -> Result<Vec<u8>> {
        let mut command = self.gpg();
        command.args(["--export-options", "export-minimal"]);
        if armor {
            command.arg("--armor");
        }
        let public_key = process::output(command.args(["--export", "--", &self.fingerprint]))?;
        if public_key.stdout.is_empty() {
            bail!(
                "gpg exported no public key for {} from {}",
                self.fingerprint,
                self.home_description()
            );
        }
        Ok(public_key.stdout)
    }

    /// Writes `input` with an inline signature to `output` (`gpg --clearsign`).
    pub fn clearsign(&self, input: &Path, output: &Path) -> Result<()> {
        process::output(&mut self.signing_command(&["--clearsign"], input, output))?;
        Ok(())
    }

    /// Writes an ASCII-armored detached signature of `input` to `output`.
    pub fn detach_sign(&self, input: &Path, output: &Path) -> Result<()> {
        process::output(&mut self.signing_command(&["--armor", "--detach-sign"], input, output))?;
        Ok(())
    }

    fn signing_command(&self, mode: &[&str], input: &Path, output: &Path) -> Command {
        let mut command = self.gpg();
        // SHA-512 because apt rejects SHA-1 signatures, and Ed25519 keys need
        // a digest of at least 256 bits.
        command
            .args(["--yes", "--local-user", &self.fingerprint])
            .args(["--digest-algo", "SHA512"])
            .args(mode)
            .arg("--output")
            .arg(output)
            .arg(input);
        command
    }

    /// Creates a `gpg --batch` command in this key's GnuPG home.
    fn gpg(&self) -> Command {
        let mut command = Command::new("gpg");
        if let Some(home) = &self.gnupg_home {
            command.env("GNUPGHOME", home);
        }
        command.args(["--batch", "--no-tty"]);
        command
    }
}

/// Returns `text` as an uppercase hex fingerprint of a v4 (40 digits) or v5
/// (64 digits) key, without the spaces and `0x` that gpg's listings show;
/// `None` when it is not one.
fn normalize_fingerprint(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let is_hex = digits.chars().all(|c| c.is_ascii_hexdigit());
    (is_hex && matches!(digits.len(), 40 | 64)).then(|| digits.to_ascii_uppercase())
}

/// Tells whether a `gpg --with-colons --list-secret-keys` listing of one key
/// shows that the key as a whole can sign: field 12 of its `sec` line contains
/// an uppercase `S` only when a usable, unexpired, unrevoked key can.
fn can_sign(listing: &str) -> bool {
    listing
        .lines()
        .filter(|line| line.starts_with("sec:"))
        .any(|line| {
            line.split(':')
                .nth(11)
                .is_some_and(|caps| caps.contains('S'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINGERPRINT: &str = "910FB1A891B11A2F47C560BA99253FD13AC464FA";

    #[test]
    fn fingerprint_forms_are_normalized() {
        assert_eq!(normalize_fingerprint(FINGERPRINT).unwrap(), FINGERPRINT);
        let spaced = "910f b1a8 91b1 1a2f 47c5  60ba 9925 3fd1 3ac4 64fa";
        assert_eq!(normalize_fingerprint(spaced).unwrap(), FINGERPRINT);
        let prefixed = format!("0x{}\n", FINGERPRINT.to_lowercase());
        assert_eq!(normalize_fingerprint(&prefixed).unwrap(), FINGERPRINT);
    }

    #[test]
    fn short_ids_and_names_are_not_fingerprints() {
        assert_eq!(normalize_fingerprint("3AC464FA"), None);
        assert_eq!(normalize_fingerprint("99253FD13AC464FA"), None);
        assert_eq!(normalize_fingerprint("release@example.com"), None);
        assert_eq!(normalize_fingerprint(&FINGERPRINT.replace('A', "G")), None);
    }

    #[test]
    fn signing_capability_is_read_from_sec_line() {
        let usable = "sec:u:255:22:99253FD13AC464FA:1796429020:1796515420::u:::scSC:::+::ed25519:::0:\n\
                      fpr:::::::::910FB1A891B11A2F47C560BA99253FD13AC464FA:\n";
        assert!(can_sign(usable));
        let expired =
            "sec:e:255:22:99253FD13AC464FA:1796429020:1796515420::u:::sc:::+::ed25519:::0:\n";
        assert!(!can_sign(expired));
        assert!(!can_sign(""));
    }
}
