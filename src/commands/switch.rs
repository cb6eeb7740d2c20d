//! `switch [HANDLE]`: choose the active account of a registry. With two
//! accounts and no handle, it toggles between them.

use anyhow::{Result, bail};

use crate::accounts::{self, Account};
use crate::store::Credentials;
use crate::store::index::Index;

/// Makes the account named `handle` (a handle or DID) active on `registry`.
pub fn run(registry: Option<&str>, handle: Option<&str>, credentials: &Credentials) -> Result<()> {
    let index = Index::load(credentials.paths())?;
    let registry = super::logout::resolve_registry(&index, registry, |registry, handle| {
        format!("docker-credential-atcr switch {handle} --registry {registry}")
    })?;
    let candidates: Vec<Account> = accounts::accounts_of(&index, &registry)
        .into_iter()
        .cloned()
        .collect();
    let active = accounts::active_account(&index, &registry).map(|account| account.did.clone());

    let target = match (handle, candidates.as_slice()) {
        (_, []) => bail!("no accounts on {registry}: run docker-credential-atcr login {registry}"),
        (Some(name), _) => accounts::named(&candidates, name).ok_or_else(|| {
            anyhow::anyhow!(
                "no account {name:?} on {registry}; the accounts are: {}",
                handles(&candidates)
            )
        })?,
        (None, [only]) => bail!(
            "{} is the only account on {registry}; log in to another with docker-credential-atcr login {registry}",
            only.handle
        ),
        (None, [first, second]) => {
            if active.as_deref() == Some(first.did.as_str()) {
                second
            } else {
                first
            }
        }
        (None, _) => bail!(
            "{registry} has {} accounts: name one, for example docker-credential-atcr switch {}",
            candidates.len(),
            candidates[0].handle
        ),
    };

    accounts::activate(credentials, target)?;
    eprintln!(
        "✓ {} ({}) is now the active account on {registry}",
        target.handle, target.did
    );
    Ok(())
}

fn handles(accounts: &[Account]) -> String {
    accounts
        .iter()
        .map(|account| account.handle.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
