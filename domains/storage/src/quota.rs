//! The org's bytes in use, against its plan (`storage_gb` for records and vector
//! payloads, `backup_gb` for backups; `-1` unlimited).
//!
//! Two counters on one item, `{org}#STORAGE` / `USAGE`. Every item that holds
//! bytes records what it is charged (`charged`), and every change of a charge
//! goes into the same transaction as the counter's change, bounded by the plan's
//! limit: so under any concurrency the accepted writes fit, and a crash between
//! reserving and writing leaves a charged item (a pending upload) that the sweep
//! finds and releases, never a counter that is off. The invariant is
//! `counter = Σ charged` over the org's items; [`repair_drift`] checks it and
//! repairs whatever broke it anyway (an operator's hand, a bug), and says so.

use crate::model::gb_to_bytes;
use crate::{StorageError, StorageResult};
use serde::Serialize;
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{
    Change, Cmp, Condition, IndexKey, Item, ItemStore, Key, Query, StoreError, Write,
};
use skiff_core::services::Services;

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Records and vector payloads, under `storage_gb`.
    Records,
    /// Backups, under `backup_gb`.
    Backups,
}

impl Counter {
    pub fn attr(self) -> &'static str {
        match self {
            Counter::Records => "records_bytes",
            Counter::Backups => "backup_bytes",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Counter::Records => "storage",
            Counter::Backups => "backup",
        }
    }
}

/// The org's limits in bytes (`None`: unlimited), from its current plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub plan: String,
    pub records: Option<u64>,
    pub backups: Option<u64>,
}

impl Limits {
    pub fn unlimited() -> Self {
        Self {
            plan: "unlimited".into(),
            records: None,
            backups: None,
        }
    }

    pub fn of(&self, counter: Counter) -> Option<u64> {
        match counter {
            Counter::Records => self.records,
            Counter::Backups => self.backups,
        }
    }
}

/// The limits of the org's plan, read from the store on every write (never from a
/// token).
pub async fn limits(services: &Services, org: &OrgId) -> StorageResult<Limits> {
    let (_, plan) = skiff_billing::entitlements::current_plan(services, org).await?;
    Ok(Limits {
        plan: plan.name.clone(),
        records: gb_to_bytes(plan.entitlements.storage_gb.bound()),
        backups: gb_to_bytes(plan.entitlements.backup_gb.bound()),
    })
}

pub fn usage_key(org: &OrgId) -> Key {
    Key::new(format!("{org}#STORAGE"), "USAGE")
}

/// Partition of the index of every org with a usage item (the drift repair walks it).
const USAGE_INDEX: &str = "STORAGE#USAGE";

/// The org's bytes in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    pub records_bytes: u64,
    pub backup_bytes: u64,
}

pub async fn usage(store: &dyn ItemStore, org: &OrgId) -> Result<Usage, StoreError> {
    let item = store.get(&usage_key(org)).await?;
    let read = |c: Counter| {
        item.as_ref()
            .and_then(|i| i.get_i64(c.attr()))
            .unwrap_or(0)
            .max(0) as u64
    };
    Ok(Usage {
        records_bytes: read(Counter::Records),
        backup_bytes: read(Counter::Backups),
    })
}

/// The counter's change by `delta` as a transaction write: bounded by `limit`
/// when it grows, so the transaction fails rather than exceed it (the caller
/// refuses a delta larger than the whole limit before).
pub fn counter_write(org: &OrgId, counter: Counter, delta: i64, limit: Option<u64>) -> Write {
    let attr = counter.attr();
    // An absent counter is 0; a delta larger than the limit never gets here.
    let condition = match limit {
        Some(limit) if delta > 0 => Some(Condition::Any(vec![
            Condition::AttrMissing(attr.into()),
            Condition::attr(attr, Cmp::Le, limit as i64 - delta),
        ])),
        _ => None,
    };
    Write::Update {
        key: usage_key(org),
        changes: vec![
            Change::Add(attr.into(), delta),
            Change::SetIndex(Some(IndexKey::new(USAGE_INDEX, org.as_str()))),
        ],
        condition,
    }
}

