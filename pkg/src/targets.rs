//! The Linux and macOS targets that `cargo pkg` builds, with each packaging
//! ecosystem's name for their architecture. (Windows targets are in
//! [`crate::windows`].)
//!
//! Rust, Debian, RPM, pacman and the release archives each spell the same
//! CPU differently (`aarch64` vs `arm64`), so every name is looked up here and
//! nowhere else. Linux targets get an archive, a .deb and an .rpm. macOS
//! targets get only an archive, and build only on macOS, because linking
//! needs Apple's linker and SDK.

use anyhow::{Result, bail};

/// One Linux or macOS release target and its architecture names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The Rust target triple, such as `x86_64-unknown-linux-musl`.
    pub triple: &'static str,
    /// The operating system as archive names spell it (`Linux`, `Darwin`).
    pub os: &'static str,
    /// The CPU as `std::env::consts::ARCH` and qemu-user name it.
    pub cpu: &'static str,
    /// The architecture in archive names (`x86_64`, `arm64`).
    pub archive_arch: &'static str,
    /// The Debian architecture (`amd64`, `arm64`); empty for macOS.
    pub deb_arch: &'static str,
    /// The RPM architecture (`x86_64`, `aarch64`); empty for macOS.
    pub rpm_arch: &'static str,
    /// The pacman architecture (`x86_64`, `aarch64`); empty for macOS.
    pub pacman_arch: &'static str,
}

/// Every Linux target that releases ship: static musl binaries.
pub const LINUX: [Target; 2] = [
    Target {
        triple: "x86_64-unknown-linux-musl",
        os: "Linux",
        cpu: "x86_64",
        archive_arch: "x86_64",
        deb_arch: "amd64",
        rpm_arch: "x86_64",
        pacman_arch: "x86_64",
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        os: "Linux",
        cpu: "aarch64",
        archive_arch: "arm64",
        deb_arch: "arm64",
        rpm_arch: "aarch64",
        pacman_arch: "aarch64",
    },
];

/// The macOS targets that releases ship, built on the release workflow's
/// macOS runners. They have no Linux package names.
pub const DARWIN: [Target; 2] = [
    Target {
        triple: "x86_64-apple-darwin",
        os: "Darwin",
        cpu: "x86_64",
        archive_arch: "x86_64",
        deb_arch: "",
        rpm_arch: "",
        pacman_arch: "",
    },
    Target {
        triple: "aarch64-apple-darwin",
        os: "Darwin",
        cpu: "aarch64",
        archive_arch: "arm64",
        deb_arch: "",
        rpm_arch: "",
        pacman_arch: "",
    },
];

/// The Windows triples, handled by [`crate::windows`]; listed here only so
/// that the error for an unknown triple names every target.
const WINDOWS_TRIPLES: [&str; 3] = [
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
    "x86_64-pc-windows-gnu",
];

/// Looks up a Linux or macOS target by its triple. The error lists every
/// triple that `cargo pkg dist` accepts.
pub fn find(triple: &str) -> Result<Target> {
    if let Some(target) = LINUX
        .iter()
        .chain(DARWIN.iter())
        .find(|target| target.triple == triple)
    {
        return Ok(*target);
    }
    let known: Vec<&str> = LINUX
        .iter()
        .chain(DARWIN.iter())
        .map(|target| target.triple)
        .chain(WINDOWS_TRIPLES)
        .collect();
    bail!(
        "unknown target `{triple}`: expected one of {}",
        known.join(", ")
    )
}

impl Target {
    /// Tells whether this is a macOS target.
    pub fn is_darwin(&self) -> bool {
        self.os == "Darwin"
    }

    /// Tells whether binaries for this target run on this machine without an
    /// emulator. On Apple silicon, Rosetta 2 runs x86_64 macOS binaries.
    pub fn is_native(&self) -> bool {
        let host_os = if self.is_darwin() { "macos" } else { "linux" };
        if std::env::consts::OS != host_os {
            return false;
        }
        self.cpu == std::env::consts::ARCH
            || (self.is_darwin() && std::env::consts::ARCH == "aarch64")
    }

    /// The qemu-user emulator that runs this target's binaries on another CPU.
    pub fn qemu(&self) -> String {
        format!("qemu-{}", self.cpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_triple_is_found() {
        let target = find("aarch64-unknown-linux-musl").unwrap();
        assert_eq!(target.deb_arch, "arm64");
        assert_eq!(target.rpm_arch, "aarch64");
        assert_eq!(target.archive_arch, "arm64");
    }

    #[test]
    fn unknown_triple_is_named() {
        let error = find("sparc-sun-solaris").unwrap_err().to_string();
        assert!(
            error.starts_with("unknown target `sparc-sun-solaris`"),
            "{error}"
        );
        for triple in [
            "x86_64-unknown-linux-musl",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc",
        ] {
            assert!(error.contains(triple), "{triple} in {error}");
        }
    }

    #[test]
    fn darwin_triple_is_found() {
        let target = find("aarch64-apple-darwin").unwrap();
        assert!(target.is_darwin());
        assert_eq!(target.archive_arch, "arm64");
        assert_eq!(target.os, "Darwin");
    }

    #[test]
    fn windows_triples_match_windows_module() {
        let triples: Vec<&str> = crate::windows::WINDOWS
            .iter()
            .map(|target| target.triple)
            .collect();
        assert_eq!(triples, WINDOWS_TRIPLES);
    }
}
