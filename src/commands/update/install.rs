//! Installing a downloaded release archive over the running binary: the
//! SHA-256 check, unpacking, a trial run of the new binary, and the rename.
//!
//! Each step either succeeds or leaves the installed binary as it was. The
//! new binary is written to a temporary file next to the old one, so the
//! final rename stays on one file system and is atomic. The temporary file is
//! removed on every error. Finding and downloading the archive is left to
//! `release.rs`.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use tempfile::TempPath;

use super::release::{PACKAGE, Release, Version};

/// The name prefix of the new binary while it is staged next to the old one.
const STAGING_PREFIX: &str = ".docker-credential-atcr-update-";

/// The largest binary accepted from an archive; a real one has a few MiB.
const MAX_BINARY_BYTES: u64 = 256 << 20;

/// How long the new binary may take to print its version.
const TRIAL_RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Returns the lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Checks that `archive` has the SHA-256 that `release.checksums_url` lists.
pub fn verify_sha256(archive: &[u8], release: &Release, archive_url: &str) -> Result<()> {
    let actual = sha256_hex(archive);
    if actual != release.sha256 {
        bail!(
            "checksum mismatch for {}: {} lists SHA-256 {}, but the file downloaded from {archive_url} has {actual}; nothing was changed. \
             Run the update again; if the mismatch stays, the release files were changed or damaged, so report it to the maintainers",
            release.archive,
            release.checksums_url,
            release.sha256
        );
    }
    Ok(())
}

/// Extracts the file `binary_name` at the root of `archive`, a `.tar.gz` or a
/// `.zip` as `archive_name` ends. Every entry is read, so an archive that does
/// not decode to its end is rejected.
pub fn extract_binary(archive: &[u8], archive_name: &str, binary_name: &str) -> Result<Vec<u8>> {
    let found = if archive_name.ends_with(".zip") {
        extract_from_zip(archive, binary_name)
    } else if archive_name.ends_with(".tar.gz") {
        extract_from_tar_gz(archive, binary_name)
    } else {
        bail!("{archive_name} is neither a .tar.gz nor a .zip archive");
    };
    let binary =
        found.with_context(|| format!("cannot unpack {archive_name}; nothing was changed"))?;
    binary.with_context(|| {
        format!(
            "{archive_name} contains no file {binary_name} at its top level; nothing was changed"
        )
    })
}

fn extract_from_tar_gz(archive: &[u8], binary_name: &str) -> Result<Option<Vec<u8>>> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut found = None;
    for entry in tar.entries().context("invalid gzip or tar data")? {
        let mut entry = entry.context("invalid gzip or tar data")?;
        let path = entry.path().context("invalid entry name")?.into_owned();
        let name = path.strip_prefix("./").unwrap_or(&path);
        let is_binary = name == Path::new(binary_name) && entry.header().entry_type().is_file();
        if is_binary && found.is_none() {
            found = Some(read_limited(&mut entry, binary_name)?);
        } else {
            std::io::copy(&mut entry, &mut std::io::sink()).context("invalid gzip or tar data")?;
        }
    }
    Ok(found)
}

fn extract_from_zip(archive: &[u8], binary_name: &str) -> Result<Option<Vec<u8>>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(archive)).context("invalid zip data")?;
    let mut found = None;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).context("invalid zip data")?;
        let is_binary = entry.is_file() && entry.name().trim_start_matches("./") == binary_name;
        if is_binary && found.is_none() {
            found = Some(read_limited(&mut entry, binary_name)?);
        } else {
            std::io::copy(&mut entry, &mut std::io::sink()).context("invalid zip data")?;
        }
    }
    Ok(found)
}

fn read_limited(reader: &mut impl Read, name: &str) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    reader
        .take(MAX_BINARY_BYTES + 1)
        .read_to_end(&mut data)
        .with_context(|| format!("cannot read {name}"))?;
    if data.len() as u64 > MAX_BINARY_BYTES {
        bail!("{name} is larger than the {MAX_BINARY_BYTES} bytes accepted");
    }
    Ok(data)
}

/// Checks that a new binary can be written next to `exe`, before anything is downloaded.
pub fn check_writable(exe: &Path) -> Result<()> {
    let dir = parent_dir(exe);
    staging_file(exe, &dir).map(drop)
}

/// Writes `binary` to a temporary file next to `exe`, with `exe`'s
/// permissions, and closes it so that it can run. The file is removed when
/// the returned path is dropped without being installed.
pub fn stage(exe: &Path, binary: &[u8]) -> Result<TempPath> {
    let dir = parent_dir(exe);
    let mut file = staging_file(exe, &dir)?;
    let write_error = |error: std::io::Error| {
        anyhow::anyhow!(
            "cannot write a new file in {}: {error}; nothing was changed",
            dir.display()
        )
    };

    file.write_all(binary).map_err(write_error)?;
    let permissions = fs::metadata(exe)
        .with_context(|| format!("cannot read the permissions of {}", exe.display()))?
        .permissions();
    file.as_file()
        .set_permissions(permissions)
        .map_err(write_error)?;
    file.as_file().sync_all().map_err(write_error)?;
    // Closing the file matters on Linux, where a file still open for writing cannot be run (ETXTBSY).
    Ok(file.into_temp_path())
}

