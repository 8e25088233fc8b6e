//! API keys for machines: `sk_live_<prefix>_<secret>`. The 12-hex prefix is the
//! lookup key (`APIKEY#<prefix>`); the 256-bit secret is stored only as its SHA-256
//! and compared in constant time. A second item in the org's partition
//! (`ORG#<org>` / `APIKEY#<id>`) lists the org's keys without their secrets.

use super::ids::{ApiKeyId, OrgId, UserId};
use super::roles::{Role, Scopes};
use super::secrets;
use crate::ports::store::{Condition, ItemStore, Key, NewItem, Query, StoreError, Write};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "sk_live_";
const LOOKUP_HEX: usize = 12;

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

/// Create a key; returns its description and the raw key (shown once).
pub async fn create(
    store: &dyn ItemStore,
    now: i64,
    org: &OrgId,
    created_by: &UserId,
    name: &str,
    scopes: &Scopes,
    role: Role,
) -> Result<(ApiKey, String), StoreError> {
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

/// The key a presented credential names, if its secret matches.
pub async fn authenticate(store: &dyn ItemStore, raw: &str) -> Result<Option<ApiKey>, StoreError> {
    let Some((lookup, secret)) = parse(raw) else {
        return Ok(None);
    };
    let Some(item) = store.get(&lookup_key(lookup)).await? else {
        return Ok(None);
    };
    let stored: Stored = item.parse()?;
    let presented = secrets::hash(secret);
    if bool::from(presented.as_bytes().ct_eq(stored.secret_hash.as_bytes())) {
        Ok(Some(stored.key))
    } else {
        Ok(None)
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
