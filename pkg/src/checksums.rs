//! `checksums.txt`: the SHA-256 of every release artifact in `sha256sum`
//! format (`<64 hex digits>  <file name>`, one line each, sorted by name), and
//! its verification.
//!
//! `sha256sum -c checksums.txt` in the release directory checks the same
//! thing as [`verify`]; the AUR, Scoop and winget manifests copy their hashes
//! from this file.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::names::CHECKSUMS;

/// Returns the lowercase hex SHA-256 of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        let count = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if count == 0 {
            break;
        }
        hasher.update(&buffer[..count]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Writes `dir/checksums.txt` for `files` (all directly inside `dir`) and returns its path.
pub fn write(dir: &Path, files: &[PathBuf]) -> Result<PathBuf> {
    let mut lines = BTreeMap::new();
    for file in files {
        let name = file_name(file)?;
        if file.parent() != Some(dir) {
            bail!(
                "{} is not directly inside {}: checksums.txt lists file names only",
                file.display(),
                dir.display()
            );
        }
        lines.insert(name, sha256_file(file)?);
    }

    let text: String = lines
        .iter()
        .map(|(name, hash)| format!("{hash}  {name}\n"))
        .collect();
    let path = dir.join(CHECKSUMS);
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(path)
}

/// `cargo pkg checksums DIR`: writes `DIR/checksums.txt` over every file
/// directly in DIR, and every symbolic link to a file, but not its folders,
/// hidden files or an earlier checksums.txt. Returns its path.
pub fn write_dir(dir: &Path) -> Result<PathBuf> {
    let listing = fs::read_dir(dir).with_context(|| {
        format!(
            "cannot list {}: pass the directory that holds the release artifacts",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in listing {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == CHECKSUMS || name.starts_with('.') {
            continue;
        }
        if name.contains(['\n', '\r']) {
            bail!(
                "{} has a line break in its name, which {CHECKSUMS} cannot list: rename it",
                entry.path().display()
            );
        }
        // fs::metadata follows symbolic links, so a link to an artifact is
        // listed under the link's name with the target's hash.
        let metadata = fs::metadata(entry.path()).with_context(|| {
            format!(
                "cannot read {}: a symbolic link must point to an existing file",
                entry.path().display()
            )
        })?;
        if metadata.is_file() {
            files.push(dir.join(entry.file_name()));
        }
    }
    if files.is_empty() {
        bail!(
            "{} contains no files to list in {CHECKSUMS}: put the release artifacts there first",
            dir.display()
        );
    }
    write(dir, &files)
}

/// Parses `checksums.txt` text into file name → SHA-256; `path` is only for messages.
pub fn parse(path: &Path, text: &str) -> Result<BTreeMap<String, String>> {
    let mut entries = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        // sha256sum separates the hash and the name with two spaces, or
        // with " *" in binary mode (`sha256sum -b`), which is the same hash.
        let Some((hash, name)) = line.split_once("  ").or_else(|| line.split_once(" *")) else {
            bail!(
                "{}:{number}: invalid line `{line}`: expected `<sha256>  <file name>` as sha256sum prints it",
                path.display()
            );
        };
        if hash.len() != 64
            || !hash
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        {
            bail!(
                "{}:{number}: invalid SHA-256 `{hash}`: expected 64 lowercase hex digits",
                path.display()
            );
        }
        if name.is_empty() || name.contains('/') {
            bail!(
                "{}:{number}: invalid file name `{name}`: expected a name inside the same directory",
                path.display()
            );
        }
        if entries.insert(name.to_owned(), hash.to_owned()).is_some() {
            bail!("{}:{number}: `{name}` is listed twice", path.display());
        }
    }
    Ok(entries)
}

/// Checks `dir/checksums.txt`: every file it lists exists and has that SHA-256,
/// and every file in `required` is listed. Returns the listed entries.
pub fn verify(dir: &Path, required: &[String]) -> Result<BTreeMap<String, String>> {
    let path = dir.join(CHECKSUMS);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: run `cargo pkg snapshot` to write the artifacts and their checksums",
            path.display()
        )
    })?;
    let entries = parse(&path, &text)?;

    for name in required {
        if !entries.contains_key(name) {
            bail!(
                "{} does not list {name}: rebuild the artifacts with `cargo pkg snapshot`",
                path.display()
            );
        }
    }
    for (name, expected) in &entries {
        let file = dir.join(name);
        if !file.is_file() {
            bail!(
                "{} is missing, but {} lists it: rebuild the artifacts with `cargo pkg snapshot`",
                file.display(),
                path.display()
            );
        }
        let actual = sha256_file(&file)?;
        if &actual != expected {
            bail!(
                "checksum mismatch for {}: {} lists {expected}, the file has {actual}; the file changed after the checksums were written",
                file.display(),
                path.display()
            );
        }
    }
    Ok(entries)
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .with_context(|| format!("{} has no UTF-8 file name", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn release_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.deb"), b"").unwrap();
        fs::write(dir.path().join("a.tar.gz"), b"abc").unwrap();
        dir
    }

    #[test]
    fn sha256_of_known_data() {
        let dir = release_dir();
        assert_eq!(
            sha256_file(&dir.path().join("b.deb")).unwrap(),
            EMPTY_SHA256
        );
        assert_eq!(
            sha256_file(&dir.path().join("a.tar.gz")).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn written_file_is_sorted_sha256sum_format() {
        let dir = release_dir();
        let files = [dir.path().join("b.deb"), dir.path().join("a.tar.gz")];
        let path = write(dir.path(), &files).unwrap();
        let text = fs::read_to_string(path).unwrap();
        assert_eq!(
            text,
            format!(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.tar.gz\n{EMPTY_SHA256}  b.deb\n"
            )
        );
    }

    #[test]
    fn verify_accepts_matching_files() {
        let dir = release_dir();
        write(
            dir.path(),
            &[dir.path().join("a.tar.gz"), dir.path().join("b.deb")],
        )
        .unwrap();
        let entries = verify(dir.path(), &["a.tar.gz".to_owned()]).unwrap();
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn verify_names_changed_file() {
        let dir = release_dir();
        write(
            dir.path(),
            &[dir.path().join("a.tar.gz"), dir.path().join("b.deb")],
        )
        .unwrap();
        fs::write(dir.path().join("b.deb"), b"tampered").unwrap();
        let error = verify(dir.path(), &[]).unwrap_err().to_string();
        assert!(error.starts_with("checksum mismatch for "), "{error}");
        assert!(error.contains("b.deb"), "{error}");
        assert!(error.contains(EMPTY_SHA256), "{error}");
    }

    #[test]
    fn verify_names_missing_file() {
        let dir = release_dir();
        write(
            dir.path(),
            &[dir.path().join("a.tar.gz"), dir.path().join("b.deb")],
        )
        .unwrap();
        fs::remove_file(dir.path().join("a.tar.gz")).unwrap();
        let error = verify(dir.path(), &[]).unwrap_err().to_string();
        assert!(error.contains("a.tar.gz is missing"), "{error}");
    }

    #[test]
    fn verify_names_unlisted_artifact() {
        let dir = release_dir();
        write(dir.path(), &[dir.path().join("a.tar.gz")]).unwrap();
        let error = verify(dir.path(), &["b.deb".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("does not list b.deb"), "{error}");
    }

    #[test]
    fn verify_names_missing_checksums_file() {
        let dir = release_dir();
        let error = verify(dir.path(), &[]).unwrap_err().to_string();
        assert!(error.contains("checksums.txt"), "{error}");
        assert!(error.contains("cargo pkg snapshot"), "{error}");
    }

    #[test]
    fn write_dir_lists_every_file_but_itself() {
        let dir = release_dir();
        fs::create_dir(dir.path().join("aur")).unwrap();
        fs::write(dir.path().join("aur/PKGBUILD"), b"x").unwrap();
        fs::write(dir.path().join(".hidden"), b"x").unwrap();
        fs::write(dir.path().join(CHECKSUMS), b"stale").unwrap();
        let path = write_dir(dir.path()).unwrap();
        let listed = parse(&path, &fs::read_to_string(&path).unwrap()).unwrap();
        let names: Vec<&str> = listed.keys().map(String::as_str).collect();
        assert_eq!(names, ["a.tar.gz", "b.deb"]);
        verify(dir.path(), &[]).unwrap();
    }

    #[test]
    fn write_dir_follows_symbolic_links() {
        let dir = release_dir();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("c.rpm"), b"abc").unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("c.rpm"), dir.path().join("c.rpm"))
            .unwrap();
        let path = write_dir(dir.path()).unwrap();
        let listed = parse(&path, &fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(listed["c.rpm"], listed["a.tar.gz"]);

        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("d.rpm")).unwrap();
        let error = format!("{:#}", write_dir(dir.path()).unwrap_err());
        assert!(error.contains("d.rpm"), "{error}");
    }

    #[test]
    fn write_dir_rejects_line_break_in_name() {
        let dir = release_dir();
        fs::write(dir.path().join("new\nline.bin"), b"x").unwrap();
        let error = write_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("line break"), "{error}");
    }

    #[test]
    fn write_dir_names_missing_and_empty_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let error = write_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("contains no files"), "{error}");
        assert!(error.contains(&dir.path().display().to_string()), "{error}");

        let missing = dir.path().join("release");
        let error = format!("{:#}", write_dir(&missing).unwrap_err());
        assert!(
            error.starts_with(&format!("cannot list {}", missing.display())),
            "{error}"
        );
    }

    #[test]
    fn parse_accepts_binary_mode_lines() {
        let text = format!("{EMPTY_SHA256} *b.deb\n");
        let entries = parse(Path::new("checksums.txt"), &text).unwrap();
        assert_eq!(entries["b.deb"], EMPTY_SHA256);
    }

    #[test]
    fn parse_rejects_malformed_lines() {
        let path = Path::new("checksums.txt");
        let cases = [
            ("no-separator", "invalid line"),
            ("abc  file", "invalid SHA-256 `abc`"),
            (
                &format!("{}  file", EMPTY_SHA256.to_uppercase()),
                "invalid SHA-256",
            ),
            (
                &format!("{EMPTY_SHA256}  dir/file"),
                "invalid file name `dir/file`",
            ),
            (
                &format!("{EMPTY_SHA256}  f\n{EMPTY_SHA256}  f"),
                "`f` is listed twice",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(path, text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(error.starts_with("checksums.txt:"), "{text:?}: {error}");
        }
    }
}
