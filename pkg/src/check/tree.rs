//! File-tree listings of a scratch root, to prove that removing a package
//! leaves nothing behind.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Lists every path under `root` as `/relative/path` (directories end in `/`),
/// without following symbolic links, skipping the paths in `excluded` and everything below them.
pub fn list(root: &Path, excluded: &[&str]) -> Result<BTreeSet<String>> {
    let mut paths = BTreeSet::new();
    walk(root, "", excluded, &mut paths)?;
    Ok(paths)
}

fn walk(dir: &Path, relative: &str, excluded: &[&str], paths: &mut BTreeSet<String>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{relative}/{name}");
        if excluded.contains(&path.as_str()) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            paths.insert(format!("{path}/"));
            walk(&entry.path(), &path, excluded, paths)?;
        } else {
            paths.insert(path);
        }
    }
    Ok(())
}

/// Returns the paths in `paths` that are not directories.
pub fn files_only(paths: &BTreeSet<String>) -> BTreeSet<String> {
    paths
        .iter()
        .filter(|path| !path.ends_with('/'))
        .cloned()
        .collect()
}

/// Fails when `after` differs from `before`, naming the paths that appeared and vanished.
pub fn require_unchanged(
    what: &str,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) -> Result<()> {
    let appeared: Vec<&String> = after.difference(before).collect();
    let vanished: Vec<&String> = before.difference(after).collect();
    if !appeared.is_empty() || !vanished.is_empty() {
        bail!("{what} changed the file tree: left behind {appeared:?}, removed {vanished:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_marks_directories_and_skips_excluded() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("usr/bin")).unwrap();
        fs::create_dir_all(root.path().join("var/log/apt")).unwrap();
        fs::write(root.path().join("usr/bin/tool"), b"").unwrap();
        let paths = list(root.path(), &["/var/log"]).unwrap();
        let expected: BTreeSet<String> = ["/usr/", "/usr/bin/", "/usr/bin/tool", "/var/"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn leftover_file_is_named() {
        let before = BTreeSet::from(["/usr/".to_owned()]);
        let after = BTreeSet::from(["/usr/".to_owned(), "/usr/bin/tool".to_owned()]);
        let error = require_unchanged("apt-get purge", &before, &after)
            .unwrap_err()
            .to_string();
        assert!(error.contains("left behind [\"/usr/bin/tool\"]"), "{error}");
    }
}
