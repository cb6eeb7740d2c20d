//! The AUR checks. For both packages, the rendered PKGBUILD equals a fresh
//! render from `aur/<package>/PKGBUILD.in` with the sums of the artifacts in
//! DIR, and the `.SRCINFO` equals `makepkg --printsrcinfo`. The `-bin`
//! package for each architecture is then built by makepkg (as an
//! unprivileged user) from the local archive, installed with `pacman -U` into
//! a scratch root, run (under qemu-user for aarch64), and removed again,
//! which must leave no file. For the source package, makepkg checks
//! the source tarball's SHA-256 (`--verifysource`), and the package is built
//! from that tarball with cargo, installed and removed the same way.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::archives::expected_version_line;
use super::tree;
use crate::aur::{BIN_PACKAGE, PACKAGES, SOURCE_PACKAGE, print_srcinfo, render, values};
use crate::binary;
use crate::names::{self, PACKAGE};
use crate::process;
use crate::project::Project;
use crate::targets::{LINUX, Target};
use crate::unprivileged::{Runner, is_root};

/// Paths in the scratch root that pacman keeps for its own records.
const STATE_PATHS: [&str; 3] = ["/var/lib/pacman", "/var/cache", "/var/log"];

/// Checks the rendered manifests and builds and installs the `-bin` package.
pub fn check(project: &Project, dir: &Path) -> Result<()> {
    let runner = Runner::new()?;
    for package in PACKAGES {
        check_rendered(project, &runner, dir, package)?;
    }
    build_and_install_bin(project, &runner, dir)
}

/// Lets makepkg check the source tarball against the source PKGBUILD's sum,
/// then builds the source package from it and installs it with pacman.
pub fn check_source(project: &Project, dir: &Path) -> Result<()> {
    let runner = Runner::new()?;
    let build = tempfile::Builder::new()
        .prefix("atcr-aur-source-")
        .tempdir()?;
    let tarball = names::source_tarball(&project.version);
    fs::copy(
        dir.join("aur").join(SOURCE_PACKAGE).join("PKGBUILD"),
        build.path().join("PKGBUILD"),
    )?;
    fs::copy(dir.join(&tarball), build.path().join(&tarball))
        .with_context(|| format!("cannot copy {}", dir.join(&tarball).display()))?;
    runner.own(build.path())?;
    process::output(
        runner
            .command("makepkg", build.path())
            .args(["--verifysource", "--nodeps"]),
    )
    .with_context(|| {
        format!("makepkg --verifysource rejects {tarball} for the {SOURCE_PACKAGE} PKGBUILD")
    })?;
    eprintln!("  makepkg --verifysource accepts {tarball}");

    if !is_root() {
        bail!("the pacman install check needs root: run `cargo pkg check` as root");
    }
    build_source_package(project, &runner, build.path(), &tarball)?;
    let package = built_package(build.path(), SOURCE_PACKAGE)?;
    eprintln!("  makepkg built {}", package.display());
    let native = LINUX.iter().find(|target| target.is_native()).context(
        "no Linux target matches this machine's CPU, so the source package cannot run here",
    )?;
    pacman_install(project, native, &package, SOURCE_PACKAGE)
}