/// Run `writes` with the counter's change by `delta` in the same transaction (the
/// counter first). A growth the limit has no room for is `QuotaExceeded`; a failed
/// condition of another write comes back as `ConditionFailed` with its index in
/// `writes`.
pub async fn transact_charged(
    store: &dyn ItemStore,
    org: &OrgId,
    counter: Counter,
    delta: i64,
    limit: Option<u64>,
    writes: Vec<Write>,
) -> StorageResult<()> {
    if let Some(limit) = limit
        && delta > 0
        && delta as u64 > limit
    {
        return Err(exceeded(store, org, counter, limit).await);
    }
    if delta == 0 {
        return Ok(store.transact(writes).await?);
    }
    let mut all = Vec::with_capacity(writes.len() + 1);
    all.push(counter_write(org, counter, delta, limit));
    all.extend(writes);
    match store.transact(all).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { index: Some(0) }) if delta > 0 => {
            Err(exceeded(store, org, counter, limit.unwrap_or_default()).await)
        }
        Err(StoreError::ConditionFailed { index }) => Err(StoreError::ConditionFailed {
            index: index.map(|i| i.saturating_sub(1)),
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Take back a pending item's reservation whose bytes will not come: the item
/// goes with its charge, in one transaction (only if nothing changed it). A
/// failure is logged: the sweep releases the item once it is due.
pub async fn release_pending(
    store: &dyn ItemStore,
    org: &OrgId,
    counter: Counter,
    charged: i64,
    item: &Item,
) {
    let released = transact_charged(
        store,
        org,
        counter,
        -charged,
        None,
        vec![Write::Delete {
            key: item.key.clone(),
            condition: Some(Condition::VersionIs(item.version)),
        }],
    )
    .await;
    if let Err(e) = released {
        tracing::warn!(sk = %item.key.sk, error = %e, "could not release a failed write; the sweep will");
    }
}

async fn exceeded(
    store: &dyn ItemStore,
    org: &OrgId,
    counter: Counter,
    limit: u64,
) -> StorageError {
    let used = match usage(store, org).await {
        Ok(u) => match counter {
            Counter::Records => u.records_bytes,
            Counter::Backups => u.backup_bytes,
        },
        Err(_) => 0,
    };
    StorageError::QuotaExceeded {
        what: counter.what(),
        used_bytes: used,
        limit_bytes: limit,
    }
}

/// The charge an item holds (0 when it holds none).
pub fn charged(item: &Item) -> i64 {
    item.get_i64("charged").unwrap_or(0).max(0)
}

/// Partitions whose items' charges make up each counter.
fn charged_partitions(org: &OrgId) -> [(Counter, String); 3] {
    [
        (Counter::Records, format!("{org}#REC")),
        (Counter::Records, format!("{org}#VEC")),
        (Counter::Backups, format!("{org}#BAK")),
    ]
}

/// What the items of the org are charged, summed per counter.
pub async fn recount(store: &dyn ItemStore, org: &OrgId) -> Result<Usage, StoreError> {
    let mut usage = Usage::default();
    for (counter, pk) in charged_partitions(org) {
        let mut cursor = None;
        loop {
            let page = store
                .query(Query::partition(pk.clone()).limit(1000).after(cursor))
                .await?;
            let sum: u64 = page.items.iter().map(|i| charged(i) as u64).sum();
            match counter {
                Counter::Records => usage.records_bytes += sum,
                Counter::Backups => usage.backup_bytes += sum,
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(usage)
}

/// One counter set right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repair {
    pub org: OrgId,
    pub counter: &'static str,
    pub was: u64,
    pub now: u64,
}

/// What a drift repair run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    pub checked: usize,
    pub repaired: Vec<Repair>,
    /// Orgs whose counter moved while they were counted (checked again next run).
    pub busy: usize,
}

impl std::fmt::Display for DriftReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "checked {} orgs", self.checked)?;
        if self.busy > 0 {
            write!(f, " ({} busy, left for the next run)", self.busy)?;
        }
        if self.repaired.is_empty() {
            return write!(f, "; no drift");
        }
        write!(f, "; repaired")?;
        for r in &self.repaired {
            write!(f, " {} {} {} -> {};", r.org, r.counter, r.was, r.now)?;
        }
        Ok(())
    }
}

