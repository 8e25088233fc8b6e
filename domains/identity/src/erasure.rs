//! Erasing an organization: its owner asks (naming the org to confirm), and a
//! resumable outbox job first closes what runs outside Skiff (every registered
//! part's `close`: licenses deactivated, the subscription cancelled at the payment
//! provider), then purges every part's items and blobs, the parts in reverse
//! registration order (identity, registered first, goes last). Members left
//! without any org lose their account; members of other orgs keep it.
//!
//! The erasure's own record (`ERASURE#<org>` / `ERASURE`) sits outside the org's
//! partitions and stays: when it was asked for and finished, and how many items
//! each part removed, with no personal data. While it exists the org's writes are
//! refused ([`ErasureGate`]) and its exports are not started.
//!
//! Each step of the job works a bounded time, records its position, and enqueues
//! the next step under an id derived from it, so a crash or a redelivery resumes
//! where the job stood and repeats no side effect (every part's `close` and
//! `purge` is idempotent).

use crate::ids::{OrgId, UserId};
use crate::{orgs, sessions, users};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_core::org_data::{
    ExportFile, ExportPage, OrgData, OrgDataError, OrgDataParts, Purged, json_lines,
};
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message};
use skiff_core::ports::queue::QueueError;
use skiff_core::ports::store::{Change, Condition, ItemStore, Key, NewItem, Query, StoreError};
use skiff_core::services::{Services, WriteGate, WriteRefusal};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long one step of the job works before handing over to the next step:
/// well inside the outbox function's timeout and its message lease.
pub const STEP_BUDGET: Duration = Duration::from_secs(10);

/// Where an erasure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Asked for; closing the parts comes first.
    Requested,
    Purging,
    Complete,
}

/// The erasure's record (also its audit record: no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub org_id: OrgId,
    pub status: Status,
    pub requested_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    /// Parts purged so far (counted from the last registered one).
    pub parts_done: usize,
    /// Items and blobs each part removed.
    pub removed: BTreeMap<String, u64>,
    pub step: u32,
}

pub fn erasure_key(org: &OrgId) -> Key {
    Key::new(format!("ERASURE#{org}"), "ERASURE")
}

/// Why an erasure was refused.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("organization not found")]
    NotFound,
    /// `confirm` is not the org's name.
    #[error("`confirm` must be the organization's name, exactly")]
    NotConfirmed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The org's erasure, if one was asked for.
pub async fn get(store: &dyn ItemStore, org: &OrgId) -> Result<Option<Erasure>, StoreError> {
    match store.get(&erasure_key(org)).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

/// Whether the org is being (or was) erased.
pub async fn is_erased(store: &dyn ItemStore, org: &OrgId) -> Result<bool, StoreError> {
    Ok(store.get(&erasure_key(org)).await?.is_some())
}

/// The job's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraseStep {
    pub org_id: OrgId,
    pub step: u32,
}

impl Message for EraseStep {
    const KIND: &'static str = "identity_erase_org";
}

async fn enqueue_step(services: &Services, org: &OrgId, step: u32) -> Result<(), QueueError> {
    let message = EraseStep {
        org_id: org.clone(),
        step,
    };
    let mut envelope = outbox::envelope(services, &message)?;
    envelope.id = format!("erase-{org}-{step}");
    let body = serde_json::to_string(&envelope).map_err(|e| QueueError::Invalid(e.to_string()))?;
    services.queue.send(body).await.map(drop)
}

/// Ask for the erasure of `org` (the caller is its owner; `confirm` must be the
/// org's name). Asking again while it runs answers the same erasure.
pub async fn request(
    services: &Services,
    org: &OrgId,
    confirm: &str,
) -> Result<Erasure, EraseError> {
    let store = services.store.as_ref();
    if let Some(existing) = get(store, org).await? {
        return Ok(existing);
    }
    let found = orgs::get(store, org).await?.ok_or(EraseError::NotFound)?;
    if found.name != confirm {
        return Err(EraseError::NotConfirmed);
    }
    let erasure = Erasure {
        org_id: org.clone(),
        status: Status::Requested,
        requested_at: services.clock.unix(),
        completed_at: None,
        parts_done: 0,
        removed: BTreeMap::new(),
        step: 0,
    };
    match store
        .put(
            NewItem::from_record(erasure_key(org), &erasure)?,
            Some(Condition::Absent),
        )
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_condition_failed() => {
            return get(store, org).await?.ok_or(EraseError::NotFound);
        }
        Err(e) => return Err(e.into()),
    }
    enqueue_step(services, org, 0).await?;
    tracing::warn!(%org, "organization erasure requested");
    Ok(erasure)
}

/// Register the job's handler, walking `parts`.
pub fn register(registry: &mut skiff_core::outbox::Registry, parts: OrgDataParts) {
    registry.register(EraseStep::KIND, EraseHandler { parts });
}

struct EraseHandler {
    parts: OrgDataParts,
}

