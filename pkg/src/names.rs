//! File names of the release artifacts.
//!
//! Users, the AUR PKGBUILDs and the helper's self-update find artifacts by
//! these names, so they are part of the release contract:
//! `docker-credential-atcr_<ver>_<Linux|Darwin>_<x86_64|arm64>.tar.gz`,
//! `docker-credential-atcr_<ver>-1_<amd64|arm64>.deb`,
//! `docker-credential-atcr-<ver>-1.<x86_64|aarch64>.rpm`, the source tarball
//! `docker-credential-atcr-<ver>.tar.gz` and `checksums.txt`.

use crate::targets::Target;

/// The package name on every platform.
pub const PACKAGE: &str = "docker-credential-atcr";

/// The package revision of the .deb and the .rpm (`Release:`).
pub const REVISION: &str = "1";

/// The file that lists the SHA-256 of every artifact, in `sha256sum` format.
pub const CHECKSUMS: &str = "checksums.txt";

/// Returns the release archive's file name: the binary and its documents.
pub fn archive(version: &str, target: &Target) -> String {
    format!(
        "{PACKAGE}_{version}_{}_{}.tar.gz",
        target.os, target.archive_arch
    )
}

/// Returns the Debian package's file name.
pub fn deb(version: &str, target: &Target) -> String {
    format!("{PACKAGE}_{version}-{REVISION}_{}.deb", target.deb_arch)
}

/// Returns the RPM package's file name.
pub fn rpm(version: &str, target: &Target) -> String {
    format!("{PACKAGE}-{version}-{REVISION}.{}.rpm", target.rpm_arch)
}

/// Returns the file name of the source tarball that the AUR source package builds.
pub fn source_tarball(version: &str) -> String {
    format!("{PACKAGE}-{version}.tar.gz")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::LINUX;

    #[test]
    fn x86_64_names() {
        let target = LINUX[0];
        assert_eq!(
            archive("1.2.3", &target),
            "docker-credential-atcr_1.2.3_Linux_x86_64.tar.gz"
        );
        assert_eq!(
            deb("1.2.3", &target),
            "docker-credential-atcr_1.2.3-1_amd64.deb"
        );
        assert_eq!(
            rpm("1.2.3", &target),
            "docker-credential-atcr-1.2.3-1.x86_64.rpm"
        );
    }

    #[test]
    fn aarch64_names() {
        let target = LINUX[1];
        assert_eq!(
            archive("0.1.0", &target),
            "docker-credential-atcr_0.1.0_Linux_arm64.tar.gz"
        );
        assert_eq!(
            deb("0.1.0", &target),
            "docker-credential-atcr_0.1.0-1_arm64.deb"
        );
        assert_eq!(
            rpm("0.1.0", &target),
            "docker-credential-atcr-0.1.0-1.aarch64.rpm"
        );
    }

    #[test]
    fn darwin_archive_names() {
        use crate::targets::DARWIN;
        assert_eq!(
            archive("0.1.0", &DARWIN[0]),
            "docker-credential-atcr_0.1.0_Darwin_x86_64.tar.gz"
        );
        assert_eq!(
            archive("0.1.0", &DARWIN[1]),
            "docker-credential-atcr_0.1.0_Darwin_arm64.tar.gz"
        );
    }

    #[test]
    fn source_tarball_name() {
        assert_eq!(
            source_tarball("0.1.0"),
            "docker-credential-atcr-0.1.0.tar.gz"
        );
    }
}