fn staging_file(exe: &Path, dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .suffix(std::env::consts::EXE_SUFFIX)
        .tempfile_in(dir)
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot create a file in {} ({error}), so {} cannot be replaced: run the update as the owner of {}, or with sudo; nothing was changed",
                dir.display(),
                exe.display(),
                dir.display()
            )
        })
}

fn parent_dir(exe: &Path) -> PathBuf {
    match exe.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Runs `<staged> version` and checks that it prints `docker-credential-atcr <expected>`.
pub fn check_runs(staged: &Path, expected: &Version, archive_name: &str) -> Result<()> {
    let mut command = Command::new(staged);
    command
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawn_started = Instant::now();
    let mut child = loop {
        match command.spawn() {
            Ok(child) => break child,
            // A child that another thread forked before its exec can still hold the
            // just-written file open, and exec then fails with ETXTBSY for a moment.
            Err(error)
                if error.kind() == std::io::ErrorKind::ExecutableFileBusy
                    && spawn_started.elapsed() < Duration::from_secs(2) =>
            {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(error) => {
                return Err(error).with_context(|| {
                    format!("the {PACKAGE} binary from {archive_name} cannot run on this system; nothing was changed")
                });
            }
        }
    };

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < TRIAL_RUN_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "the {PACKAGE} binary from {archive_name} did not finish `version` within {} seconds; nothing was changed",
                    TRIAL_RUN_TIMEOUT.as_secs()
                );
            }
            Err(error) => bail!(
                "cannot wait for the {PACKAGE} binary from {archive_name}: {error}; nothing was changed"
            ),
        }
    };

    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    if !status.success() {
        bail!(
            "the {PACKAGE} binary from {archive_name} failed to run `version` ({status}): {}; nothing was changed",
            stderr.trim()
        );
    }

    let line = stdout.lines().next().unwrap_or("");
    let expected_start = format!("{PACKAGE} {expected}");
    let matches = line
        .strip_prefix(&expected_start)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '));
    if !matches {
        bail!(
            "the {PACKAGE} binary from {archive_name} printed {line:?} for `version`, expected \"{expected_start} ...\": the archive holds another version; nothing was changed"
        );
    }
    Ok(())
}

/// Renames `staged` over `exe`. With `rename_aside`, which Windows needs
/// because a running executable cannot be replaced but can be renamed, the
/// old binary first moves to [`backup_path`] and moves back if the rename fails.
pub fn replace(staged: TempPath, exe: &Path, rename_aside: bool) -> Result<()> {
    let failed = |error: std::io::Error| {
        anyhow::anyhow!(
            "cannot replace {}: {error}; the old binary is still in place",
            exe.display()
        )
    };

    if !rename_aside {
        staged.persist(exe).map_err(|error| failed(error.error))?;
        sync_dir(&parent_dir(exe));
        return Ok(());
    }

    let backup = backup_path(exe);
    remove_backup(exe);
    fs::rename(exe, &backup).map_err(failed)?;
    if let Err(error) = staged.persist(exe) {
        if let Err(restore_error) = fs::rename(&backup, exe) {
            bail!(
                "cannot replace {} ({}), and cannot move the old binary back from {} ({restore_error}): rename {} to {} by hand",
                exe.display(),
                error.error,
                backup.display(),
                backup.display(),
                exe.display()
            );
        }
        return Err(failed(error.error));
    }
    Ok(())
}

/// The old binary's name while it is renamed aside: `<exe>.old`.
pub fn backup_path(exe: &Path) -> PathBuf {
    let mut name = exe.as_os_str().to_owned();
    name.push(".old");
    PathBuf::from(name)
}

/// Removes the binary that an earlier update renamed aside, if it is no longer running.
pub fn remove_backup(exe: &Path) {
    let backup = backup_path(exe);
    if let Err(error) = fs::remove_file(&backup)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        log::info!("cannot remove {} yet: {error}", backup.display());
    }
}

