//! Memory's items in the item store (layout in [`crate::keys`]): a memory with its
//! index entries written in one transaction, reads, index pages, and the edges of
//! the association graph.

use crate::keys;
use crate::model::{Memory, MemoryId, Relation, index_tags, parse_time};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{
    Condition, ItemStore, Key, MAX_BATCH_GET, NewItem, Query, StoreError, Version, Write,
};

/// The entry of a memory in an importance-ordered index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankEntry {
    pub id: MemoryId,
    /// Under a tag key: the key is one of the memory's tag prefixes.
    #[serde(default)]
    pub pfx: bool,
    /// Under a tag key: the key is one of the memory's tags (lowercased).
    #[serde(default)]
    pub exact: bool,
}

/// The index entries a memory has: the all-memories index and one per tag key.
fn index_items(org: &OrgId, m: &Memory) -> Result<Vec<NewItem>, StoreError> {
    let sk = keys::rank_sort_key(m.importance, m.time(), &m.id);
    let mut items = vec![NewItem::from_record(
        Key::new(keys::all_partition(org), sk.clone()),
        &RankEntry {
            id: m.id,
            pfx: false,
            exact: false,
        },
    )?];
    for (tag_key, pfx, exact) in index_tags(&m.tags) {
        items.push(NewItem::from_record(
            Key::new(keys::tag_partition(org, &tag_key), sk.clone()),
            &RankEntry {
                id: m.id,
                pfx,
                exact,
            },
        )?);
    }
    Ok(items)
}

fn memory_item(org: &OrgId, m: &Memory) -> Result<NewItem, StoreError> {
    Ok(
        NewItem::from_record(keys::memory(org, &m.id), m)?.index(keys::time_index(
            org,
            &m.id,
            &m.timestamp,
        )),
    )
}

/// A memory and the version it was read at.
pub async fn get(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &MemoryId,
) -> Result<Option<(Memory, Version)>, StoreError> {
    match store.get(&keys::memory(org, id)).await? {
        Some(item) => {
            let version = item.version;
            Ok(Some((item.into_record()?, version)))
        }
        None => Ok(None),
    }
}

/// The memories among `ids` that exist, in the order asked (one batch read per
/// [`MAX_BATCH_GET`] ids).
pub async fn get_many(
    store: &dyn ItemStore,
    org: &OrgId,
    ids: &[MemoryId],
) -> Result<Vec<Memory>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BATCH_GET) {
        let keys: Vec<Key> = chunk.iter().map(|id| keys::memory(org, id)).collect();
        // Recall reads a few hundred at a time: each is parsed once, straight
        // into its record.
        for item in store.get_many_text(&keys).await?.into_iter().flatten() {
            out.push(item.into_record()?);
        }
    }
    Ok(out)
}

/// Write a new memory and its index entries, all or nothing; `ConditionFailed`
/// when a memory with its id exists.
pub async fn insert(store: &dyn ItemStore, org: &OrgId, m: &Memory) -> Result<(), StoreError> {
    let mut writes = vec![Write::Put {
        item: memory_item(org, m)?,
        condition: Some(Condition::Absent),
    }];
    writes.extend(index_items(org, m)?.into_iter().map(|item| Write::Put {
        item,
        condition: None,
    }));
    store.transact(writes).await
}

/// Replace a memory read at `version` (`ConditionFailed` if it changed since), moving
/// its index entries with it.
pub async fn replace(
    store: &dyn ItemStore,
    org: &OrgId,
    old: &Memory,
    version: Version,
    new: &Memory,
) -> Result<(), StoreError> {
    let mut writes = vec![Write::Put {
        item: memory_item(org, new)?,
        condition: Some(Condition::VersionIs(version)),
    }];
    let new_items = index_items(org, new)?;
    for item in index_items(org, old)? {
        if !new_items.iter().any(|n| n.key() == item.key()) {
            writes.push(Write::Delete {
                key: item.key().clone(),
                condition: None,
            });
        }
    }
    writes.extend(new_items.into_iter().map(|item| Write::Put {
        item,
        condition: None,
    }));
    store.transact(writes).await
}

