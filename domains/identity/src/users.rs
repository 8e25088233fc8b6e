//! Users: the profile item (`USER#<id>` / `PROFILE`) and the e-mail uniqueness item
//! (`EMAIL#<lowercased address>` / `EMAIL`), always written together in one
//! transaction with `Absent` conditions, so one address — in any letter case — has
//! exactly one account even under concurrent registrations. The profile keeps the
//! address as the person typed it.
//!
//! Accounts stored while the uniqueness item still carried the typed local part
//! (`EMAIL#Ada@example.com`) stay reachable: a lookup of an address with capitals
//! first asks for that exact older item, then for the lowercased one, and an account
//! found the older way claims its lowercased item on the spot, so from then on every
//! letter case finds it and no one can register another case of it.

use super::email::EmailAddress;
use super::ids::{OrgId, UserId};
use serde::{Deserialize, Serialize};
use skiff_core::ports::store::{
    Change, Condition, IndexKey, ItemStore, Key, NewItem, StoreError, Write,
};

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: EmailAddress,
    pub full_name: String,
    pub password_hash: String,
    #[serde(default)]
    pub email_verified: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Operators only; set by `skiff admin grant`, never through the public API.
    #[serde(default)]
    pub platform_admin: bool,
    /// The org a login lands in.
    pub default_org: OrgId,
    /// The company named at sign-up (the org's first name), for operators' search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Set by an operator: the account may not sign in (see [`crate::suspension`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<i64>,
}

impl User {
    pub fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }
}

/// Index partition listing every account by `created_at` (`<unix:012>#<id>`, so a
/// range of sign-up times is one query): the operators' user directory.
pub const DIRECTORY_PK: &str = "USERS";

fn directory_entry(user: &User) -> IndexKey {
    IndexKey::new(DIRECTORY_PK, format!("{:012}#{}", user.created_at, user.id))
}

pub fn user_key(id: &UserId) -> Key {
    Key::new(format!("USER#{id}"), "PROFILE")
}

pub fn email_key(email: &EmailAddress) -> Key {
    Key::new(format!("EMAIL#{}", email.identity()), "EMAIL")
}

/// The uniqueness item of an account stored with its local part as typed.
fn typed_email_key(email: &EmailAddress) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

fn email_item(email: &EmailAddress, user: &UserId) -> NewItem {
    NewItem::new(email_key(email)).attr("user_id", user.as_str())
}

/// The writes that create `user` (for a transaction with its org and membership).
/// The e-mail item comes first, so a `ConditionFailed { index: Some(0) }` means the
/// address is taken.
pub fn create_writes(user: &User) -> Result<Vec<Write>, StoreError> {
    Ok(vec![
        Write::Put {
            item: email_item(&user.email, &user.id),
            condition: Some(Condition::Absent),
        },
        Write::Put {
            item: NewItem::from_record(user_key(&user.id), user)?.index(directory_entry(user)),
            condition: Some(Condition::Absent),
        },
    ])
}

pub async fn get(store: &dyn ItemStore, id: &UserId) -> Result<Option<User>, StoreError> {
    match store.get(&user_key(id)).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

/// The account of `email`, whatever its letter case.
pub async fn find_by_email(
    store: &dyn ItemStore,
    email: &EmailAddress,
) -> Result<Option<User>, StoreError> {
    let typed = typed_email_key(email);
    let canonical = email_key(email);
    if typed != canonical
        && let Some(item) = store.get(&typed).await?
    {
        let user = get(store, &user_of(&item)?).await?;
        if let Some(u) = &user {
            claim_identity(store, u).await;
        }
        return Ok(user);
    }
    match store.get(&canonical).await? {
        Some(item) => get(store, &user_of(&item)?).await,
        None => Ok(None),
    }
}

fn user_of(item: &skiff_core::ports::store::Item) -> Result<UserId, StoreError> {
    item.get_str("user_id")
        .and_then(|s| UserId::parse(s).ok())
        .ok_or_else(|| StoreError::Fatal("e-mail item without a user id".into()))
}

/// Give an account found by its typed address the lowercased uniqueness item too.
/// If another account holds it already (two older accounts differing only in
/// case), both stay as they are: each is still found by its exact address.
async fn claim_identity(store: &dyn ItemStore, user: &User) {
    match store
        .put(email_item(&user.email, &user.id), Some(Condition::Absent))
        .await
    {
        Ok(_) => tracing::info!(user = %user.id, "e-mail identity claimed"),
        Err(e) if e.is_condition_failed() => {}
        Err(e) => {
            tracing::warn!(user = %user.id, error = %e, "could not claim the e-mail identity")
        }
    }
}

/// Set attributes of an existing user (fails with `ConditionFailed` if absent).
pub async fn update(
    store: &dyn ItemStore,
    id: &UserId,
    changes: Vec<Change>,
) -> Result<User, StoreError> {
    store
        .update(&user_key(id), changes, Some(Condition::Exists))
        .await?
        .parse()
}

pub async fn set_password_hash(
    store: &dyn ItemStore,
    id: &UserId,
    phc: String,
) -> Result<User, StoreError> {
    update(store, id, vec![Change::set("password_hash", phc)]).await
}
