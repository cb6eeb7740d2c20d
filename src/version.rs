//! Build information that `version` and `--version` print.

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit the binary was built from, or `unknown`.
pub const COMMIT: &str = env!("ATCR_BUILD_COMMIT");
/// The build date (`YYYY-MM-DD`, from `SOURCE_DATE_EPOCH` or the commit), or `unknown`.
pub const BUILD_DATE: &str = env!("ATCR_BUILD_DATE");

/// `--version` text: version, commit and build date.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ATCR_BUILD_COMMIT"),
    ", built ",
    env!("ATCR_BUILD_DATE"),
    ")"
);

/// The one line that `version` prints.
pub fn version_line() -> String {
    format!("docker-credential-atcr {LONG_VERSION}")
}
