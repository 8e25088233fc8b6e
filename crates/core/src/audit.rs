//! The audit trail across domains. Each domain keeps its entries where its own
//! lists read them (billing's in the org's partition, licensing's in `{org}#LICAUDIT`),
//! and every entry, whichever domain wrote it, also sits in the secondary index
//! under the UTC day it happened (`AUDIT#<yyyy-mm-dd>`, sorted by time), carrying
//! the same few attributes ([`ATTR_DOMAIN`], [`ATTR_ORG`], `action`, `actor`, `at`),
//! so the operators' audit log reads every domain, newest first, by day.
//!
//! Domains without a store of their own (identity, the operators' actions) write
//! [`Entry`] items with [`entry_write`] / [`record`].

use crate::clock::Clock;
use crate::ids::OrgId;
use crate::ports::store::{IndexKey, ItemStore, Key, NewItem, StoreError, Write};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Index partition prefix of a day's entries.
pub const INDEX_PREFIX: &str = "AUDIT#";
/// Attribute naming the domain that wrote an entry (`identity`, `billing`, ...).
pub const ATTR_DOMAIN: &str = "domain";
/// Attribute holding the org an entry concerns, when it concerns one.
pub const ATTR_ORG: &str = "org_id";

/// The UTC day of a unix time, `yyyy-mm-dd`.
pub fn day_of(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The index entry of an audit item written at `at` whose own id is `id`.
pub fn index_key(at: i64, id: &str) -> IndexKey {
    IndexKey::new(
        format!("{INDEX_PREFIX}{}", day_of(at)),
        format!("{at:012}#{id}"),
    )
}

/// Tag an audit item of `domain` about `org` so the cross-domain index finds it.
pub fn tag(item: NewItem, domain: &str, org: Option<&OrgId>, at: i64, id: &str) -> NewItem {
    let item = item.index(index_key(at, id)).attr(ATTR_DOMAIN, domain);
    match org {
        Some(o) => item.attr(ATTR_ORG, o.as_str()),
        None => item,
    }
}

/// An entry of a domain that keeps no audit store of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub at: i64,
    pub domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<OrgId>,
    /// `user:<id>`, `operator:<id>`, `system`, ...
    pub actor: String,
    /// What happened, e.g. `USER_SUSPENDED`.
    pub action: String,
    /// What it happened to (a user, org, license or message id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default)]
    pub detail: Value,
}

impl Entry {
    /// A new entry at the clock's now.
    pub fn new(clock: &dyn Clock, domain: &str, actor: String, action: &str) -> Self {
        Self {
            id: uuid::Uuid::now_v7().simple().to_string(),
            at: clock.unix(),
            domain: domain.to_owned(),
            org_id: None,
            actor,
            action: action.to_owned(),
            target: None,
            detail: Value::Null,
        }
    }

    pub fn org(mut self, org: &OrgId) -> Self {
        self.org_id = Some(org.clone());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    /// Entries about an org sit in `AUDIT#<org>`; platform entries in `AUDIT#platform`.
    pub fn key(&self) -> Key {
        let owner = self.org_id.as_ref().map_or("platform", OrgId::as_str);
        Key::new(
            format!("{INDEX_PREFIX}{owner}"),
            format!("{:012}#{}", self.at, self.id),
        )
    }

    fn item(&self) -> Result<NewItem, StoreError> {
        Ok(NewItem::from_record(self.key(), self)?.index(index_key(self.at, &self.id)))
    }
}

/// The put of an entry, to join the transaction of the change it records.
pub fn entry_write(entry: &Entry) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: entry.item()?,
        condition: None,
    })
}

/// Write an entry on its own.
pub async fn record(store: &dyn ItemStore, entry: &Entry) -> Result<(), StoreError> {
    store.put(entry.item()?, None).await.map(|_| ())
}

/// Write an entry after the change it records committed: a failure is logged, never
/// turned into a failed request.
pub async fn record_logged(store: &dyn ItemStore, entry: &Entry) {
    if let Err(e) = record(store, entry).await {
        tracing::warn!(error = %e, action = %entry.action, "could not write the audit entry");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates_and_index_keys_sort_by_time() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(1_700_000_000), "2023-11-14");
        let a = index_key(1_700_000_000, "a");
        let b = index_key(1_700_000_001, "a");
        assert_eq!(a.pk, "AUDIT#2023-11-14");
        assert!(a.sk < b.sk);
    }
}
