//! API keys for machines: `sk_live_<prefix>_<secret>`. The 12-hex prefix is the
//! lookup key (`APIKEY#<prefix>`); the 256-bit secret is stored only as its SHA-256
//! and compared in constant time. A second item in the org's partition
//! (`ORG#<org>` / `APIKEY#<id>`) lists the org's keys without their secrets.
//!
//! A key acts with its creator's *current* role (never more than the role it was
//! created with) and stops working once its creator leaves the org. Checking the
//! creator at use time costs one read per request, and in exchange a demotion or
//! removal takes effect on every key at once, including a key created while the
//! removal was under way, which revoking keys at removal time would miss; a
//! re-promoted creator's keys regain their role without being re-issued.

use super::ids::{ApiKeyId, OrgId, UserId};
use super::orgs;
use super::roles::{Role, Scopes};
use super::secrets;
use serde::{Deserialize, Serialize};
use skiff_core::ids::AppId;
use skiff_core::ports::store::{
    Change, Cmp, Condition, ItemStore, Key, NewItem, Query, StoreError, Write,
};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "sk_live_";
const LOOKUP_HEX: usize = 12;

/// `last_used_at` is written at most this often per key, so a busy key costs no
/// write per request.
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// A key's public description (what listings show).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    /// `sk_live_<lookup>`: enough to recognise a key, useless to authenticate.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// The role the key acts with (its creator's, at most `admin`).
    pub role: Role,
    pub created_by: UserId,
    pub created_at: i64,
    /// Unix seconds after which the key is refused; `None`: it never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Unix seconds of the latest use, to within [`LAST_USED_GRANULARITY_SECS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    /// The one scripts app the key is bound to, if any: it reaches no other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<AppId>,
}

impl ApiKey {
    pub fn scopes(&self) -> Scopes {
        Scopes::parse_list(self.scopes.iter().map(String::as_str))
            .unwrap_or_else(|_| Scopes::from_claim(&self.scopes.join(" ")))
    }
}

/// The lookup item: the description plus the secret's hash.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    key: ApiKey,
    secret_hash: String,
}

fn lookup_key(lookup: &str) -> Key {
    Key::new(format!("APIKEY#{lookup}"), "APIKEY")
}

fn listing_key(org: &OrgId, id: &ApiKeyId) -> Key {
    Key::new(format!("ORG#{org}"), format!("APIKEY#{id}"))
}

/// Split a presented key into (lookup, secret), or `None` if it is not one.
pub fn parse(raw: &str) -> Option<(&str, &str)> {
    let rest = raw.strip_prefix(KEY_PREFIX)?;
    if rest.len() != LOOKUP_HEX + 1 + secrets::TOKEN_CHARS || rest.as_bytes()[LOOKUP_HEX] != b'_' {
        return None;
    }
    let (lookup, secret) = (&rest[..LOOKUP_HEX], &rest[LOOKUP_HEX + 1..]);
    let lookup_ok = lookup
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (lookup_ok && secrets::well_formed(secret)).then_some((lookup, secret))
}

/// Whether a bearer credential looks like an API key (rather than a JWT).
pub fn looks_like_key(raw: &str) -> bool {
    raw.starts_with(KEY_PREFIX)
}

/// What a new key is made of.
#[derive(Debug, Clone, Copy)]
pub struct NewKey<'a> {
    pub org: &'a OrgId,
    pub created_by: &'a UserId,
    pub name: &'a str,
    pub scopes: &'a Scopes,
    /// The creator's role (a key never acts above `admin`).
    pub role: Role,
    /// Unix seconds; `None`: the key never expires.
    pub expires_at: Option<i64>,
    /// Bind the key to one scripts app.
    pub app_id: Option<&'a AppId>,
}

/// Create a key; returns its description and the raw key (shown once).
pub async fn create(
    store: &dyn ItemStore,
    now: i64,
    new: NewKey<'_>,
) -> Result<(ApiKey, String), StoreError> {
    let NewKey {
        org,
        created_by,
        name,
        scopes,
        role,
        expires_at,
        app_id,
    } = new;
    let lookup = hex::encode(rand::random::<[u8; LOOKUP_HEX / 2]>());
    let (secret, secret_hash) = secrets::generate();
    let key = ApiKey {
        id: ApiKeyId::new(),
        org_id: org.clone(),
        name: name.to_owned(),
        prefix: format!("{KEY_PREFIX}{lookup}"),
        scopes: scopes.names(),
        role: role.min(Role::Admin),
        created_by: created_by.clone(),
        created_at: now,
        expires_at,
        last_used_at: None,
        app_id: app_id.cloned(),
    };
    let stored = Stored {
        key: key.clone(),
        secret_hash,
    };
    store
        .transact(vec![
            Write::Put {
                item: NewItem::from_record(lookup_key(&lookup), &stored)?,
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::from_record(listing_key(org, &key.id), &key)?,
                condition: Some(Condition::Absent),
            },
        ])
        .await?;
    Ok((key, format!("{KEY_PREFIX}{lookup}_{secret}")))
}

