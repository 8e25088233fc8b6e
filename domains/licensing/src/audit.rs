//! The licensing audit log: who did what to which license, from where. Entries sit
//! in the org's partition, time-ordered, readable by org admins.

use super::model::{AUDIT_RETENTION_SECS, RequestMeta, audit_pk};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use skiff_core::clock::Clock;
use skiff_core::ids::{LicenseId, OrgId, UserId};
use skiff_core::ports::store::{ItemStore, Key, NewItem, Query, StoreError, Write, filtered_page};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    LicenseIssued,
    LicenseUpdated,
    LicenseActivated,
    SeatAcquired,
    SeatReleased,
    SeatExpired,
    SeatEnded,
    LicenseSuspended,
    LicenseDeactivated,
    MachineDeactivated,
    /// An operator suspended the license (an overlay billing does not lift).
    LicenseHeld,
    /// An operator lifted their suspension.
    LicenseReinstated,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub action: Action,
    pub license_id: LicenseId,
    /// `user:<id>`, `client` (a key holder, unauthenticated), `billing`, `system` or
    /// `operator:<id>`.
    pub actor: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: i64,
    #[serde(default)]
    pub detail: Value,
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    /// Someone presenting a license key, not signed in.
    Client,
    Billing,
    System,
    /// A platform operator.
    Operator(UserId),
}

impl Actor {
    pub fn from_meta(meta: &RequestMeta) -> Self {
        match &meta.user_id {
            Some(u) => Actor::User(u.clone()),
            None => Actor::Client,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Actor::User(u) => format!("user:{u}"),
            Actor::Client => "client".into(),
            Actor::Billing => "billing".into(),
            Actor::System => "system".into(),
            Actor::Operator(u) => format!("operator:{u}"),
        }
    }
}

/// The put of an entry, to join the transaction of the change it records (so the
/// log never misses a committed change, nor records one that did not commit).
#[allow(clippy::too_many_arguments)]
pub fn entry_write(
    org_id: &OrgId,
    license_id: &LicenseId,
    action: Action,
    actor: &Actor,
    meta: &RequestMeta,
    detail: Value,
    now: i64,
) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: entry_item(org_id, license_id, action, actor, meta, detail, now)?,
        condition: Some(skiff_core::ports::store::Condition::Absent),
    })
}

#[allow(clippy::too_many_arguments)]
fn entry_item(
    org_id: &OrgId,
    license_id: &LicenseId,
    action: Action,
    actor: &Actor,
    meta: &RequestMeta,
    detail: Value,
    now: i64,
) -> Result<NewItem, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let entry = Entry {
        id: id.clone(),
        action,
        license_id: license_id.clone(),
        actor: actor.label(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        at: now,
        detail,
    };
    let item = NewItem::from_record(Key::new(audit_pk(org_id), id.clone()), &entry)?
        .expires_at(now + AUDIT_RETENTION_SECS);
    Ok(skiff_core::audit::tag(
        item,
        "licensing",
        Some(org_id),
        now,
        &id,
    ))
}

/// Write an entry on its own.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org_id: &OrgId,
    license_id: &LicenseId,
    action: Action,
    actor: &Actor,
    meta: &RequestMeta,
    detail: Value,
) -> Result<(), StoreError> {
    let item = entry_item(
        org_id,
        license_id,
        action,
        actor,
        meta,
        detail,
        clock.unix(),
    )?;
    store.put(item, None).await.map(|_| ())
}

/// Write an entry after the change it records has been committed: a failure is
/// logged, never turned into a failed request.
#[allow(clippy::too_many_arguments)]
pub async fn record_logged(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org_id: &OrgId,
    license_id: &LicenseId,
    action: Action,
    actor: &Actor,
    meta: &RequestMeta,
    detail: Value,
) {
    if let Err(e) = record(
        store, clock, org_id, license_id, action, actor, meta, detail,
    )
    .await
    {
        tracing::warn!(error = %e, ?action, %license_id, "could not write the audit entry");
    }
}

/// One page of an org's entries, newest first, optionally of one license. The
/// license filter applies after a bounded read (see [`filtered_page`]), so a page
/// may be short, with a cursor to go on.
pub async fn list(
    store: &dyn ItemStore,
    org_id: &OrgId,
    license_id: Option<&LicenseId>,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<Entry>, Option<String>), StoreError> {
    filtered_page(
        store,
        Query::partition(audit_pk(org_id))
            .descending()
            .after(cursor),
        limit.clamp(1, 200),
        |item| {
            let entry: Entry = item.parse()?;
            Ok(license_id
                .is_none_or(|l| *l == entry.license_id)
                .then_some(entry))
        },
    )
    .await
}
