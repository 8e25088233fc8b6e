//! Identity's audit entries (`skiff_core::audit`): sign-ups, memberships, API keys,
//! passwords. Written after the change committed; a failed write is logged.

use crate::ids::{OrgId, UserId};
use serde_json::Value;
use skiff_core::audit::{self, Entry};
use skiff_core::clock::Clock;
use skiff_core::ports::store::ItemStore;

/// Record `action` by `actor` (a user, or `system` when none) about `target`.
pub async fn record(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    actor: Option<&UserId>,
    action: &str,
    org: Option<&OrgId>,
    target: &str,
    detail: Value,
) {
    let actor = actor.map_or_else(|| "system".to_owned(), |u| format!("user:{u}"));
    let mut entry = Entry::new(clock, "identity", actor, action)
        .target(target)
        .detail(detail);
    if let Some(org) = org {
        entry = entry.org(org);
    }
    audit::record_logged(store, &entry).await;
}
