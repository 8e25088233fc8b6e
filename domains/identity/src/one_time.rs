//! Single-use e-mailed tokens: e-mail verification (24 h), password reset (1 h) and
//! invitations (7 days). Stored by hash; consumed with a conditional write, so two
//! concurrent uses have exactly one winner.
//!
//! The item outlives the token's validity by [`RETAIN_AFTER_EXPIRY`], so an expired
//! token answers "expired" (410) rather than "invalid" (400) for a while.

use super::secrets;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_core::clock::Clock;
use skiff_core::ports::store::{Change, Cmp, Condition, ItemStore, Key, NewItem, StoreError};
use std::time::Duration;

/// How long an expired or used token is kept to answer precisely.
pub const RETAIN_AFTER_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a token is for; a token of one kind is invalid for every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    Invitation,
}

impl Purpose {
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::from_secs(24 * 3600),
            Purpose::ResetPassword => Duration::from_secs(3600),
            Purpose::Invitation => Duration::from_secs(7 * 24 * 3600),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::Invitation => "invitation",
        }
    }
}

/// Why a token could not be consumed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Unknown, malformed, or of another purpose.
    #[error("the token is invalid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token has already been used")]
    Used,
    /// Withdrawn by its issuer (a revoked invitation).
    #[error("the token has been revoked")]
    Revoked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key(hash: &str) -> Key {
    Key::new(format!("TOKEN#{hash}"), "TOKEN")
}

/// Store a new token for `purpose` carrying `data`; returns the raw token (to
/// e-mail, never to answer with).
pub async fn issue(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    purpose: Purpose,
    data: Map<String, Value>,
) -> Result<String, StoreError> {
    let (raw, item) = new_token(clock, purpose, data);
    store.put(item, Some(Condition::Absent)).await?;
    Ok(raw)
}

/// [`issue`] as a write, for a transaction with a record that names the token:
/// the raw token and the write that stores it.
pub fn issue_write(
    clock: &dyn Clock,
    purpose: Purpose,
    data: Map<String, Value>,
) -> (String, skiff_core::ports::store::Write) {
    let (raw, item) = new_token(clock, purpose, data);
    let write = skiff_core::ports::store::Write::Put {
        item,
        condition: Some(Condition::Absent),
    };
    (raw, write)
}

fn new_token(clock: &dyn Clock, purpose: Purpose, data: Map<String, Value>) -> (String, NewItem) {
    let (raw, hash) = secrets::generate();
    let now = clock.unix();
    let expires_at = now + purpose.lifetime().as_secs() as i64;
    let mut item = NewItem::new(key(&hash))
        .attr("purpose", purpose.as_str())
        .attr("created_at", now)
        .attr("valid_until", expires_at)
        .expires_at(expires_at + RETAIN_AFTER_EXPIRY.as_secs() as i64);
    item.attrs.insert("data".into(), Value::Object(data));
    (raw, item)
}

fn usable(purpose: Purpose, now: i64) -> Condition {
    Condition::All(vec![
        Condition::Exists,
        Condition::attr("purpose", Cmp::Eq, purpose.as_str()),
        Condition::AttrMissing("used_at".into()),
        Condition::AttrMissing("revoked_at".into()),
        Condition::attr("valid_until", Cmp::Gt, now),
    ])
}

/// Explain why `item` is not usable.
fn refusal(
    item: Option<&skiff_core::ports::store::Item>,
    purpose: Purpose,
    now: i64,
) -> ConsumeError {
    match item {
        None => ConsumeError::Invalid,
        Some(i) if i.get_str("purpose") != Some(purpose.as_str()) => ConsumeError::Invalid,
        Some(i) if i.attrs.contains_key("revoked_at") => ConsumeError::Revoked,
        Some(i) if i.attrs.contains_key("used_at") => ConsumeError::Used,
        Some(i) if i.get_i64("valid_until").unwrap_or(0) <= now => ConsumeError::Expired,
        Some(_) => ConsumeError::Used,
    }
}

/// Read a token without consuming it (e.g. to decide how an invitation is accepted).
pub async fn peek(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    purpose: Purpose,
    raw: &str,
) -> Result<Map<String, Value>, ConsumeError> {
    if !secrets::well_formed(raw) {
        return Err(ConsumeError::Invalid);
    }
    let now = clock.unix();
    let item = store.get(&key(&secrets::hash(raw))).await?;
    if usable(purpose, now).holds(item.as_ref()) {
        let item = item.expect("usable implies present");
        Ok(item.get("data").unwrap_or_default())
    } else {
        Err(refusal(item.as_ref(), purpose, now))
    }
}

/// The write that consumes a token, for a transaction with the effect it grants
/// (so the effect and the consumption happen together or not at all).
pub fn consume_write(
    clock: &dyn Clock,
    purpose: Purpose,
    raw: &str,
) -> skiff_core::ports::store::Write {
    let now = clock.unix();
    skiff_core::ports::store::Write::Update {
        key: key(&secrets::hash(raw)),
        changes: vec![Change::set("used_at", now)],
        condition: Some(usable(purpose, now)),
    }
}

/// The stored hash of a raw token (what an issuer keeps to revoke it later).
pub fn hash_of(raw: &str) -> String {
    secrets::hash(raw)
}

/// The write that withdraws the token whose hash is `hash`: from then on it answers
/// [`ConsumeError::Revoked`]. Harmless on a token already used or revoked.
pub fn revoke_write(clock: &dyn Clock, hash: &str) -> skiff_core::ports::store::Write {
    skiff_core::ports::store::Write::Update {
        key: key(hash),
        changes: vec![Change::set("revoked_at", clock.unix())],
        condition: Some(Condition::All(vec![
            Condition::Exists,
            Condition::AttrMissing("used_at".into()),
        ])),
    }
}

/// After a failed [`consume_write`], tell the caller why.
pub async fn explain(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    purpose: Purpose,
    raw: &str,
) -> ConsumeError {
    match store.get(&key(&secrets::hash(raw))).await {
        Ok(item) => refusal(item.as_ref(), purpose, clock.unix()),
        Err(e) => ConsumeError::Store(e),
    }
}

/// Consume a token on its own; returns its data.
pub async fn consume(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    purpose: Purpose,
    raw: &str,
) -> Result<Map<String, Value>, ConsumeError> {
    if !secrets::well_formed(raw) {
        return Err(ConsumeError::Invalid);
    }
    let now = clock.unix();
    let k = key(&secrets::hash(raw));
    match store
        .update(
            &k,
            vec![Change::set("used_at", now)],
            Some(usable(purpose, now)),
        )
        .await
    {
        Ok(item) => Ok(item.get("data").unwrap_or_default()),
        Err(e) if e.is_condition_failed() => Err(explain(store, clock, purpose, raw).await),
        Err(e) => Err(e.into()),
    }
}
