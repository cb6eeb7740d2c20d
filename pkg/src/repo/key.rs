//! The OpenPGP key that signs the repositories: a secret key in a GnuPG home,
//! named by its fingerprint.
//!
//! `cargo pkg repo` reads the fingerprint from `ATCR_REPOSITORY_GPG_KEY` and
//! the home from `GNUPGHOME` (gpg's own variable, so an unset one means
//! `~/.gnupg`). The key must have no passphrase, because every gpg run here
//! is non-interactive: [`SigningKey::find`] makes a test signature to show
//! that before anything is written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::process;

/// The variable that names the signing key's fingerprint.
pub const KEY_VARIABLE: &str = "ATCR_REPOSITORY_GPG_KEY";

/// [`SigningKey::find`] warns when the key expires within this many days.
const EXPIRY_WARNING_DAYS: u64 = 90;

/// GPG_ERR_NO_PIN_ENTRY, the libgpg-error code of a signature that needed a
/// passphrase under `--pinentry-mode error`.
const GPG_ERR_NO_PIN_ENTRY: u32 = 85;

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

    /// Checks that the secret key with `fingerprint` is in `gnupg_home` and
    /// can sign without a passphrase, and warns when it expires within
    /// [`EXPIRY_WARNING_DAYS`].
    pub fn find(gnupg_home: Option<PathBuf>, fingerprint: &str) -> Result<SigningKey> {
        let (key, expiry) = SigningKey::find_with_expiry(gnupg_home, fingerprint)?;
        if let Some(warning) = expiry.and_then(|expiry| expiry.warning(&key.fingerprint, now())) {
            eprintln!("warning: {warning}");
        }
        Ok(key)
    }

    /// Checks the key as [`SigningKey::find`] does, without the expiry
    /// warning, for the one-day key that `cargo pkg check` generates.
    pub fn find_throwaway(gnupg_home: Option<PathBuf>, fingerprint: &str) -> Result<SigningKey> {
        Ok(SigningKey::find_with_expiry(gnupg_home, fingerprint)?.0)
    }

    /// Checks the key and returns it with the expiry of the key that signs:
    /// the primary key or the subkey that gpg picks.
    fn find_with_expiry(
        gnupg_home: Option<PathBuf>,
        fingerprint: &str,
    ) -> Result<(SigningKey, Option<Expiry>)> {
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

        let signer = key.sign_test_file()?;
        let expiry = signing_expiry(&listing, &key.fingerprint, &signer);
        Ok((key, expiry))
    }

    /// Signs a small temporary file the way the release does, unattended,
    /// and returns the fingerprint of the primary key or subkey that signed.
    /// A key with a passphrase fails here, before the task writes anything.
    fn sign_test_file(&self) -> Result<String> {
        let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
        let input = scratch.path().join("test-signature-input");
        fs::write(&input, b"cargo pkg repo test signature\n")
            .with_context(|| format!("cannot write {}", input.display()))?;
        let mut command = self.signing_command(
            &["--status-fd", "1", "--detach-sign"],
            &input,
            &scratch.path().join("test-signature.sig"),
        );
        let output = process::output_unchecked(&mut command)?;
        let status = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            if failure_code(&status) == Some(GPG_ERR_NO_PIN_ENTRY) {
                bail!(
                    "the key {fpr} in {home} needs a passphrase: the release signs unattended, so \
                     remove the passphrase with `gpg --passwd {fpr}` (enter the current passphrase, \
                     then an empty one), export the key again and update the \
                     REPOSITORY_SIGNING_KEY secret",
                    fpr = self.fingerprint,
                    home = self.home_description()
                );
            }
            bail!(
                "the test signature with the key {} in {} failed, so the repositories cannot be \
                 signed: `{}` exited with {}\nstderr:\n{}",
                self.fingerprint,
                self.home_description(),
                process::describe(&command),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        let Some(signer) = signer_fingerprint(&status) else {
            bail!(
                "gpg signed with the key {} but printed no SIG_CREATED status line:\n{status}",
                self.fingerprint
            );
        };
        Ok(signer)
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
        // `--pinentry-mode error` makes a key that needs a passphrase fail at
        // once instead of waiting for a passphrase prompt in an unattended run.
        command
            .args(["--yes", "--pinentry-mode", "error"])
            .args(["--local-user", &self.fingerprint])
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

/// When the signing key stops working: the earlier of the primary key's
/// and the signing subkey's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expiry {
    /// Seconds since the Unix epoch.
    timestamp: u64,
    /// The subkey whose expiry this is, when it expires before the primary key.
    subkey: Option<String>,
}

impl Expiry {
    /// Returns the warning for a key that expires within
    /// [`EXPIRY_WARNING_DAYS`] of `now` (seconds since the Unix epoch).
    fn warning(&self, fingerprint: &str, now: u64) -> Option<String> {
        let days_left = self.timestamp.saturating_sub(now) / 86_400;
        if days_left >= EXPIRY_WARNING_DAYS {
            return None;
        }
        let date = crate::project::civil_date(self.timestamp);
        let signing_key = match &self.subkey {
            Some(subkey) => format!("the signing subkey {subkey} of the key {fingerprint}"),
            None => format!("the signing key {fingerprint}"),
        };
        Some(format!(
            "{signing_key} expires on {date} (UTC), in {days_left} days: after that the release cannot \
             sign, and apt rejects the repository. Extend the expiry, update the \
             REPOSITORY_SIGNING_KEY secret, and tell users to download the key again, as \
             docs/RELEASING.md describes"
        ))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Returns the expiry of the key that signed, from a `gpg --with-colons
/// --list-secret-keys` listing of the key `primary`: `signer` is the primary
/// key or one of its subkeys, and a subkey stops working when either
/// expires. `None` when neither has an expiry date.
fn signing_expiry(listing: &str, primary: &str, signer: &str) -> Option<Expiry> {
    let mut primary_expiry = None;
    let mut signer_expiry = None;
    // Each `sec` or `ssb` line gives a key's expiry in field 7 (empty when
    // it never expires), and the `fpr` line after it gives its fingerprint.
    let mut pending: Option<Option<u64>> = None;
    for line in listing.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        match fields[0] {
            "sec" | "ssb" => {
                pending = Some(fields.get(6).and_then(|field| field.parse().ok()));
            }
            "fpr" => {
                let Some(expiry) = pending.take() else {
                    continue;
                };
                let fingerprint = fields.get(9).copied().unwrap_or_default();
                if fingerprint.eq_ignore_ascii_case(primary) {
                    primary_expiry = expiry;
                }
                if fingerprint.eq_ignore_ascii_case(signer) {
                    signer_expiry = expiry;
                }
            }
            _ => {}
        }
    }

    let subkey = (!signer.eq_ignore_ascii_case(primary)).then(|| signer.to_ascii_uppercase());
    match (primary_expiry, signer_expiry, subkey) {
        (Some(primary), Some(signer), Some(subkey)) if signer < primary => Some(Expiry {
            timestamp: signer,
            subkey: Some(subkey),
        }),
        (Some(primary), _, _) => Some(Expiry {
            timestamp: primary,
            subkey: None,
        }),
        (None, Some(signer), subkey) => Some(Expiry {
            timestamp: signer,
            subkey,
        }),
        (None, None, _) => None,
    }
}

/// Returns the fingerprint on the `SIG_CREATED` line of gpg's `--status-fd`
/// output, which names the primary key or subkey that made the signature.
fn signer_fingerprint(status: &str) -> Option<String> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("[GNUPG:] SIG_CREATED "))
        .and_then(|rest| rest.split_whitespace().nth(5))
        .map(str::to_ascii_uppercase)
}

