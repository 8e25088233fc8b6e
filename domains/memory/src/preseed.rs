//! Onboarding memories an operator seeds into an org (AutoMem's
//! `POST /api/v1/preseed`): each stored with the `onboarding` tag, then the
//! associations between them, named by their index in the request.

use crate::graph::{self, NewAssociation};
use crate::memories::{self, MAX_BATCH};
use crate::model::{Relation, Timestamp, check_tags, tag_prefixes, unit_number};
use crate::{MemoryError, MemoryResult};
use serde_json::{Map, Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;

/// The tag every preseeded memory carries.
pub const ONBOARDING_TAG: &str = "onboarding";

struct Link {
    from: usize,
    to: usize,
    relation: Relation,
    strength: f64,
    props: Map<String, Value>,
}

fn parse_links(raw: Option<&Value>, count: usize) -> MemoryResult<Vec<Link>> {
    let items = match raw {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(MemoryError::invalid(
                "'associations' must be an array when provided",
            ));
        }
    };
    let mut out = vec![];
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(MemoryError::invalid(format!(
                "Association at index {i} must be an object"
            )));
        };
        let index = |k: &str| obj.get(k).and_then(Value::as_i64);
        let (Some(from), Some(to)) = (index("from_index"), index("to_index")) else {
            return Err(MemoryError::invalid(format!(
                "Association at index {i} must include integer 'from_index' and 'to_index' fields"
            )));
        };
        if from < 0 || to < 0 {
            return Err(MemoryError::invalid(format!(
                "Association at index {i} cannot use negative indexes"
            )));
        }
        let (from, to) = (from as usize, to as usize);
        if from >= count || to >= count {
            return Err(MemoryError::invalid(format!(
                "Association at index {i} references an out-of-range memory index"
            )));
        }
        if from == to {
            return Err(MemoryError::invalid(format!(
                "Association at index {i} cannot reference the same memory"
            )));
        }
        let raw_type = obj
            .get("relationship")
            .or_else(|| obj.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("RELATES_TO");
        let relation = Relation::parse(raw_type)
            .filter(Relation::authorable)
            .ok_or_else(|| {
                MemoryError::invalid(format!(
                    "Association at index {i} must use one of [{}]",
                    Relation::authorable_names()
                        .iter()
                        .map(|n| format!("'{n}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let strength = unit_number(obj.get("strength"), "strength", 0.5)?;
        let mut props = Map::new();
        for p in relation.properties() {
            if let Some(v) = obj.get(*p).filter(|_| *p != "strength") {
                props.insert((*p).to_owned(), v.clone());
            }
        }
        out.push(Link {
            from,
            to,
            relation,
            strength,
            props,
        });
    }
    Ok(out)
}

/// Store the memories, then link them; everything is checked before anything is
/// written.
pub async fn preseed(services: &Services, org: &OrgId, payload: &Value) -> MemoryResult<Value> {
    let Some(body) = payload.as_object() else {
        return Err(MemoryError::invalid(
            "JSON body with 'memories' array required",
        ));
    };
    let items = match body.get("memories") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => return Err(MemoryError::invalid("'memories' must be a non-empty array")),
    };
    if items.len() > MAX_BATCH {
        return Err(MemoryError::invalid(format!(
            "Batch size limit is {MAX_BATCH} memories per request"
        )));
    }
    let links = parse_links(body.get("associations"), items.len())?;
    let now = Timestamp::from_offset(services.clock.now());
    let mut news = vec![];
    for (i, item) in items.iter().enumerate() {
        if !item.is_object() {
            return Err(MemoryError::invalid(format!(
                "Memory at index {i} must be an object"
            )));
        }
        let mut new = memories::parse_new(item, now)?;
        if !new
            .memory
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(ONBOARDING_TAG))
        {
            new.memory.tags.push(ONBOARDING_TAG.to_owned());
        }
        check_tags(&new.memory.tags)?;
        new.memory.tag_prefixes = tag_prefixes(&new.memory.tags);
        if let Some(v) = &new.embedding {
            memories::check_dimension(services, org, v).await?;
        }
        news.push(new);
    }
    let stored = memories::store_many(services, org, news).await?;
    let ids: Vec<_> = stored.iter().map(|s| s.memory.id).collect();
    for link in &links {
        graph::create(
            services,
            org,
            &NewAssociation {
                from: ids[link.from],
                to: ids[link.to],
                relation: link.relation,
                strength: link.strength,
                props: link.props.clone(),
            },
        )
        .await?;
    }
    Ok(json!({
        "status": "success",
        "memories_created": ids.len(),
        "associations_created": links.len(),
        "memory_ids": ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }))
}