/// Builds the source package in `build`, which contains its PKGBUILD and
/// `tarball`. makepkg refuses to run as root, and its unprivileged user
/// cannot reach a Rust toolchain under root's home, so bash runs the
/// PKGBUILD's prepare() and build() here the way makepkg does: in `src/`
/// with the tarball unpacked and SOURCE_DATE_EPOCH set. Then `makepkg
/// --repackage`, as the unprivileged user, runs package() and writes the
/// package.
fn build_source_package(
    project: &Project,
    runner: &Runner,
    build: &Path,
    tarball: &str,
) -> Result<()> {
    let script = format!(
        "set -euo pipefail\n\
         source ./PKGBUILD\n\
         srcdir=\"$PWD/src\"\n\
         mkdir -p \"$srcdir\"\n\
         tar -xzf {tarball} -C \"$srcdir\"\n\
         cd \"$srcdir\" && prepare\n\
         cd \"$srcdir\" && build\n"
    );
    eprintln!(
        "  building the {SOURCE_PACKAGE} package's prepare() and build() from {tarball} with cargo"
    );
    process::output(
        project
            .command("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(build)
            // The PKGBUILD chooses its own target directory.
            .env_remove("CARGO_TARGET_DIR"),
    )
    .with_context(|| {
        format!("the {SOURCE_PACKAGE} PKGBUILD's prepare() or build() failed on {tarball}")
    })?;

    runner.own(build)?;
    process::output(
        runner
            .command("env", build)
            .arg(format!("PKGDEST={}", build.display()))
            .arg(format!("SRCDEST={}", build.display()))
            .arg("makepkg")
            .args(["--repackage", "--nodeps", "--noconfirm"]),
    )
    .with_context(|| format!("makepkg --repackage failed for the {SOURCE_PACKAGE} package"))?;
    Ok(())
}

/// Compares `DIR/aur/<package>/PKGBUILD` with a fresh render and its `.SRCINFO` with makepkg's.
fn check_rendered(project: &Project, runner: &Runner, dir: &Path, package: &str) -> Result<()> {
    let package_dir = dir.join("aur").join(package);
    let pkgbuild_path = package_dir.join("PKGBUILD");
    let pkgbuild = fs::read_to_string(&pkgbuild_path)
        .with_context(|| format!("cannot read {}", pkgbuild_path.display()))?;

    let template = project.root.join("aur").join(package).join("PKGBUILD.in");
    let text = fs::read_to_string(&template)
        .with_context(|| format!("cannot read {}", template.display()))?;
    let expected = render(&template, &text, &values(project, dir)?)?;
    if pkgbuild != expected {
        bail!(
            "{} differs from {} rendered with the sums of the artifacts in {}",
            pkgbuild_path.display(),
            template.display(),
            dir.display()
        );
    }

    let srcinfo_path = package_dir.join(".SRCINFO");
    let srcinfo = fs::read_to_string(&srcinfo_path)
        .with_context(|| format!("cannot read {}", srcinfo_path.display()))?;
    let printed = print_srcinfo(runner, &pkgbuild_path)?;
    if srcinfo != printed {
        bail!(
            "{} differs from `makepkg --printsrcinfo`:\n{printed}",
            srcinfo_path.display()
        );
    }
    eprintln!(
        "  {package}: PKGBUILD matches the artifacts, .SRCINFO matches makepkg --printsrcinfo"
    );
    Ok(())
}

/// Builds the `-bin` package for every Linux architecture from the local
/// archive and installs each into a scratch root with pacman.
fn build_and_install_bin(project: &Project, runner: &Runner, dir: &Path) -> Result<()> {
    if !is_root() {
        bail!("the pacman install check needs root: run `cargo pkg check` as root");
    }
    for target in LINUX {
        let build = tempfile::Builder::new().prefix("atcr-aur-bin-").tempdir()?;
        let archive = names::archive(&project.version, &target);
        fs::copy(
            dir.join("aur").join(BIN_PACKAGE).join("PKGBUILD"),
            build.path().join("PKGBUILD"),
        )?;
        // makepkg takes a source from the build directory when a file of that name is there.
        fs::copy(dir.join(&archive), build.path().join(&archive))?;
        // makepkg.conf sets CARCH, so a second configuration overrides it to package the other architecture.
        let config = build.path().join("makepkg.conf");
        fs::write(
            &config,
            format!("source /etc/makepkg.conf\nCARCH={}\n", target.pacman_arch),
        )?;
        runner.own(build.path())?;

        process::output(
            runner
                .command("env", build.path())
                .arg(format!("PKGDEST={}", build.path().display()))
                .arg(format!("SRCDEST={}", build.path().display()))
                .arg("makepkg")
                .arg("--config")
                .arg(&config)
                .args(["--nodeps", "--noconfirm", "--cleanbuild"]),
        )
        .with_context(|| {
            format!(
                "makepkg failed to build the {} -bin package from {archive}",
                target.pacman_arch
            )
        })?;
        let package = built_package(build.path(), BIN_PACKAGE)?;
        eprintln!("  makepkg built {}", package.display());

        pacman_install(project, &target, &package, BIN_PACKAGE)?;
    }
    Ok(())
}

/// Returns the package file of `package` that makepkg wrote into `dir`.
fn built_package(dir: &Path, package: &str) -> Result<PathBuf> {
    let prefix = format!("{package}-");
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with(&prefix) && name.contains(".pkg.tar") {
            return Ok(path);
        }
    }
    bail!(
        "makepkg wrote no {prefix}*.pkg.tar.* into {}",
        dir.display()
    )
}

/// Installs the package file `package`, of the package `name`, with
/// `pacman -U` into a scratch root, runs it, and removes it again.
fn pacman_install(project: &Project, target: &Target, package: &Path, name: &str) -> Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("atcr-pacman-check-")
        .tempdir()?;
    let root = scratch.path().join("root");
    let database = root.join("var/lib/pacman");
    fs::create_dir_all(&database)?;
    let config = scratch.path().join("pacman.conf");
    // NOTE: the package is built here and unsigned, so signature checks are off for this scratch root.
    fs::write(
        &config,
        format!(
            "[options]\nArchitecture = {}\nSigLevel = Never\nLocalFileSigLevel = Never\n",
            target.pacman_arch
        ),
    )?;

    let pacman = |args: &[&str]| {
        let mut command = Command::new("pacman");
        command
            .arg("--config")
            .arg(&config)
            .arg("--root")
            .arg(&root)
            .arg("--dbpath")
            .arg(&database)
            .arg("--cachedir")
            .arg(root.join("var/cache/pacman/pkg"))
            .arg("--logfile")
            .arg(root.join("var/log/pacman.log"))
            .args(["--noconfirm"])
            .args(args);
        command
    };

    let before = tree::list(&root, &STATE_PATHS)?;
    // The scratch root has no other package, so dependency checks are off:
    // the source package depends on glibc and gcc-libs, which every Arch system has.
    process::output(pacman(&["--upgrade", "--nodeps", "--nodeps"]).arg(package))?;
    let binary = root.join("usr/bin").join(PACKAGE);
    let output = binary::run(target, &binary, &["version"])
        .with_context(|| format!("{} does not run", binary.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let expected = expected_version_line(project);
    if printed != expected {
        bail!("after pacman -U, `{PACKAGE} version` printed `{printed}`, expected `{expected}`");
    }
    process::output(&mut pacman(&["--query", "--check", "--check", name]))?;
    eprintln!(
        "  pacman -U installed {} into {}; pacman -Qkk is clean",
        package.display(),
        root.display()
    );

    process::output(&mut pacman(&["--remove", name]))?;
    let after = tree::list(&root, &STATE_PATHS)?;
    tree::require_unchanged("pacman -U and -R", &before, &after)?;
    eprintln!("  pacman -R left no file behind");
    Ok(())
}
