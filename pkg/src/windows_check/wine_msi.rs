//! Installs, upgrades and removes the MSI under `wine msiexec /qn`.
//!
//! The check builds three MSIs from the same `wix/main.wxs` and .exe: an
//! older release (0.0.1), a pre-release of the current version and the
//! current version. It installs them in that order and after each step
//! requires exactly one Add/Remove Programs entry with the new version,
//! the .exe under `C:\Program Files\docker-credential-atcr\bin`, that folder
//! once in the system PATH, and `docker-credential-atcr version` working by
//! name from an empty folder. Uninstalling must leave no entry, no folder
//! and the PATH entries as they were. Before the first install and after
//! the uninstall, running the helper by name must fail, so the by-name run
//! cannot pass through some other path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use crate::msi;
use crate::wine::WinePrefix;

const UNINSTALL_KEY: &str = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall";
const ENVIRONMENT_KEY: &str = r"HKLM\System\CurrentControlSet\Control\Session Manager\Environment";
const INSTALL_BIN: &str = r"C:\Program Files\docker-credential-atcr\bin";
const PRODUCT_NAME: &str = "docker-credential-atcr";

/// How long one msiexec run may take.
const MSIEXEC_TIMEOUT: Duration = Duration::from_secs(180);

/// One built MSI and what `msiinfo` reads from it.
struct BuiltMsi {
    version: String,
    path: PathBuf,
    properties: BTreeMap<String, String>,
}

/// Runs the install, upgrade and uninstall check. `exe_dir` contains the
/// windows-gnu `docker-credential-atcr.exe`; `upgrade_code` is the one
/// committed in `wix/main.wxs`.
pub fn check_msi_lifecycle(
    prefix: &WinePrefix,
    root: &Path,
    exe_dir: &Path,
    version: &str,
    upgrade_code: &str,
) -> Result<()> {
    let work = tempfile::Builder::new().prefix("msi-check-").tempdir()?;
    let versions = upgrade_versions(version);
    let mut built = Vec::new();
    for candidate in &versions {
        let path = work
            .path()
            .join(format!("docker-credential-atcr-{candidate}-x86_64.msi"));
        msi::build_with_wixl(root, exe_dir, candidate, &path)?;
        let properties = msi::properties(&path)?;
        check_properties(&path, &properties, candidate, upgrade_code)?;
        built.push(BuiltMsi {
            version: candidate.clone(),
            path,
            properties,
        });
    }
    let product_codes: Vec<&String> = built
        .iter()
        .map(|msi| &msi.properties["ProductCode"])
        .collect();
    for (index, code) in product_codes.iter().enumerate() {
        ensure!(
            !product_codes[..index].contains(code),
            "two MSI builds share the ProductCode {code}: Product/@Id must be '*'"
        );
    }

    let empty = tempfile::tempdir()?;
    remove_leftovers(prefix, &built)?;
    let path_before = path_entries(prefix)?;
    ensure_not_on_path(prefix, empty.path(), "before the first install")?;

    for msi in &built {
        msiexec(prefix, &["/i", &prefix.windows_path(&msi.path)?, "/qn"])?;
        check_installed(prefix, empty.path(), msi, version)?;
        eprintln!(
            "msi: {} installed (ProductVersion {})",
            msi.version, msi.properties["ProductVersion"]
        );
    }

    let last = built.last().context("no MSI was built")?;
    msiexec(prefix, &["/x", &last.properties["ProductCode"], "/qn"])?;
    check_removed(prefix, empty.path(), &path_before)?;
    eprintln!("msi: uninstall left no entry, file or PATH entry");
    Ok(())
}

/// 0.0.1, then a pre-release of `version` (when it is a release), then `version`.
fn upgrade_versions(version: &str) -> Vec<String> {
    let mut versions = vec!["0.0.1".to_owned()];
    if !version.contains('-') {
        versions.push(format!(
            "{}-rc.1",
            version.split('+').next().unwrap_or(version)
        ));
    }
    versions.push(version.to_owned());
    versions
}