/// Returns the libgpg-error code (the low 16 bits) of the first `FAILURE`
/// line of gpg's `--status-fd` output.
fn failure_code(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("[GNUPG:] FAILURE "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u32>().ok())
        .map(|code| code & 0xFFFF)
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

    /// A listing of a primary key that certifies only, expiring at
    /// 1827967422 (2027-12-05), with a signing subkey expiring at 1799023422
    /// (2027-01-04).
    const SUBKEY_LISTING: &str = "sec:u:2048:1:FF5878DDBA821F1A:1796431422:1827967422::u:::cSC:::+:::23::0:\n\
        fpr:::::::::C489094A8E05B99A61046435FF5878DDBA821F1A:\n\
        uid:u::::1796431422::FAA262163256DF98C1DFE56F63BAE798CDA31DA6::sub key test::::::::::0:\n\
        ssb:u:2048:1:ED53FD9BB6797398:1796431422:1799023422:::::s:::+:::23:\n\
        fpr:::::::::73632845BD0CD0EBDC4B08C5ED53FD9BB6797398:\n";
    const SUBKEY_PRIMARY: &str = "C489094A8E05B99A61046435FF5878DDBA821F1A";
    const SUBKEY: &str = "73632845BD0CD0EBDC4B08C5ED53FD9BB6797398";

    #[test]
    fn expiry_of_primary_key() {
        let listing = "sec:u:255:22:99253FD13AC464FA:1796429020:1796515420::u:::scSC:::+::ed25519:::0:\n\
                       fpr:::::::::910FB1A891B11A2F47C560BA99253FD13AC464FA:\n";
        let expiry = signing_expiry(listing, FINGERPRINT, FINGERPRINT).unwrap();
        assert_eq!(expiry.timestamp, 1796515420);
        assert_eq!(expiry.subkey, None);
    }

    #[test]
    fn expiry_of_earlier_subkey() {
        let expiry = signing_expiry(SUBKEY_LISTING, SUBKEY_PRIMARY, SUBKEY).unwrap();
        assert_eq!(expiry.timestamp, 1799023422);
        assert_eq!(expiry.subkey.as_deref(), Some(SUBKEY));
    }

    #[test]
    fn expiry_of_primary_before_subkey() {
        let listing = SUBKEY_LISTING.replace(":1799023422:", ":1900000000:");
        let expiry = signing_expiry(&listing, SUBKEY_PRIMARY, SUBKEY).unwrap();
        assert_eq!(expiry.timestamp, 1827967422);
        assert_eq!(expiry.subkey, None);
    }

    #[test]
    fn expiry_absent_without_dates() {
        let listing = "sec:u:255:22:99253FD13AC464FA:1796429020:::u:::scSC:::+::ed25519:::0:\n\
                       fpr:::::::::910FB1A891B11A2F47C560BA99253FD13AC464FA:\n";
        assert_eq!(signing_expiry(listing, FINGERPRINT, FINGERPRINT), None);
    }

    #[test]
    fn expiry_warning_within_90_days() {
        let expiry = Expiry {
            timestamp: 1799023422,
            subkey: Some(SUBKEY.to_owned()),
        };
        let day = 86_400;
        let warning = expiry
            .warning(SUBKEY_PRIMARY, 1799023422 - 89 * day)
            .unwrap();
        assert!(warning.contains("expires on 2027-01-04 (UTC)"), "{warning}");
        assert!(warning.contains("in 89 days"), "{warning}");
        assert!(warning.contains(&format!("subkey {SUBKEY}")), "{warning}");
        assert!(warning.contains("docs/RELEASING.md"), "{warning}");
        assert_eq!(expiry.warning(SUBKEY_PRIMARY, 1799023422 - 90 * day), None);
    }

    #[test]
    fn status_lines_are_parsed() {
        let signed = "[GNUPG:] KEY_CONSIDERED C489094A8E05B99A61046435FF5878DDBA821F1A 0\n\
                      [GNUPG:] BEGIN_SIGNING H10\n\
                      [GNUPG:] SIG_CREATED D 1 10 00 1796431422 73632845BD0CD0EBDC4B08C5ED53FD9BB6797398\n";
        assert_eq!(signer_fingerprint(signed).as_deref(), Some(SUBKEY));
        assert_eq!(failure_code(signed), None);
        let failed = "[GNUPG:] BEGIN_SIGNING H8\n[GNUPG:] FAILURE sign 67108949\n";
        assert_eq!(failure_code(failed), Some(GPG_ERR_NO_PIN_ENTRY));
        assert_eq!(signer_fingerprint(failed), None);
    }

    /// A new GnuPG home whose gpg-agent is stopped when it is dropped.
    struct TestHome(tempfile::TempDir);

    impl TestHome {
        fn new() -> TestHome {
            let home = tempfile::Builder::new()
                .prefix("atcr-key-test-")
                .tempdir()
                .unwrap();
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(home.path(), fs::Permissions::from_mode(0o700)).unwrap();
            TestHome(home)
        }

        fn gpg(&self, args: &[&str]) -> String {
            let output = process::output(
                Command::new("gpg")
                    .env("GNUPGHOME", self.0.path())
                    .args(["--batch", "--quiet"])
                    .args(args),
            )
            .unwrap();
            String::from_utf8(output.stdout).unwrap()
        }

        /// Generates an Ed25519 signing key with `passphrase` and returns its fingerprint.
        fn generate_key(&self, passphrase: &str, expiry: &str) -> String {
            self.gpg(&[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                passphrase,
                "--quick-generate-key",
                "cargo pkg key test <test@invalid>",
                "ed25519",
                "sign",
                expiry,
            ]);
            // The agent may cache the passphrase from the generation.
            self.stop_agent();
            let listing = self.gpg(&["--with-colons", "--list-secret-keys"]);
            listing
                .lines()
                .find_map(|line| line.strip_prefix("fpr:"))
                .and_then(|rest| rest.split(':').nth(8))
                .unwrap()
                .to_owned()
        }

        fn stop_agent(&self) {
            let _ = Command::new("gpgconf")
                .arg("--homedir")
                .arg(self.0.path())
                .args(["--kill", "all"])
                .output();
        }
    }

    impl Drop for TestHome {
        fn drop(&mut self) {
            self.stop_agent();
        }
    }

    #[test]
    fn key_without_passphrase_is_found() {
        let home = TestHome::new();
        let fingerprint = home.generate_key("", "1y");
        let (key, expiry) =
            SigningKey::find_with_expiry(Some(home.0.path().to_owned()), &fingerprint).unwrap();
        assert_eq!(key.fingerprint(), fingerprint);
        let expiry = expiry.unwrap();
        assert_eq!(expiry.subkey, None);
        assert_eq!(expiry.warning(&fingerprint, now()), None);
    }

    #[test]
    fn soon_expiring_key_gets_warning() {
        let home = TestHome::new();
        let fingerprint = home.generate_key("", "30d");
        let (_, expiry) =
            SigningKey::find_with_expiry(Some(home.0.path().to_owned()), &fingerprint).unwrap();
        let warning = expiry.unwrap().warning(&fingerprint, now()).unwrap();
        assert!(
            warning.contains(&format!("the signing key {fingerprint} expires on")),
            "{warning}"
        );
        // gpg may round the expiry up to a full day.
        assert!(
            warning.contains("in 29 days") || warning.contains("in 30 days"),
            "{warning}"
        );
    }

    #[test]
    fn key_with_passphrase_is_rejected() {
        let home = TestHome::new();
        let fingerprint = home.generate_key("not empty", "1y");
        let error = SigningKey::find(Some(home.0.path().to_owned()), &fingerprint)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("the key {fingerprint} in the GnuPG home")),
            "{error}"
        );
        assert!(error.contains("needs a passphrase"), "{error}");
        assert!(
            error.contains(&format!("`gpg --passwd {fingerprint}`")),
            "{error}"
        );
    }

    #[test]
    fn missing_key_is_named() {
        let home = TestHome::new();
        home.generate_key("", "1y");
        let error = SigningKey::find(Some(home.0.path().to_owned()), FINGERPRINT)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("has no secret key with that fingerprint"),
            "{error}"
        );
    }
}
