//! The winget, Scoop and Chocolatey manifests, rendered from the templates
//! in `winget/`, `scoop/` and `chocolatey/` with `{{name}}` placeholders.
//!
//! Every hash comes from the release's `checksums.txt`, looked up by the
//! file name that the manifest downloads; nothing here hashes a file.
//! ProductCode and UpgradeCode come from the MSIs themselves through
//! `msiinfo`. Installer entries are written for each architecture whose
//! artifact `checksums.txt` lists, and the x86_64 zip and MSI are required.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::aur::render;
use crate::names::CHECKSUMS;
use crate::windows::{self, WINDOWS, WindowsTarget};
use crate::{checksums, msi};

/// The download URL prefix of a release's files, with `{version}` replaced.
pub const RELEASE_URL: &str =
    "https://github.com/atcr-io/docker-credential-atcr/releases/download/v{version}/";

/// The winget package identifier, which names the manifest files.
pub const WINGET_ID: &str = "docker-credential-atcr";

/// One Windows release target found in `checksums.txt`.
struct Release {
    target: WindowsTarget,
    zip: Option<(String, String)>,
    msi: Option<(String, String)>,
}

/// Renders every Windows manifest for `version` from the artifacts in
/// `artifacts_dir` into `out_dir`, and returns the files written.
pub fn render_all(
    root: &Path,
    version: &str,
    release_date: &str,
    artifacts_dir: &Path,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let checksums_path = artifacts_dir.join(CHECKSUMS);
    let text = fs::read_to_string(&checksums_path).with_context(|| {
        format!(
            "cannot read {}: run `cargo pkg snapshot` or collect the release artifacts first",
            checksums_path.display()
        )
    })?;
    let hashes = checksums::parse(&checksums_path, &text)?;

    let releases: Vec<Release> = WINDOWS[..2]
        .iter()
        .map(|target| {
            let lookup = |name: String| hashes.get(&name).map(|hash| (name.clone(), hash.clone()));
            Release {
                target: *target,
                zip: lookup(windows::zip_name(version, target)),
                msi: lookup(windows::msi_name(version, target)),
            }
        })
        .collect();
    let x86_64 = &releases[0];
    let (zip_x86_64, sha_zip_x86_64) = x86_64.zip.clone().with_context(|| {
        format!(
            "{} does not list {}: build it with `cargo pkg dist --target x86_64-pc-windows-msvc`",
            checksums_path.display(),
            windows::zip_name(version, &x86_64.target)
        )
    })?;
    ensure!(
        x86_64.msi.is_some(),
        "{} does not list {}",
        checksums_path.display(),
        windows::msi_name(version, &x86_64.target)
    );

    let base_url = RELEASE_URL.replace("{version}", version);
    let upgrade_code = committed_upgrade_code(root)?;
    let mut values = BTreeMap::from([
        ("version".to_owned(), version.to_owned()),
        ("release_date".to_owned(), release_date.to_owned()),
        ("zip_x86_64".to_owned(), zip_x86_64.clone()),
        ("url_x86_64".to_owned(), format!("{base_url}{zip_x86_64}")),
        ("sha256_x86_64".to_owned(), sha_zip_x86_64),
    ]);

    let mut installers = Vec::new();
    let mut architectures = Vec::new();
    for release in &releases {
        if let Some((name, hash)) = &release.msi {
            let properties = msi::properties(&artifacts_dir.join(name))?;
            let product_code = properties
                .get("ProductCode")
                .with_context(|| format!("{name} has no ProductCode"))?;
            let msi_upgrade = properties
                .get("UpgradeCode")
                .with_context(|| format!("{name} has no UpgradeCode"))?;
            ensure!(
                msi_upgrade
                    .trim_matches(['{', '}'])
                    .eq_ignore_ascii_case(&upgrade_code),
                "{name} has UpgradeCode {msi_upgrade}, but wix/main.wxs commits {upgrade_code}: rebuild the MSI from wix/main.wxs"
            );
            let entry = BTreeMap::from([
                (
                    "winget_arch".to_owned(),
                    if release.target.wix_arch == "x64" {
                        "x64"
                    } else {
                        "arm64"
                    }
                    .to_owned(),
                ),
                ("url".to_owned(), format!("{base_url}{name}")),
                ("sha256".to_owned(), hash.to_uppercase()),
                ("product_code".to_owned(), product_code.clone()),
                ("upgrade_code".to_owned(), msi_upgrade.clone()),
                ("msi_version".to_owned(), msi::msi_version(version)?),
            ]);
            installers.push(
                render_file(root, "winget/installer-entry.yaml.in", &entry)?
                    .trim_end()
                    .to_owned(),
            );
        }
        if let Some((name, hash)) = &release.zip {
            let entry = BTreeMap::from([
                (
                    "scoop_arch".to_owned(),
                    if release.target.archive_arch == "x86_64" {
                        "64bit"
                    } else {
                        "arm64"
                    }
                    .to_owned(),
                ),
                ("url".to_owned(), format!("{base_url}{name}")),
                ("sha256".to_owned(), hash.clone()),
            ]);
            architectures.push(
                render_file(root, "scoop/architecture-entry.json.in", &entry)?
                    .trim_end()
                    .to_owned(),
            );
        }
    }
    values.insert("installers".into(), installers.join("\n"));
    values.insert("architecture".into(), architectures.join(",\n"));

    let outputs = [
        (
            "winget/docker-credential-atcr.yaml.in",
            format!("winget/{WINGET_ID}.yaml"),
        ),
        (
            "winget/docker-credential-atcr.locale.en-US.yaml.in",
            format!("winget/{WINGET_ID}.locale.en-US.yaml"),
        ),
        (
            "winget/docker-credential-atcr.installer.yaml.in",
            format!("winget/{WINGET_ID}.installer.yaml"),
        ),
        (
            "scoop/docker-credential-atcr.json.in",
            "scoop/docker-credential-atcr.json".to_owned(),
        ),
        (
            "chocolatey/docker-credential-atcr.nuspec.in",
            "chocolatey/docker-credential-atcr.nuspec".to_owned(),
        ),
        (
            "chocolatey/tools/chocolateyinstall.ps1.in",
            "chocolatey/tools/chocolateyinstall.ps1".to_owned(),
        ),
        (
            "chocolatey/tools/chocolateyuninstall.ps1.in",
            "chocolatey/tools/chocolateyuninstall.ps1".to_owned(),
        ),
        (
            "chocolatey/tools/VERIFICATION.txt.in",
            "chocolatey/tools/VERIFICATION.txt".to_owned(),
        ),
    ];
    let mut written = Vec::new();
    for (template, output) in outputs {
        let text = render_file(root, template, &values)?;
        if output.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text)
                .with_context(|| format!("{template} renders invalid JSON"))?;
        }
        written.push(write(out_dir, &output, text.as_bytes())?);
    }
    let license = fs::read(root.join("LICENSE")).context("cannot read LICENSE")?;
    written.push(write(out_dir, "chocolatey/tools/LICENSE.txt", &license)?);
    Ok(written)
}

/// Reads the UpgradeCode committed in `wix/main.wxs`, without braces.
pub fn committed_upgrade_code(root: &Path) -> Result<String> {
    let path = root.join(msi::WXS);
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(msi::parse_wxs(&text)?
        .upgrade_code
        .trim_matches(['{', '}'])
        .to_uppercase())
}

fn render_file(root: &Path, template: &str, values: &BTreeMap<String, String>) -> Result<String> {
    let path = root.join(template);
    let text = fs::read_to_string(&path)
        .with_context(|| format!("cannot read the template {}", path.display()))?;
    render(Path::new(template), &text, values)
}

fn write(out_dir: &Path, name: &str, data: &[u8]) -> Result<PathBuf> {
    let path = out_dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(&path, data).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Checks that `name` is a file name with no folder part, as manifests name artifacts.
pub fn artifact_name_of(url: &str) -> Result<String> {
    let name = url.rsplit('/').next().unwrap_or_default();
    if name.is_empty() {
        bail!("the URL {url:?} names no file");
    }
    Ok(name.to_owned())
}
