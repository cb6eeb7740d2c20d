//! The Homebrew formula: `homebrew/docker-credential-atcr.rb.in` rendered
//! with the release's version, the download URL of each macOS and Linux
//! archive, and their SHA-256 sums from `checksums.txt`.
//!
//! The formula installs the release archives (no bottles, no build from
//! source) on macOS and Linux, each on arm64 and x86_64. Every hash comes
//! from `checksums.txt`, looked up by archive name; nothing here hashes a
//! file. [`check_formula`] reads a rendered formula back and compares each
//! `url`/`sha256` pair with `checksums.txt`, for the release checks.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::aur::render;
use crate::checksums;
use crate::names::{self, CHECKSUMS};
use crate::targets::{DARWIN, LINUX, Target};
use crate::windows_manifests::RELEASE_URL;

/// The formula template, relative to the workspace root.
pub const TEMPLATE: &str = "homebrew/docker-credential-atcr.rb.in";

/// The rendered formula's path under the output directory, as a tap stores it.
pub const FORMULA: &str = "homebrew/Formula/docker-credential-atcr.rb";

/// The targets whose release archives the formula installs.
pub const PLATFORMS: [Target; 4] = [DARWIN[1], DARWIN[0], LINUX[1], LINUX[0]];

/// Returns the template's placeholder suffix for `target`, such as `darwin_arm64`.
fn placeholder(target: &Target) -> String {
    format!("{}_{}", target.os.to_lowercase(), target.archive_arch)
}

/// Collects the placeholder values: `version`, and `url_<platform>` and
/// `sha256_<platform>` for each of [`PLATFORMS`]. `hashes` is `checksums.txt`
/// parsed, and `checksums_path` names it in errors.
pub fn values(
    version: &str,
    release_url: &str,
    hashes: &BTreeMap<String, String>,
    checksums_path: &Path,
) -> Result<BTreeMap<String, String>> {
    let starts_with_digit = version.starts_with(|c: char| c.is_ascii_digit());
    if !starts_with_digit
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    {
        bail!(
            "invalid version {version:?} for the Homebrew formula: expected a SemVer version such as 1.2.0, without the leading v"
        );
    }
    let release_url = release_url.trim_end_matches('/');

    let mut values = BTreeMap::from([("version".to_owned(), version.to_owned())]);
    for target in &PLATFORMS {
        let archive = names::archive(version, target);
        let key = placeholder(target);
        let Some(hash) = hashes.get(&archive) else {
            bail!(
                "{} does not list {archive}, which the Homebrew formula installs on {} {}: build it with `cargo pkg dist --target {}` and collect it with the other artifacts before rendering",
                checksums_path.display(),
                target.os,
                target.archive_arch,
                target.triple
            );
        };
        values.insert(format!("url_{key}"), format!("{release_url}/{archive}"));
        values.insert(format!("sha256_{key}"), hash.clone());
    }
    Ok(values)
}

/// Renders the formula text from `template` (whose path `template_path`
/// names in errors) for `version`.
pub fn render_formula(
    template_path: &Path,
    template: &str,
    version: &str,
    release_url: &str,
    hashes: &BTreeMap<String, String>,
    checksums_path: &Path,
) -> Result<String> {
    let values = values(version, release_url, hashes, checksums_path)?;
    render(template_path, template, &values)
}