fn check_properties(
    path: &Path,
    properties: &BTreeMap<String, String>,
    version: &str,
    upgrade_code: &str,
) -> Result<()> {
    let expected_upgrade = format!(
        "{{{}}}",
        upgrade_code.trim_matches(['{', '}']).to_uppercase()
    );
    let upgrade = properties
        .get("UpgradeCode")
        .map(String::as_str)
        .unwrap_or("");
    ensure!(
        upgrade == expected_upgrade,
        "{} has UpgradeCode {upgrade:?}, but wix/main.wxs commits {expected_upgrade}",
        path.display()
    );
    let expected_version = msi::msi_version(version)?;
    ensure!(
        properties.get("ProductVersion") == Some(&expected_version),
        "{} has ProductVersion {:?}, expected {expected_version} for {version}",
        path.display(),
        properties.get("ProductVersion")
    );
    let product_code = properties
        .get("ProductCode")
        .map(String::as_str)
        .unwrap_or("");
    ensure!(
        is_braced_guid(product_code),
        "{} has no valid ProductCode: {product_code:?}",
        path.display()
    );
    Ok(())
}

fn is_braced_guid(text: &str) -> bool {
    let Some(inner) = text
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
    else {
        return false;
    };
    let groups: Vec<&str> = inner.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && inner.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

fn msiexec(prefix: &WinePrefix, args: &[&str]) -> Result<()> {
    let empty = tempfile::tempdir()?;
    // wine's msiexec installs in its own process, so the changes are done when it exits.
    let run = prefix.run("msiexec", args, &[], b"", empty.path(), MSIEXEC_TIMEOUT)?;
    ensure!(
        run.status == Some(0),
        "wine msiexec {} failed: {}",
        args.join(" "),
        run.describe()
    );
    Ok(())
}

/// Lists the product's Add/Remove Programs entries as (registry key, DisplayVersion).
fn arp_entries(prefix: &WinePrefix) -> Result<Vec<(String, String)>> {
    let listing = prefix
        .reg(&["query", UNINSTALL_KEY, "/s"])
        .unwrap_or_default();
    let mut entries = Vec::new();
    let mut key = String::new();
    let mut name = None;
    let mut version = String::new();
    let flush =
        |key: &str, name: &Option<String>, version: &str, entries: &mut Vec<(String, String)>| {
            if name.as_deref() == Some(PRODUCT_NAME) {
                entries.push((key.to_owned(), version.to_owned()));
            }
        };
    for line in listing.lines() {
        if line.starts_with("HKEY_") {
            flush(&key, &name, &version, &mut entries);
            key = line.trim().to_owned();
            name = None;
            version.clear();
        } else if let Some(value) = value_of(line, "DisplayName") {
            name = Some(value);
        } else if let Some(value) = value_of(line, "DisplayVersion") {
            version = value;
        }
    }
    flush(&key, &name, &version, &mut entries);
    Ok(entries)
}

fn value_of(line: &str, name: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix(name)?.trim_start();
    let (kind, data) = rest.split_once(char::is_whitespace)?;
    kind.starts_with("REG_").then(|| data.trim().to_owned())
}

/// Reads the non-empty entries of the system PATH from the registry.
fn path_entries(prefix: &WinePrefix) -> Result<Vec<String>> {
    let path = prefix
        .reg_value(ENVIRONMENT_KEY, "PATH")?
        .context("the wine prefix has no system PATH")?;
    Ok(path
        .split(';')
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect())
}

fn is_install_bin(entry: &str) -> bool {
    entry
        .trim_end_matches('\\')
        .eq_ignore_ascii_case(INSTALL_BIN)
}

fn check_installed(
    prefix: &WinePrefix,
    empty: &Path,
    msi: &BuiltMsi,
    crate_version: &str,
) -> Result<()> {
    let entries = arp_entries(prefix)?;
    let expected_version = &msi.properties["ProductVersion"];
    ensure!(
        entries.len() == 1 && &entries[0].1 == expected_version,
        "after installing {}, Add/Remove Programs should list one {PRODUCT_NAME} entry with version {expected_version}, but lists {entries:?}",
        msi.version
    );

    let bin = prefix.program_files().join("docker-credential-atcr/bin");
    ensure!(
        bin.join("docker-credential-atcr.exe").is_file(),
        "{} has no docker-credential-atcr.exe after installing {}",
        bin.display(),
        msi.version
    );
    let license = prefix
        .program_files()
        .join("docker-credential-atcr/LICENSE.txt");
    ensure!(
        license.is_file(),
        "{} is missing after installing {}",
        license.display(),
        msi.version
    );

    let path = path_entries(prefix)?;
    let count = path.iter().filter(|entry| is_install_bin(entry)).count();
    ensure!(
        count == 1,
        "the system PATH should contain {INSTALL_BIN} once after installing {}, but contains it {count} times: {path:?}",
        msi.version
    );

    let run = prefix.run(
        "docker-credential-atcr",
        &["version"],
        &[],
        b"",
        empty,
        Duration::from_secs(30),
    )?;
    let expected = format!("docker-credential-atcr {crate_version} (");
    ensure!(
        run.status == Some(0) && run.stdout.starts_with(&expected),
        "`docker-credential-atcr version` by name from an empty folder failed after installing {}: {}",
        msi.version,
        run.describe()
    );
    Ok(())
}

fn ensure_not_on_path(prefix: &WinePrefix, empty: &Path, when: &str) -> Result<()> {
    let run = prefix.run(
        "docker-credential-atcr",
        &["version"],
        &[],
        b"",
        empty,
        Duration::from_secs(30),
    )?;
    if run.stdout.contains("docker-credential-atcr ") {
        bail!(
            "docker-credential-atcr runs by name {when}, so the PATH check would prove nothing: {}",
            run.describe()
        );
    }
    Ok(())
}

fn check_removed(prefix: &WinePrefix, empty: &Path, path_before: &[String]) -> Result<()> {
    let entries = arp_entries(prefix)?;
    ensure!(
        entries.is_empty(),
        "after uninstalling, Add/Remove Programs still lists {entries:?}"
    );

    let folder = prefix.program_files().join("docker-credential-atcr");
    ensure!(
        !folder.exists(),
        "after uninstalling, {} still exists",
        folder.display()
    );

    // NOTE: wine 8 leaves the separator of the removed entry (a trailing ';'); empty entries are ignored here.
    let path_after = path_entries(prefix)?;
    ensure!(
        path_after == path_before,
        "after uninstalling, the system PATH entries are {path_after:?}, not {path_before:?} as before the install"
    );

    ensure_not_on_path(prefix, empty, "after the uninstall")
}

/// Uninstalls any copy of the product left by an earlier, interrupted check.
fn remove_leftovers(prefix: &WinePrefix, built: &[BuiltMsi]) -> Result<()> {
    if arp_entries(prefix)?.is_empty() {
        return Ok(());
    }
    for msi in built {
        let _ = prefix.run(
            "msiexec",
            &["/x", &msi.properties["ProductCode"], "/qn"],
            &[],
            b"",
            Path::new("/"),
            MSIEXEC_TIMEOUT,
        );
    }
    for (key, _) in arp_entries(prefix)? {
        let code = key.rsplit('\\').next().unwrap_or_default().to_owned();
        if is_braced_guid(&code) {
            msiexec(prefix, &["/x", &code, "/qn"])?;
        }
    }
    ensure!(
        arp_entries(prefix)?.is_empty(),
        "cannot remove an earlier install of {PRODUCT_NAME} from the wine prefix {}",
        prefix.path().display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_path_includes_pre_release() {
        assert_eq!(upgrade_versions("0.1.0"), ["0.0.1", "0.1.0-rc.1", "0.1.0"]);
        assert_eq!(upgrade_versions("0.2.0-rc.2"), ["0.0.1", "0.2.0-rc.2"]);
    }

    #[test]
    fn guid_shape_is_checked() {
        assert!(is_braced_guid("{0139431A-400F-4C20-9E26-2AA6928950F8}"));
        assert!(!is_braced_guid("0139431A-400F-4C20-9E26-2AA6928950F8"));
        assert!(!is_braced_guid("{0139431A-400F-4C20-9E26}"));
    }

    #[test]
    fn install_bin_matches_with_or_without_backslash() {
        assert!(is_install_bin(
            r"C:\Program Files\docker-credential-atcr\bin\"
        ));
        assert!(is_install_bin(
            r"c:\program files\docker-credential-atcr\bin"
        ));
        assert!(!is_install_bin(r"C:\Program Files\other\bin"));
    }
}
