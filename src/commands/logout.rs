//! `logout [REGISTRY] [HANDLE]`: remove an account and its device secret.
//! Without a handle it logs out the registry's active account.

use anyhow::{Result, bail};

use crate::accounts::{self, DEFAULT_REGISTRY};
use crate::appview::AppView;
use crate::store::Credentials;
use crate::store::index::Index;

/// Logs out `handle` (or the active account) from `registry`.
pub fn run(registry: Option<&str>, handle: Option<&str>, credentials: &Credentials) -> Result<()> {
    let index = Index::load(credentials.paths())?;
    let registry = resolve_registry(&index, registry, |registry, handle| {
        format!("docker-credential-atcr logout {registry} {handle}")
    })?;
    let on_registry = accounts::accounts_of(&index, &registry);

    let account = match handle {
        Some(name) => accounts::named(on_registry.iter().copied(), name),
        None => accounts::active_account(&index, &registry),
    };
    let Some(account) = account.cloned() else {
        match (handle, on_registry.is_empty()) {
            (_, true) => bail!("not logged in to {registry}"),
            (Some(name), false) => bail!(
                "no account {name:?} on {registry}; run docker-credential-atcr status to see the accounts"
            ),
            (None, false) => {
                bail!("{registry} has several accounts and none is active: name the one to log out")
            }
        }
    };

    accounts::remove(credentials, &account)?;
    eprintln!(
        "✓ Logged out {} ({}) from {registry}",
        account.handle, account.did
    );
    Ok(())
}

/// Turns the REGISTRY argument into a server key. Without one: the only
/// registry with accounts, or atcr.io. A handle given where a registry is
/// expected gets an error with the command that `suggest` builds from the
/// account's registry and handle.
pub fn resolve_registry(
    index: &Index,
    registry: Option<&str>,
    suggest: impl Fn(&str, &str) -> String,
) -> Result<String> {
    let Some(input) = registry else {
        let mut registries: Vec<&str> = index
            .accounts
            .iter()
            .map(|account| account.registry.as_str())
            .collect();
        registries.sort_unstable();
        registries.dedup();
        return Ok(match registries.as_slice() {
            [only] => (*only).to_owned(),
            _ => DEFAULT_REGISTRY.to_owned(),
        });
    };

    // A DID such as did:plc:abc does not parse as a registry at all, so the
    // accounts are checked whether or not it parses.
    let parsed = AppView::parse(input).map(|appview| appview.registry);
    let registry_has_accounts = parsed
        .as_ref()
        .is_ok_and(|key| !accounts::accounts_of(index, key).is_empty());
    if !registry_has_accounts && let Some(account) = accounts::named(&index.accounts, input) {
        bail!(
            "{input:?} is an account, not a registry: run {}",
            suggest(&account.registry, &account.handle)
        );
    }
    Ok(parsed?)
}
