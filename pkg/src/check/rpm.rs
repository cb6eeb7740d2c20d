//! The .rpm checks. rpmlint must report no errors on every .rpm, with the
//! reviewed settings in `rpm/rpmlint.toml`. Every .rpm is installed by name
//! with `dnf` from the signed dnf repository that `cargo pkg repo` builds
//! (see `site.rs`), with `gpgcheck=1` and `repo_gpgcheck=1`, into an empty
//! `--installroot`. There `rpm -V` must be clean and `rpm -K` must accept the
//! package's signature; the binary runs (under qemu-user for aarch64), and
//! `dnf remove` must leave no file.
//!
//! Before that, dnf must reject a copy of the repository whose repomd.xml
//! changed after signing, and a package without a signature. Without these
//! failures, a passing install would not show that dnf checked signatures.
//!
//! dnf runs with a private configuration whose `reposdir` contains only the
//! site's `.repo` file, so it reads only that repository and never the host's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::archives::expected_version_line;
use super::site::{self, TestSite};
use super::tree;
use crate::binary;
use crate::names::{self, PACKAGE};
use crate::process;
use crate::project::Project;
use crate::repo;
use crate::targets::{LINUX, Target};
use crate::unprivileged::is_root;

/// Paths in the install root where rpm and dnf keep their records; Debian's
/// rpm keeps its database in `$HOME/.rpmdb` under the root.
const STATE_PATHS: [&str; 4] = ["/var", "/etc/dnf", "/root/.rpmdb", "/usr/lib/sysimage"];

/// Directories that hold the package's files but that it does not own. rpm
/// keeps such directories after removal, so the package must remove them
/// itself when they are empty.
const UNOWNED_DIRS: [&str; 2] = [
    "/usr/share/doc/docker-credential-atcr",
    "/usr/share/licenses/docker-credential-atcr",
];

pub fn check(project: &Project, dir: &Path) -> Result<()> {
    for target in LINUX {
        rpmlint(project, &dir.join(names::rpm(&project.version, &target)))?;
    }
    if !is_root() {
        bail!("the dnf install check needs root: run `cargo pkg check` as root");
    }
    let site = TestSite::build(project, dir)?;
    let Some(native) = LINUX.iter().find(|target| target.is_native()) else {
        bail!(
            "no Linux target matches this machine's CPU ({}), so dnf cannot run a package here",
            std::env::consts::ARCH
        );
    };
    dnf_rejects_bad_repositories(project, dir, &site, native)?;

    // dnf's --forcearch installs either architecture into the install root,
    // and the helper has no scriptlets that would have to run there.
    for target in LINUX {
        dnf_install(project, &site, &target)?;
    }
    Ok(())
}

/// Runs rpmlint on `rpm` with the project's settings; fails on any error.
fn rpmlint(project: &Project, rpm: &Path) -> Result<()> {
    let config = project.root.join("rpm/rpmlint.toml");
    let output = process::output_unchecked(
        Command::new("rpmlint")
            .arg("--config")
            .arg(&config)
            .arg(rpm),
    )?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "rpmlint reports errors for {}:\n{}\n{}",
            rpm.display(),
            report.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    eprintln!("  rpmlint {}:", rpm.display());
    for line in report.lines().filter(|line| !line.trim().is_empty()) {
        eprintln!("    {line}");
    }
    Ok(())
}

/// An empty install root, and a private dnf configuration whose only
/// repository is the site's `.repo` file.
struct InstallRoot {
    root: PathBuf,
    config: PathBuf,
    target: Target,
    _scratch: TempDir,
}

impl InstallRoot {
    fn new(site: &TestSite, target: &Target) -> Result<InstallRoot> {
        let scratch = tempfile::Builder::new()
            .prefix("atcr-dnf-check-")
            .tempdir()?;
        let root = scratch.path().join("root");
        let reposdir = scratch.path().join("repos.d");
        fs::create_dir_all(&root)?;
        fs::create_dir_all(&reposdir)?;
        fs::copy(
            site.path().join(repo::REPO_FILE),
            reposdir.join(repo::REPO_FILE),
        )?;
        let config = scratch.path().join("dnf.conf");
        fs::write(
            &config,
            format!(
                // dnf places cachedir inside the install root.
                "[main]\nreposdir={}\ncachedir=/var/cache/dnf\ninstall_weak_deps=False\nkeepcache=False\nplugins=False\n",
                reposdir.display()
            ),
        )?;
        Ok(InstallRoot {
            root,
            config,
            target: *target,
            _scratch: scratch,
        })
    }

    /// Creates a `dnf` command for this root and target, with `args` after the options.
    fn dnf(&self, args: &[&str]) -> Command {
        let mut command = Command::new("dnf");
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--installroot")
            .arg(&self.root)
            .args([
                "--releasever",
                "1",
                "--forcearch",
                self.target.rpm_arch,
                "--assumeyes",
                "--quiet",
            ])
            .args(args);
        command
    }

    /// Creates an `rpm --root` command for this root, with `args` after it.
    fn rpm(&self, args: &[&str]) -> Command {
        let mut command = Command::new("rpm");
        command.arg("--root").arg(&self.root).args(args);
        command
    }
}

