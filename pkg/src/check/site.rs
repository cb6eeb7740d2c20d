//! The repositories that `cargo pkg repo` builds from DIR, for the apt and
//! dnf install checks. They are signed with a throwaway key generated in a
//! temporary GnuPG home, and served on 127.0.0.1 under
//! `/docker-credential-atcr/`, the kind of path at which GitHub Pages serves
//! a project site.
//!
//! [`TestSite::variant`] serves altered copies next to the site, so the
//! checks can show that apt and dnf reject a tampered or unsigned repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use super::http::Server;
use crate::process;
use crate::project::Project;
use crate::repo::{self, SigningKey};

/// The directory that serves the site, and so the last segment of its URL.
const SITE_DIR: &str = "docker-credential-atcr";

/// A built and served site. Dropping it stops the server, stops the GnuPG
/// home's gpg-agent and removes every file.
pub struct TestSite {
    /// The throwaway key that signed the site.
    pub key: SigningKey,
    server: Server,
    gnupg_home: PathBuf,
    served: PathBuf,
    _scratch: TempDir,
}

impl TestSite {
    /// Builds the repositories of the packages in `dir` with `cargo pkg repo`'s code, and serves them.
    pub fn build(project: &Project, dir: &Path) -> Result<TestSite> {
        let scratch = tempfile::Builder::new()
            .prefix("atcr-repo-check-")
            .tempdir()?;
        let gnupg_home = scratch.path().join("gnupg");
        let fingerprint = generate_key(&gnupg_home)?;
        let key = SigningKey::find_throwaway(Some(gnupg_home.clone()), &fingerprint)?;
        let served = scratch.path().join("served");
        fs::create_dir_all(&served)?;
        let server = Server::start(&served)?;

        let site = TestSite {
            key,
            server,
            gnupg_home,
            served,
            _scratch: scratch,
        };
        repo::build(&project.version, &site.url(), dir, &site.path(), &site.key)?;
        Ok(site)
    }

    /// Returns the site's directory.
    pub fn path(&self) -> PathBuf {
        self.served.join(SITE_DIR)
    }

    /// Returns the URL that serves the site, which its settings files point at.
    pub fn url(&self) -> String {
        format!("{}/{SITE_DIR}", self.server.url())
    }

    /// Creates a served directory `name` next to the site with copies of
    /// the site's `paths`, and returns that directory and its URL.
    pub fn variant(&self, name: &str, paths: &[&str]) -> Result<(PathBuf, String)> {
        let dir = self.served.join(name);
        fs::create_dir_all(&dir)?;
        for path in paths {
            copy_tree(&self.path().join(path), &dir.join(path))?;
        }
        Ok((dir, format!("{}/{name}", self.server.url())))
    }
}

impl Drop for TestSite {
    fn drop(&mut self) {
        // gpg started this agent for the throwaway home when it generated the key.
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.gnupg_home)
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// Returns the line in which `command` (such as `apt-get update`) reported
/// `expected` on `output` when it read a bad repository, `case`, from `url`.
/// Fails when no line contains `expected`, so a failed download does not
/// pass for a rejection, and when the command exited with success.
pub fn rejection_line(
    command: &str,
    output: &Output,
    expected: &str,
    case: &str,
    url: &str,
) -> Result<String> {
    let printed = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    let Some(line) = printed.lines().find(|line| line.contains(expected)) else {
        bail!(
            "{command} did not report `{expected}` for {case} from {url}: it exited with {} and printed\n{printed}",
            output.status
        );
    };
    if output.status.success() {
        bail!(
            "{command} reported `{}` for {case}, yet exited with success",
            line.trim()
        );
    }
    Ok(line.trim().to_owned())
}

/// Generates a throwaway signing key without a passphrase, valid for one
/// day, in a new GnuPG home, and returns its fingerprint.
fn generate_key(gnupg_home: &Path) -> Result<String> {
    fs::create_dir_all(gnupg_home)?;
    set_mode(gnupg_home, 0o700)?;
    let gpg = |args: &[&str]| {
        let mut command = Command::new("gpg");
        command
            .env("GNUPGHOME", gnupg_home)
            .args(["--batch", "--quiet"])
            .args(args);
        command
    };
    process::output(&mut gpg(&[
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-generate-key",
        "cargo pkg check test repository <test@invalid>",
        "ed25519",
        "sign",
        "1d",
    ]))?;

    let listing = process::stdout_text(&mut gpg(&["--with-colons", "--list-secret-keys"]))?;
    let Some(fingerprint) = listing
        .lines()
        .find_map(|line| line.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').nth(8))
    else {
        bail!(
            "gpg generated no key in {}: it listed\n{listing}",
            gnupg_home.display()
        );
    };
    Ok(fingerprint.to_owned())
}

/// Copies the file or directory tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
        for entry in
            fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))?
        {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}
