//! The association graph: typed, weighted edges between an org's memories
//! (AutoMem's `/associate` and `/memories/{id}/related`), and the graph reads
//! recall makes (a result's relations, the head of a superseding chain).

use crate::model::{Memory, MemoryId, Relation, Timestamp, unit_number};
use crate::repo::{self, Direction, Edge};
use crate::{MemoryError, MemoryResult};
use serde_json::{Map, Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use std::collections::{HashMap, HashSet, VecDeque};

/// Most associations one batch creates.
pub const MAX_BATCH: usize = 500;
/// Most hops a superseding chain is followed.
pub const MAX_CHAIN: usize = 5;

/// One association to create.
#[derive(Debug, Clone)]
pub struct NewAssociation {
    pub from: MemoryId,
    pub to: MemoryId,
    pub relation: Relation,
    pub strength: f64,
    pub props: Map<String, Value>,
}

/// Parse an association item AutoMem's way; the error is AutoMem's reason.
pub fn parse_association(item: &Value) -> Result<NewAssociation, String> {
    let Some(obj) = item.as_object() else {
        return Err("Association item must be an object".into());
    };
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let (m1, m2) = (text("memory1_id"), text("memory2_id"));
    if m1.is_empty() || m2.is_empty() {
        return Err("'memory1_id' and 'memory2_id' are required".into());
    }
    let from = MemoryId::parse_field(&m1, "'memory1_id' must be a valid UUID")
        .map_err(|e| e.to_string())?;
    let to = MemoryId::parse_field(&m2, "'memory2_id' must be a valid UUID")
        .map_err(|e| e.to_string())?;
    if from == to {
        return Err("Cannot associate a memory with itself".into());
    }
    let raw_type = match obj.get("type") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => "RELATES_TO".into(),
    };
    let relation = Relation::parse(&raw_type)
        .filter(Relation::authorable)
        .ok_or_else(Relation::not_authorable_message)?;
    let strength = unit_number(obj.get("strength"), "strength", 0.5).map_err(|e| e.to_string())?;
    let mut props = Map::new();
    for p in relation.properties() {
        if let Some(v) = obj.get(*p)
            && *p != "strength"
            && *p != "updated_at"
        {
            props.insert((*p).to_owned(), v.clone());
        }
    }
    Ok(NewAssociation {
        from,
        to,
        relation,
        strength,
        props,
    })
}

/// Create one association; `Ok(false)` when a memory is missing.
pub async fn create(services: &Services, org: &OrgId, a: &NewAssociation) -> MemoryResult<bool> {
    let now = Timestamp::from_offset(services.clock.now()).render();
    Ok(repo::associate(
        services.store.as_ref(),
        org,
        &a.from,
        &a.to,
        a.relation,
        a.strength,
        a.props.clone(),
        &now,
    )
    .await?
    .is_some())
}

/// `POST /associate`: one pair (201) or `associations: [...]` (201, or 207 when some
/// fail). Returns the status and AutoMem's body.
pub async fn associate(
    services: &Services,
    org: &OrgId,
    payload: &Value,
) -> MemoryResult<(u16, Value)> {
    let Some(body) = payload.as_object() else {
        return Err(MemoryError::invalid("JSON body is required"));
    };
    if let Some(items) = body.get("associations").and_then(Value::as_array) {
        return associate_batch(services, org, items).await;
    }
    let a = parse_association(payload).map_err(MemoryError::Invalid)?;
    if !create(services, org, &a).await? {
        return Err(MemoryError::NotFound(
            "One or both memories do not exist".into(),
        ));
    }
    let mut out = json!({
        "status": "success",
        "message": format!("Association created between {} and {}", a.from, a.to),
        "relation_type": a.relation.as_str(),
        "strength": a.strength,
    });
    for (k, v) in &a.props {
        out[k] = v.clone();
    }
    Ok((201, out))
}

async fn associate_batch(
    services: &Services,
    org: &OrgId,
    items: &[Value],
) -> MemoryResult<(u16, Value)> {
    if items.is_empty() {
        return Err(MemoryError::invalid(
            "'associations' must be a non-empty array",
        ));
    }
    if items.len() > MAX_BATCH {
        return Err(MemoryError::invalid(format!(
            "Batch size limit is {MAX_BATCH} associations per request"
        )));
    }
    let mut succeeded = vec![];
    let mut failed = vec![];
    for (index, item) in items.iter().enumerate() {
        match parse_association(item) {
            Err(reason) => failed.push(json!({"index": index, "reason": reason})),
            Ok(a) => {
                if create(services, org, &a).await? {
                    succeeded.push(json!({
                        "index": index,
                        "memory1_id": a.from.to_string(),
                        "memory2_id": a.to.to_string(),
                        "relation_type": a.relation.as_str(),
                        "strength": a.strength,
                    }));
                } else {
                    failed.push(
                        json!({"index": index, "reason": "One or both memories do not exist"}),
                    );
                }
            }
        }
    }
    let all_ok = failed.is_empty();
    let body = json!({
        "status": if all_ok { "success" } else { "partial_success" },
        "created_count": succeeded.len(),
        "failed_count": failed.len(),
        "succeeded": succeeded,
        "failed": failed,
        "summary": format!("{}/{} associations created successfully", succeeded.len(), items.len()),
    });
    Ok((if all_ok { 201 } else { 207 }, body))
}

