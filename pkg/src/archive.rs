//! The release archive: a reproducible `.tar.gz` with the binary, LICENSE,
//! README.md, INSTALLATION.md, the man page and the shell completions.
//!
//! Entries are written in a fixed order with fixed modes, owned by root (uid
//! and gid 0) and dated `SOURCE_DATE_EPOCH`. The gzip header carries no name
//! or time, so one input gives the same bytes on every run.
//! Files sit at the archive's top level, so `tar -xzf` in an empty directory
//! gives the layout that INSTALLATION.md describes.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::{Compression, GzBuilder};

use crate::assets::{Assets, COMPLETIONS, MAN_PAGE};
use crate::names::{self, PACKAGE};
use crate::project::Project;
use crate::targets::Target;

/// One file in the archive: its path inside, where it comes from, and its mode.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub source: PathBuf,
    pub mode: u32,
}

/// Lists the archive's files in the order they are written.
pub fn entries(project: &Project, binary: &Path, assets: &Assets) -> Vec<Entry> {
    let file = |name: &str, source: PathBuf, mode: u32| Entry {
        name: name.to_owned(),
        source,
        mode,
    };
    let mut entries = vec![
        file(PACKAGE, binary.to_path_buf(), 0o755),
        file("LICENSE", project.root.join("LICENSE"), 0o644),
        file("README.md", project.root.join("README.md"), 0o644),
        file(
            "INSTALLATION.md",
            project.root.join("INSTALLATION.md"),
            0o644,
        ),
        file(MAN_PAGE, assets.man_page(), 0o644),
    ];
    for (_, file_name) in COMPLETIONS {
        entries.push(file(
            &format!("completions/{file_name}"),
            assets.completion(file_name),
            0o644,
        ));
    }
    entries
}

/// Lists the paths that every release archive contains, directories ending in `/`.
pub fn expected_paths() -> Vec<String> {
    let mut paths: Vec<String> = [
        PACKAGE,
        "LICENSE",
        "README.md",
        "INSTALLATION.md",
        MAN_PAGE,
        "completions/",
    ]
    .iter()
    .map(|path| path.to_string())
    .collect();
    paths.extend(
        COMPLETIONS
            .iter()
            .map(|(_, file_name)| format!("completions/{file_name}")),
    );
    paths.sort();
    paths
}

/// Writes the archive for `target` into `out_dir` and returns its path.
pub fn write(
    project: &Project,
    target: &Target,
    binary: &Path,
    assets: &Assets,
    out_dir: &Path,
) -> Result<PathBuf> {
    let path = out_dir.join(names::archive(&project.version, target));
    write_entries(
        &path,
        &entries(project, binary, assets),
        project.source_date_epoch,
    )
    .with_context(|| format!("cannot write the archive {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(path)
}

/// Writes `entries` as a gzip-compressed tar file, with directory entries
/// for their parent directories ahead of them.
pub fn write_entries(path: &Path, entries: &[Entry], mtime: u64) -> Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let gzip = GzBuilder::new().mtime(0).write(file, Compression::best());
    let mut tar = tar::Builder::new(gzip);
    let mut directories: Vec<String> = Vec::new();

    for entry in entries {
        if let Some((directory, _)) = entry.name.rsplit_once('/') {
            let directory = format!("{directory}/");
            if !directories.contains(&directory) {
                let mut header = header(tar::EntryType::Directory, 0o755, 0, mtime);
                tar.append_data(&mut header, &directory, std::io::empty())?;
                directories.push(directory);
            }
        }

        let data = fs::read(&entry.source)
            .with_context(|| format!("cannot read {}", entry.source.display()))?;
        let mut header = header(
            tar::EntryType::Regular,
            entry.mode,
            data.len() as u64,
            mtime,
        );
        tar.append_data(&mut header, &entry.name, data.as_slice())?;
    }

    let gzip = tar.into_inner()?;
    let mut file = gzip.finish()?;
    std::io::Write::flush(&mut file)?;
    Ok(())
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    // Both names are plain ASCII, so setting them cannot fail.
    header.set_username("root").expect("ASCII user name");
    header.set_groupname("root").expect("ASCII group name");
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(dir: &Path) -> Vec<Entry> {
        fs::write(dir.join("bin"), b"\x7fELF binary").unwrap();
        fs::write(dir.join("doc"), b"text").unwrap();
        vec![
            Entry {
                name: "tool".into(),
                source: dir.join("bin"),
                mode: 0o755,
            },
            Entry {
                name: "docs/readme".into(),
                source: dir.join("doc"),
                mode: 0o644,
            },
        ]
    }

    #[test]
    fn archive_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let entries = sample(dir.path());
        write_entries(&dir.path().join("a.tar.gz"), &entries, 1_767_225_600).unwrap();
        write_entries(&dir.path().join("b.tar.gz"), &entries, 1_767_225_600).unwrap();
        let first = fs::read(dir.path().join("a.tar.gz")).unwrap();
        let second = fs::read(dir.path().join("b.tar.gz")).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn archive_entries_are_normalized() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar.gz");
        write_entries(&path, &sample(dir.path()), 1_767_225_600).unwrap();

        let mut archive =
            tar::Archive::new(flate2::read::GzDecoder::new(File::open(&path).unwrap()));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            assert_eq!(header.mtime().unwrap(), 1_767_225_600);
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.gid().unwrap(), 0);
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            seen.push((
                entry.path().unwrap().display().to_string(),
                header.mode().unwrap(),
                data.len(),
            ));
        }
        assert_eq!(
            seen,
            [
                ("tool".to_owned(), 0o755, 11),
                ("docs/".to_owned(), 0o755, 0),
                ("docs/readme".to_owned(), 0o644, 4)
            ]
        );
    }

    #[test]
    fn missing_source_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let entries = [Entry {
            name: "tool".into(),
            source: dir.path().join("absent"),
            mode: 0o755,
        }];
        let error = format!(
            "{:#}",
            write_entries(&dir.path().join("a.tar.gz"), &entries, 0).unwrap_err()
        );
        assert!(error.contains("cannot read"), "{error}");
        assert!(error.contains("absent"), "{error}");
    }

    #[test]
    fn expected_paths_list_completions() {
        let paths = expected_paths();
        assert!(paths.contains(&"completions/_docker-credential-atcr".to_owned()));
        assert!(paths.contains(&"docker-credential-atcr.1".to_owned()));
        assert_eq!(paths.len(), 10);
    }
}