/// Why a presented key was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the API key is invalid")]
    Invalid,
    #[error("the API key has expired")]
    Expired,
    #[error("the member who created this API key is no longer in the organization")]
    CreatorGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key a presented credential names, if its secret matches, it has not expired
/// and its creator is still a member; its `role` is capped by the creator's
/// current role.
pub async fn authenticate(store: &dyn ItemStore, now: i64, raw: &str) -> Result<ApiKey, KeyError> {
    let (lookup, secret) = parse(raw).ok_or(KeyError::Invalid)?;
    let item = store
        .get(&lookup_key(lookup))
        .await?
        .ok_or(KeyError::Invalid)?;
    let stored: Stored = item.parse()?;
    let presented = secrets::hash(secret);
    if !bool::from(presented.as_bytes().ct_eq(stored.secret_hash.as_bytes())) {
        return Err(KeyError::Invalid);
    }
    let mut key = stored.key;
    if key.expires_at.is_some_and(|t| t <= now) {
        return Err(KeyError::Expired);
    }
    let creator = orgs::membership(store, &key.org_id, &key.created_by)
        .await?
        .ok_or(KeyError::CreatorGone)?;
    key.role = key.role.min(creator.role).min(Role::Admin);
    if key
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_GRANULARITY_SECS)
    {
        touch(store, lookup, &key, now).await;
        key.last_used_at = Some(now);
    }
    Ok(key)
}

/// Record a use on both items. Only the first request of a window passes the
/// condition, so concurrent requests of one key write once; a failure costs the
/// request nothing (the figure is informative).
async fn touch(store: &dyn ItemStore, lookup: &str, key: &ApiKey, now: i64) {
    let stale = Condition::All(vec![
        Condition::Exists,
        Condition::Any(vec![
            Condition::AttrMissing("last_used_at".into()),
            Condition::attr("last_used_at", Cmp::Le, now - LAST_USED_GRANULARITY_SECS),
        ]),
    ]);
    let writes = vec![
        Write::Update {
            key: lookup_key(lookup),
            changes: vec![Change::set("last_used_at", now)],
            condition: Some(stale),
        },
        Write::Update {
            key: listing_key(&key.org_id, &key.id),
            changes: vec![Change::set("last_used_at", now)],
            condition: Some(Condition::Exists),
        },
    ];
    match store.transact(writes).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failed() => {}
        Err(e) => tracing::warn!(key = %key.id, error = %e, "could not record an API key's use"),
    }
}

/// One page of the org's keys, oldest first, and the store position after it.
pub async fn page(
    store: &dyn ItemStore,
    org: &OrgId,
    limit: usize,
    position: Option<String>,
) -> Result<(Vec<ApiKey>, Option<String>), StoreError> {
    let page = store
        .query(
            Query::partition(format!("ORG#{org}"))
                .prefix("APIKEY#")
                .limit(limit.max(1))
                .after(position),
        )
        .await?;
    let keys = page
        .items
        .iter()
        .map(|i| i.parse())
        .collect::<Result<_, _>>()?;
    Ok((keys, page.next))
}

/// The org's keys, oldest first.
pub async fn list(store: &dyn ItemStore, org: &OrgId) -> Result<Vec<ApiKey>, StoreError> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(
                Query::partition(format!("ORG#{org}"))
                    .prefix("APIKEY#")
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            out.push(item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// One of the org's keys, by id.
pub async fn get(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &ApiKeyId,
) -> Result<Option<ApiKey>, StoreError> {
    store
        .get(&listing_key(org, id))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// Delete one of the org's keys; `false` if the org has no such key.
pub async fn delete(store: &dyn ItemStore, org: &OrgId, id: &ApiKeyId) -> Result<bool, StoreError> {
    let Some(item) = store.get(&listing_key(org, id)).await? else {
        return Ok(false);
    };
    let key: ApiKey = item.parse()?;
    let lookup = key.prefix.trim_start_matches(KEY_PREFIX);
    match store
        .transact(vec![
            Write::Delete {
                key: listing_key(org, id),
                condition: Some(Condition::Exists),
            },
            Write::Delete {
                key: lookup_key(lookup),
                condition: None,
            },
        ])
        .await
    {
        Ok(()) => Ok(true),
        Err(e) if e.is_condition_failed() => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_keys_parse() {
        let secret = secrets::generate().0;
        let raw = format!("sk_live_0123456789ab_{secret}");
        assert_eq!(parse(&raw), Some(("0123456789ab", secret.as_str())));
        assert!(parse(&format!("sk_test_0123456789ab_{secret}")).is_none());
        assert!(parse(&format!("sk_live_0123456789aB_{secret}")).is_none());
        assert!(parse(&format!("sk_live_0123456789ab-{secret}")).is_none());
        assert!(parse("sk_live_").is_none());
        assert!(looks_like_key(&raw));
        assert!(!looks_like_key("eyJhbGciOi"));
    }
}
