//! Memory's part of an org's data (see `skiff_core::org_data`): in an export, the
//! memories page by page with their outgoing associations and their vectors; in an
//! erasure, every memory with its indexes, edges, vector and keyword entries, then
//! the org's counters, export records, MCP sessions, both index namespaces and the
//! bundles of AutoMem-style exports.

use crate::model::{Memory, MemoryId};
use crate::repo::{self, Direction};
use crate::{embed, keys, memories, namespace};
use async_trait::async_trait;
use serde_json::json;
use skiff_core::ids::OrgId;
use skiff_core::org_data::{
    ExportFile, ExportPage, OrgData, OrgDataError, Purged, json_lines, purge_partition,
};
use skiff_core::ports::store::Query;
use skiff_core::services::Services;

/// Memory's [`OrgData`].
pub struct MemoryData;

/// Memories per export page and per purge step.
const PAGE: usize = 200;

fn other(e: impl std::fmt::Display) -> OrgDataError {
    OrgDataError::Other(e.to_string())
}

#[async_trait]
impl OrgData for MemoryData {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError> {
        let (page_no, position) = match cursor.as_deref() {
            None => (0u64, None),
            Some(c) => {
                let (n, p) = c
                    .split_once(':')
                    .ok_or_else(|| other(format!("malformed export cursor `{c}`")))?;
                let n = n
                    .parse()
                    .map_err(|_| other(format!("malformed export cursor `{c}`")))?;
                (n, Some(p.to_owned()).filter(|p| !p.is_empty()))
            }
        };
        let page = services
            .store
            .query(
                Query::partition(keys::memories_partition(org))
                    .prefix("M#")
                    .limit(PAGE)
                    .after(position),
            )
            .await?;
        let memories: Vec<Memory> = page
            .items
            .iter()
            .map(|i| i.parse::<Memory>())
            .collect::<Result<_, _>>()?;
        let mut files = vec![];
        if !memories.is_empty() {
            let nodes: Vec<_> = memories.iter().map(Memory::to_json).collect();
            let mut edges = vec![];
            for m in &memories {
                for (_, e) in
                    repo::edges(services.store.as_ref(), org, &m.id, Direction::Out, 0).await?
                {
                    edges.push(json!({
                        "source_id": m.id.to_string(), "type": e.relation,
                        "target_id": e.other.to_string(), "strength": e.strength,
                        "updated_at": e.updated_at, "properties": e.props,
                    }));
                }
            }
            let ids: Vec<_> = memories.iter().map(|m| embed::vector_id(&m.id)).collect();
            let vectors: Vec<_> = services
                .vectors
                .get(&namespace(org), &ids)
                .await
                .map_err(other)?
                .into_iter()
                .map(|r| json!({"id": r.id.as_str(), "vector": r.vector}))
                .collect();
            for (name, kind, rows) in [
                ("memories", "memories", nodes),
                ("associations", "associations", edges),
                ("vectors", "memory_vectors", vectors),
            ] {
                if !rows.is_empty() {
                    files.push(ExportFile::Data {
                        path: format!("{name}-{page_no:05}.jsonl"),
                        kind,
                        count: rows.len() as u64,
                        bytes: json_lines(&rows)?,
                    });
                }
            }
        }
        Ok(ExportPage {
            files,
            next: page.next.map(|p| format!("{}:{p}", page_no + 1)),
        })
    }

    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError> {
        let page = services
            .store
            .query(
                Query::partition(keys::memories_partition(org))
                    .prefix("M#")
                    .limit(PAGE),
            )
            .await?;
        let mut removed = 0;
        for item in &page.items {
            let id: MemoryId = item.parse::<Memory>()?.id;
            if memories::delete_one(services, org, &id)
                .await
                .map_err(other)?
            {
                removed += 1;
            }
        }
        if page.next.is_some() || !page.items.is_empty() {
            return Ok(Purged {
                removed,
                done: false,
            });
        }
        // No memory left: the org's own items, its index namespaces, its bundles.
        let step = purge_partition(
            services.store.as_ref(),
            Query::partition(keys::org_partition(org)),
            500,
        )
        .await?;
        removed += step.removed;
        if !step.done {
            return Ok(Purged {
                removed,
                done: false,
            });
        }
        let ns = namespace(org);
        services.vectors.drop_namespace(&ns).await.map_err(other)?;
        services.keywords.drop_namespace(&ns).await.map_err(other)?;
        let bundles = services
            .exports
            .list(&format!("memory/{org}/"), 500)
            .await?;
        let more = bundles.len() == 500;
        for key in bundles {
            services.exports.delete(&key).await?;
            removed += 1;
        }
        Ok(Purged {
            removed,
            done: !more,
        })
    }
}
