//! Finds the package manager that installed the running binary, so that
//! `update` leaves the binary to it and prints its upgrade command.
//!
//! Homebrew, Scoop, Chocolatey and winget are recognized by the binary's
//! path. dpkg and pacman are recognized by their file lists under a root
//! directory (`/` except in tests), and rpm by `rpm -qf`, because its database
//! is not plain files. The result always depends on which package owns this
//! very file: a copy in `~/.local/bin` is not package-managed, even when a
//! package is installed as well.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use super::release::PACKAGE;

/// A package manager that owns the running binary, with the owning package's name where it can differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageManager {
    /// dpkg owns the file, so apt upgrades it.
    Apt {
        package: String,
    },
    /// rpm owns the file; `tool` is `dnf` or `zypper`, whichever the system has.
    Rpm {
        package: String,
        tool: &'static str,
    },
    /// pacman owns the file: `docker-credential-atcr` or `docker-credential-atcr-bin` from the AUR.
    Pacman {
        package: String,
    },
    Homebrew,
    Scoop,
    Chocolatey,
    /// The MSI installer, which winget publishes.
    Winget,
}

impl PackageManager {
    /// Returns the name people know the manager by.
    pub fn name(&self) -> &'static str {
        match self {
            PackageManager::Apt { .. } => "apt",
            PackageManager::Rpm { tool, .. } => tool,
            PackageManager::Pacman { .. } => "pacman",
            PackageManager::Homebrew => "Homebrew",
            PackageManager::Scoop => "Scoop",
            PackageManager::Chocolatey => "Chocolatey",
            PackageManager::Winget => "winget",
        }
    }

    /// Returns the shell command that upgrades the package.
    pub fn upgrade_command(&self) -> String {
        match self {
            PackageManager::Apt { package } => {
                format!("sudo apt-get update && sudo apt-get install --only-upgrade {package}")
            }
            PackageManager::Rpm {
                package,
                tool: "zypper",
            } => format!("sudo zypper update {package}"),
            PackageManager::Rpm { package, .. } => format!("sudo dnf upgrade {package}"),
            PackageManager::Pacman { package } if package.ends_with("-bin") => {
                format!("yay -Syu {package}")
            }
            PackageManager::Pacman { package } => format!("sudo pacman -Syu {package}"),
            PackageManager::Homebrew => format!("brew upgrade {PACKAGE}"),
            PackageManager::Scoop => format!("scoop update {PACKAGE}"),
            PackageManager::Chocolatey => format!("choco upgrade {PACKAGE}"),
            PackageManager::Winget => format!("winget upgrade atcr.{PACKAGE}"),
        }
    }

    /// Returns a note for when the upgrade command may not find the new version.
    pub fn note(&self) -> Option<String> {
        match self {
            PackageManager::Apt { .. } | PackageManager::Rpm { .. } => Some(
                "if you installed the package from a downloaded file rather than a repository, download the new package from the release page and install it the same way"
                    .to_owned(),
            ),
            PackageManager::Pacman { package } if !package.ends_with("-bin") => {
                Some(format!("if the package came from the AUR, rebuild it with your AUR helper, such as `yay -Syu {package}`"))
            }
            _ => None,
        }
    }
}

/// Returns the package manager that owns `exe`, looking for the dpkg and
/// pacman databases under `root`. `rpm_owner` returns the rpm package that
/// owns a path; it is asked only when nothing else claims the file.
pub fn detect(
    exe: &Path,
    root: &Path,
    rpm_owner: impl FnOnce(&Path) -> Option<String>,
) -> Option<PackageManager> {
    if let Some(manager) = detect_by_path(exe) {
        return Some(manager);
    }
    if let Some(package) = dpkg_owner(exe, root) {
        return Some(PackageManager::Apt { package });
    }
    if let Some(package) = pacman_owner(exe, root) {
        return Some(PackageManager::Pacman { package });
    }
    let package = rpm_owner(exe)?;
    let tool = if !root.join("usr/bin/dnf").exists() && root.join("usr/bin/zypper").exists() {
        "zypper"
    } else {
        "dnf"
    };
    Some(PackageManager::Rpm { package, tool })
}

