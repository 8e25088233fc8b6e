//! Document collections: JSON objects by id. `docs::collection(c)` →
//! `.create(map)` (the new id), `.get(id)`, `.update(id, map)` (the previous data;
//! a missing document is an error), `.delete(id)`, `.find(filter)`
//! ([`super::filter`]). Stored bytes count against the plan's `storage_gb`, in the
//! transaction that stores them.
//!
//! `find` reads the app's collection (never anything else: the filter only narrows
//! it) in id order and filters in memory; with `$sort` it reads every match
//! before sorting. Nothing indexes a field: see docs/benchmarks.md for what that
//! costs and what would index it.

use super::filter::{self, FindRequest};
use super::{CommitError, RETRIES, Scope, check_collection, sk};
use crate::error::{ScriptsError, ScriptsResult};
use crate::triggers::{Op, TriggerKind};
use serde_json::{Map, Value, json};
use skiff_billing::entitlements;
use skiff_core::ids::DocumentId;
use skiff_core::ports::store::{Condition, Item, Key, NewItem, Query, SortKey, StoreError, Write};

/// Largest document, as JSON.
pub const MAX_DOC_BYTES: usize = 350 * 1024;
/// Items one store page of a scan reads.
const SCAN_PAGE: usize = 500;

fn doc_key(scope: &Scope, collection: &str, id: &DocumentId) -> Key {
    Key::new(scope.pk("DOCS"), sk(collection, id.as_str()))
}

fn parse_id(raw: &str) -> ScriptsResult<DocumentId> {
    DocumentId::parse(raw).map_err(|_| {
        ScriptsError::invalid("id", "INVALID_ID", format!("`{raw}` is not a document id"))
    })
}

fn object(data: Value) -> ScriptsResult<(Map<String, Value>, i64)> {
    match data {
        Value::Object(m) => {
            let size = serde_json::to_vec(&m).map(|v| v.len()).unwrap_or(0);
            if size > MAX_DOC_BYTES {
                return Err(ScriptsError::invalid(
                    "data",
                    "TOO_LARGE",
                    format!("a document is at most {MAX_DOC_BYTES} bytes as JSON"),
                ));
            }
            Ok((m, size as i64))
        }
        _ => Err(ScriptsError::invalid(
            "data",
            "NOT_AN_OBJECT",
            "a document is a map (a JSON object)",
        )),
    }
}

fn data_of(item: &Item) -> Value {
    item.attrs.get("data").cloned().unwrap_or(Value::Null)
}

/// A quota write for `delta` stored bytes (a reservation when it grows).
async fn quota(scope: &Scope, delta: i64) -> ScriptsResult<Option<Write>> {
    Ok(match delta {
        0 => None,
        d if d > 0 => {
            Some(entitlements::reserve_bytes_write(&scope.services, &scope.org, d).await?)
        }
        d => Some(entitlements::release_write(
            &scope.org,
            entitlements::STORAGE_BYTES,
            -d,
        )),
    })
}

async fn quota_exceeded(scope: &Scope) -> ScriptsError {
    entitlements::quota_exceeded(&scope.services, &scope.org, "storage_gb")
        .await
        .into()
}

/// Store a new document; its id.
pub async fn create(scope: &Scope, collection: &str, data: Value) -> ScriptsResult<DocumentId> {
    check_collection(collection)?;
    let (data, size) = object(data)?;
    let id = DocumentId::new();
    let now = scope.services.clock.unix();
    let mut writes = vec![Write::Put {
        item: NewItem::new(doc_key(scope, collection, &id))
            .attr("data", Value::Object(data.clone()))
            .attr("size", size)
            .attr("created_at", now)
            .attr("updated_at", now),
        condition: Some(Condition::Absent),
    }];
    writes.extend(quota(scope, size).await?);
    match scope
        .commit(
            TriggerKind::Docs,
            collection,
            "id",
            id.as_str(),
            Op::Insert,
            Some(Value::Object(data)),
            None,
            writes,
        )
        .await
    {
        Ok(()) => Ok(id),
        Err(CommitError::Store(StoreError::ConditionFailed { index: Some(1) })) => {
            Err(quota_exceeded(scope).await)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn get(scope: &Scope, collection: &str, id: &str) -> ScriptsResult<Option<Value>> {
    check_collection(collection)?;
    let Ok(id) = DocumentId::parse(id) else {
        return Ok(None);
    };
    Ok(scope
        .services
        .store
        .get(&doc_key(scope, collection, &id))
        .await?
        .map(|i| data_of(&i)))
}

/// Replace a document's data; the previous data.
pub async fn update(
    scope: &Scope,
    collection: &str,
    id: &str,
    data: Value,
) -> ScriptsResult<Value> {
    check_collection(collection)?;
    let id = parse_id(id)?;
    let (data, size) = object(data)?;
    let key = doc_key(scope, collection, &id);
    for _ in 0..RETRIES {
        let prev = scope
            .services
            .store
            .get(&key)
            .await?
            .ok_or(ScriptsError::NotFound("document"))?;
        let prev_size = prev.get_i64("size").unwrap_or(0);
        let mut writes = vec![Write::Put {
            item: NewItem::new(key.clone())
                .attr("data", Value::Object(data.clone()))
                .attr("size", size)
                .attr("created_at", prev.get_i64("created_at").unwrap_or(0))
                .attr("updated_at", scope.services.clock.unix()),
            condition: Some(Condition::VersionIs(prev.version)),
        }];
        writes.extend(quota(scope, size - prev_size).await?);
        let prev_data = data_of(&prev);
        match scope
            .commit(
                TriggerKind::Docs,
                collection,
                "id",
                id.as_str(),
                Op::Update,
                Some(Value::Object(data.clone())),
                Some(prev_data.clone()),
                writes,
            )
            .await
        {
            Ok(()) => return Ok(prev_data),
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(0) })) => continue,
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(1) })) => {
                return Err(quota_exceeded(scope).await);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(format!(
        "document `{id}` kept changing under concurrent writes"
    )))
}

