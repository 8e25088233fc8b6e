//! Suspending an account (an operator's decision): the account keeps its data and
//! memberships but may not sign in — login answers `ACCOUNT_SUSPENDED` once the
//! password is right, so nobody learns of a suspension without it — every session
//! is revoked (refresh tokens stop working) and every API key the user created, in
//! any org, is deleted. Access tokens already issued run out within their lifetime
//! (minutes); nothing new is issued. Restoring lifts the flag; revoked sessions and
//! deleted keys stay gone.

use crate::ids::UserId;
use crate::users::{self, User, user_key};
use crate::{api_keys, orgs, sessions};
use skiff_core::clock::Clock;
use skiff_core::ports::store::{Change, Cmp, Condition, ItemStore, StoreError};

/// What a suspension did.
#[derive(Debug, Clone, PartialEq)]
pub struct Suspended {
    pub user: User,
    /// `false` when the account was already suspended (the sweep ran again anyway).
    pub changed: bool,
    pub sessions_revoked: usize,
    pub api_keys_deleted: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SuspensionError {
    #[error("no such user")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Suspend `user`, then revoke what it could sign in with. Safe to run again: a
/// repeated call finds the flag set and sweeps sessions and keys once more.
pub async fn suspend(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    user: &UserId,
) -> Result<Suspended, SuspensionError> {
    let changed = match store
        .update(
            &user_key(user),
            vec![Change::set("suspended_at", clock.unix())],
            Some(Condition::All(vec![
                Condition::Exists,
                Condition::AttrMissing("suspended_at".into()),
            ])),
        )
        .await
    {
        Ok(_) => true,
        Err(e) if e.is_condition_failed() => false,
        Err(e) => return Err(e.into()),
    };
    let account = users::get(store, user)
        .await?
        .ok_or(SuspensionError::NotFound)?;
    let sessions_revoked = sessions::revoke_all(store, clock, user, None).await?;
    let mut api_keys_deleted = 0;
    for membership in orgs::orgs_of(store, user).await? {
        for key in api_keys::list(store, &membership.org_id).await? {
            if key.created_by == *user
                && api_keys::delete(store, &membership.org_id, &key.id).await?
            {
                api_keys_deleted += 1;
            }
        }
    }
    tracing::warn!(%user, sessions_revoked, api_keys_deleted, "account suspended");
    Ok(Suspended {
        user: account,
        changed,
        sessions_revoked,
        api_keys_deleted,
    })
}

/// Lift a suspension; `(user, false)` when it was not suspended.
pub async fn restore(
    store: &dyn ItemStore,
    user: &UserId,
) -> Result<(User, bool), SuspensionError> {
    match store
        .update(
            &user_key(user),
            vec![Change::Remove("suspended_at".into())],
            // The flag is a unix time, so "is set" is "is a number ≥ 0".
            Some(Condition::attr("suspended_at", Cmp::Ge, 0)),
        )
        .await
    {
        Ok(item) => Ok((item.parse()?, true)),
        Err(e) if e.is_condition_failed() => {
            let account = users::get(store, user)
                .await?
                .ok_or(SuspensionError::NotFound)?;
            Ok((account, false))
        }
        Err(e) => Err(e.into()),
    }
}
