//! The Windows artifacts: the release zip and the MSI of each Windows target.
//!
//! Releases ship `x86_64-pc-windows-msvc` and `aarch64-pc-windows-msvc`,
//! which link only on the release workflow's Windows runners. On Linux,
//! `x86_64-pc-windows-gnu` (MinGW-w64) builds the same code for the checks,
//! which run it under wine. Both give the artifact names of the x86_64
//! release: `docker-credential-atcr_<ver>_Windows_x86_64.zip` and
//! `docker-credential-atcr-<ver>-x86_64.msi`.
//!
//! The zip contains the .exe at its root with the same documents as the Linux
//! archives. The man page and completions come from running the .exe:
//! natively on Windows, under wine elsewhere. The MSI comes from cargo-wix
//! on Windows and from wixl on Linux (see [`crate::msi`]). When a code
//! signing certificate is configured, the .exe is signed before it is
//! packaged and the MSI after it is built (see [`crate::sign`]).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::assets::{COMPLETIONS, MAN_PAGE};
use crate::names::PACKAGE;
use crate::project::Project;
use crate::wine::WinePrefix;
use crate::{checksums, msi, process, sign};

/// One Windows target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowsTarget {
    pub triple: &'static str,
    /// The architecture in the zip name (`x86_64`, `arm64`).
    pub archive_arch: &'static str,
    /// The architecture in the MSI name (`x86_64`, `aarch64`).
    pub msi_arch: &'static str,
    /// The WiX `-arch` value (`x64`, `arm64`).
    pub wix_arch: &'static str,
}

/// Every Windows target that `cargo pkg` builds: the two release targets and the
/// MinGW build that Linux machines test.
pub const WINDOWS: [WindowsTarget; 3] = [
    WindowsTarget {
        triple: "x86_64-pc-windows-msvc",
        archive_arch: "x86_64",
        msi_arch: "x86_64",
        wix_arch: "x64",
    },
    WindowsTarget {
        triple: "aarch64-pc-windows-msvc",
        archive_arch: "arm64",
        msi_arch: "aarch64",
        wix_arch: "arm64",
    },
    WindowsTarget {
        triple: "x86_64-pc-windows-gnu",
        archive_arch: "x86_64",
        msi_arch: "x86_64",
        wix_arch: "x64",
    },
];

/// The target that Linux machines build and test under wine.
pub const TEST_TARGET: WindowsTarget = WINDOWS[2];

/// Looks up a Windows target by its triple; `None` for any other triple.
pub fn target(triple: &str) -> Option<WindowsTarget> {
    WINDOWS
        .iter()
        .copied()
        .find(|target| target.triple == triple)
}

/// Returns the release zip's file name.
pub fn zip_name(version: &str, target: &WindowsTarget) -> String {
    format!("{PACKAGE}_{version}_Windows_{}.zip", target.archive_arch)
}

/// Returns the MSI's file name.
pub fn msi_name(version: &str, target: &WindowsTarget) -> String {
    format!("{PACKAGE}-{version}-{}.msi", target.msi_arch)
}

/// Returns the path of the .exe that `cargo build --release --target` writes.
pub fn exe_path(project: &Project, target: &WindowsTarget) -> PathBuf {
    project
        .release_dir(target.triple)
        .join(format!("{PACKAGE}.exe"))
}

/// Opens the wine prefix that `cargo pkg` uses, under the target directory.
pub fn wine_prefix(project: &Project) -> Result<WinePrefix> {
    WinePrefix::open(
        &project.target_dir.join("pkg-wine"),
        &project.root.join("tests/wine/bcryptprimitives.c"),
    )
}

/// `cargo pkg dist --target <windows triple>`: builds the .exe and writes
/// the zip and the MSI to `dist/`.
pub fn dist(project: &Project, target: &WindowsTarget) -> Result<Vec<PathBuf>> {
    build(project, target)?;
    let out_dir = project.dist_dir();
    fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    package(project, target, &out_dir)
}

/// Adds the Windows test build's zip and MSI to a `dist/` that `snapshot`
/// filled, and rewrites `checksums.txt` over every artifact it lists.
pub fn add_to_snapshot(project: &Project) -> Result<()> {
    let out_dir = project.dist_dir();
    let listed = checksums::parse(
        &out_dir.join(crate::names::CHECKSUMS),
        &fs::read_to_string(out_dir.join(crate::names::CHECKSUMS))?,
    )?;
    build(project, &TEST_TARGET)?;
    let mut artifacts: Vec<PathBuf> = listed.keys().map(|name| out_dir.join(name)).collect();
    for artifact in package(project, &TEST_TARGET, &out_dir)? {
        if !artifacts.contains(&artifact) {
            artifacts.push(artifact);
        }
    }
    checksums::write(&out_dir, &artifacts)?;
    let date = crate::project::civil_date(project.source_date_epoch);
    crate::windows_manifests::render_all(
        &project.root,
        &project.version,
        &date,
        &out_dir,
        &out_dir,
    )?;
    Ok(())
}