/// Delete a memory read at `version` and its index entries (its edges go
/// separately, [`remove_edges`]).
pub async fn remove(
    store: &dyn ItemStore,
    org: &OrgId,
    m: &Memory,
    version: Version,
) -> Result<(), StoreError> {
    let mut writes = vec![Write::Delete {
        key: keys::memory(org, &m.id),
        condition: Some(Condition::VersionIs(version)),
    }];
    writes.extend(index_items(org, m)?.into_iter().map(|item| Write::Delete {
        key: item.key().clone(),
        condition: None,
    }));
    store.transact(writes).await
}

/// Set one memory's `last_accessed` (a plain update: it races nothing that matters).
pub async fn touch(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &MemoryId,
    at: &str,
) -> Result<(), StoreError> {
    use skiff_core::ports::store::Change;
    store
        .update(
            &keys::memory(org, id),
            vec![Change::set("last_accessed", at)],
            Some(Condition::Exists),
        )
        .await
        .map(drop)
}

/// One page of an importance-ordered index: entries and the store's cursor.
pub async fn rank_page(
    store: &dyn ItemStore,
    partition: String,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<RankEntry>, Option<String>), StoreError> {
    let page = store
        .query(Query::partition(partition).limit(limit).after(cursor))
        .await?;
    let entries = page
        .items
        .iter()
        .map(|i| i.parse::<RankEntry>())
        .collect::<Result<_, _>>()?;
    Ok((entries, page.next))
}

/// An association as stored on either end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Edge {
    #[serde(rename = "type")]
    pub relation: String,
    /// The memory at the other end.
    pub other: MemoryId,
    pub strength: f64,
    pub updated_at: String,
    #[serde(default)]
    pub props: Map<String, Value>,
}

impl Edge {
    pub fn relation(&self) -> Option<Relation> {
        Relation::parse(&self.relation)
    }
}

/// Which ends of a memory's edges to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
    Both,
}

/// Create or update `from -[rel]-> to`. `Ok(None)` when either memory is missing;
/// `Ok(Some(true))` when the edge is new.
#[allow(clippy::too_many_arguments)]
pub async fn associate(
    store: &dyn ItemStore,
    org: &OrgId,
    from: &MemoryId,
    to: &MemoryId,
    rel: Relation,
    strength: f64,
    props: Map<String, Value>,
    now: &str,
) -> Result<Option<bool>, StoreError> {
    let edge = |other: &MemoryId| Edge {
        relation: rel.as_str().to_owned(),
        other: *other,
        strength,
        updated_at: now.to_owned(),
        props: props.clone(),
    };
    for fresh in [true, false] {
        let writes = vec![
            Write::Check {
                key: keys::memory(org, from),
                condition: Condition::Exists,
            },
            Write::Check {
                key: keys::memory(org, to),
                condition: Condition::Exists,
            },
            Write::Put {
                item: NewItem::from_record(keys::edge_out(org, from, rel, to), &edge(to))?,
                condition: fresh.then_some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::from_record(keys::edge_in(org, to, rel, from), &edge(from))?,
                condition: None,
            },
        ];
        match store.transact(writes).await {
            Ok(()) => {
                if fresh {
                    store
                        .add(&keys::stats(org), "associations", 1, None, None)
                        .await?;
                }
                return Ok(Some(fresh));
            }
            Err(StoreError::ConditionFailed { index: Some(0 | 1) }) => return Ok(None),
            Err(StoreError::ConditionFailed { index: Some(2) }) if fresh => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the association kept changing under this write".into(),
    ))
}

/// Edges read per page.
const EDGES_PAGE: usize = 500;

