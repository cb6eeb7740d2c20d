//! `configure-docker`: point Docker's `credHelpers` at this helper.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::docker_config::{self, HELPER_NAME};

/// Adds `"credHelpers": {"<registry>": "atcr"}` for each registry, or with
/// `dry_run` prints the file that would be written.
pub fn run(
    registries: &[String],
    dry_run: bool,
    config: Option<PathBuf>,
    stdout: &mut impl Write,
) -> Result<()> {
    let hosts = registries
        .iter()
        .map(|registry| docker_config::registry_host(registry))
        .collect::<Result<Vec<_>, _>>()?;
    let path = match config {
        Some(path) => path,
        None => docker_config::default_path()?,
    };

    warn_if_not_on_path();

    let plan = docker_config::plan(&path, &hosts)
        .with_context(|| format!("{} was not changed", path.display()))?;
    if let Some(store) = &plan.creds_store {
        log::info!(
            "credsStore is {store:?}: it still applies to other registries, while credHelpers takes precedence for {}",
            hosts.join(", ")
        );
    }
    for (host, previous) in &plan.changed {
        if let Some(previous) = previous {
            log::warn!(
                "{host} used the credential helper {previous:?}; it now uses {HELPER_NAME:?}"
            );
        }
    }

    if dry_run {
        stdout.write_all(&plan.after)?;
        writeln!(stdout)?;
        eprintln!("dry run: {} was not changed", plan.path.display());
        return Ok(());
    }
    if plan.changed.is_empty() {
        eprintln!(
            "{} already uses docker-credential-atcr for {}",
            plan.path.display(),
            hosts.join(", ")
        );
        return Ok(());
    }

    let backup = docker_config::apply(&plan)
        .with_context(|| format!("{} was not changed", plan.path.display()))?;
    let names: Vec<&str> = plan.changed.iter().map(|(host, _)| host.as_str()).collect();
    eprintln!(
        "{}: Docker now uses docker-credential-atcr for {}",
        plan.path.display(),
        names.join(", ")
    );
    if let Some(backup) = backup {
        eprintln!("the previous version is in {}", backup.display());
    }
    Ok(())
}

/// Warns when Docker cannot find the helper: it runs `docker-credential-atcr` by name from PATH.
fn warn_if_not_on_path() {
    let name = format!("docker-credential-atcr{}", std::env::consts::EXE_SUFFIX);
    if super::doctor::find_on_path(&name).is_none() {
        log::warn!(
            "{name} is not on PATH, so Docker cannot run it: install it into a directory on PATH, such as /usr/local/bin"
        );
    }
}
