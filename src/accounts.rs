//! ATCR accounts: one per (registry, DID), one active per registry, and the
//! choice of account that `get` returns.
//!
//! An account's device secret lives in the keyring or the file store under
//! the key `<registry>#<DID>`; `#` never appears in a server key, so account
//! secrets and `store`d credentials cannot collide. The accounts themselves
//! (handle, DID, login time, which store holds the secret) live in the
//! index. `get` chooses, in order: `ATCR_USERNAME` + `ATCR_TOKEN` for the
//! registry in `ATCR_REGISTRY`, the identity in the image reference on the
//! parent process's command line, the registry's active account, and
//! finally what `store` put there. Nothing here touches the network.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::secret::Secret;
use crate::server_url::{ServerUrl, image_identities};
use crate::store::credentials::Credential;
use crate::store::index::Index;
use crate::store::{Backend, Credentials, StoreError};

/// The registry that `login`, `ATCR_REGISTRY` and `configure-docker` default to.
pub const DEFAULT_REGISTRY: &str = "atcr.io";

/// One logged-in ATCR account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The registry's server key, such as `atcr.io` or `127.0.0.1:5000`.
    pub registry: String,
    /// The AppView origin the account logged in through, such as `https://atcr.io`.
    pub origin: String,
    pub handle: String,
    pub did: String,
    /// Seconds since the Unix epoch.
    pub logged_in_at: u64,
    /// The store that holds the device secret.
    pub store: Backend,
}

impl Account {
    /// The store key of this account's device secret.
    pub fn secret_key(&self) -> String {
        secret_key(&self.registry, &self.did)
    }
}

/// Returns the account that `identity` (a handle, compared case-insensitively,
/// or a DID, compared exactly) names among `accounts`. A handle can name two
/// accounts when it moved to a new DID and both were logged in. The newest
/// login wins, because the AppView confirmed that handle last.
pub fn named<'a>(
    accounts: impl IntoIterator<Item = &'a Account>,
    identity: &str,
) -> Option<&'a Account> {
    let mut newest: Option<&Account> = None;
    for account in accounts {
        if account.did == identity {
            return Some(account);
        }
        if account.handle.eq_ignore_ascii_case(identity)
            && newest.is_none_or(|found| account.logged_in_at >= found.logged_in_at)
        {
            newest = Some(account);
        }
    }
    newest
}

/// The store key of the device secret of `did` on `registry`.
pub fn secret_key(registry: &str, did: &str) -> String {
    format!("{registry}#{did}")
}

#[derive(Debug, Error)]
pub enum AccountError {
    #[error(
        "ATCR_TOKEN is set but ATCR_USERNAME is not: set ATCR_USERNAME to the handle that the token belongs to"
    )]
    TokenWithoutUsername,
    #[error("invalid ATCR_REGISTRY {0:?}: set it to a registry host such as atcr.io")]
    InvalidRegistry(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The accounts of `registry` in `index`.
pub fn accounts_of<'a>(index: &'a Index, registry: &str) -> Vec<&'a Account> {
    index
        .accounts
        .iter()
        .filter(|account| account.registry == registry)
        .collect()
}

/// The active account of `registry`: the one marked active, or the only one.
pub fn active_account<'a>(index: &'a Index, registry: &str) -> Option<&'a Account> {
    let accounts = accounts_of(index, registry);
    let marked = index
        .active
        .get(registry)
        .and_then(|did| accounts.iter().find(|account| &account.did == did));
    match (marked, accounts.as_slice()) {
        (Some(account), _) => Some(account),
        (None, [only]) => Some(only),
        _ => None,
    }
}

