//! Key-value collections: `kv::collection(c)` → `.get(k)`, `.set(k, v)`,
//! `.has(k)`, `.delete(k)`, `.list(#{cursor, limit})`.

use super::{CommitError, RETRIES, Scope, check_collection, sk};
use crate::error::{ScriptsError, ScriptsResult};
use crate::triggers::{Op, TriggerKind};
use serde_json::Value;
use skiff_core::ports::store::{Condition, Key, NewItem, Query, SortKey, StoreError, Write};

/// Longest key, and largest value (as JSON).
pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_VALUE_BYTES: usize = 350 * 1024;
/// Most entries one `list` returns.
pub const MAX_LIST: usize = 100;

fn check_key(key: &str) -> ScriptsResult<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(ScriptsError::invalid(
            "key",
            "INVALID_KEY",
            format!("a key is 1 to {MAX_KEY_BYTES} bytes without control characters"),
        ));
    }
    Ok(())
}

fn item_key(scope: &Scope, collection: &str, key: &str) -> ScriptsResult<Key> {
    check_collection(collection)?;
    check_key(key)?;
    Ok(Key::new(scope.pk("KV"), sk(collection, key)))
}

pub async fn get(scope: &Scope, collection: &str, key: &str) -> ScriptsResult<Option<Value>> {
    let k = item_key(scope, collection, key)?;
    Ok(scope
        .services
        .store
        .get(&k)
        .await?
        .and_then(|i| i.attrs.get("value").cloned()))
}

pub async fn has(scope: &Scope, collection: &str, key: &str) -> ScriptsResult<bool> {
    let k = item_key(scope, collection, key)?;
    Ok(scope.services.store.get(&k).await?.is_some())
}

/// Store `value` under `key` (an insert or an update, as its triggers see it).
pub async fn set(scope: &Scope, collection: &str, key: &str, value: Value) -> ScriptsResult<()> {
    let k = item_key(scope, collection, key)?;
    let size = serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(0);
    if size > MAX_VALUE_BYTES {
        return Err(ScriptsError::invalid(
            "value",
            "TOO_LARGE",
            format!("a value is at most {MAX_VALUE_BYTES} bytes as JSON"),
        ));
    }
    for _ in 0..RETRIES {
        let prev = scope.services.store.get(&k).await?;
        let (op, condition) = match &prev {
            Some(p) => (Op::Update, Condition::VersionIs(p.version)),
            None => (Op::Insert, Condition::Absent),
        };
        let put = Write::Put {
            item: NewItem::new(k.clone())
                .attr("value", value.clone())
                .attr("updated_at", scope.services.clock.unix()),
            condition: Some(condition),
        };
        let prev_value = prev.and_then(|p| p.attrs.get("value").cloned());
        match scope
            .commit(
                TriggerKind::Kv,
                collection,
                "key",
                key,
                op,
                Some(value.clone()),
                prev_value,
                vec![put],
            )
            .await
        {
            Ok(()) => return Ok(()),
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(0) })) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(format!(
        "`{key}` kept changing under concurrent writes"
    )))
}

/// Delete `key`; whether it was there.
pub async fn delete(scope: &Scope, collection: &str, key: &str) -> ScriptsResult<bool> {
    let k = item_key(scope, collection, key)?;
    for _ in 0..RETRIES {
        let Some(prev) = scope.services.store.get(&k).await? else {
            return Ok(false);
        };
        let del = Write::Delete {
            key: k.clone(),
            condition: Some(Condition::VersionIs(prev.version)),
        };
        match scope
            .commit(
                TriggerKind::Kv,
                collection,
                "key",
                key,
                Op::Delete,
                None,
                prev.attrs.get("value").cloned(),
                vec![del],
            )
            .await
        {
            Ok(()) => return Ok(true),
            Err(CommitError::Store(StoreError::ConditionFailed { index: Some(0) })) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(format!(
        "`{key}` kept changing under concurrent writes"
    )))
}

/// One page of entries in key order, after `cursor` (the last key of the
/// previous page): (entries, next cursor).
pub async fn list(
    scope: &Scope,
    collection: &str,
    cursor: Option<&str>,
    limit: usize,
) -> ScriptsResult<(Vec<(String, Value)>, Option<String>)> {
    check_collection(collection)?;
    let limit = limit.clamp(1, MAX_LIST);
    let prefix = sk(collection, "");
    let sort = match cursor {
        Some(after) => {
            check_key(after)?;
            SortKey::Between(
                format!("{}\u{1}", sk(collection, after)),
                format!("{prefix}\u{10FFFF}"),
            )
        }
        None => SortKey::Prefix(prefix.clone()),
    };
    let page = scope
        .services
        .store
        .query(Query {
            pk: scope.pk("KV"),
            sort,
            limit: Some(limit),
            ..Default::default()
        })
        .await?;
    let entries: Vec<(String, Value)> = page
        .items
        .iter()
        .filter_map(|i| {
            let key = i.key.sk.strip_prefix(&prefix)?.to_owned();
            Some((key, i.attrs.get("value").cloned().unwrap_or(Value::Null)))
        })
        .collect();
    let next = (page.next.is_some() && entries.len() == limit)
        .then(|| entries.last().map(|(k, _)| k.clone()))
        .flatten();
    Ok((entries, next))
}