/// The relations recall lists for a memory — type, strength and the other
/// memory's summary — from its outgoing edges already read (most recently updated
/// first), at most `limit`.
pub async fn relations_among(
    services: &Services,
    org: &OrgId,
    edges: &[(Direction, Edge)],
    limit: usize,
) -> MemoryResult<Vec<Value>> {
    let edges = &edges[..edges.len().min(limit)];
    let ids: Vec<MemoryId> = edges.iter().map(|(_, e)| e.other).collect();
    let others: HashMap<MemoryId, Memory> = repo::get_many(services.store.as_ref(), org, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    Ok(edges
        .iter()
        .filter_map(|(_, e)| {
            let other = others.get(&e.other)?;
            let mut v = json!({
                "type": e.relation,
                "strength": e.strength,
                "memory": other.summary(),
            });
            if let Some(kind) = e.props.get("kind") {
                v["kind"] = kind.clone();
            }
            Some(v)
        })
        .collect())
}

/// The relation types of a `related` request: the named ones AutoMem knows, else
/// the eleven it follows by default; sorted like AutoMem's answer.
pub fn relation_types(raw: Option<&str>) -> Vec<Relation> {
    let mut named: Vec<Relation> = vec![];
    for part in raw.unwrap_or_default().split(',') {
        if let Some(r) = Relation::parse(part)
            && !named.contains(&r)
        {
            named.push(r);
        }
    }
    if named.is_empty() {
        let mut v: Vec<Relation> = Relation::ALL
            .into_iter()
            .filter(Relation::default_expand)
            .collect();
        v.sort_by_key(|r| r.as_str());
        v
    } else {
        named
    }
}

/// `GET /memories/{id}/related`: memories within `max_depth` hops (either
/// direction) over the given types, most important first, then newest.
pub async fn related(
    services: &Services,
    org: &OrgId,
    id: &str,
    types: Vec<Relation>,
    max_depth: usize,
    limit: usize,
) -> MemoryResult<Value> {
    let id = MemoryId::parse(id)?;
    let store = services.store.as_ref();
    if repo::get(store, org, &id).await?.is_none() {
        return Err(MemoryError::not_found());
    }
    let allowed: HashSet<&str> = types.iter().map(Relation::as_str).collect();
    let mut seen: HashSet<MemoryId> = HashSet::from([id]);
    let mut found: Vec<MemoryId> = vec![];
    let mut frontier = VecDeque::from([(id, 0usize)]);
    // Breadth-first; bounded by the depth and by a generous cap on visited nodes.
    while let Some((node, depth)) = frontier.pop_front() {
        if depth >= max_depth || seen.len() > 2_000 {
            continue;
        }
        for (_, edge) in repo::edges(store, org, &node, Direction::Both, 0).await? {
            if !allowed.contains(edge.relation.as_str()) || !seen.insert(edge.other) {
                continue;
            }
            found.push(edge.other);
            frontier.push_back((edge.other, depth + 1));
        }
    }
    let mut memories = repo::get_many(store, org, &found).await?;
    memories.sort_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then_with(|| b.timestamp.cmp(&a.timestamp))
    });
    memories.truncate(limit);
    Ok(json!({
        "status": "success",
        "memory_id": id.to_string(),
        "count": memories.len(),
        "related_memories": memories.iter().map(Memory::summary).collect::<Vec<_>>(),
        "relationship_types": types.iter().map(Relation::as_str).collect::<Vec<_>>(),
        "max_depth": max_depth,
        "limit": limit,
    }))
}

/// The current head of the superseding chain leaving `id` (over INVALIDATED_BY and
/// EVOLVED_INTO, at most [`MAX_CHAIN`] hops, cycle-safe), with the first edge's
/// type and strength; `None` when nothing current supersedes it. `edges`: all of
/// `id`'s outgoing edges, already read.
pub async fn replacement_among(
    services: &Services,
    org: &OrgId,
    id: &MemoryId,
    edges: &[(Direction, Edge)],
    now: Timestamp,
) -> MemoryResult<Option<(Memory, Edge)>> {
    let mut visited = HashSet::from([*id]);
    let mut head: Option<(Memory, Edge)> = None;
    let mut next = first_active_successor(services, org, edges, now).await?;
    for _ in 0..MAX_CHAIN {
        let Some((memory, edge)) = next else { break };
        if !visited.insert(memory.id) {
            break;
        }
        let at = memory.id;
        head = Some(match head {
            None => (memory, edge),
            Some((_, first)) => (memory, first),
        });
        if visited.len() > MAX_CHAIN {
            break;
        }
        let edges = repo::edges(services.store.as_ref(), org, &at, Direction::Out, 0).await?;
        next = first_active_successor(services, org, &edges, now).await?;
    }
    Ok(head)
}

async fn first_active_successor(
    services: &Services,
    org: &OrgId,
    edges: &[(Direction, Edge)],
    now: Timestamp,
) -> MemoryResult<Option<(Memory, Edge)>> {
    for (_, edge) in edges {
        if !edge.relation().is_some_and(|r| r.supersedes()) {
            continue;
        }
        if let Some((m, _)) = repo::get(services.store.as_ref(), org, &edge.other).await?
            && m.state_reason(now).is_none()
        {
            return Ok(Some((m, edge.clone())));
        }
    }
    Ok(None)
}
