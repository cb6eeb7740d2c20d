//! Checks the Windows build of the helper under wine: `version`, `store`,
//! `get`, `list` and `erase` round trips through Windows Credential Manager
//! (wine's implementation in advapi32, which keeps credentials under
//! `HKCU\Software\Wine\Credential Manager`), and every protocol case.
//!
//! Every scenario starts from an empty state: the helper's folder in
//! `%APPDATA%` is removed and wine's Credential Manager key is deleted.
//! The helper finds `%APPDATA%` through the Windows known-folder API, which
//! ignores `HOME` and the XDG variables, so those cannot isolate runs here.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use super::protocol_cases::{self, Invocation};
use crate::wine::{WinePrefix, WineRun};

/// wine's registry key for Credential Manager entries.
const CREDENTIAL_MANAGER_KEY: &str = r"HKCU\Software\Wine\Credential Manager";

/// The helper's folder name under `%APPDATA%`.
const APP_DIR: &str = "docker-credential-atcr";

/// The service name in every Credential Manager target of the helper.
const SERVICE: &str = "docker-credential-atcr";

/// How long one helper run may take under wine before the check kills it.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// The Windows helper in a wine prefix.
pub struct WineHelper<'a> {
    prefix: &'a WinePrefix,
    exe: PathBuf,
    /// An empty working directory, so no run finds the .exe by accident.
    workdir: tempfile::TempDir,
}

