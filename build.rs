//! Embeds the commit and build date that `version` prints.
//!
//! The date comes from `SOURCE_DATE_EPOCH` when set (reproducible builds),
//! otherwise from the commit's date, never from the clock, so two builds of
//! one commit are identical. `ATCR_BUILD_COMMIT` overrides the commit for
//! builds from a source tarball without `.git`.

use std::env;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=ATCR_BUILD_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");

    let commit = env::var("ATCR_BUILD_COMMIT")
        .ok()
        .filter(|value| !value.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());

    // A set but malformed SOURCE_DATE_EPOCH fails the build, as the
    // specification recommends (https://reproducible-builds.org/specs/source-date-epoch/).
    let date = env::var("SOURCE_DATE_EPOCH")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .map(|value| {
            value
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(date_from_epoch)
                .unwrap_or_else(|| {
                    panic!(
                        "invalid SOURCE_DATE_EPOCH `{value}`: expected whole seconds since 1970 \
                         up to the end of the year 9999, such as 1767225600"
                    )
                })
        })
        .or_else(|| git(&["log", "-1", "--format=%cd", "--date=format:%Y-%m-%d"]))
        .unwrap_or_else(|| "unknown".into());

    println!("cargo:rustc-env=ATCR_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=ATCR_BUILD_DATE={date}");
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// Formats seconds since 1970 as a UTC `YYYY-MM-DD` date, or `None` after
/// the year 9999, which RFC 3339 cannot write.
fn date_from_epoch(seconds: u64) -> Option<String> {
    let time = UNIX_EPOCH.checked_add(Duration::from_secs(seconds))?;
    // Display fails, rather than panics, past the year 9999.
    let mut date = String::new();
    write!(date, "{}", humantime::format_rfc3339_seconds(time)).ok()?;
    date.truncate("YYYY-MM-DD".len());
    Some(date)
}
