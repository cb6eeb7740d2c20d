//! The files generated from the helper itself for archives and packages:
//! the man page and the shell completions.
//!
//! They come from the built binary's `man` and `completions` commands, so
//! they always match the clap definition that the binary was built from.
//! They are written next to the binary, under
//! `<target-dir>/<triple>/release/pkg-assets/`, because cargo-deb and
//! cargo-generate-rpm resolve asset paths that start with `target/release/`
//! to that directory for the `--target` they are given.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::{Compression, GzBuilder};

use crate::binary;
use crate::project::Project;
use crate::targets::Target;

/// The man page's file name (section 1, roff).
pub const MAN_PAGE: &str = "docker-credential-atcr.1";
/// The man page compressed with gzip, for the .rpm.
pub const MAN_PAGE_GZ: &str = "docker-credential-atcr.1.gz";
/// The completion scripts: (shell as `completions` takes it, file name under `completions/`).
pub const COMPLETIONS: [(&str, &str); 4] = [
    ("bash", "docker-credential-atcr.bash"),
    ("zsh", "_docker-credential-atcr"),
    ("fish", "docker-credential-atcr.fish"),
    ("powershell", "_docker-credential-atcr.ps1"),
];

/// The generated files of one target, in the directory [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Assets {
    pub dir: PathBuf,
}

impl Assets {
    /// Returns the path of the uncompressed man page.
    pub fn man_page(&self) -> PathBuf {
        self.dir.join(MAN_PAGE)
    }

    /// Returns the path of the completion script `file_name`, one of [`COMPLETIONS`].
    pub fn completion(&self, file_name: &str) -> PathBuf {
        self.dir.join("completions").join(file_name)
    }
}

/// Writes the man page and completions of `target`'s binary to its assets directory.
pub fn generate(project: &Project, target: &Target, binary_path: &Path) -> Result<Assets> {
    let dir = project.release_dir(target.triple).join("pkg-assets");
    let completions_dir = dir.join("completions");
    fs::create_dir_all(&completions_dir)
        .with_context(|| format!("cannot create {}", completions_dir.display()))?;

    let man = binary::run(target, binary_path, &["man"])?.stdout;
    write(&dir.join(MAN_PAGE), &man)?;
    write(&dir.join(MAN_PAGE_GZ), &gzip(&man)?)?;

    for (shell, file_name) in COMPLETIONS {
        let script = binary::run(target, binary_path, &["completions", shell])?.stdout;
        write(&completions_dir.join(file_name), &script)?;
    }
    Ok(Assets { dir })
}

/// Compresses `data` at the highest level with an empty gzip header
/// (no file name, time 0), as `gzip -9n` does, so the output depends only on `data`.
pub fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        anyhow::bail!("the helper printed nothing for {}", path.display());
    }
    fs::write(path, data).with_context(|| format!("cannot write {}", path.display()))
}