/// Chooses the credential that `get` returns for `server`. `parent_command_line`
/// is called only when the registry has two or more accounts to choose from.
pub fn credential_for(
    server: &ServerUrl,
    credentials: &Credentials,
    parent_command_line: impl FnOnce() -> Option<Vec<String>>,
) -> Result<Option<Credential>, AccountError> {
    if let Some(credential) = environment_credential(server)? {
        log::debug!("using ATCR_USERNAME and ATCR_TOKEN for {}", server.key);
        return Ok(Some(credential));
    }

    let index = Index::load(credentials.paths())?;
    let accounts = accounts_of(&index, &server.key);

    let from_command_line = if accounts.len() >= 2 {
        parent_command_line().and_then(|argv| account_named_in(&accounts, &server.key, &argv))
    } else {
        None
    };
    if let Some(account) = from_command_line.or_else(|| active_account(&index, &server.key)) {
        log::debug!(
            "using the account {} ({}) for {}",
            account.handle,
            account.did,
            server.key
        );
        let secret = credentials.read_secret(account.store, &account.secret_key())?;
        if secret.is_none() {
            log::warn!(
                "the device secret of {} is missing from the {} store: run docker-credential-atcr login {}",
                account.handle,
                account.store,
                account.registry
            );
        }
        return Ok(secret.map(|secret| Credential {
            username: account.handle.clone(),
            secret,
        }));
    }

    let Some(entry) = index.credentials.get(&server.key) else {
        return Ok(None);
    };
    let secret = credentials.read_secret(entry.store, &server.key)?;
    if secret.is_none() {
        log::warn!(
            "the index lists {} in the {} store, but the secret is gone from it; store it again",
            server.original,
            entry.store
        );
    }
    Ok(secret.map(|secret| Credential {
        username: entry.username.clone(),
        secret,
    }))
}

/// Returns `ATCR_USERNAME` + `ATCR_TOKEN` when `server` is the registry in
/// `ATCR_REGISTRY` (default atcr.io); a `get` for any other host never sees them.
fn environment_credential(server: &ServerUrl) -> Result<Option<Credential>, AccountError> {
    let Some(token) = std::env::var("ATCR_TOKEN")
        .ok()
        .filter(|token| !token.is_empty())
    else {
        return Ok(None);
    };
    let registry = std::env::var("ATCR_REGISTRY")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_owned());
    let Ok(registry_key) = ServerUrl::parse(&registry).map(|url| url.key) else {
        log::warn!(
            "{}; ATCR_TOKEN is ignored",
            AccountError::InvalidRegistry(registry)
        );
        return Ok(None);
    };
    if registry_key != server.key {
        return Ok(None);
    }

    let username = std::env::var("ATCR_USERNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .ok_or(AccountError::TokenWithoutUsername)?;
    Ok(Some(Credential {
        username,
        secret: Secret::new(token),
    }))
}

/// Finds the account named by the last image reference for `registry` in `argv`.
fn account_named_in<'a>(
    accounts: &[&'a Account],
    registry: &str,
    argv: &[String],
) -> Option<&'a Account> {
    let identities = image_identities(argv, registry);
    log::debug!("identities in the parent's image references for {registry}: {identities:?}");
    identities
        .iter()
        .rev()
        .find_map(|identity| named(accounts.iter().copied(), identity))
}

/// Writes `account` and its device secret, replacing an earlier login of the
/// same DID, and makes it the registry's active account. Returns the store
/// that holds the secret.
pub fn save_login(
    credentials: &Credentials,
    account: Account,
    secret: &Secret,
) -> Result<Backend, StoreError> {
    let _lock = credentials.lock()?;
    let mut index = Index::load(credentials.paths())?;
    credentials.clean_stale_secrets(&mut index);

    let key = account.secret_key();
    let previous_store = index
        .accounts
        .iter()
        .find(|old| old.registry == account.registry && old.did == account.did)
        .map(|old| old.store);
    let handle = account.handle.clone();
    credentials.write_recorded(
        &mut index,
        &key,
        &handle,
        secret,
        previous_store,
        move |index, store| {
            index
                .accounts
                .retain(|old| !(old.registry == account.registry && old.did == account.did));
            index
                .active
                .insert(account.registry.clone(), account.did.clone());
            index.accounts.push(Account { store, ..account });
        },
    )
}

