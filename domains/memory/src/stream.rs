//! Live events for `GET /stream` (AutoMem's observability feed): `memory.store`
//! and `memory.recall`, per org, to the subscribers in this process.
//!
//! Events are not stored: a subscriber sees what happens while it is connected to
//! the process that serves the change. On the local server that is everything; on
//! Lambda each container has its own subscribers, so the feed is best effort there
//! (see the README's Agent memory section). A slow subscriber loses events rather
//! than slowing a store.

use crate::model::Memory;
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use tokio::sync::broadcast;

/// Events buffered per subscriber before the oldest are dropped.
const BUFFER: usize = 100;

fn hub() -> &'static Mutex<HashMap<OrgId, broadcast::Sender<String>>> {
    static HUB: OnceLock<Mutex<HashMap<OrgId, broadcast::Sender<String>>>> = OnceLock::new();
    HUB.get_or_init(Default::default)
}

/// Receive the org's events from now on (each an SSE `data:` payload).
pub fn subscribe(org: &OrgId) -> broadcast::Receiver<String> {
    let mut hub = hub().lock().unwrap_or_else(PoisonError::into_inner);
    hub.entry(org.clone())
        .or_insert_with(|| broadcast::channel(BUFFER).0)
        .subscribe()
}

/// Send an event to the org's subscribers, if any.
pub fn publish(services: &Services, org: &OrgId, kind: &str, data: Value) {
    let mut hub = hub().lock().unwrap_or_else(PoisonError::into_inner);
    let Some(sender) = hub.get(org) else { return };
    if sender.receiver_count() == 0 {
        hub.remove(org);
        return;
    }
    let event = json!({
        "type": kind,
        "timestamp": crate::model::Timestamp::from_offset(services.clock.now()).render(),
        "data": data,
    });
    let _ = sender.send(event.to_string());
}

/// AutoMem's `memory.store` event.
pub fn publish_store(services: &Services, org: &OrgId, m: &Memory, elapsed_ms: f64) {
    let preview = if m.content.chars().count() > 100 {
        format!("{}...", m.content.chars().take(100).collect::<String>())
    } else {
        m.content.clone()
    };
    publish(
        services,
        org,
        "memory.store",
        json!({
            "id": m.id.to_string(),
            "content_preview": preview,
            "type": m.kind,
            "importance": m.importance,
            "tags": m.tags.iter().take(5).collect::<Vec<_>>(),
            "size_bytes": m.content.len(),
            "elapsed_ms": elapsed_ms as i64,
        }),
    );
}