/// Recognizes the managers that install into their own directories. Windows
/// paths are compared with `/` separators and in lowercase, as Windows
/// compares them.
fn detect_by_path(exe: &Path) -> Option<PackageManager> {
    let path = exe.to_string_lossy().replace('\\', "/").to_lowercase();
    let contains_any = |parts: &[&str]| parts.iter().any(|part| path.contains(part));

    if path.starts_with("/opt/homebrew/")
        || contains_any(&["/cellar/", "/.linuxbrew/", "/home/linuxbrew/"])
    {
        return Some(PackageManager::Homebrew);
    }
    if contains_any(&["/scoop/apps/", "/scoop/shims/"]) {
        return Some(PackageManager::Scoop);
    }
    if contains_any(&["/chocolatey/lib/", "/chocolatey/bin/"]) {
        return Some(PackageManager::Chocolatey);
    }
    let msi_dirs = [
        "/program files/docker-credential-atcr/",
        "/program files (x86)/docker-credential-atcr/",
    ];
    if contains_any(&msi_dirs)
        || contains_any(&["/microsoft/winget/packages/", "/microsoft/winget/links/"])
    {
        return Some(PackageManager::Winget);
    }
    None
}

/// Returns the dpkg package whose file list (`var/lib/dpkg/info/<package>[:<arch>].list`) names `exe`.
fn dpkg_owner(exe: &Path, root: &Path) -> Option<String> {
    let info = root.join("var/lib/dpkg/info");
    for entry in fs::read_dir(info).ok()?.flatten() {
        let file_name = entry.file_name();
        let Some(list_name) = file_name
            .to_str()
            .and_then(|name| name.strip_suffix(".list"))
        else {
            continue;
        };
        let package = list_name.split(':').next().unwrap_or(list_name);
        if !package.starts_with(PACKAGE) {
            continue;
        }
        let Ok(text) = fs::read_to_string(entry.path()) else {
            continue;
        };
        if text.lines().any(|line| same_file(Path::new(line), exe)) {
            return Some(package.to_owned());
        }
    }
    None
}

