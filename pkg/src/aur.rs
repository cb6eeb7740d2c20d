//! The AUR packages: `docker-credential-atcr-bin`, which installs the release
//! archive, and `docker-credential-atcr`, which builds the source tarball
//! with cargo.
//!
//! Each `aur/<package>/PKGBUILD.in` is a PKGBUILD with `{{name}}`
//! placeholders for the version, the commit and the SHA-256 sums. Rendering
//! fills them from the artifacts, and `.SRCINFO` comes from
//! `makepkg --printsrcinfo`, the only writer of it that the AUR trusts.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::checksums::sha256_file;
use crate::names;
use crate::process;
use crate::project::Project;
use crate::targets::LINUX;
use crate::unprivileged::Runner;

/// The package that installs the release archive.
pub const BIN_PACKAGE: &str = "docker-credential-atcr-bin";
/// The package that builds from the source tarball.
pub const SOURCE_PACKAGE: &str = "docker-credential-atcr";
/// Both AUR packages, each with its folder under `aur/`.
pub const PACKAGES: [&str; 2] = [BIN_PACKAGE, SOURCE_PACKAGE];

/// Renders every PKGBUILD and its `.SRCINFO` into `out_dir/aur/<package>/`,
/// with the sums of the artifacts in `artifacts_dir`. Returns the package directories.
pub fn render_all(project: &Project, artifacts_dir: &Path, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let values = values(project, artifacts_dir)?;
    let runner = Runner::new()?;
    let mut dirs = Vec::new();
    for package in PACKAGES {
        let template = project.root.join("aur").join(package).join("PKGBUILD.in");
        let dir = out_dir.join("aur").join(package);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

        let text = fs::read_to_string(&template)
            .with_context(|| format!("cannot read the PKGBUILD template {}", template.display()))?;
        let pkgbuild = render(&template, &text, &values)?;
        fs::write(dir.join("PKGBUILD"), &pkgbuild)
            .with_context(|| format!("cannot write {}", dir.join("PKGBUILD").display()))?;

        let srcinfo = print_srcinfo(&runner, &dir.join("PKGBUILD"))?;
        fs::write(dir.join(".SRCINFO"), srcinfo)
            .with_context(|| format!("cannot write {}", dir.join(".SRCINFO").display()))?;
        eprintln!("wrote {}/PKGBUILD and .SRCINFO", dir.display());
        dirs.push(dir);
    }
    Ok(dirs)
}

/// Collects the placeholder values: `version`, `commit`, `sha256_source` and
/// one `sha256_<pacman arch>` per Linux archive in `artifacts_dir`.
pub fn values(project: &Project, artifacts_dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    values.insert("version".to_owned(), project.version.clone());
    values.insert("pkgver".to_owned(), pkgver(&project.version));
    values.insert("commit".to_owned(), project.commit.clone());
    values.insert(
        "sha256_source".to_owned(),
        sha256_file(&artifacts_dir.join(names::source_tarball(&project.version)))?,
    );
    for target in LINUX {
        let archive = artifacts_dir.join(names::archive(&project.version, &target));
        values.insert(
            format!("sha256_{}", target.pacman_arch),
            sha256_file(&archive)?,
        );
    }
    Ok(values)
}

/// Returns pacman's `pkgver` for a release version. pacman forbids `-` in
/// it, and vercmp sorts letters right after the last number before that
/// number alone. So the pre-release `1.2.0-rc.1` becomes `1.2.0rc.1`, and
/// the numeric one `1.2.0-1` becomes `1.2.0pre1`. Both sort before `1.2.0`,
/// as in SemVer.
pub fn pkgver(version: &str) -> String {
    let Some((release, pre_release)) = version.split_once('-') else {
        return version.to_owned();
    };
    let pre_release = pre_release.replace('-', ".");
    if pre_release.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{release}pre{pre_release}")
    } else {
        format!("{release}{pre_release}")
    }
}