/// Checks that `dnf install` fails on a copy of the site's dnf repository
/// whose repomd.xml was changed after signing, and on a repository with
/// signed metadata that contains the unsigned .rpm from `dir`.
fn dnf_rejects_bad_repositories(
    project: &Project,
    dir: &Path,
    site: &TestSite,
    native: &Target,
) -> Result<()> {
    let (tampered, tampered_url) = site.variant("tampered", &[repo::RPM_DIR])?;
    change_revision(&tampered.join(repo::RPM_DIR).join("repodata/repomd.xml"))?;

    let (unsigned, unsigned_url) = site.variant("unsigned", &[])?;
    let unsigned_rpms = unsigned.join(repo::RPM_DIR);
    let rpm_name = names::rpm(&project.version, native);
    fs::create_dir_all(&unsigned_rpms)?;
    fs::copy(dir.join(&rpm_name), unsigned_rpms.join(&rpm_name))?;
    repo::index_rpm_directory(&unsigned_rpms, &site.key)?;

    // dnf prints "Bad GPG signature" for the repomd.xml and "is not signed"
    // for the package, so neither case passes by a failed download.
    let cases = [
        (
            "a repomd.xml changed after signing",
            tampered_url,
            "Bad GPG signature",
        ),
        (
            "a package without a signature",
            unsigned_url,
            "is not signed",
        ),
    ];
    for (what, url, expected) in cases {
        let install_root = InstallRoot::new(site, native)?;
        let baseurl = format!("--setopt={PACKAGE}.baseurl={url}/{}/", repo::RPM_DIR);
        let output =
            process::output_unchecked(&mut install_root.dnf(&[&baseurl, "install", PACKAGE]))?;
        let line = site::rejection_line("dnf install", &output, expected, what, &url)?;
        eprintln!("  dnf rejects {what}: {line}");
    }
    Ok(())
}

/// Changes the last digit of the `<revision>` in `path`, a repomd.xml, which
/// leaves the metadata valid and its signature wrong.
fn change_revision(path: &Path) -> Result<()> {
    let text = fs::read_to_string(path)?;
    let Some(end) = text.find("</revision>") else {
        bail!("{} has no <revision> to change", path.display());
    };
    let digit = &text[end - 1..end];
    let changed = if digit == "0" { "1" } else { "0" };
    fs::write(
        path,
        format!("{}{changed}{}", &text[..end - 1], &text[end..]),
    )?;
    Ok(())
}

/// Installs `target`'s package by name with dnf from the site into an empty
/// install root, verifies it with `rpm -V` and `rpm -K`, runs it, and removes it.
fn dnf_install(project: &Project, site: &TestSite, target: &Target) -> Result<()> {
    let install_root = InstallRoot::new(site, target)?;
    let root = &install_root.root;
    let before = tree::list(root, &STATE_PATHS)?;
    process::output(&mut install_root.dnf(&["install", PACKAGE]))?;

    let verify = process::output_unchecked(&mut install_root.rpm(&["--verify", PACKAGE]))?;
    let report = String::from_utf8_lossy(&verify.stdout);
    if !verify.status.success() || !report.trim().is_empty() {
        bail!(
            "`rpm -V {PACKAGE}` in {} is not clean:\n{report}{}",
            root.display(),
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    // dnf imported the site's key into the root's database for gpgcheck=1,
    // so rpm checks the signature against it.
    let served_rpm = site
        .path()
        .join(repo::RPM_DIR)
        .join(names::rpm(&project.version, target));
    let checksig = process::stdout_text(install_root.rpm(&["--checksig"]).arg(&served_rpm))?;
    let Some(verdict) = checksig
        .strip_prefix(&format!("{}: ", served_rpm.display()))
        .filter(|verdict| *verdict == "digests signatures OK")
    else {
        bail!(
            "`rpm -K` in {} does not accept the signature: {checksig}",
            root.display()
        );
    };

    let binary = root.join("usr/bin").join(PACKAGE);
    let output = binary::run(target, &binary, &["version"])
        .with_context(|| format!("{} does not run", binary.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let expected = expected_version_line(project);
    if printed != expected {
        bail!("after dnf install, `{PACKAGE} version` printed `{printed}`, expected `{expected}`");
    }
    let files = process::stdout_text(&mut install_root.rpm(&["--query", "--list", PACKAGE]))?;
    eprintln!(
        "  dnf installed {PACKAGE}.{} from {} ({} files), rpm -V is clean, rpm -K reports `{verdict}`",
        target.rpm_arch,
        site.url(),
        files.lines().count()
    );

    process::output(&mut install_root.dnf(&["remove", PACKAGE]))?;
    // rpm keeps directories that no package owns, such as /usr/bin in an
    // empty root, so the tree comparison looks at files only. The loop below
    // checks that every path the package owned is gone, and the directories
    // it does not own but removes when empty.
    let after = tree::list(root, &STATE_PATHS)?;
    tree::require_unchanged(
        "dnf install and remove",
        &tree::files_only(&before),
        &tree::files_only(&after),
    )?;
    for path in files
        .lines()
        .map(str::trim)
        .filter(|path| path.starts_with('/'))
        .chain(UNOWNED_DIRS)
    {
        if root
            .join(path.trim_start_matches('/'))
            .symlink_metadata()
            .is_ok()
        {
            bail!("{path} is still in the install root after dnf remove");
        }
    }
    eprintln!("  dnf remove left no file behind");
    Ok(())
}