/// Orgs one drift-repair run checks.
pub const REPAIR_BATCH: usize = 200;

/// Where the repair's walk over the orgs stands between runs.
fn repair_cursor_key() -> Key {
    Key::new("STORAGE#SWEEP", "DRIFT_CURSOR")
}

/// Check one org's counters against its items and set them right. The counter's
/// version is read before and after the count: a write in between (every charge
/// changes the counter in its own transaction) makes the count stale, so the org
/// is left for later; otherwise the counters are set under that version.
pub async fn repair_org(
    store: &dyn ItemStore,
    org: &OrgId,
) -> Result<Option<Vec<Repair>>, StoreError> {
    let before = store.get(&usage_key(org)).await?;
    let counted = recount(store, org).await?;
    let after = store.get(&usage_key(org)).await?;
    let version = |i: &Option<Item>| i.as_ref().map(|i| i.version);
    if version(&before) != version(&after) {
        return Ok(None);
    }
    let current = |c: Counter| {
        after
            .as_ref()
            .and_then(|i| i.get_i64(c.attr()))
            .unwrap_or(0)
    };
    let mut repairs = vec![];
    let mut changes = vec![];
    for (counter, want) in [
        (Counter::Records, counted.records_bytes),
        (Counter::Backups, counted.backup_bytes),
    ] {
        let was = current(counter);
        if was != want as i64 {
            repairs.push(Repair {
                org: org.clone(),
                counter: counter.attr(),
                was: was.max(0) as u64,
                now: want,
            });
            changes.push(Change::set(counter.attr(), want as i64));
        }
    }
    if changes.is_empty() {
        return Ok(Some(repairs));
    }
    changes.push(Change::SetIndex(Some(IndexKey::new(
        USAGE_INDEX,
        org.as_str(),
    ))));
    let condition = match &after {
        Some(item) => Condition::VersionIs(item.version),
        None => Condition::Absent,
    };
    match store
        .update(&usage_key(org), changes, Some(condition))
        .await
    {
        Ok(_) => {
            for r in &repairs {
                tracing::warn!(org = %r.org, counter = r.counter, was = r.was, now = r.now, "storage usage drift repaired");
            }
            Ok(Some(repairs))
        }
        Err(e) if e.is_condition_failed() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Check up to `batch` orgs, continuing where the previous run stopped.
pub async fn repair_drift(store: &dyn ItemStore, batch: usize) -> Result<DriftReport, StoreError> {
    let cursor = store
        .get(&repair_cursor_key())
        .await?
        .and_then(|i| i.get_str("cursor").map(str::to_owned));
    let page = store
        .query(Query::gsi1(USAGE_INDEX).limit(batch.max(1)).after(cursor))
        .await?;
    let mut report = DriftReport::default();
    for item in &page.items {
        let Some(org) = item
            .key
            .pk
            .strip_suffix("#STORAGE")
            .and_then(|o| OrgId::parse(o).ok())
        else {
            continue;
        };
        report.checked += 1;
        match repair_org(store, &org).await? {
            Some(repairs) => report.repaired.extend(repairs),
            None => report.busy += 1,
        }
    }
    let changes = match page.next {
        Some(next) => vec![Change::set("cursor", next)],
        None => vec![Change::Remove("cursor".into())],
    };
    store.update(&repair_cursor_key(), changes, None).await?;
    Ok(report)
}