/// Replaces every `{{name}}` in `text` with its value; fails on a name that
/// has no value. `template` is only for messages.
pub fn render(template: &Path, text: &str, values: &BTreeMap<String, String>) -> Result<String> {
    let mut rendered = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rendered.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("{}: unclosed `{{{{` placeholder", template.display());
        };
        let name = after[..end].trim();
        let Some(value) = values.get(name) else {
            let known: Vec<&str> = values.keys().map(String::as_str).collect();
            bail!(
                "{}: unknown placeholder `{{{{{name}}}}}`: known ones are {}",
                template.display(),
                known.join(", ")
            );
        };
        rendered.push_str(value);
        rest = &after[end + 2..];
    }
    rendered.push_str(rest);
    Ok(rendered)
}

/// Runs `makepkg --printsrcinfo` on `pkgbuild` as an unprivileged user and returns its output.
pub fn print_srcinfo(runner: &Runner, pkgbuild: &Path) -> Result<String> {
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    fs::copy(pkgbuild, scratch.path().join("PKGBUILD"))
        .with_context(|| format!("cannot copy {}", pkgbuild.display()))?;
    runner.own(scratch.path())?;

    let output = process::output(
        runner
            .command("makepkg", scratch.path())
            .arg("--printsrcinfo"),
    )
    .with_context(|| format!("makepkg cannot read {}", pkgbuild.display()))?;
    String::from_utf8(output.stdout)
        .with_context(|| format!("makepkg printed invalid UTF-8 for {}", pkgbuild.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("version".to_owned(), "1.2.3".to_owned()),
            ("sha256_x86_64".to_owned(), "ab".repeat(32)),
        ])
    }

    #[test]
    fn pkgver_of_release_and_pre_releases() {
        assert_eq!(pkgver("1.2.0"), "1.2.0");
        assert_eq!(pkgver("1.2.0+build.5"), "1.2.0+build.5");
        assert_eq!(pkgver("1.2.0-rc.1"), "1.2.0rc.1");
        assert_eq!(pkgver("1.2.0-beta-2"), "1.2.0beta.2");
        assert_eq!(pkgver("1.2.0-1"), "1.2.0pre1");
    }

    /// pacman's own vercmp must sort each pre-release before its release.
    #[test]
    #[ignore = "needs vercmp from pacman: scripts/install-pkg-deps.sh installs it"]
    fn pkgver_sorts_before_release_in_vercmp() {
        for pre_release in ["1.2.0-rc.1", "1.2.0-beta.2", "1.2.0-1"] {
            let output = std::process::Command::new("vercmp")
                .args([pkgver(pre_release), "1.2.0".to_owned()])
                .output()
                .expect("run vercmp");
            let order = String::from_utf8_lossy(&output.stdout);
            assert_eq!(
                order.trim(),
                "-1",
                "{pre_release} as {}",
                pkgver(pre_release)
            );
        }
    }

    #[test]
    fn render_fills_placeholders() {
        let text = "pkgver={{version}}\nsha256sums_x86_64=('{{ sha256_x86_64 }}')\nkeep ${pkgver} {braces}\n";
        let rendered = render(Path::new("PKGBUILD.in"), text, &values()).unwrap();
        assert_eq!(
            rendered,
            format!(
                "pkgver=1.2.3\nsha256sums_x86_64=('{}')\nkeep ${{pkgver}} {{braces}}\n",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn render_names_unknown_placeholder() {
        let error = render(
            Path::new("aur/x/PKGBUILD.in"),
            "{{sha256_riscv64}}",
            &values(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("aur/x/PKGBUILD.in: unknown placeholder `{{sha256_riscv64}}`"),
            "{error}"
        );
        assert!(error.contains("version"), "{error}");
    }

    #[test]
    fn render_names_unclosed_placeholder() {
        let error = render(Path::new("PKGBUILD.in"), "pkgver={{version", &values())
            .unwrap_err()
            .to_string();
        assert_eq!(error, "PKGBUILD.in: unclosed `{{` placeholder");
    }
}