/// Builds the release .exe of `target` and signs it when a certificate is configured.
pub fn build(project: &Project, target: &WindowsTarget) -> Result<PathBuf> {
    crate::binary::require_rust_target(project, target.triple, "scripts/install-windows-deps.sh")?;
    eprintln!(
        "building {PACKAGE} {} for {}",
        project.version, target.triple
    );
    let mut cargo = project.cargo();
    cargo.args([
        "build",
        "--release",
        "--locked",
        "--package",
        PACKAGE,
        "--target",
        target.triple,
    ]);
    if *target == TEST_TARGET {
        // The MinGW build is only tested, never released, so it skips the release profile's
        // single-unit LTO, which takes most of the build time on a 2-core CI machine.
        cargo
            .env("CARGO_PROFILE_RELEASE_LTO", "off")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    }
    process::run(&mut cargo)?;
    let exe = exe_path(project, target);
    if !exe.is_file() {
        bail!("cargo build wrote no {}", exe.display());
    }
    if let Some(signer) = sign::Signer::from_env()? {
        signer.sign_in_place(&exe)?;
    }
    Ok(exe)
}

/// Writes the zip and the MSI of the built .exe of `target` into `out_dir`.
pub fn package(project: &Project, target: &WindowsTarget, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let exe = exe_path(project, target);
    if !exe.is_file() {
        bail!(
            "{} is missing: run `cargo pkg dist --target {}` first",
            exe.display(),
            target.triple
        );
    }
    let assets_dir = generate_assets(project, target, exe.clone())?;
    let zip = out_dir.join(zip_name(&project.version, target));
    write_zip(
        &zip,
        &zip_entries(project, &exe, &assets_dir),
        project.source_date_epoch,
    )
    .with_context(|| format!("cannot write {}", zip.display()))?;
    eprintln!("wrote {}", zip.display());

    let msi = out_dir.join(msi_name(&project.version, target));
    build_msi(project, target, &exe, &msi)?;
    if let Some(signer) = sign::Signer::from_env()? {
        signer.sign_in_place(&msi)?;
    }
    eprintln!("wrote {}", msi.display());
    Ok(vec![zip, msi])
}

/// Builds the MSI: cargo-wix on Windows, wixl elsewhere.
fn build_msi(project: &Project, target: &WindowsTarget, exe: &Path, output: &Path) -> Result<()> {
    let exe_dir = exe.parent().context("the .exe has no folder")?;
    if cfg!(windows) {
        // NOTE: this branch runs only on the release workflow's Windows runners; Linux CI checks the wixl branch.
        let msi_version = msi::msi_version(&project.version)?;
        return process::run(
            project
                .command("cargo")
                .current_dir(&project.root)
                .args([
                    "wix",
                    "--no-build",
                    "--nocapture",
                    "--package",
                    PACKAGE,
                    "--target",
                    target.triple,
                    "--output",
                ])
                .arg(output)
                .arg("--compiler-arg")
                .arg(format!("-dMsiVersion={msi_version}")),
        );
    }
    if target.wix_arch != "x64" {
        bail!(
            "wixl builds x64 MSIs only; build the {} MSI with cargo-wix on Windows",
            target.triple
        );
    }
    msi::build_with_wixl(&project.root, exe_dir, &project.version, output)
}

/// Runs the .exe for its man page and completions, and writes them to a
/// folder beside it.
fn generate_assets(project: &Project, target: &WindowsTarget, exe: PathBuf) -> Result<PathBuf> {
    let dir = project.release_dir(target.triple).join("pkg-assets");
    fs::create_dir_all(dir.join("completions"))?;
    let run = runner(project, exe)?;

    let man = run(&["man"]).context("cannot generate the man page")?;
    write_nonempty(&dir.join(MAN_PAGE), &man)?;
    for (shell, file_name) in COMPLETIONS {
        let script = run(&["completions", shell])
            .with_context(|| format!("cannot generate the {shell} completions"))?;
        write_nonempty(&dir.join("completions").join(file_name), &script)?;
    }
    Ok(dir)
}

/// Runs the built .exe with arguments and returns its stdout.
type Runner = Box<dyn Fn(&[&str]) -> Result<Vec<u8>>>;