#[async_trait]
impl Handler for EraseHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let step: EraseStep = outbox::payload(envelope)?;
        run_step(services, &self.parts, &step, STEP_BUDGET).await
    }
}

/// Run one step of the erasure job.
pub async fn run_step(
    services: &Services,
    parts: &OrgDataParts,
    step: &EraseStep,
    budget: Duration,
) -> Result<(), HandlerError> {
    let store = services.store.as_ref();
    let key = erasure_key(&step.org_id);
    let Some(item) = store.get(&key).await.map_err(HandlerError::new)? else {
        return Ok(());
    };
    let mut erasure: Erasure = item.parse().map_err(HandlerError::new)?;
    if erasure.status == Status::Complete {
        return Ok(());
    }
    if step.step < erasure.step {
        return enqueue_step(services, &step.org_id, erasure.step)
            .await
            .map_err(HandlerError::new);
    }
    let org = &erasure.org_id.clone();
    if erasure.status == Status::Requested {
        for part in parts.parts() {
            part.close(services, org)
                .await
                .map_err(|e| HandlerError(format!("closing {}: {e}", part.name())))?;
        }
        erasure.status = Status::Purging;
    }
    let started = Instant::now();
    let ordered: Vec<_> = parts.parts().iter().rev().collect();
    while let Some(part) = ordered.get(erasure.parts_done) {
        if started.elapsed() >= budget {
            erasure.step += 1;
            save(store, &key, &erasure, item.version).await?;
            return enqueue_step(services, org, erasure.step)
                .await
                .map_err(HandlerError::new);
        }
        let Purged { removed, done } = part
            .purge(services, org)
            .await
            .map_err(|e| HandlerError(format!("purging {}: {e}", part.name())))?;
        *erasure.removed.entry(part.name().to_owned()).or_default() += removed;
        if done {
            erasure.parts_done += 1;
        }
    }
    erasure.status = Status::Complete;
    erasure.completed_at = Some(services.clock.unix());
    save(store, &key, &erasure, item.version).await?;
    tracing::warn!(%org, removed = ?erasure.removed, "organization erased");
    Ok(())
}

async fn save(
    store: &dyn ItemStore,
    key: &Key,
    erasure: &Erasure,
    version: skiff_core::ports::store::Version,
) -> Result<(), HandlerError> {
    let item = NewItem::from_record(key.clone(), erasure).map_err(HandlerError::new)?;
    store
        .put(item, Some(Condition::VersionIs(version)))
        .await
        .map(drop)
        .map_err(HandlerError::new)
}

/// The write gate of an org being erased: no more writes (they would outlive the
/// purge). The wiring puts it in front of the service profile's gate.
pub struct ErasureGate<G>(pub G);

#[async_trait]
impl<G: WriteGate> WriteGate for ErasureGate<G> {
    async fn check(&self, services: &Services, org_id: &OrgId) -> Result<(), WriteRefusal> {
        if is_erased(services.store.as_ref(), org_id).await? {
            return Err(WriteRefusal::Gone);
        }
        self.0.check(services, org_id).await
    }
}

/// Identity's part of an org's data.
pub struct IdentityData;

/// Items one purge step removes.
const PURGE_BATCH: usize = 200;

fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}

