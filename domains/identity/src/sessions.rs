//! Sessions and their refresh tokens. A session is one family of
//! refresh tokens (`SESSION#<id>`, indexed under `USER#<user>` for "sign out
//! everywhere"); each refresh token (`REFRESH#<sha256>`) is opaque, 256-bit, stored
//! only hashed, and used once: rotating marks it used and stores its successor in
//! one transaction. Presenting a token that was already rotated means it leaked:
//! the whole session is revoked, so neither the thief's nor the owner's descendant
//! tokens work any more.

use super::ids::{OrgId, SessionId, UserId};
use super::secrets;
use serde::{Deserialize, Serialize};
use skiff_core::clock::Clock;
use skiff_core::ports::store::{
    Change, Condition, IndexKey, ItemStore, Key, NewItem, Query, StoreError, Write,
};
use std::time::Duration;

/// How long a refresh token stays valid if unused.
pub const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// A refresh token's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RefreshRecord {
    session_id: SessionId,
    user_id: UserId,
    org_id: OrgId,
    valid_until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    used_at: Option<i64>,
}

/// Why a refresh was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the refresh token is invalid")]
    Invalid,
    #[error("the refresh token has expired")]
    Expired,
    /// An already-rotated token was presented; its session is now revoked.
    #[error("the refresh token was already used; the session has been revoked")]
    Reused,
    #[error("the session has been revoked")]
    Revoked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn session_key(id: &SessionId) -> Key {
    Key::new(format!("SESSION#{id}"), "SESSION")
}

fn refresh_key(hash: &str) -> Key {
    Key::new(format!("REFRESH#{hash}"), "REFRESH")
}

fn refresh_put(record: &RefreshRecord, hash: &str) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: NewItem::from_record(refresh_key(hash), record)?.expires_at(record.valid_until),
        condition: Some(Condition::Absent),
    })
}

/// A new session for `user` acting in `org`; returns it with its first refresh token.
pub async fn start(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    user: &UserId,
    org: &OrgId,
) -> Result<(Session, String), StoreError> {
    let now = clock.unix();
    let valid_until = now + REFRESH_LIFETIME.as_secs() as i64;
    let session = Session {
        id: SessionId::new(),
        user_id: user.clone(),
        org_id: org.clone(),
        created_at: now,
        revoked_at: None,
    };
    let (raw, hash) = secrets::generate();
    let record = RefreshRecord {
        session_id: session.id.clone(),
        user_id: user.clone(),
        org_id: org.clone(),
        valid_until,
        used_at: None,
    };
    store
        .transact(vec![
            Write::Put {
                item: NewItem::from_record(session_key(&session.id), &session)?
                    .index(IndexKey::new(
                        format!("USER#{user}"),
                        format!("SESSION#{}", session.id),
                    ))
                    .expires_at(valid_until),
                condition: Some(Condition::Absent),
            },
            refresh_put(&record, &hash)?,
        ])
        .await?;
    Ok((session, raw))
}

/// Exchange a refresh token for its successor. Returns the session and the new raw
/// token. Reuse of a rotated token revokes the session.
pub async fn rotate(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    raw: &str,
) -> Result<(Session, String), RefreshError> {
    if !secrets::well_formed(raw) {
        return Err(RefreshError::Invalid);
    }
    let now = clock.unix();
    let old_key = refresh_key(&secrets::hash(raw));
    let Some(item) = store.get(&old_key).await? else {
        return Err(RefreshError::Invalid);
    };
    let record: RefreshRecord = item.parse()?;
    if record.used_at.is_some() {
        revoke(store, clock, &record.session_id).await?;
        tracing::warn!(session = %record.session_id, user = %record.user_id, "refresh token reused; session revoked");
        return Err(RefreshError::Reused);
    }
    if record.valid_until <= now {
        return Err(RefreshError::Expired);
    }
    let session = get(store, &record.session_id)
        .await?
        .ok_or(RefreshError::Revoked)?;
    if session.revoked_at.is_some() {
        return Err(RefreshError::Revoked);
    }
    let valid_until = now + REFRESH_LIFETIME.as_secs() as i64;
    let (new_raw, new_hash) = secrets::generate();
    let successor = RefreshRecord {
        valid_until,
        used_at: None,
        ..record.clone()
    };
    let writes = vec![
        Write::Update {
            key: old_key,
            changes: vec![Change::set("used_at", now)],
            condition: Some(Condition::VersionIs(item.version)),
        },
        Write::Update {
            key: session_key(&session.id),
            changes: vec![Change::SetExpiry(Some(valid_until))],
            condition: Some(Condition::All(vec![
                Condition::Exists,
                Condition::AttrMissing("revoked_at".into()),
            ])),
        },
        refresh_put(&successor, &new_hash)?,
    ];
    match store.transact(writes).await {
        Ok(()) => Ok((session, new_raw)),
        Err(e) if e.is_condition_failed() => {
            // A concurrent rotation of the same token won, or the session was revoked
            // meanwhile: either way this presentation is a reuse.
            revoke(store, clock, &record.session_id).await?;
            Err(RefreshError::Reused)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn get(store: &dyn ItemStore, id: &SessionId) -> Result<Option<Session>, StoreError> {
    match store.get(&session_key(id)).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

/// Revoke a session (idempotent; a missing session is already dead).
pub async fn revoke(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    id: &SessionId,
) -> Result<(), StoreError> {
    match store
        .update(
            &session_key(id),
            vec![Change::set("revoked_at", clock.unix())],
            Some(Condition::All(vec![
                Condition::Exists,
                Condition::AttrMissing("revoked_at".into()),
            ])),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_condition_failed() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Revoke every session of `user` except `keep`; returns how many were revoked.
pub async fn revoke_all(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    user: &UserId,
    keep: Option<&SessionId>,
) -> Result<usize, StoreError> {
    revoke_where(store, clock, user, |s| Some(&s.id) != keep).await
}

/// Revoke every session of `user` acting in `org` (they left or were removed).
pub async fn revoke_in_org(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    user: &UserId,
    org: &OrgId,
) -> Result<usize, StoreError> {
    revoke_where(store, clock, user, |s| &s.org_id == org).await
}

async fn revoke_where(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    user: &UserId,
    select: impl Fn(&Session) -> bool,
) -> Result<usize, StoreError> {
    let mut cursor = None;
    let mut count = 0;
    loop {
        let page = store
            .query(
                Query::gsi1(format!("USER#{user}"))
                    .prefix("SESSION#")
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            let session: Session = item.parse()?;
            if session.revoked_at.is_none() && select(&session) {
                revoke(store, clock, &session.id).await?;
                count += 1;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(count),
        }
    }
}