/// Returns a [`Runner`] for `exe`: the .exe itself on Windows, wine elsewhere.
fn runner(project: &Project, exe: PathBuf) -> Result<Runner> {
    if cfg!(windows) {
        return Ok(Box::new(move |args| {
            Ok(process::output(std::process::Command::new(&exe).args(args))?.stdout)
        }));
    }
    let prefix = wine_prefix(project)?;
    let workdir = tempfile::tempdir()?;
    Ok(Box::new(move |args| {
        let run = prefix.run(
            exe.as_os_str(),
            args,
            &[],
            b"",
            workdir.path(),
            Duration::from_secs(60),
        )?;
        if run.status != Some(0) {
            bail!(
                "`{} {}` under wine failed: {}",
                exe.display(),
                args.join(" "),
                run.describe()
            );
        }
        // wine translates nothing in a pipe, so the bytes are what the program wrote.
        Ok(run.stdout.into_bytes())
    }))
}

fn write_nonempty(path: &Path, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        bail!("the helper printed nothing for {}", path.display());
    }
    fs::write(path, data).with_context(|| format!("cannot write {}", path.display()))
}

/// Lists the zip's files in the order they are written: (name inside, source).
fn zip_entries(project: &Project, exe: &Path, assets_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut entries = vec![
        (format!("{PACKAGE}.exe"), exe.to_path_buf()),
        ("LICENSE".to_owned(), project.root.join("LICENSE")),
        ("README.md".to_owned(), project.root.join("README.md")),
        (
            "INSTALLATION.md".to_owned(),
            project.root.join("INSTALLATION.md"),
        ),
        (MAN_PAGE.to_owned(), assets_dir.join(MAN_PAGE)),
    ];
    for (_, file_name) in COMPLETIONS {
        entries.push((
            format!("completions/{file_name}"),
            assets_dir.join("completions").join(file_name),
        ));
    }
    entries
}

/// Writes a deflated zip with a fixed time on every entry, so one input
/// gives the same bytes on every run.
fn write_zip(path: &Path, entries: &[(String, PathBuf)], epoch: u64) -> Result<()> {
    let time = zip_time(epoch)?;
    let mut writer = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(time)
        .unix_permissions(0o644);

    let mut directories: Vec<String> = Vec::new();
    for (name, source) in entries {
        if let Some((directory, _)) = name.rsplit_once('/')
            && !directories.iter().any(|known| known == directory)
        {
            writer.add_directory(format!("{directory}/"), options.unix_permissions(0o755))?;
            directories.push(directory.to_owned());
        }
        let data = fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
        let mode = if name.ends_with(".exe") { 0o755 } else { 0o644 };
        writer.start_file(name.as_str(), options.unix_permissions(mode))?;
        writer.write_all(&data)?;
    }
    let mut file = writer.finish()?;
    file.flush()?;
    Ok(())
}

/// Converts seconds since 1970 to a zip (MS-DOS) time, which starts in 1980.
fn zip_time(epoch: u64) -> Result<zip::DateTime> {
    let date = crate::project::civil_date(epoch);
    let mut parts = date.split('-').map(|part| part.parse::<u16>());
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        bail!("cannot read the date {date:?} of SOURCE_DATE_EPOCH {epoch}");
    };
    let seconds = epoch % 86_400;
    let year = year.max(1980);
    zip::DateTime::from_date_and_time(
        year,
        month as u8,
        day as u8,
        (seconds / 3600) as u8,
        (seconds % 3600 / 60) as u8,
        (seconds % 60) as u8,
    )
    .map_err(|_| {
        anyhow::anyhow!(
            "SOURCE_DATE_EPOCH {epoch} ({date}) is outside the zip date range 1980-2107"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_artifact_names() {
        assert_eq!(
            zip_name("1.2.3", &WINDOWS[0]),
            "docker-credential-atcr_1.2.3_Windows_x86_64.zip"
        );
        assert_eq!(
            zip_name("1.2.3", &WINDOWS[1]),
            "docker-credential-atcr_1.2.3_Windows_arm64.zip"
        );
        assert_eq!(
            msi_name("1.2.3", &WINDOWS[0]),
            "docker-credential-atcr-1.2.3-x86_64.msi"
        );
        assert_eq!(
            msi_name("1.2.3", &WINDOWS[1]),
            "docker-credential-atcr-1.2.3-aarch64.msi"
        );
        assert_eq!(
            zip_name("1.2.3", &TEST_TARGET),
            zip_name("1.2.3", &WINDOWS[0])
        );
    }

    #[test]
    fn zip_time_uses_the_epoch() {
        let time = zip_time(1_700_000_000).unwrap();
        assert_eq!((time.year(), time.month(), time.day()), (2023, 11, 14));
        assert_eq!((time.hour(), time.minute(), time.second()), (22, 13, 20));
    }

    #[test]
    fn zip_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("a.exe");
        fs::write(&source, b"MZ").unwrap();
        let entries = vec![
            ("a.exe".to_owned(), source.clone()),
            ("completions/x".to_owned(), source),
        ];
        let first = dir.path().join("1.zip");
        let second = dir.path().join("2.zip");
        write_zip(&first, &entries, 1_700_000_000).unwrap();
        write_zip(&second, &entries, 1_700_000_000).unwrap();
        assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
    }
}