/// Renders the formula of `version` from the artifacts in `artifacts_dir`
/// into `out_dir/homebrew/Formula/`, and returns its path.
pub fn write_formula(
    root: &Path,
    version: &str,
    artifacts_dir: &Path,
    out_dir: &Path,
) -> Result<PathBuf> {
    let checksums_path = artifacts_dir.join(CHECKSUMS);
    let text = fs::read_to_string(&checksums_path).with_context(|| {
        format!(
            "cannot read {}: collect the release artifacts and their checksums.txt first",
            checksums_path.display()
        )
    })?;
    let hashes = checksums::parse(&checksums_path, &text)?;

    let template_path = root.join(TEMPLATE);
    let template = fs::read_to_string(&template_path).with_context(|| {
        format!(
            "cannot read the Homebrew formula template {}",
            template_path.display()
        )
    })?;
    let release_url = RELEASE_URL.replace("{version}", version);
    let formula = render_formula(
        Path::new(TEMPLATE),
        &template,
        version,
        &release_url,
        &hashes,
        &checksums_path,
    )?;

    let path = out_dir.join(FORMULA);
    let parent = path.parent().context("the formula path has no folder")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    fs::write(&path, formula).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Checks a rendered formula against `checksums.txt`: every platform of
/// [`PLATFORMS`] has one `url` whose file `hashes` lists, and the `sha256`
/// line after it equals that file's SHA-256. `formula_path` names the formula in errors.
pub fn check_formula(
    formula_path: &Path,
    formula: &str,
    version: &str,
    hashes: &BTreeMap<String, String>,
) -> Result<()> {
    let pairs = url_sha256_pairs(formula_path, formula)?;
    for target in &PLATFORMS {
        let archive = names::archive(version, target);
        let found: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(url, _)| url.rsplit('/').next() == Some(archive.as_str()))
            .collect();
        let [(url, sha256)] = found.as_slice() else {
            bail!(
                "{}: expected one url ending in {archive}, found {}: render the formula again with `cargo pkg manifests`",
                formula_path.display(),
                found.len()
            );
        };
        let Some(listed) = hashes.get(&archive) else {
            bail!(
                "{}: {url} downloads {archive}, which checksums.txt does not list",
                formula_path.display()
            );
        };
        if sha256 != listed {
            bail!(
                "{}: sha256 {sha256} for {url} differs from {listed} in checksums.txt: render the formula again with `cargo pkg manifests`",
                formula_path.display()
            );
        }
    }
    if pairs.len() != PLATFORMS.len() {
        bail!(
            "{}: expected {} url/sha256 pairs, one per platform, found {}",
            formula_path.display(),
            PLATFORMS.len(),
            pairs.len()
        );
    }
    Ok(())
}

/// Reads each `url "…"` line and the `sha256 "…"` line that follows it.
fn url_sha256_pairs(formula_path: &Path, formula: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut pending_url: Option<(usize, String)> = None;
    for (index, line) in formula.lines().enumerate() {
        let number = index + 1;
        if let Some(url) = quoted_argument(line, "url") {
            if let Some((previous, _)) = pending_url {
                bail!(
                    "{}:{previous}: url has no sha256 line before the next url on line {number}",
                    formula_path.display()
                );
            }
            pending_url = Some((number, url));
        } else if let Some(sha256) = quoted_argument(line, "sha256") {
            let Some((_, url)) = pending_url.take() else {
                bail!(
                    "{}:{number}: sha256 without a url before it",
                    formula_path.display()
                );
            };
            pairs.push((url, sha256));
        }
    }
    if let Some((number, _)) = pending_url {
        bail!(
            "{}:{number}: url has no sha256 line after it",
            formula_path.display()
        );
    }
    Ok(pairs)
}

