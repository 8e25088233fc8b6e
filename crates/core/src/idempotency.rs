//! Exactly-once side effects over at-least-once delivery: a consumer claims an
//! event id with a conditional write before acting, and marks it done after. A
//! redelivery of a done event is skipped; a claim whose holder crashed is taken
//! over once its lease expires. Used by the outbox and by webhook processing.

use crate::clock::Clock;
use crate::ports::store::{Change, Condition, ItemStore, Key, NewItem, StoreError};
use serde_json::Value;
use std::time::Duration;

/// How long a done record is kept: longer than any queue's retention (SQS keeps
/// messages at most 14 days), so a redelivery always finds it.
pub const RETENTION: Duration = Duration::from_secs(15 * 24 * 3600);

const STATE_PROCESSING: &str = "processing";
const STATE_DONE: &str = "done";

/// Key of the record for `id` within `scope` (e.g. `outbox`, `stripe`). One
/// partition per record, so records never make a hot partition.
pub fn record_key(scope: &str, id: &str) -> Key {
    Key::new(format!("IDEMP#{scope}#{id}"), "IDEMP")
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// The caller holds the lease and must `complete` or `release` it.
    Acquired(Lease),
    /// Already processed; `result` is what `complete` recorded.
    Done { result: Option<Value> },
    /// Another consumer holds a live lease.
    InProgress,
}

/// A held claim.
#[derive(Debug)]
#[must_use = "complete or release the lease"]
pub struct Lease {
    key: Key,
    version: crate::ports::store::Version,
}

/// Try to claim `id` in `scope` for `lease` (how long a crashed holder blocks others).
pub async fn claim(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    scope: &str,
    id: &str,
    lease: Duration,
) -> Result<Claim, StoreError> {
    let key = record_key(scope, id);
    let now = clock.unix();
    let record = |key: Key| {
        NewItem::new(key)
            .attr("state", STATE_PROCESSING)
            .attr("lease_until", now + lease.as_secs() as i64)
            .expires_at(now + RETENTION.as_secs() as i64)
    };
    match store
        .put(record(key.clone()), Some(Condition::Absent))
        .await
    {
        Ok(item) => {
            return Ok(Claim::Acquired(Lease {
                key,
                version: item.version,
            }));
        }
        Err(e) if e.is_condition_failed() => {}
        Err(e) => return Err(e),
    }
    let Some(existing) = store.get(&key).await? else {
        // Expired or deleted between our two calls: a released claim; try once more.
        return match store
            .put(record(key.clone()), Some(Condition::Absent))
            .await
        {
            Ok(item) => Ok(Claim::Acquired(Lease {
                key,
                version: item.version,
            })),
            Err(e) if e.is_condition_failed() => Ok(Claim::InProgress),
            Err(e) => Err(e),
        };
    };
    if existing.get_str("state") == Some(STATE_DONE) {
        return Ok(Claim::Done {
            result: existing.attrs.get("result").cloned(),
        });
    }
    if existing.get_i64("lease_until").unwrap_or(0) > now {
        return Ok(Claim::InProgress);
    }
    // The holder's lease ran out (it crashed): take over, unless someone else just did.
    match store
        .put(
            record(key.clone()),
            Some(Condition::VersionIs(existing.version)),
        )
        .await
    {
        Ok(item) => Ok(Claim::Acquired(Lease {
            key,
            version: item.version,
        })),
        Err(e) if e.is_condition_failed() => Ok(Claim::InProgress),
        Err(e) => Err(e),
    }
}

impl Lease {
    /// Record success (and an optional result for duplicates to return). Fails with
    /// `ConditionFailed` if the lease was lost to a takeover meanwhile.
    pub async fn complete(
        self,
        store: &dyn ItemStore,
        result: Option<Value>,
    ) -> Result<(), StoreError> {
        let mut changes = vec![
            Change::set("state", STATE_DONE),
            Change::Remove("lease_until".into()),
        ];
        if let Some(result) = result {
            changes.push(Change::Set("result".into(), result));
        }
        store
            .update(&self.key, changes, Some(Condition::VersionIs(self.version)))
            .await
            .map(|_| ())
    }

    /// Give the claim up after a failure, so a retry can process the event at once.
    pub async fn release(self, store: &dyn ItemStore) -> Result<(), StoreError> {
        match store
            .delete(&self.key, Some(Condition::VersionIs(self.version)))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_condition_failed() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