/// Flushes the rename to disk; failure only weakens durability after a power loss.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, data) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o755);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn zip_file(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn release(sha256: &str) -> Release {
        Release {
            version: Version::parse("9.9.9").unwrap(),
            archive: "docker-credential-atcr_9.9.9_Linux_x86_64.tar.gz".into(),
            sha256: sha256.into(),
            checksums_url: "http://127.0.0.1:1/latest/download/checksums.txt".into(),
        }
    }

    #[test]
    fn sha256_of_known_data() {
        assert_eq!(sha256_hex(b"abc"), ABC_SHA256);
    }

    #[test]
    fn verify_sha256_accepts_match() {
        assert!(verify_sha256(b"abc", &release(ABC_SHA256), "http://a/x.tar.gz").is_ok());
    }

    #[test]
    fn verify_sha256_mismatch_names_files() {
        let error = verify_sha256(b"abd", &release(ABC_SHA256), "http://a/x.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "checksum mismatch for docker-credential-atcr_9.9.9_Linux_x86_64.tar.gz"
            ),
            "{error}"
        );
        assert!(
            error.contains("checksums.txt lists SHA-256 ba7816bf"),
            "{error}"
        );
        assert!(error.contains("http://a/x.tar.gz"), "{error}");
        assert!(error.contains("nothing was changed"), "{error}");
    }

    #[test]
    fn tar_gz_binary_extracted() {
        let archive = tar_gz(&[
            ("LICENSE", b"MIT"),
            ("./docker-credential-atcr", b"binary"),
            ("completions/x", b"c"),
        ]);
        let binary = extract_binary(&archive, "a.tar.gz", "docker-credential-atcr").unwrap();
        assert_eq!(binary, b"binary");
    }

    #[test]
    fn tar_gz_nested_binary_ignored() {
        let archive = tar_gz(&[("sub/docker-credential-atcr", b"binary")]);
        let error = format!(
            "{:#}",
            extract_binary(&archive, "a.tar.gz", "docker-credential-atcr").unwrap_err()
        );
        assert!(
            error.contains("a.tar.gz contains no file docker-credential-atcr at its top level"),
            "{error}"
        );
    }

    #[test]
    fn tar_gz_truncated_rejected() {
        let archive = tar_gz(&[
            ("docker-credential-atcr", &[7; 100_000]),
            ("LICENSE", b"MIT"),
        ]);
        let truncated = &archive[..archive.len() / 2];
        let error = format!(
            "{:#}",
            extract_binary(truncated, "a.tar.gz", "docker-credential-atcr").unwrap_err()
        );
        assert!(error.contains("cannot unpack a.tar.gz"), "{error}");
    }

    #[test]
    fn zip_binary_extracted() {
        let archive = zip_file(&[("LICENSE", b"MIT"), ("docker-credential-atcr.exe", b"exe")]);
        let binary = extract_binary(&archive, "a.zip", "docker-credential-atcr.exe").unwrap();
        assert_eq!(binary, b"exe");
    }

    #[test]
    fn zip_garbage_rejected() {
        let error = format!(
            "{:#}",
            extract_binary(b"not a zip", "a.zip", "x.exe").unwrap_err()
        );
        assert!(
            error.contains("cannot unpack a.zip") && error.contains("invalid zip data"),
            "{error}"
        );
    }

    #[test]
    fn stage_copies_permissions_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("docker-credential-atcr");
        fs::write(&exe, b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&exe, fs::Permissions::from_mode(0o751)).unwrap();
        }

        let staged = stage(&exe, b"new").unwrap();
        assert_eq!(fs::read(&staged).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&staged).unwrap().permissions().mode() & 0o7777,
                0o751
            );
        }
        drop(staged);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the staged file is removed when dropped"
        );
    }

    #[test]
    fn replace_renames_over_old() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("docker-credential-atcr");
        fs::write(&exe, b"old").unwrap();
        let staged = stage(&exe, b"new").unwrap();
        replace(staged, &exe, false).unwrap();
        assert_eq!(fs::read(&exe).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn replace_aside_keeps_old_as_backup() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("docker-credential-atcr.exe");
        fs::write(&exe, b"old").unwrap();
        let staged = stage(&exe, b"new").unwrap();
        replace(staged, &exe, true).unwrap();
        assert_eq!(fs::read(&exe).unwrap(), b"new");
        assert_eq!(fs::read(backup_path(&exe)).unwrap(), b"old");
        remove_backup(&exe);
        assert!(!backup_path(&exe).exists());
    }

    #[cfg(unix)]
    #[test]
    fn check_writable_names_read_only_dir() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("docker-credential-atcr");
        fs::write(&exe, b"old").unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let result = check_writable(&exe);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        // Root may write anywhere, so the check only applies to other users.
        if let Err(error) = result {
            let error = error.to_string();
            assert!(
                error.contains("cannot create a file in") && error.contains("sudo"),
                "{error}"
            );
        }
    }

    #[cfg(unix)]
    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("docker-credential-atcr");
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[cfg(unix)]
    #[test]
    fn check_runs_accepts_expected_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = script(
            dir.path(),
            "echo 'docker-credential-atcr 9.9.9 (commit abc, built 2026-01-01)'",
        );
        check_runs(&path, &Version::parse("9.9.9").unwrap(), "a.tar.gz").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn check_runs_rejects_other_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = script(
            dir.path(),
            "echo 'docker-credential-atcr 9.9.90 (commit abc)'",
        );
        let error = check_runs(&path, &Version::parse("9.9.9").unwrap(), "a.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("printed \"docker-credential-atcr 9.9.90 (commit abc)\""),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn check_runs_rejects_failing_binary() {
        let dir = tempfile::tempdir().unwrap();
        let path = script(dir.path(), "echo broken >&2; exit 3");
        let error = check_runs(&path, &Version::parse("9.9.9").unwrap(), "a.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("failed to run `version`") && error.contains("broken"),
            "{error}"
        );
    }

    #[test]
    fn check_runs_rejects_non_executable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker-credential-atcr");
        fs::write(&path, b"\x00\x01 not a program").unwrap();
        let error = check_runs(&path, &Version::parse("9.9.9").unwrap(), "a.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot run on this system"), "{error}");
    }
}
