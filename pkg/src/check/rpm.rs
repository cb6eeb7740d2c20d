//! The .rpm checks. rpmlint must report no errors on every .rpm, with the
//! reviewed settings in `rpm/rpmlint.toml`. Every .rpm is installed with
//! `dnf` from a createrepo_c repository into an empty `--installroot`,
//! verified with `rpm -V`, run (under qemu-user for aarch64), and removed,
//! which must leave no file.
//!
//! dnf runs with a private configuration whose `reposdir` is empty, so it
//! reads only the local repository and never the host's.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::archives::expected_version_line;
use super::tree;
use crate::binary;
use crate::names::{self, PACKAGE};
use crate::process;
use crate::project::Project;
use crate::targets::{LINUX, Target};
use crate::unprivileged::is_root;

/// Paths in the install root where rpm and dnf keep their records; Debian's
/// rpm keeps its database in `$HOME/.rpmdb` under the root.
const STATE_PATHS: [&str; 4] = ["/var", "/etc/dnf", "/root/.rpmdb", "/usr/lib/sysimage"];

pub fn check(project: &Project, dir: &Path) -> Result<()> {
    for target in LINUX {
        rpmlint(project, &dir.join(names::rpm(&project.version, &target)))?;
    }
    // dnf's --forcearch installs either architecture into the install root,
    // and the helper has no scriptlets that would have to run there.
    for target in LINUX {
        dnf_install(
            project,
            &dir.join(names::rpm(&project.version, &target)),
            &target,
        )?;
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

/// Installs `rpm` with dnf from a createrepo_c repository into an empty
/// install root, verifies it with `rpm -V`, runs it, and removes it.
fn dnf_install(project: &Project, rpm: &Path, target: &Target) -> Result<()> {
    if !is_root() {
        bail!("the dnf install check needs root: run `cargo pkg check` as root");
    }
    let scratch = tempfile::Builder::new()
        .prefix("atcr-dnf-check-")
        .tempdir()?;
    let repository = scratch.path().join("repo");
    let root = scratch.path().join("root");
    let empty_reposdir = scratch.path().join("repos.d");
    for dir in [&repository, &root, &empty_reposdir] {
        fs::create_dir_all(dir)?;
    }
    fs::copy(
        rpm,
        repository.join(rpm.file_name().expect("an .rpm file name")),
    )?;
    process::output(Command::new("createrepo_c").arg(&repository))?;

    let config = scratch.path().join("dnf.conf");
    fs::write(
        &config,
        format!(
            // dnf places cachedir inside the install root.
            "[main]\nreposdir={}\ncachedir=/var/cache/dnf\ninstall_weak_deps=False\nkeepcache=False\nplugins=False\n",
            empty_reposdir.display()
        ),
    )?;
    let dnf = |action: &[&str]| {
        let mut command = Command::new("dnf");
        command
            .arg("--config")
            .arg(&config)
            .arg("--installroot")
            .arg(&root)
            .args([
                "--releasever",
                "1",
                "--forcearch",
                target.rpm_arch,
                "--assumeyes",
                "--quiet",
            ])
            .arg(format!(
                "--repofrompath=atcr-test,file://{}",
                repository.display()
            ))
            .args(["--repo", "atcr-test"])
            // NOTE: the test .rpm is not signed, so the local repository skips the signature check.
            .args(["--setopt=atcr-test.gpgcheck=False"])
            .args(action);
        command
    };

    let before = tree::list(&root, &STATE_PATHS)?;
    process::output(&mut dnf(&["install", PACKAGE]))?;

    let verify = process::output_unchecked(
        Command::new("rpm")
            .arg("--root")
            .arg(&root)
            .args(["--verify", PACKAGE]),
    )?;
    let report = String::from_utf8_lossy(&verify.stdout);
    if !verify.status.success() || !report.trim().is_empty() {
        bail!(
            "`rpm -V {PACKAGE}` in {} is not clean:\n{report}{}",
            root.display(),
            String::from_utf8_lossy(&verify.stderr)
        );
    }

    let binary = root.join("usr/bin").join(PACKAGE);
    let output = binary::run(target, &binary, &["version"])
        .with_context(|| format!("{} does not run", binary.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let expected = expected_version_line(project);
    if printed != expected {
        bail!("after dnf install, `{PACKAGE} version` printed `{printed}`, expected `{expected}`");
    }
    let files = process::stdout_text(
        Command::new("rpm")
            .arg("--root")
            .arg(&root)
            .args(["--query", "--list", PACKAGE]),
    )?;
    eprintln!(
        "  dnf installed {} into an empty root ({} files), rpm -V is clean",
        rpm.display(),
        files.lines().count()
    );

    process::output(&mut dnf(&["remove", PACKAGE]))?;
    // rpm keeps directories that no package owns, such as /usr/bin in an
    // empty root, so the tree comparison looks at files only. The loop below
    // checks that every path the package owned is gone.
    let after = tree::list(&root, &STATE_PATHS)?;
    tree::require_unchanged(
        "dnf install and remove",
        &tree::files_only(&before),
        &tree::files_only(&after),
    )?;
    for path in files
        .lines()
        .map(str::trim)
        .filter(|path| path.starts_with('/'))
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
