//! Scripts' data: key-value collections ([`kv`]), JSON documents ([`docs`]) and
//! files ([`files`]) of one app, and its topics ([`pubsub`]). Every function takes
//! a [`Scope`] built from the running script's context: the org and app come from
//! there, never from an argument, and each lives in partitions of its own app
//! (`{org}#APP#{app}#KV|DOCS|FILES`, sort keys `<collection>#<key>`), so nothing a
//! script passes can reach another app's data.
//!
//! A change and the trigger messages it fires are one store transaction; the
//! messages are then sent at once (or by the sweeper after a crash).

pub mod docs;
pub mod files;
pub mod filter;
pub mod kv;
pub mod pubsub;

use crate::error::{ScriptsError, ScriptsResult};
use crate::triggers::{self, Op, TriggerKind};
use serde_json::Value;
use skiff_core::Services;
use skiff_core::ids::{AppId, OrgId};
use skiff_core::outbox;
use skiff_core::ports::store::{StoreError, Write};

/// Events larger than this carry no `data` / `prev_data` (a queue message holds
/// 256 KiB), and say so with `truncated: true`.
const MAX_EVENT_BYTES: usize = 200 * 1024;

/// A collection name: 1 to 64 of `A-Z a-z 0-9 _ - .`.
pub fn check_collection(name: &str) -> ScriptsResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(ScriptsError::invalid(
            "collection",
            "INVALID_COLLECTION",
            format!("`{name}` is not a collection name (1 to 64 of A-Z a-z 0-9 _ - .)"),
        ))
    }
}

/// Where a running script's data calls act, and what their changes fire.
#[derive(Clone)]
pub struct Scope {
    pub services: Services,
    pub org: OrgId,
    pub app: AppId,
    /// The run's trigger depth: its changes fire at depth + 1.
    pub depth: u32,
    /// Unique per change in the run: trigger message ids derive from it.
    pub change_id: String,
}

impl Scope {
    pub(crate) fn pk(&self, kind: &str) -> String {
        format!("{}#{kind}", crate::keys::app_pk(&self.org, &self.app))
    }

    /// Commit `writes` with the messages of the triggers this change fires, then
    /// send them. The store's error is returned as is (conditions index `writes`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn commit(
        &self,
        kind: TriggerKind,
        collection: &str,
        key_field: &str,
        key: &str,
        op: Op,
        data: Option<Value>,
        prev: Option<Value>,
        mut writes: Vec<Write>,
    ) -> Result<(), CommitError> {
        let store = self.services.store.as_ref();
        let fired = triggers::matching(store, &self.org, &self.app, kind, collection, op).await?;
        let mut event = triggers::change_event(kind, collection, key_field, key, op, data, prev);
        if serde_json::to_vec(&event).map(|v| v.len()).unwrap_or(0) > MAX_EVENT_BYTES {
            event["data"] = Value::Null;
            event["prev_data"] = Value::Null;
            event["truncated"] = Value::Bool(true);
        }
        let staged = triggers::stage(
            &self.services,
            &fired,
            self.depth + 1,
            &self.change_id,
            &event,
            None,
        )?;
        writes.extend(triggers::writes(&staged)?);
        store.transact(writes).await?;
        outbox::relay(&self.services, &staged).await;
        Ok(())
    }
}

/// Why a commit failed: the store's answer (a condition names its write) or the
/// domain's.
#[derive(Debug)]
pub(crate) enum CommitError {
    Store(StoreError),
    Scripts(ScriptsError),
}

impl From<StoreError> for CommitError {
    fn from(e: StoreError) -> Self {
        CommitError::Store(e)
    }
}

impl From<ScriptsError> for CommitError {
    fn from(e: ScriptsError) -> Self {
        CommitError::Scripts(e)
    }
}

impl From<CommitError> for ScriptsError {
    fn from(e: CommitError) -> Self {
        match e {
            CommitError::Store(s) => s.into(),
            CommitError::Scripts(s) => s,
        }
    }
}

/// How many optimistic retries a read-then-write makes before giving up.
pub(crate) const RETRIES: usize = 8;

/// The sort key of `key` in `collection`.
pub(crate) fn sk(collection: &str, key: &str) -> String {
    format!("{collection}#{key}")
}
