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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use tokio::sync::broadcast;

/// Events buffered per subscriber before the oldest are dropped.
const BUFFER: usize = 100;

/// The subscribers of one server (one per process in production; each test
/// server has its own). Closing it ends every open stream, so a server that shuts
/// down is not held open by its event streams.
#[derive(Default)]
pub struct Hub {
    orgs: Mutex<HashMap<OrgId, broadcast::Sender<String>>>,
    closed: AtomicBool,
}

impl Hub {
    /// Receive the org's events from now on (each an SSE `data:` payload); a closed
    /// hub's receivers end at once.
    pub fn subscribe(&self, org: &OrgId) -> broadcast::Receiver<String> {
        if self.closed.load(Ordering::Acquire) {
            return broadcast::channel(1).1;
        }
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.entry(org.clone())
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe()
    }

    fn send(&self, org: &OrgId, event: impl FnOnce() -> String) {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(sender) = orgs.get(org) else { return };
        if sender.receiver_count() == 0 {
            orgs.remove(org);
            return;
        }
        let _ = sender.send(event());
    }

    /// End every stream (the server is stopping).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Receive the org's events (see [`Hub::subscribe`]).
pub fn subscribe(services: &Services, org: &OrgId) -> broadcast::Receiver<String> {
    crate::settings(services).events.subscribe(org)
}

/// Send an event to the org's subscribers, if any.
pub fn publish(services: &Services, org: &OrgId, kind: &str, data: Value) {
    crate::settings(services).events.send(org, || {
        json!({
            "type": kind,
            "timestamp": crate::model::Timestamp::from_offset(services.clock.now()).render(),
            "data": data,
        })
        .to_string()
    });
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