/// Delete a document; whether it was there.
pub async fn delete(scope: &Scope, collection: &str, id: &str) -> ScriptsResult<bool> {
    check_collection(collection)?;
    let Ok(id) = DocumentId::parse(id) else {
        return Ok(false);
    };
    let key = doc_key(scope, collection, &id);
    for _ in 0..RETRIES {
        let Some(prev) = scope.services.store.get(&key).await? else {
            return Ok(false);
        };
        let mut writes = vec![Write::Delete {
            key: key.clone(),
            condition: Some(Condition::VersionIs(prev.version)),
        }];
        writes.extend(quota(scope, -prev.get_i64("size").unwrap_or(0)).await?);
        match scope
            .commit(
                TriggerKind::Docs,
                collection,
                "id",
                id.as_str(),
                Op::Delete,
                None,
                Some(data_of(&prev)),
                writes,
            )
            .await
        {
            Ok(()) => return Ok(true),
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(0) })) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(format!(
        "document `{id}` kept changing under concurrent writes"
    )))
}

/// A page of `find`: `(id, data)` pairs and the cursor of the next page.
pub type Found = (Vec<(String, Value)>, Option<String>);

/// A cursor: the last document's sort values (`{"v": …}`, or `null` when the field
/// is missing) and id.
fn cursor_of(sort: &[(String, bool)], id: &str, doc: &Value) -> String {
    let keys: Vec<Value> = sort
        .iter()
        .map(|(f, _)| match filter::at(doc, f) {
            Some(v) => json!({"v": v}),
            None => Value::Null,
        })
        .collect();
    hex::encode(json!({"k": keys, "id": id}).to_string())
}

fn open_cursor(raw: &str) -> ScriptsResult<(Vec<Value>, String)> {
    let bad = || ScriptsError::invalid("$cursor", "INVALID_CURSOR", "not a cursor `find` returned");
    let text = hex::decode(raw).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&text).map_err(|_| bad())?;
    let keys = v["k"].as_array().cloned().ok_or_else(bad)?;
    let id = v["id"].as_str().ok_or_else(bad)?.to_owned();
    Ok((keys, id))
}

/// Read the collection in id order (after `after`), calling `each` per document
/// until it says stop.
async fn scan(
    scope: &Scope,
    collection: &str,
    after: Option<&str>,
    mut each: impl FnMut(String, Value) -> bool,
) -> ScriptsResult<()> {
    let prefix = sk(collection, "");
    let sort = match after {
        Some(id) => SortKey::Between(
            format!("{}\u{1}", sk(collection, id)),
            format!("{prefix}\u{10FFFF}"),
        ),
        None => SortKey::Prefix(prefix.clone()),
    };
    let mut cursor = None;
    loop {
        let page = scope
            .services
            .store
            .query(Query {
                pk: scope.pk("DOCS"),
                sort: sort.clone(),
                limit: Some(SCAN_PAGE),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await?;
        for item in &page.items {
            let Some(id) = item.key.sk.strip_prefix(&prefix) else {
                continue;
            };
            if !each(id.to_owned(), data_of(item)) {
                return Ok(());
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// Find documents of the collection (see [`super::filter`]).
pub async fn find(scope: &Scope, collection: &str, raw: &Value) -> ScriptsResult<Found> {
    check_collection(collection)?;
    let req = FindRequest::parse(raw)
        .map_err(|m| ScriptsError::invalid("filter", "INVALID_FILTER", m))?;
    let after = req.cursor.as_deref().map(open_cursor).transpose()?;
    if req.sort.is_empty() {
        // Id order: stop as soon as the page is full.
        let mut out = vec![];
        let mut more = false;
        scan(
            scope,
            collection,
            after.as_ref().map(|(_, id)| id.as_str()),
            |id, doc| {
                if out.len() == req.limit {
                    more = true;
                    return false;
                }
                if req.filter.matches(&doc) {
                    out.push((id, doc));
                }
                true
            },
        )
        .await?;
        let next = more
            .then(|| out.last().map(|(id, doc)| cursor_of(&[], id, doc)))
            .flatten();
        return Ok((out, next));
    }
    let mut matched = vec![];
    scan(scope, collection, None, |id, doc| {
        if req.filter.matches(&doc) {
            matched.push((id, doc));
        }
        true
    })
    .await?;
    filter::sort(&mut matched, &req.sort);
    let start = match &after {
        None => 0,
        Some((keys, id)) => {
            let mut doc = Map::new();
            for ((field, _), v) in req.sort.iter().zip(keys) {
                if let Some(v) = v.get("v") {
                    set_path(&mut doc, field, v.clone());
                }
            }
            let probe = (id.clone(), Value::Object(doc));
            // The first document ordered after the cursor's.
            matched
                .iter()
                .position(|d| filter::order(&probe, d, &req.sort) == std::cmp::Ordering::Less)
                .unwrap_or(matched.len())
        }
    };
    let page: Vec<(String, Value)> = matched
        .iter()
        .skip(start)
        .take(req.limit)
        .cloned()
        .collect();
    let next = (start + page.len() < matched.len())
        .then(|| page.last().map(|(id, doc)| cursor_of(&req.sort, id, doc)))
        .flatten();
    Ok((page, next))
}

fn set_path(doc: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut cur = doc;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_owned(), value);
            return;
        }
        cur = match cur
            .entry(p.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            Value::Object(m) => m,
            _ => return,
        };
    }
}
