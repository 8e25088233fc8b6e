//! Users: the profile item (`USER#<id>` / `PROFILE`) and the e-mail uniqueness item
//! (`EMAIL#<normalized>` / `EMAIL`), always written together in one transaction with
//! `Absent` conditions, so one address has exactly one account even under
//! concurrent registrations.

use super::email::EmailAddress;
use super::ids::{OrgId, UserId};
use crate::ports::store::{Change, Condition, ItemStore, Key, NewItem, StoreError, Write};
use serde::{Deserialize, Serialize};

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
}

pub fn user_key(id: &UserId) -> Key {
    Key::new(format!("USER#{id}"), "PROFILE")
}

pub fn email_key(email: &EmailAddress) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

/// The writes that create `user` (for a transaction with its org and membership).
/// The e-mail item comes first, so a `ConditionFailed { index: Some(0) }` means the
/// address is taken.
pub fn create_writes(user: &User) -> Result<Vec<Write>, StoreError> {
    Ok(vec![
        Write::Put {
            item: NewItem::new(email_key(&user.email)).attr("user_id", user.id.as_str()),
            condition: Some(Condition::Absent),
        },
        Write::Put {
            item: NewItem::from_record(user_key(&user.id), user)?,
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

pub async fn find_by_email(
    store: &dyn ItemStore,
    email: &EmailAddress,
) -> Result<Option<User>, StoreError> {
    let Some(item) = store.get(&email_key(email)).await? else {
        return Ok(None);
    };
    let id = item
        .get_str("user_id")
        .and_then(|s| UserId::parse(s).ok())
        .ok_or_else(|| StoreError::Fatal("e-mail item without a user id".into()))?;
    get(store, &id).await
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
