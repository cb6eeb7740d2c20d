//! The Linux targets that `cargo pkg` builds, with each packaging
//! ecosystem's name for their architecture.
//!
//! Rust, Debian, RPM, pacman and the release archives each spell the same
//! CPU differently (`aarch64` vs `arm64`), so every name is looked up here and
//! nowhere else.

use anyhow::{Result, bail};

/// One Linux release target and its architecture names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The Rust target triple, such as `x86_64-unknown-linux-musl`.
    pub triple: &'static str,
    /// The CPU as `std::env::consts::ARCH` and qemu-user name it.
    pub cpu: &'static str,
    /// The architecture in archive names (`x86_64`, `arm64`).
    pub archive_arch: &'static str,
    /// The Debian architecture (`amd64`, `arm64`).
    pub deb_arch: &'static str,
    /// The RPM architecture (`x86_64`, `aarch64`).
    pub rpm_arch: &'static str,
    /// The pacman architecture (`x86_64`, `aarch64`).
    pub pacman_arch: &'static str,
}

/// Every Linux target that releases ship: static musl binaries.
pub const LINUX: [Target; 2] = [
    Target {
        triple: "x86_64-unknown-linux-musl",
        cpu: "x86_64",
        archive_arch: "x86_64",
        deb_arch: "amd64",
        rpm_arch: "x86_64",
        pacman_arch: "x86_64",
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        cpu: "aarch64",
        archive_arch: "arm64",
        deb_arch: "arm64",
        rpm_arch: "aarch64",
        pacman_arch: "aarch64",
    },
];

/// Looks up a Linux target by its triple; the error lists the known ones.
pub fn linux(triple: &str) -> Result<Target> {
    if let Some(target) = LINUX.iter().find(|target| target.triple == triple) {
        return Ok(*target);
    }
    let known: Vec<&str> = LINUX.iter().map(|target| target.triple).collect();
    bail!(
        "unknown target `{triple}`: expected one of {}",
        known.join(", ")
    )
}

impl Target {
    /// Tells whether binaries for this target run on this machine without qemu.
    pub fn is_native(&self) -> bool {
        self.cpu == std::env::consts::ARCH
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
        let target = linux("aarch64-unknown-linux-musl").unwrap();
        assert_eq!(target.deb_arch, "arm64");
        assert_eq!(target.rpm_arch, "aarch64");
        assert_eq!(target.archive_arch, "arm64");
    }

    #[test]
    fn unknown_triple_is_named() {
        let error = linux("sparc-sun-solaris").unwrap_err().to_string();
        assert!(
            error.starts_with("unknown target `sparc-sun-solaris`"),
            "{error}"
        );
        assert!(error.contains("x86_64-unknown-linux-musl"), "{error}");
    }
}
