//! Where memory's items live in the item store. Every partition key starts with the
//! org (see ARCHITECTURE.md, Tenancy):
//!
//! ```text
//! MEM#<org>              / M#<id>                  the memory; gsi1: MEMT#<org> / <timestamp>#<id>
//! MEMIDX#<org>#*         / <imp>#<age>#<id>         every memory, most important first, then newest
//! MEMIDX#<org>#t:<key>   / <imp>#<age>#<id>         the memories under a tag key (a prefix or a whole tag)
//! MEMEDGE#<org>#<id>     / O#<TYPE>#<other>         an association from this memory (I#… into it)
//! MEMORG#<org>           / STATS                    counters: memories (bounded by the plan), associations
//! MEMORG#<org>           / EXPORT#<id>              an export job
//! MEMORG#<org>           / MCPSESSION#<id>          an MCP session (expires)
//! ```

use crate::model::{MemoryId, Relation, Timestamp};
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{IndexKey, Key};

pub fn memory(org: &OrgId, id: &MemoryId) -> Key {
    Key::new(format!("MEM#{org}"), format!("M#{id}"))
}

pub fn memories_partition(org: &OrgId) -> String {
    format!("MEM#{org}")
}

/// The time index entry (gsi1) of a memory.
pub fn time_index(org: &OrgId, id: &MemoryId, timestamp: &str) -> IndexKey {
    IndexKey::new(time_partition(org), format!("{timestamp}#{id}"))
}

pub fn time_partition(org: &OrgId) -> String {
    format!("MEMT#{org}")
}

/// The importance-ordered index of every memory.
pub fn all_partition(org: &OrgId) -> String {
    format!("MEMIDX#{org}#*")
}

/// The importance-ordered index of one tag key.
pub fn tag_partition(org: &OrgId, tag_key: &str) -> String {
    format!("MEMIDX#{org}#t:{tag_key}")
}

/// Sort key of the importance-ordered indexes: importance descending, then newest
/// first, then id.
pub fn rank_sort_key(importance: f64, timestamp: Option<Timestamp>, id: &MemoryId) -> String {
    let imp = 1000 - (importance.clamp(0.0, 1.0) * 1000.0).round() as i64;
    let age = 99_999_999_999 - timestamp.map_or(0, |t| t.unix()).clamp(0, 99_999_999_999);
    format!("{imp:04}#{age:011}#{id}")
}

pub fn edges_partition(org: &OrgId, id: &MemoryId) -> String {
    format!("MEMEDGE#{org}#{id}")
}

pub fn edge_out(org: &OrgId, from: &MemoryId, rel: Relation, to: &MemoryId) -> Key {
    Key::new(
        edges_partition(org, from),
        format!("O#{}#{to}", rel.as_str()),
    )
}

pub fn edge_in(org: &OrgId, to: &MemoryId, rel: Relation, from: &MemoryId) -> Key {
    Key::new(
        edges_partition(org, to),
        format!("I#{}#{from}", rel.as_str()),
    )
}

/// The org's own items: counters, export jobs, MCP sessions.
pub fn org_partition(org: &OrgId) -> String {
    format!("MEMORG#{org}")
}

pub fn stats(org: &OrgId) -> Key {
    Key::new(org_partition(org), "STATS")
}

pub fn export(org: &OrgId, id: &str) -> Key {
    Key::new(org_partition(org), format!("EXPORT#{id}"))
}

pub fn mcp_session(org: &OrgId, id: &str) -> Key {
    Key::new(org_partition(org), format!("MCPSESSION#{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_keys_sort_by_importance_then_newest() {
        let id = MemoryId::new();
        let t = |s: &str| Some(Timestamp::parse(s).unwrap());
        let high_old = rank_sort_key(0.9, t("2020-01-01"), &id);
        let high_new = rank_sort_key(0.9, t("2024-01-01"), &id);
        let low_new = rank_sort_key(0.2, t("2025-01-01"), &id);
        assert!(high_new < high_old);
        assert!(high_old < low_new);
    }
}