#[async_trait]
impl OrgData for IdentityData {
    fn name(&self) -> &'static str {
        "identity"
    }

    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError> {
        let store = services.store.as_ref();
        match cursor.as_deref() {
            None => {
                let org_item = store
                    .get(&orgs::org_key(org))
                    .await?
                    .map(|i| i.attrs)
                    .unwrap_or_default();
                Ok(ExportPage {
                    files: vec![ExportFile::Data {
                        path: "org.json".into(),
                        kind: "org",
                        count: 1,
                        bytes: serde_json::to_vec_pretty(&org_item)
                            .map_err(|e| OrgDataError::Other(e.to_string()))?
                            .into(),
                    }],
                    next: Some("members:".into()),
                })
            }
            Some(c) if c.starts_with("members:") => {
                let position = c
                    .strip_prefix("members:")
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned);
                let (members, next) = orgs::members_page(store, org, 200, position).await?;
                let mut rows = vec![];
                for m in members {
                    let user = users::get(store, &m.user_id).await?;
                    let mut row = Map::new();
                    row.insert("user_id".into(), m.user_id.to_string().into());
                    row.insert("role".into(), m.role.as_str().into());
                    row.insert("joined_at".into(), m.joined_at.into());
                    if let Some(u) = user {
                        // Never the password hash.
                        row.insert("email".into(), u.email.to_string().into());
                        row.insert("full_name".into(), u.full_name.into());
                        row.insert("email_verified".into(), u.email_verified.into());
                        row.insert("created_at".into(), u.created_at.into());
                    }
                    rows.push(Value::Object(row));
                }
                let first = rows
                    .first()
                    .and_then(|r| r.get("user_id"))
                    .and_then(Value::as_str)
                    .unwrap_or("none")
                    .to_owned();
                Ok(ExportPage {
                    files: if rows.is_empty() {
                        vec![]
                    } else {
                        vec![ExportFile::Data {
                            path: format!("members-{first}.jsonl"),
                            kind: "members",
                            count: rows.len() as u64,
                            bytes: json_lines(&rows)?,
                        }]
                    },
                    next: Some(match next {
                        Some(n) => format!("members:{n}"),
                        None => "rest:".into(),
                    }),
                })
            }
            Some(c) => {
                let listings = [
                    skiff_core::org_data::Listing {
                        path: "api_keys".into(),
                        kind: "api_keys",
                        pk: org_pk(org),
                        prefix: Some("APIKEY#".into()),
                        omit: &["secret_hash"],
                    },
                    skiff_core::org_data::Listing {
                        path: "invitations".into(),
                        kind: "invitations",
                        pk: org_pk(org),
                        prefix: Some("INVITE#".into()),
                        omit: &["token_hash"],
                    },
                ];
                let inner = c
                    .strip_prefix("rest:")
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned);
                let page = skiff_core::org_data::export_listings(store, &listings, inner).await?;
                Ok(ExportPage {
                    files: page.files,
                    next: page.next.map(|n| format!("rest:{n}")),
                })
            }
        }
    }

    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError> {
        let store = services.store.as_ref();
        let mut removed = 0u64;
        // Members: the membership, and the account if no other org holds it.
        let (members, _) = orgs::members_page(store, org, PURGE_BATCH, None).await?;
        for m in &members {
            removed += leave_or_delete(store, org, &m.user_id).await?;
            if store
                .delete(&orgs::member_key(org, &m.user_id), None)
                .await?
                .is_some()
            {
                removed += 1;
            }
        }
        if members.len() >= PURGE_BATCH {
            return Ok(Purged {
                removed,
                done: false,
            });
        }
        // API keys (their lookup items too) and invitations (their tokens too).
        let page = store
            .query(Query::partition(org_pk(org)).limit(PURGE_BATCH))
            .await?;
        for item in &page.items {
            if item.key.sk.starts_with("APIKEY#")
                && let Some(lookup) = item
                    .get_str("prefix")
                    .and_then(|p| p.strip_prefix(crate::api_keys::KEY_PREFIX))
            {
                store
                    .delete(&Key::new(format!("APIKEY#{lookup}"), "APIKEY"), None)
                    .await?;
            }
            if item.key.sk.starts_with("INVITE#")
                && let Some(hash) = item.get_str("token_hash")
            {
                store
                    .delete(&Key::new(format!("TOKEN#{hash}"), "TOKEN"), None)
                    .await?;
            }
            // The org's own item goes last: while it exists the org is still named.
            if item.key.sk != "META" {
                store.delete(&item.key, None).await?;
                removed += 1;
            }
        }
        if page.next.is_some() || page.items.iter().any(|i| i.key.sk != "META") {
            return Ok(Purged {
                removed,
                done: false,
            });
        }
        if store.delete(&orgs::org_key(org), None).await?.is_some() {
            removed += 1;
        }
        Ok(Purged {
            removed,
            done: true,
        })
    }
}

/// A member of an erased org: their sessions in it end; if they belong to no
/// other org, their account goes (profile, e-mail, every session); otherwise
/// their default org moves to one they still have.
async fn leave_or_delete(
    store: &dyn ItemStore,
    org: &OrgId,
    user: &UserId,
) -> Result<u64, StoreError> {
    let others: Vec<_> = orgs::orgs_of(store, user)
        .await?
        .into_iter()
        .filter(|m| &m.org_id != org)
        .collect();
    let mut removed = 0;
    let page = store
        .query(
            Query::gsi1(format!("USER#{user}"))
                .prefix("SESSION#")
                .limit(1000),
        )
        .await?;
    for item in &page.items {
        let session_org = item.get_str("org_id");
        if others.is_empty() || session_org == Some(org.as_str()) {
            store
                .delete(&sessions::session_key(&SessionIdOf(item).id()?), None)
                .await?;
            removed += 1;
        }
    }
    let Some(profile) = users::get(store, user).await? else {
        return Ok(removed);
    };
    if others.is_empty() {
        store
            .delete(&users::email_key(&profile.email), None)
            .await?;
        store.delete(&users::user_key(user), None).await?;
        removed += 2;
    } else if &profile.default_org == org {
        users::update(
            store,
            user,
            vec![Change::set("default_org", others[0].org_id.as_str())],
        )
        .await?;
    }
    Ok(removed)
}

/// The session id of a session item.
struct SessionIdOf<'a>(&'a skiff_core::ports::store::Item);

impl SessionIdOf<'_> {
    fn id(&self) -> Result<crate::ids::SessionId, StoreError> {
        self.0
            .get_str("id")
            .and_then(|s| crate::ids::SessionId::parse(s).ok())
            .ok_or_else(|| StoreError::Fatal("a session item without its id".into()))
    }
}