/// Returns `value` for a line that is `keyword "value"` after indentation.
fn quoted_argument(line: &str, keyword: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(keyword)?.strip_prefix(' ')?.trim();
    let value = rest.strip_prefix('"')?.strip_suffix('"')?;
    Some(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "1.2.3";
    const BASE: &str = "https://example.com/releases/download/v1.2.3";

    /// A distinct fake SHA-256 per platform, so a swapped pair is caught.
    fn hashes() -> BTreeMap<String, String> {
        PLATFORMS
            .iter()
            .enumerate()
            .map(|(index, target)| {
                (
                    names::archive(VERSION, target),
                    format!("{index:x}").repeat(64),
                )
            })
            .chain([("checksums-extra.deb".to_owned(), "f".repeat(64))])
            .collect()
    }

    fn template() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(TEMPLATE);
        fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
    }

    fn rendered() -> String {
        render_formula(
            Path::new(TEMPLATE),
            &template(),
            VERSION,
            BASE,
            &hashes(),
            Path::new("checksums.txt"),
        )
        .unwrap()
    }

    #[test]
    fn archive_names_match_release() {
        let names: Vec<String> = PLATFORMS
            .iter()
            .map(|target| names::archive("0.1.0", target))
            .collect();
        assert_eq!(
            names,
            [
                "docker-credential-atcr_0.1.0_Darwin_arm64.tar.gz",
                "docker-credential-atcr_0.1.0_Darwin_x86_64.tar.gz",
                "docker-credential-atcr_0.1.0_Linux_arm64.tar.gz",
                "docker-credential-atcr_0.1.0_Linux_x86_64.tar.gz",
            ]
        );
        let placeholders: Vec<String> = PLATFORMS.iter().map(placeholder).collect();
        assert_eq!(
            placeholders,
            [
                "darwin_arm64",
                "darwin_x86_64",
                "linux_arm64",
                "linux_x86_64"
            ]
        );
    }

    #[test]
    fn template_renders_every_platform() {
        let formula = rendered();
        assert!(!formula.contains("{{"), "a placeholder is left:\n{formula}");
        assert!(formula.contains("version \"1.2.3\""), "{formula}");
        for (index, target) in PLATFORMS.iter().enumerate() {
            let (os, arch) = (target.os, target.archive_arch);
            let url = format!("url \"{BASE}/docker-credential-atcr_1.2.3_{os}_{arch}.tar.gz\"");
            let sha256 = format!("sha256 \"{}\"", format!("{index:x}").repeat(64));
            assert_eq!(formula.matches(&url).count(), 1, "{url} in:\n{formula}");
            assert_eq!(
                formula.matches(&sha256).count(),
                1,
                "{sha256} in:\n{formula}"
            );
        }
    }

    #[test]
    fn template_test_block_runs_version() {
        let formula = rendered();
        let test_block = formula
            .split("test do")
            .nth(1)
            .expect("the formula has a test block");
        assert!(
            test_block.contains("docker-credential-atcr version"),
            "{test_block}"
        );
    }

    #[test]
    fn rendered_formula_passes_check() {
        check_formula(Path::new("f.rb"), &rendered(), VERSION, &hashes()).unwrap();
    }

    #[test]
    fn check_names_wrong_hash() {
        let mut listed = hashes();
        let archive = names::archive(VERSION, &LINUX[1]);
        listed.insert(archive.clone(), "e".repeat(64));
        let error = check_formula(Path::new("f.rb"), &rendered(), VERSION, &listed)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("f.rb: sha256 "), "{error}");
        assert!(error.contains(&archive), "{error}");
        assert!(error.contains(&"e".repeat(64)), "{error}");
    }

    #[test]
    fn check_names_missing_platform() {
        let formula = rendered().replace("_Darwin_x86_64.tar.gz", "_Darwin_x86_64.zip");
        let error = check_formula(Path::new("f.rb"), &formula, VERSION, &hashes())
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected one url ending in docker-credential-atcr_1.2.3_Darwin_x86_64.tar.gz, found 0"), "{error}");
    }

    #[test]
    fn check_names_url_without_sha256() {
        let formula = "url \"https://x/a.tar.gz\"\nurl \"https://x/b.tar.gz\"\nsha256 \"00\"\n";
        let error = check_formula(Path::new("f.rb"), formula, VERSION, &hashes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "f.rb:1: url has no sha256 line before the next url on line 2"
        );
    }

    #[test]
    fn values_name_missing_archive() {
        let mut listed = hashes();
        listed.remove(&names::archive(VERSION, &DARWIN[1]));
        let error = values(VERSION, BASE, &listed, Path::new("dist/checksums.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "dist/checksums.txt does not list docker-credential-atcr_1.2.3_Darwin_arm64.tar.gz"
            ),
            "{error}"
        );
        assert!(
            error.contains("cargo pkg dist --target aarch64-apple-darwin"),
            "{error}"
        );
    }

    #[test]
    fn values_reject_invalid_version() {
        for version in ["", "v1.2.3", "1.2.3\"; system \"x"] {
            let error = values(version, BASE, &hashes(), Path::new("checksums.txt"))
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("invalid version"), "{version:?}: {error}");
        }
    }

    #[test]
    fn write_formula_reads_checksums_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let artifacts = tempfile::tempdir().unwrap();
        let text: String = hashes()
            .iter()
            .map(|(name, hash)| format!("{hash}  {name}\n"))
            .collect();
        fs::write(artifacts.path().join(CHECKSUMS), text).unwrap();
        let out = tempfile::tempdir().unwrap();

        let path = write_formula(&root, VERSION, artifacts.path(), out.path()).unwrap();

        assert_eq!(path, out.path().join(FORMULA));
        let formula = fs::read_to_string(&path).unwrap();
        assert!(formula.contains("https://github.com/atcr-io/docker-credential-atcr/releases/download/v1.2.3/docker-credential-atcr_1.2.3_Linux_arm64.tar.gz"), "{formula}");
        check_formula(&path, &formula, VERSION, &hashes()).unwrap();
    }

    #[test]
    fn write_formula_names_missing_checksums() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let artifacts = tempfile::tempdir().unwrap();
        let error = format!(
            "{:#}",
            write_formula(&root, VERSION, artifacts.path(), artifacts.path()).unwrap_err()
        );
        assert!(error.contains("checksums.txt"), "{error}");
    }

    /// `ruby -c` parses the formula rendered from the real template.
    #[test]
    #[ignore = "needs ruby: scripts/check-release.sh installs it and runs this test"]
    fn rendered_formula_parses_with_ruby() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker-credential-atcr.rb");
        fs::write(&path, rendered()).unwrap();
        let output = std::process::Command::new("ruby")
            .arg("-c")
            .arg(&path)
            .output()
            .expect("run ruby -c (install ruby)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "ruby -c failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("Syntax OK"), "{stdout}");
    }
}
