//! The dashboard counters (`GET /api/v1/stats`) and the org-wide scan they and
//! the export share.

use crate::model::Memory;
use crate::{MemoryResult, keys, repo};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::ports::store::Query;
use std::collections::HashMap;

/// Most memories one stats call reads; past it the answer says `approximate`.
pub const SCAN_LIMIT: usize = 50_000;

/// Visit the org's memories page by page (at most `max`); returns how many were seen
/// and whether more remained.
pub async fn scan(
    services: &Services,
    org: &OrgId,
    max: usize,
    mut visit: impl FnMut(&Memory),
) -> MemoryResult<(usize, bool)> {
    let mut cursor = None;
    let mut seen = 0;
    loop {
        let page = services
            .store
            .query(
                Query::partition(keys::memories_partition(org))
                    .prefix("M#")
                    .limit(500)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            visit(&item.parse::<Memory>()?);
            seen += 1;
        }
        cursor = page.next;
        if cursor.is_none() {
            return Ok((seen, false));
        }
        if seen >= max {
            return Ok((seen, true));
        }
    }
}

/// `GET /api/v1/stats` (AutoMem's shape).
pub async fn stats(services: &Services, org: &OrgId) -> MemoryResult<Value> {
    let (memories, associations) = repo::counters(services.store.as_ref(), org).await?;
    let mut types: HashMap<String, u64> = HashMap::new();
    let mut tags: HashMap<String, u64> = HashMap::new();
    let mut last: Option<String> = None;
    let (_, more) = scan(services, org, SCAN_LIMIT, |m| {
        *types.entry(m.kind.clone()).or_default() += 1;
        for t in &m.tags {
            *tags.entry(t.to_lowercase()).or_default() += 1;
        }
        let latest = [&m.updated_at, &m.last_accessed, &m.timestamp]
            .into_iter()
            .max()
            .cloned();
        if latest > last {
            last = latest;
        }
    })
    .await?;
    let mut top: Vec<(String, u64)> = tags.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(10);
    let density = if memories > 0 {
        ((associations as f64 / memories as f64) * 10_000.0).round() / 10_000.0
    } else {
        0.0
    };
    let mut body = json!({
        "status": "success",
        "memories_stored": memories,
        "associations": associations,
        "memory_types": types,
        "top_tags": top.iter().map(|(t, c)| json!({"tag": t, "count": c})).collect::<Vec<_>>(),
        "last_activity": last,
        "graph_density": density,
    });
    if more {
        body["approximate"] = true.into();
    }
    Ok(body)
}