/// Removes `account` and its device secret. When it was active, the
/// registry's first remaining account becomes active. A secret that cannot
/// be deleted now (the keyring is locked or gone) is deleted by a later write.
pub fn remove(credentials: &Credentials, account: &Account) -> Result<(), StoreError> {
    let _lock = credentials.lock()?;
    let mut index = Index::load(credentials.paths())?;
    credentials.clean_stale_secrets(&mut index);

    index
        .accounts
        .retain(|old| !(old.registry == account.registry && old.did == account.did));
    credentials.delete_or_record(&mut index, account.store, &account.secret_key())?;
    if index.active.get(&account.registry) == Some(&account.did) {
        index.active.remove(&account.registry);
        if let Some(next) = index
            .accounts
            .iter()
            .find(|old| old.registry == account.registry)
        {
            index.active.insert(next.registry.clone(), next.did.clone());
        }
    }
    index.save(credentials.paths())
}

/// Removes every account of `registry` and their device secrets, and
/// returns how many there were.
pub fn remove_registry(credentials: &Credentials, registry: &str) -> Result<usize, StoreError> {
    let _lock = credentials.lock()?;
    let mut index = Index::load(credentials.paths())?;
    credentials.clean_stale_secrets(&mut index);

    let (removed, kept): (Vec<Account>, Vec<Account>) = std::mem::take(&mut index.accounts)
        .into_iter()
        .partition(|account| account.registry == registry);
    index.accounts = kept;
    for account in &removed {
        credentials.delete_or_record(&mut index, account.store, &account.secret_key())?;
        log::info!("logged out {} from {}", account.handle, account.registry);
    }
    index.active.remove(registry);
    if !removed.is_empty() {
        index.save(credentials.paths())?;
    }
    Ok(removed.len())
}

/// Makes `account` the active account of its registry.
pub fn activate(credentials: &Credentials, account: &Account) -> Result<(), StoreError> {
    let _lock = credentials.lock()?;
    let mut index = Index::load(credentials.paths())?;
    index
        .active
        .insert(account.registry.clone(), account.did.clone());
    index.save(credentials.paths())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(handle: &str, did: &str) -> Account {
        Account {
            registry: "atcr.io".into(),
            origin: "https://atcr.io".into(),
            handle: handle.into(),
            did: did.into(),
            logged_in_at: 0,
            store: Backend::File,
        }
    }

    #[test]
    fn moved_handle_names_newest_login() {
        let old = Account {
            logged_in_at: 100,
            ..account("alice.example.com", "did:plc:old")
        };
        let new = Account {
            logged_in_at: 200,
            ..account("alice.example.com", "did:plc:new")
        };
        for accounts in [[&old, &new], [&new, &old]] {
            let found = named(accounts, "Alice.Example.com").unwrap();
            assert_eq!(found.did, "did:plc:new");
            assert_eq!(named(accounts, "did:plc:old").unwrap().did, "did:plc:old");
            assert!(named(accounts, "bob.example.com").is_none());
        }
    }

    #[test]
    fn handle_matches_case_insensitively() {
        let alice = account("alice.bsky.social", "did:plc:alice");
        assert!(named([&alice], "Alice.Bsky.Social").is_some());
        assert!(named([&alice], "did:plc:alice").is_some());
        assert!(
            named([&alice], "DID:PLC:ALICE").is_none(),
            "DIDs match exactly"
        );
    }

    #[test]
    fn last_reference_on_command_line_wins() {
        let alice = account("alice.bsky.social", "did:plc:alice");
        let bob = account("bob.example.com", "did:plc:bob");
        let accounts = vec![&alice, &bob];
        let argv: Vec<String> = [
            "skopeo",
            "copy",
            "docker://atcr.io/alice.bsky.social/app:1",
            "docker://atcr.io/bob.example.com/app:1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(account_named_in(&accounts, "atcr.io", &argv), Some(&bob));
    }

    #[test]
    fn active_account_defaults_to_only_one() {
        let mut index = Index::default();
        index
            .accounts
            .push(account("alice.bsky.social", "did:plc:alice"));
        assert_eq!(
            active_account(&index, "atcr.io").map(|a| a.handle.as_str()),
            Some("alice.bsky.social")
        );
        index
            .accounts
            .push(account("bob.example.com", "did:plc:bob"));
        assert_eq!(
            active_account(&index, "atcr.io"),
            None,
            "two accounts and none marked"
        );
        index.active.insert("atcr.io".into(), "did:plc:bob".into());
        assert_eq!(
            active_account(&index, "atcr.io").map(|a| a.handle.as_str()),
            Some("bob.example.com")
        );
    }
}