/// A memory's edges, most recently updated first, at most `limit` (0 = all).
pub async fn edges(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &MemoryId,
    direction: Direction,
    limit: usize,
) -> Result<Vec<(Direction, Edge)>, StoreError> {
    let prefixes: &[(&str, Direction)] = match direction {
        Direction::Out => &[("O#", Direction::Out)],
        Direction::In => &[("I#", Direction::In)],
        Direction::Both => &[("O#", Direction::Out), ("I#", Direction::In)],
    };
    let mut out = vec![];
    for (prefix, dir) in prefixes {
        let mut cursor = None;
        loop {
            let page = store
                .query(edges_query(org, id, prefix).after(cursor))
                .await?;
            for item in &page.items {
                out.push((*dir, item.parse::<Edge>()?));
            }
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
    }
    newest_first(&mut out);
    if limit > 0 {
        out.truncate(limit);
    }
    Ok(out)
}

/// The order edges are answered in: most recently updated first.
fn newest_first(edges: &mut [(Direction, Edge)]) {
    edges.sort_by(|a, b| b.1.updated_at.cmp(&a.1.updated_at));
}

fn edges_query(org: &OrgId, id: &MemoryId, prefix: &str) -> Query {
    Query::partition(keys::edges_partition(org, id))
        .prefix(prefix)
        .limit(EDGES_PAGE)
}

/// The outgoing edges of each of `ids`, in their order, most recently updated
/// first: what [`edges`] answers for each, read together.
pub async fn out_edges_of_many(
    store: &dyn ItemStore,
    org: &OrgId,
    ids: &[MemoryId],
) -> Result<Vec<Vec<(Direction, Edge)>>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BATCH_GET) {
        let queries = chunk.iter().map(|id| edges_query(org, id, "O#")).collect();
        for (id, page) in chunk.iter().zip(store.query_many(queries).await?) {
            // More than a page of edges (rare): read them all.
            if page.next.is_some() {
                out.push(edges(store, org, id, Direction::Out, 0).await?);
                continue;
            }
            let mut edges = page
                .items
                .iter()
                .map(|item| Ok((Direction::Out, item.parse::<Edge>()?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            newest_first(&mut edges);
            out.push(edges);
        }
    }
    Ok(out)
}

/// Delete every edge touching a memory (both halves of each); returns how many.
pub async fn remove_edges(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &MemoryId,
) -> Result<u64, StoreError> {
    let all = edges(store, org, id, Direction::Both, 0).await?;
    let mut removed = 0;
    for (dir, edge) in all {
        let Some(rel) = edge.relation() else { continue };
        let (here, there) = match dir {
            Direction::Out => (
                keys::edge_out(org, id, rel, &edge.other),
                keys::edge_in(org, &edge.other, rel, id),
            ),
            _ => (
                keys::edge_in(org, id, rel, &edge.other),
                keys::edge_out(org, &edge.other, rel, id),
            ),
        };
        if store.delete(&here, None).await?.is_some() {
            removed += 1;
        }
        store.delete(&there, None).await?;
    }
    if removed > 0 {
        store
            .add(
                &keys::stats(org),
                "associations",
                -(removed as i64),
                None,
                None,
            )
            .await?;
    }
    Ok(removed)
}

/// The org's counters: memories stored, associations.
pub async fn counters(store: &dyn ItemStore, org: &OrgId) -> Result<(i64, i64), StoreError> {
    let item = store.get(&keys::stats(org)).await?;
    let get = |n: &str| item.as_ref().and_then(|i| i.get_i64(n)).unwrap_or(0).max(0);
    Ok((get("memories"), get("associations")))
}

/// Whether a timestamp string lies in `[start, end]` (either side optional).
pub fn within(timestamp: &str, start: Option<&str>, end: Option<&str>) -> bool {
    let Some(t) = parse_time(Some(timestamp)) else {
        return false;
    };
    parse_time(start).is_none_or(|s| t >= s) && parse_time(end).is_none_or(|e| t <= e)
}