impl<'a> WineHelper<'a> {
    pub fn new(prefix: &'a WinePrefix, exe: &Path) -> Result<WineHelper<'a>> {
        ensure!(
            exe.is_file(),
            "the Windows executable {} does not exist: build it with `cargo pkg dist --target x86_64-pc-windows-gnu`",
            exe.display()
        );
        let exe = fs::canonicalize(exe)?;
        Ok(WineHelper {
            prefix,
            exe,
            workdir: tempfile::tempdir()?,
        })
    }

    /// Runs the helper with `args`, `stdin` and extra environment.
    pub fn run(
        &self,
        args: &[&str],
        stdin: &str,
        env: &[(String, Option<String>)],
    ) -> Result<WineRun> {
        self.prefix.run(
            self.exe.as_os_str(),
            args,
            env,
            stdin.as_bytes(),
            self.workdir.path(),
            RUN_TIMEOUT,
        )
    }

    /// Removes every credential and file of the helper from the prefix.
    pub fn reset(&self) -> Result<()> {
        for roaming in self.prefix.roaming_app_data_dirs() {
            let dir = roaming.join(APP_DIR);
            if dir.exists() {
                fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove {}", dir.display()))?;
            }
        }
        if self.prefix.reg(&["query", CREDENTIAL_MANAGER_KEY]).is_ok() {
            self.prefix.reg(&["delete", CREDENTIAL_MANAGER_KEY, "/f"])?;
        }
        Ok(())
    }

    /// Lists the Credential Manager targets that belong to the helper.
    pub fn credential_targets(&self) -> Result<Vec<String>> {
        let Ok(listing) = self.prefix.reg(&["query", CREDENTIAL_MANAGER_KEY]) else {
            return Ok(Vec::new());
        };
        // `reg query` prints subkeys with the long root name (HKEY_CURRENT_USER\…).
        let marker = "\\Credential Manager\\Generic: ";
        Ok(listing
            .lines()
            .filter_map(|line| line.trim().split_once(marker).map(|(_, target)| target))
            .filter(|target| target.ends_with(&format!(".{SERVICE}")))
            .map(str::to_owned)
            .collect())
    }

    /// The helper's files in the prefix, with their contents.
    fn app_files(&self) -> Vec<(PathBuf, String)> {
        let mut files = Vec::new();
        for roaming in self.prefix.roaming_app_data_dirs() {
            let Ok(entries) = fs::read_dir(roaming.join(APP_DIR)) else {
                continue;
            };
            for entry in entries.flatten() {
                let text = fs::read_to_string(entry.path()).unwrap_or_default();
                files.push((entry.path(), text));
            }
        }
        files
    }
}

/// Checks that `version` prints the crate version and exits 0.
pub fn check_version(helper: &WineHelper, expected_version: &str) -> Result<()> {
    let run = helper.run(&["version"], "", &[])?;
    let expected = format!("docker-credential-atcr {expected_version} (");
    ensure!(
        run.status == Some(0)
            && run.stdout.starts_with(&expected)
            && run.stdout.trim_end().lines().count() == 1,
        "`docker-credential-atcr.exe version` under wine should print one line starting with {expected:?}: {}",
        run.describe()
    );
    Ok(())
}

/// Stores, reads, lists and erases credentials through Credential Manager
/// and checks each step against what wine's registry holds.
pub fn check_credential_manager_round_trip(helper: &WineHelper) -> Result<()> {
    helper.reset()?;
    let keyring = [(
        "ATCR_CREDENTIAL_STORE".to_owned(),
        Some("keyring".to_owned()),
    )];
    let auto = [("ATCR_CREDENTIAL_STORE".to_owned(), None)];

    let entries = [
        ("https://atcr.io", "atcr.io", "alice", "s3cret-token"),
        (
            "localhost:5000",
            "localhost:5000",
            "bob",
            "pässwörd ✓ with spaces",
        ),
    ];
    for (server, _, username, secret) in entries {
        let request =
            json!({"ServerURL": server, "Username": username, "Secret": secret}).to_string();
        let run = helper.run(&["store"], &request, &keyring)?;
        ensure!(
            run.status == Some(0),
            "store for {server} with ATCR_CREDENTIAL_STORE=keyring failed under wine: {}",
            run.describe()
        );
    }

    let mut targets = helper.credential_targets()?;
    targets.sort();
    let expected: Vec<String> = {
        let mut keys: Vec<String> = entries
            .iter()
            .map(|(_, key, _, _)| format!("{key}.{SERVICE}"))
            .collect();
        keys.sort();
        keys
    };
    ensure!(
        targets == expected,
        "Credential Manager should hold {expected:?} after two stores, but holds {targets:?}"
    );
    for (path, text) in helper.app_files() {
        for (_, _, _, secret) in entries {
            ensure!(
                !text.contains(secret),
                "the secret for a keyring entry was also written to {}",
                path.display()
            );
        }
    }

    for (server, key, username, secret) in entries {
        let run = helper.run(&["get"], key, &auto)?;
        ensure!(
            run.status == Some(0),
            "get {key} after store failed under wine: {}",
            run.describe()
        );
        let value: Value = serde_json::from_str(&run.stdout)
            .with_context(|| format!("get {key} printed no JSON: {}", run.describe()))?;
        ensure!(
            value["Username"] == username,
            "get {key} returned the wrong Username: {}",
            run.describe()
        );
        ensure!(
            value["Secret"] == secret,
            "get {key} returned the wrong Secret (length {:?})",
            value["Secret"].as_str().map(str::len)
        );
        ensure!(
            value["ServerURL"] == server || value["ServerURL"] == key,
            "get {key} returned the wrong ServerURL: {}",
            run.describe()
        );
    }

    let run = helper.run(&["list"], "", &auto)?;
    let listed: Value = serde_json::from_str(&run.stdout)
        .with_context(|| format!("list printed no JSON: {}", run.describe()))?;
    ensure!(
        listed == json!({"https://atcr.io": "alice", "localhost:5000": "bob"}),
        "list under wine should name both servers and users: {}",
        run.describe()
    );

    let run = helper.run(&["erase"], "https://atcr.io", &auto)?;
    ensure!(
        run.status == Some(0),
        "erase https://atcr.io failed under wine: {}",
        run.describe()
    );
    let remaining = helper.credential_targets()?;
    ensure!(
        remaining == [format!("localhost:5000.{SERVICE}")],
        "after erase, Credential Manager should hold only localhost:5000, but holds {remaining:?}"
    );
    let run = helper.run(&["get"], "atcr.io", &auto)?;
    ensure!(
        run.status == Some(1) && run.stdout.trim() == "credentials not found in native keychain",
        "get after erase should report not found: {}",
        run.describe()
    );

    // Credential Manager caps a blob at 2,560 bytes; a longer secret must fall back to the file store, not fail.
    let long_secret = "A".repeat(5000);
    let request =
        json!({"ServerURL": "atcr.io", "Username": "carol", "Secret": long_secret}).to_string();
    let run = helper.run(&["store"], &request, &auto)?;
    ensure!(
        run.status == Some(0),
        "store of a 5,000-byte secret should fall back to the file store: {}",
        run.describe()
    );
    let run = helper.run(&["get"], "atcr.io", &auto)?;
    let value: Value = serde_json::from_str(&run.stdout)
        .with_context(|| format!("get of the long secret printed no JSON: {}", run.describe()))?;
    ensure!(
        value["Secret"] == long_secret.as_str(),
        "get of the 5,000-byte secret did not return it unchanged"
    );

    helper.reset()
}

/// Runs every protocol case twice under wine: with the file store, as the
/// cases' conventions set, and with the store chosen by the helper, which
/// is Credential Manager here.
pub fn check_protocol_cases(helper: &WineHelper, cases_file: &Path) -> Result<()> {
    let document = protocol_cases::load(cases_file)?;
    let mut failures = Vec::new();
    let mut count = 0;

    for keyring in [false, true] {
        for case in document.cases() {
            count += 1;
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            let store = if keyring {
                "Credential Manager"
            } else {
                "file store"
            };
            helper.reset()?;
            let scratch = tempfile::tempdir()?;
            let result = protocol_cases::run_case(
                case,
                &document,
                scratch.path(),
                keyring,
                &mut |invocation: &Invocation| {
                    let args: Vec<&str> = invocation.args.iter().map(String::as_str).collect();
                    match &invocation.stdin {
                        Some(stdin) => helper.run(&args, stdin, &invocation.env),
                        None => helper.prefix.run_held_stdin(
                            helper.exe.as_os_str(),
                            &args,
                            &invocation.env,
                            helper.workdir.path(),
                            RUN_TIMEOUT,
                        ),
                    }
                },
            );
            if let Err(problem) = result {
                failures.push(format!("{id} ({store}): {problem:#}"));
            }
        }
    }
    helper.reset()?;

    if !failures.is_empty() {
        bail!(
            "{} of {count} protocol case runs failed under wine:\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
    eprintln!("wine: {count} protocol case runs passed");
    Ok(())
}
