//! Embeds the commit and build date that `version` prints.
//!
//! The date comes from `SOURCE_DATE_EPOCH` when set (reproducible builds),
//! otherwise from the commit's date, never from the clock, so two builds of
//! one commit are identical. `ATCR_BUILD_COMMIT` overrides the commit for
//! builds from a source tarball without `.git`.

use std::env;
use std::process::Command;

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

    let date = env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
        .map(date_from_epoch)
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

/// Formats seconds since 1970 as a UTC `YYYY-MM-DD` date (Howard Hinnant's
/// `civil_from_days` algorithm).
fn date_from_epoch(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