/// Returns the pacman package whose file list (`var/lib/pacman/local/<name>-<ver>-<rel>/files`) names `exe`.
fn pacman_owner(exe: &Path, root: &Path) -> Option<String> {
    let local = root.join("var/lib/pacman/local");
    for entry in fs::read_dir(local).ok()?.flatten() {
        let directory_name = entry.file_name();
        let Some(directory_name) = directory_name.to_str() else {
            continue;
        };
        // The version and the release never contain `-`, so the name is what precedes the last two.
        let mut parts = directory_name.rsplitn(3, '-');
        let (Some(_release), Some(_version), Some(package)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !package.starts_with(PACKAGE) {
            continue;
        }
        let Ok(text) = fs::read_to_string(entry.path().join("files")) else {
            continue;
        };
        // pacman lists paths relative to the root, without the leading `/`.
        if text
            .lines()
            .any(|line| same_file(&Path::new("/").join(line), exe))
        {
            return Some(package.to_owned());
        }
    }
    None
}

/// Tells whether a path from a package's file list is `exe`. Lists may name
/// `/bin/x` where `/bin` links to `/usr/bin`, so a listed path that ends in
/// the binary's name is also compared after resolving its links.
fn same_file(listed: &Path, exe: &Path) -> bool {
    if listed == exe {
        return true;
    }
    listed.file_name() == exe.file_name()
        && listed.canonicalize().is_ok_and(|resolved| resolved == exe)
}

/// Returns the rpm package that owns `exe`, from `rpm --root <root> -qf`, or
/// `None` when rpm is not installed or no package owns the file.
pub fn rpm_owner(exe: &Path, root: &Path) -> Option<String> {
    let output = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--query", "--file", "--queryformat", "%{NAME}"])
        .arg(exe)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let name = String::from_utf8(output.stdout).ok()?;
    let name = name.trim();
    let valid = output.status.success() && !name.is_empty() && !name.contains(char::is_whitespace);
    valid.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn no_rpm(_: &Path) -> Option<String> {
        None
    }

    fn detect_path(path: &str) -> Option<PackageManager> {
        let root = tempfile::tempdir().unwrap();
        detect(Path::new(path), root.path(), no_rpm)
    }

    fn write(path: PathBuf, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Runs `detect` for `binary` in a root that contains one file, `path`
    /// (relative to the root) with `text`, without asking rpm.
    fn detect_with_file(binary: &str, path: &str, text: &str) -> Option<PackageManager> {
        let root = tempfile::tempdir().unwrap();
        write(root.path().join(path), text);
        detect(Path::new(binary), root.path(), no_rpm)
    }

    #[test]
    fn homebrew_paths() {
        for path in [
            "/opt/homebrew/Cellar/docker-credential-atcr/0.1.0/bin/docker-credential-atcr",
            "/usr/local/Cellar/docker-credential-atcr/0.1.0/bin/docker-credential-atcr",
            "/home/linuxbrew/.linuxbrew/Cellar/docker-credential-atcr/0.1.0/bin/docker-credential-atcr",
        ] {
            assert_eq!(detect_path(path), Some(PackageManager::Homebrew), "{path}");
        }
        assert_eq!(
            PackageManager::Homebrew.upgrade_command(),
            "brew upgrade docker-credential-atcr"
        );
    }

    #[test]
    fn scoop_path() {
        let manager = detect_path(
            r"C:\Users\ana\scoop\apps\docker-credential-atcr\current\docker-credential-atcr.exe",
        );
        assert_eq!(manager, Some(PackageManager::Scoop));
        assert_eq!(
            PackageManager::Scoop.upgrade_command(),
            "scoop update docker-credential-atcr"
        );
    }

    #[test]
    fn chocolatey_paths() {
        for path in [
            r"C:\ProgramData\chocolatey\lib\docker-credential-atcr\tools\docker-credential-atcr.exe",
            r"C:\ProgramData\Chocolatey\bin\docker-credential-atcr.exe",
        ] {
            assert_eq!(
                detect_path(path),
                Some(PackageManager::Chocolatey),
                "{path}"
            );
        }
        assert_eq!(
            PackageManager::Chocolatey.upgrade_command(),
            "choco upgrade docker-credential-atcr"
        );
    }

    #[test]
    fn winget_msi_path() {
        let manager =
            detect_path(r"\\?\C:\Program Files\docker-credential-atcr\docker-credential-atcr.exe");
        assert_eq!(manager, Some(PackageManager::Winget));
        assert_eq!(
            PackageManager::Winget.upgrade_command(),
            "winget upgrade atcr.docker-credential-atcr"
        );
    }

    #[test]
    fn plain_paths_are_not_managed() {
        for path in [
            "/usr/local/bin/docker-credential-atcr",
            "/home/ana/.local/bin/docker-credential-atcr",
            r"C:\tools\docker-credential-atcr.exe",
        ] {
            assert_eq!(detect_path(path), None, "{path}");
        }
    }

    #[test]
    fn dpkg_list_marks_apt() {
        let manager = detect_with_file(
            "/usr/bin/docker-credential-atcr",
            "var/lib/dpkg/info/docker-credential-atcr.list",
            "/.\n/usr\n/usr/bin\n/usr/bin/docker-credential-atcr\n",
        );
        assert_eq!(
            manager,
            Some(PackageManager::Apt {
                package: "docker-credential-atcr".into()
            })
        );
        assert_eq!(
            manager.unwrap().upgrade_command(),
            "sudo apt-get update && sudo apt-get install --only-upgrade docker-credential-atcr"
        );
    }

    #[test]
    fn dpkg_multiarch_list_marks_apt() {
        let manager = detect_with_file(
            "/usr/bin/docker-credential-atcr",
            "var/lib/dpkg/info/docker-credential-atcr:arm64.list",
            "/usr/bin/docker-credential-atcr\n",
        );
        assert_eq!(
            manager,
            Some(PackageManager::Apt {
                package: "docker-credential-atcr".into()
            })
        );
    }

    #[test]
    fn dpkg_list_of_other_path_ignored() {
        let manager = detect_with_file(
            "/home/ana/.local/bin/docker-credential-atcr",
            "var/lib/dpkg/info/docker-credential-atcr.list",
            "/usr/bin/docker-credential-atcr\n",
        );
        assert_eq!(manager, None);
    }

    #[test]
    fn pacman_bin_package_uses_aur_helper() {
        let manager = detect_with_file(
            "/usr/bin/docker-credential-atcr",
            "var/lib/pacman/local/docker-credential-atcr-bin-0.1.0-1/files",
            "%FILES%\nusr/\nusr/bin/\nusr/bin/docker-credential-atcr\n",
        )
        .unwrap();
        assert_eq!(
            manager,
            PackageManager::Pacman {
                package: "docker-credential-atcr-bin".into()
            }
        );
        assert_eq!(
            manager.upgrade_command(),
            "yay -Syu docker-credential-atcr-bin"
        );
    }

    #[test]
    fn pacman_source_package() {
        let manager = detect_with_file(
            "/usr/bin/docker-credential-atcr",
            "var/lib/pacman/local/docker-credential-atcr-0.1.0-2/files",
            "%FILES%\nusr/bin/docker-credential-atcr\n",
        )
        .unwrap();
        assert_eq!(
            manager,
            PackageManager::Pacman {
                package: "docker-credential-atcr".into()
            }
        );
        assert_eq!(
            manager.upgrade_command(),
            "sudo pacman -Syu docker-credential-atcr"
        );
        assert!(
            manager
                .note()
                .unwrap()
                .contains("yay -Syu docker-credential-atcr")
        );
    }

    #[test]
    fn rpm_owner_marks_dnf() {
        let root = tempfile::tempdir().unwrap();
        let manager = detect(
            Path::new("/usr/bin/docker-credential-atcr"),
            root.path(),
            |_| Some("docker-credential-atcr".into()),
        )
        .unwrap();
        assert_eq!(
            manager,
            PackageManager::Rpm {
                package: "docker-credential-atcr".into(),
                tool: "dnf"
            }
        );
        assert_eq!(
            manager.upgrade_command(),
            "sudo dnf upgrade docker-credential-atcr"
        );
    }

    #[test]
    fn rpm_owner_on_opensuse_uses_zypper() {
        let root = tempfile::tempdir().unwrap();
        write(root.path().join("usr/bin/zypper"), "");
        let manager = detect(
            Path::new("/usr/bin/docker-credential-atcr"),
            root.path(),
            |_| Some("docker-credential-atcr".into()),
        )
        .unwrap();
        assert_eq!(
            manager.upgrade_command(),
            "sudo zypper update docker-credential-atcr"
        );
    }

    #[test]
    fn rpm_not_asked_when_dpkg_owns() {
        let root = tempfile::tempdir().unwrap();
        write(
            root.path()
                .join("var/lib/dpkg/info/docker-credential-atcr.list"),
            "/usr/bin/docker-credential-atcr\n",
        );
        let manager = detect(
            Path::new("/usr/bin/docker-credential-atcr"),
            root.path(),
            |_| panic!("rpm must not be asked"),
        );
        assert_eq!(manager.map(|manager| manager.name()), Some("apt"));
    }
}
