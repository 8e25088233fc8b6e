//! The MCP endpoint (`/api/v1/mcp/`): Model Context Protocol over Streamable HTTP,
//! JSON-RPC 2.0, so an agent host talks to an org's memory with no AutoMem bridge
//! in between. Authenticated like the memory routes (the same credentials, in the
//! same places). The tools are mcp-automem's, with its input schemas, and call the
//! same use cases as the HTTP routes.
//!
//! Transport: `POST` carries one JSON-RPC message (or a batch) and is answered with
//! `application/json` (the server never needs to stream: every tool answers once);
//! notifications alone are answered 202. `initialize` negotiates the protocol
//! version and opens a session (`Mcp-Session-Id`), which every later request
//! carries: none is 400, an unknown or ended one 404 (the client initializes
//! again). `DELETE` ends a session; `GET` (a server-to-client stream) is 405.

use crate::auth::Caller;
use crate::error::AutoMemError;
use crate::routes::writable;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_memory::{graph, health, mcp_sessions, memories, recall};

/// The protocol versions this server speaks through `initialize`, oldest first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn rpc_result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn http_error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(rpc_error(Value::Null, code, message))).into_response()
}

/// `POST /api/v1/mcp/`: one JSON-RPC message or a batch.
#[utoipa::path(post, path = "/api/v1/mcp/", tag = "mcp",
    request_body(content = Object, description = "a JSON-RPC 2.0 request or notification (or a batch): initialize, tools/list, tools/call, ping"),
    params(("Mcp-Session-Id" = Option<String>, Header, description = "the session `initialize` opened; required after it")),
    responses((status = 200, description = "the JSON-RPC responses", body = Object),
        (status = 202, description = "only notifications or responses were sent"),
        (status = 400, description = "not JSON-RPC, no session, or an unsupported protocol version", body = Object),
        (status = 401, body = crate::routes::AutoMemErrorBody),
        (status = 404, description = "the session is unknown or ended: initialize again", body = Object)),
    security(("bearer" = [])))]
pub async fn post(
    State(s): State<Services>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return http_error(
            StatusCode::BAD_REQUEST,
            PARSE_ERROR,
            "Parse error: the body is not JSON",
        );
    };
    if let Some(v) = headers.get(VERSION_HEADER).and_then(|v| v.to_str().ok())
        && !PROTOCOL_VERSIONS.contains(&v)
    {
        return http_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            &format!(
                "Unsupported MCP-Protocol-Version `{v}`; this server speaks {}",
                PROTOCOL_VERSIONS.join(", ")
            ),
        );
    }
    let (messages, batch) = match message {
        Value::Array(items) if !items.is_empty() => (items, true),
        Value::Object(_) => (vec![message], false),
        _ => {
            return http_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "Invalid Request: expected a JSON-RPC message",
            );
        }
    };
    let initializing = messages
        .iter()
        .any(|m| m.get("method").and_then(Value::as_str) == Some("initialize"));
    let session_id = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !initializing {
        let Some(id) = &session_id else {
            return http_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "Bad Request: no Mcp-Session-Id; send initialize first",
            );
        };
        match mcp_sessions::find(&s, caller.org(), id).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return http_error(
                    StatusCode::NOT_FOUND,
                    INVALID_REQUEST,
                    "Session not found: initialize again",
                );
            }
            Err(e) => return AutoMemError::from(e).into_response(),
        }
    }

    let mut answers = vec![];
    let mut opened: Option<String> = None;
    for m in messages {
        let Some(obj) = m.as_object() else {
            answers.push(rpc_error(Value::Null, INVALID_REQUEST, "Invalid Request"));
            continue;
        };
        let id = obj.get("id").cloned();
        let Some(method) = obj.get("method").and_then(Value::as_str) else {
            // A response to a server request (this server sends none): nothing to do.
            continue;
        };
        let Some(id) = id.filter(|i| i.is_string() || i.is_number()) else {
            continue; // a notification
        };
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        let answer = match method {
            "initialize" => {
                let wanted = params
                    .get("protocolVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let version = if PROTOCOL_VERSIONS.contains(&wanted) {
                    wanted
                } else {
                    PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.len() - 1]
                };
                match mcp_sessions::open(&s, caller.org(), version).await {
                    Ok(session) => {
                        opened = Some(session.id);
                        rpc_result(id, initialize_result(version))
                    }
                    Err(e) => return AutoMemError::from(e).into_response(),
                }
            }
            "ping" => rpc_result(id, json!({})),
            "tools/list" => rpc_result(id, json!({"tools": tools()})),
            "tools/call" => {
                let name = params
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let args = params
                    .get("arguments")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                if !args.is_object() {
                    rpc_error(id, INVALID_PARAMS, "`arguments` must be an object")
                } else if !TOOL_NAMES.contains(&name) {
                    rpc_error(id, INVALID_PARAMS, &format!("Unknown tool: {name}"))
                } else {
                    rpc_result(id, call_tool(&s, &caller, name, &args).await)
                }
            }
            other => rpc_error(id, METHOD_NOT_FOUND, &format!("Method not found: {other}")),
        };
        answers.push(answer);
    }
    let mut response = if answers.is_empty() {
        StatusCode::ACCEPTED.into_response()
    } else if batch {
        Json(Value::Array(answers)).into_response()
    } else {
        Json(answers.remove(0)).into_response()
    };
    if let Some(id) = opened
        && let Ok(v) = HeaderValue::from_str(&id)
    {
        response.headers_mut().insert(SESSION_HEADER, v);
    }
    response
}

/// `GET /api/v1/mcp/`: this server opens no stream of its own.
#[utoipa::path(get, path = "/api/v1/mcp/", tag = "mcp",
    responses((status = 405, description = "no server-initiated stream; use POST")))]
pub async fn get() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST, DELETE")],
        Json(rpc_error(
            Value::Null,
            INVALID_REQUEST,
            "This server opens no event stream; send requests with POST",
        )),
    )
        .into_response()
}

/// `DELETE /api/v1/mcp/`: end the session.
#[utoipa::path(delete, path = "/api/v1/mcp/", tag = "mcp",
    params(("Mcp-Session-Id" = Option<String>, Header)),
    responses((status = 204, description = "ended"), (status = 400, body = Object),
        (status = 401, body = crate::routes::AutoMemErrorBody), (status = 404, body = Object)),
    security(("bearer" = [])))]
pub async fn delete(State(s): State<Services>, caller: Caller, headers: HeaderMap) -> Response {
    let Some(id) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) else {
        return http_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "Bad Request: no Mcp-Session-Id",
        );
    };
    match mcp_sessions::end(&s, caller.org(), id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => http_error(StatusCode::NOT_FOUND, INVALID_REQUEST, "Session not found"),
        Err(e) => AutoMemError::from(e).into_response(),
    }
}

fn initialize_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "skiff-memory", "title": "Skiff agent memory", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "This is the organization's persistent long-term memory. Use recall_memory to \
            retrieve context (at session start, before decisions, when debugging), store_memory to keep \
            decisions, patterns, preferences and fixes, and associate_memories to link related memories. \
            update_memory and delete_memory change or remove one memory; check_database_health reports \
            the service's state.",
    })
}

const TOOL_NAMES: [&str; 6] = [
    "store_memory",
    "recall_memory",
    "associate_memories",
    "update_memory",
    "delete_memory",
    "check_database_health",
];

const MEMORY_TYPES: [&str; 7] = [
    "Decision",
    "Pattern",
    "Preference",
    "Style",
    "Habit",
    "Insight",
    "Context",
];

/// The tools with mcp-automem's input schemas.
pub fn tools() -> Value {
    let relations: Vec<&str> = skiff_memory::model::Relation::authorable_names();
    Value::Array(vec![
        tool_store_memory(&relations),
        tool_recall_memory(&relations),
        tool_associate_memories(&relations),
        tool_update_memory(&relations),
        tool_delete_memory(&relations),
        tool_check_database_health(&relations),
    ])
}

fn tool_store_memory(relations: &[&str]) -> Value {
    let unit = |d: &str| json!({"type": "number", "minimum": 0, "maximum": 1, "description": d});
    let strings = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let string = |d: &str| json!({"type": "string", "description": d});
    let _ = (&unit, &strings, &string, relations);
    json!({
            "name": "store_memory",
            "title": "Store Memory",
            "description": "Store a memory (top-level `content`) or up to 500 at once (`memories: [...]`). \
                Keep each to one meaningful paragraph (at most 2000 characters): what was decided, learned \
                or preferred, why, and the outcome. `supersedes_memory_id` marks an older memory replaced by this one.",
            "annotations": {"title": "Store Memory", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": false},
            "inputSchema": {
                "type": "object",
                "properties": {
                    "content": string("Single-memory mode (XOR with `memories`). The memory content to store."),
                    "memories": {
                        "type": "array", "maxItems": 500,
                        "description": "Batch mode (XOR with `content`). Up to 500 memories.",
                        "items": {
                            "type": "object", "required": ["content"],
                            "properties": {
                                "content": {"type": "string"},
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "importance": {"type": "number", "minimum": 0, "maximum": 1},
                                "timestamp": {"type": "string"},
                                "type": {"type": "string", "enum": MEMORY_TYPES},
                                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                "metadata": {"type": "object"},
                            },
                        },
                    },
                    "tags": strings("Tags to categorize the memory (e.g. [\"project-name\", \"bug-fix\"])"),
                    "importance": unit("0.9+ critical decisions, 0.7-0.9 patterns/bugs, 0.5-0.7 minor notes"),
                    "embedding": {"type": "array", "items": {"type": "number"}, "description": "Optional embedding vector (generated if omitted)"},
                    "metadata": {"type": "object", "description": "Optional structured metadata"},
                    "timestamp": string("Optional ISO timestamp (defaults to now)"),
                    "type": {"type": "string", "enum": MEMORY_TYPES, "description": "Memory type"},
                    "confidence": unit("Classification confidence (default 0.9 when type is given)"),
                    "id": string("Custom memory ID, a UUID (generated if omitted)"),
                    "t_valid": string("ISO 8601 time the memory becomes valid"),
                    "t_invalid": string("ISO 8601 time the memory expires"),
                    "updated_at": string("ISO 8601 last-updated time"),
                    "last_accessed": string("ISO 8601 last-accessed time"),
                    "supersedes_memory_id": string("An existing memory this one replaces or corrects"),
                    "supersede_relation": {"type": "string", "enum": ["INVALIDATED_BY", "EVOLVED_INTO"], "default": "INVALIDATED_BY"},
                    "supersede_reason": string("Why the old memory is superseded"),
                },
            }
    })
}

fn tool_recall_memory(relations: &[&str]) -> Value {
    let unit = |d: &str| json!({"type": "number", "minimum": 0, "maximum": 1, "description": d});
    let strings = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let string = |d: &str| json!({"type": "string", "description": d});
    let _ = (&unit, &strings, &string, relations);
    json!({
            "name": "recall_memory",
            "title": "Recall Memory",
            "description": "Recall memories: by `memory_id`; by `tags` with `exhaustive: true` (paged listing); \
                or ranked hybrid search (vector, keyword, tags, recency, relations) — the default.",
            "annotations": {"title": "Recall Memory", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
            "inputSchema": {
                "type": "object",
                "properties": {
                    "memory_id": string("Fetch this one memory; other parameters are ignored"),
                    "exhaustive": {"type": "boolean", "description": "With `tags`: list every memory with them, paged"},
                    "query": string("What you are looking for, in natural language"),
                    "queries": strings("Several queries at once; results are deduplicated"),
                    "embedding": {"type": "array", "items": {"type": "number"}, "description": "Search by this vector"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 5},
                    "offset": {"type": "integer", "minimum": 0, "description": "Exhaustive mode: where the page starts"},
                    "time_query": string("today, yesterday, last week, last 30 days, …"),
                    "start": string("ISO timestamp lower bound"),
                    "end": string("ISO timestamp upper bound"),
                    "tags": strings("Filter by tags"),
                    "tag_mode": {"type": "string", "enum": ["any", "all"]},
                    "tag_match": {"type": "string", "enum": ["exact", "prefix"]},
                    "exclude_tags": strings("Leave out memories with any of these tags"),
                    "expand_relations": {"type": "boolean", "description": "Follow associations from the results"},
                    "expand_respect_tags": {"type": "boolean"},
                    "expansion_limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 25},
                    "relation_limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 5},
                    "expand_min_importance": unit("Minimum importance of expanded memories"),
                    "expand_min_strength": unit("Minimum strength of followed associations"),
                    "current_only": {"type": "boolean", "default": true},
                    "state_debug": {"type": "boolean", "default": false},
                    "state_mode": {"type": "string", "enum": ["current", "history"]},
                    "recency_bias": {"type": "string", "enum": ["auto", "on", "off"]},
                    "min_score": unit("Minimum final score"),
                    "adaptive_floor": {"type": "boolean"},
                    "context": string("Context label (e.g. coding-style)"),
                    "language": string("Programming language hint"),
                    "active_path": string("Current file path, for the language hint"),
                    "context_tags": strings("Tags to favour"),
                    "context_types": strings("Memory types to favour"),
                    "priority_ids": strings("Memory ids to include"),
                    "per_query_limit": {"type": "integer", "minimum": 1, "maximum": 50},
                    "sort": {"type": "string", "enum": ["score", "time_desc", "time_asc", "updated_desc", "updated_asc"]},
                },
            }
    })
}

fn tool_associate_memories(relations: &[&str]) -> Value {
    let unit = |d: &str| json!({"type": "number", "minimum": 0, "maximum": 1, "description": d});
    let strings = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let string = |d: &str| json!({"type": "string", "description": d});
    let _ = (&unit, &strings, &string, relations);
    json!({
            "name": "associate_memories",
            "title": "Associate Memories",
            "description": "Link two memories with a typed, weighted relationship (or up to 500 with `associations`).",
            "annotations": {"title": "Associate Memories", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
            "inputSchema": {
                "type": "object",
                "properties": {
                    "memory1_id": string("The source memory"),
                    "memory2_id": string("The target memory"),
                    "type": {"type": "string", "enum": relations, "description": "The relationship"},
                    "strength": unit("0.9+ direct causation, 0.7-0.9 strong, 0.5-0.7 moderate"),
                    "reason": string("Why (INVALIDATED_BY, EVOLVED_INTO, CONTRADICTS, PREFERS_OVER)"),
                    "associations": {
                        "type": "array", "minItems": 1, "maxItems": 500,
                        "items": {
                            "type": "object",
                            "required": ["memory1_id", "memory2_id", "type", "strength"],
                            "properties": {
                                "memory1_id": {"type": "string"},
                                "memory2_id": {"type": "string"},
                                "type": {"type": "string", "enum": relations},
                                "strength": {"type": "number", "minimum": 0, "maximum": 1},
                            },
                        },
                    },
                },
            }
    })
}

fn tool_update_memory(relations: &[&str]) -> Value {
    let unit = |d: &str| json!({"type": "number", "minimum": 0, "maximum": 1, "description": d});
    let strings = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let string = |d: &str| json!({"type": "string", "description": d});
    let _ = (&unit, &strings, &string, relations);
    json!({
            "name": "update_memory",
            "title": "Update Memory",
            "description": "Change an existing memory's content, tags, importance, metadata or times.",
            "annotations": {"title": "Update Memory", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
            "inputSchema": {
                "type": "object",
                "properties": {
                    "memory_id": string("The memory to update"),
                    "content": string("New content"),
                    "tags": strings("New tags (replace the old)"),
                    "importance": unit("New importance"),
                    "metadata": {"type": "object", "description": "New metadata"},
                    "timestamp": string("Creation time"),
                    "t_valid": string("When the memory becomes valid"),
                    "t_invalid": string("When the memory expires"),
                    "updated_at": string("Update time"),
                    "last_accessed": string("Last access time"),
                    "type": {"type": "string", "enum": MEMORY_TYPES},
                    "confidence": unit("Confidence"),
                },
                "required": ["memory_id"],
            }
    })
}

fn tool_delete_memory(relations: &[&str]) -> Value {
    let unit = |d: &str| json!({"type": "number", "minimum": 0, "maximum": 1, "description": d});
    let strings = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let string = |d: &str| json!({"type": "string", "description": d});
    let _ = (&unit, &strings, &string, relations);
    json!({
            "name": "delete_memory",
            "title": "Delete Memory",
            "description": "Delete one memory (`memory_id`) or every memory with any of `tags`.",
            "annotations": {"title": "Delete Memory", "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false},
            "inputSchema": {
                "type": "object",
                "properties": {
                    "memory_id": string("The memory to delete"),
                    "tags": strings("Delete every memory with any of these tags (exact, case-insensitive)"),
                },
            }
    })
}

fn tool_check_database_health(relations: &[&str]) -> Value {
    let unit = |d: &str| json!({"type": "number", "minimum": 0, "maximum": 1, "description": d});
    let strings = |d: &str| json!({"type": "array", "items": {"type": "string"}, "description": d});
    let string = |d: &str| json!({"type": "string", "description": d});
    let _ = (&unit, &strings, &string, relations);
    json!({
            "name": "check_database_health",
            "title": "Check Database Health",
            "description": "The memory service's health: its stores, and this organization's memory and vector counts.",
            "annotations": {"title": "Check Database Health", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
            "inputSchema": {"type": "object", "properties": {}}
    })
}

fn ok(text: String, structured: Value) -> Value {
    json!({"content": [{"type": "text", "text": text}], "structuredContent": structured, "isError": false})
}

fn tool_error(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}], "isError": true})
}

/// A refusal in words a person reads: a locked org's mode and where to upgrade.
fn refusal(e: AutoMemError) -> Value {
    if e.status == StatusCode::LOCKED {
        let mode = e
            .extra
            .get("service_mode")
            .and_then(Value::as_str)
            .unwrap_or("locked");
        let url = e
            .extra
            .get("upgrade_url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mode_words = match mode {
            "read_only" => "read-only",
            "archived" => "archived",
            other => other,
        };
        return tool_error(format!(
            "Memory is {mode_words}: this organization's service is locked, so nothing can be stored, changed \
             or deleted; recall still works. {} To unlock it, choose a plan at {url}",
            e.message
        ));
    }
    tool_error(format!("{} (HTTP {})", e.message, e.status.as_u16()))
}

/// Tool arguments as recall's query parameters (lists repeated, booleans and
/// numbers as text).
fn as_pairs(args: &Value) -> Vec<(String, String)> {
    let mut out = vec![];
    for (k, v) in args.as_object().into_iter().flatten() {
        match v {
            Value::Array(items) if k == "embedding" => out.push((
                k.clone(),
                items
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Value::Array(items) => {
                for i in items {
                    out.push((
                        k.clone(),
                        i.as_str().map_or_else(|| i.to_string(), str::to_owned),
                    ));
                }
            }
            Value::String(s) => out.push((k.clone(), s.clone())),
            Value::Null => {}
            other => out.push((k.clone(), other.to_string())),
        }
    }
    out
}

async fn call_tool(s: &Services, caller: &Caller, name: &str, args: &Value) -> Value {
    let result = match name {
        "store_memory" | "associate_memories" | "update_memory" | "delete_memory" => {
            match writable(s, caller).await {
                Ok(()) => write_tool(s, caller, name, args).await,
                Err(e) => Err(e),
            }
        }
        _ => match caller.can_read() {
            Ok(()) => read_tool(s, caller, name, args).await,
            Err(e) => Err(e),
        },
    };
    result.unwrap_or_else(refusal)
}

fn text_of(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

async fn write_tool(
    s: &Services,
    caller: &Caller,
    name: &str,
    args: &Value,
) -> Result<Value, AutoMemError> {
    let org = caller.org();
    match name {
        "store_memory" => {
            if args.get("memories").is_some_and(Value::is_array) {
                let out = memories::store_batch(s, org, args).await?;
                let n = out["stored"].as_u64().unwrap_or(0);
                return Ok(ok(format!("Stored {n} memories."), out));
            }
            let mut payload = args.clone();
            let supersedes = payload.as_object_mut().and_then(|o| {
                o.remove("supersede_relation");
                o.remove("supersede_reason");
                o.remove("supersedes_memory_id")
            });
            let out = memories::store(s, org, &payload).await?;
            let id = out["memory_id"].as_str().unwrap_or_default().to_owned();
            if let Some(old) = supersedes.as_ref().and_then(Value::as_str) {
                let now = skiff_memory::model::Timestamp::from_offset(s.clock.now()).render();
                memories::update(s, org, old, &json!({"t_invalid": now})).await?;
                let rel = args
                    .get("supersede_relation")
                    .and_then(Value::as_str)
                    .unwrap_or("INVALIDATED_BY");
                let mut link =
                    json!({"memory1_id": old, "memory2_id": id, "type": rel, "strength": 0.9});
                if let Some(r) = args.get("supersede_reason") {
                    link["reason"] = r.clone();
                }
                graph::associate(s, org, &link).await?;
                let mut structured = out.clone();
                structured["superseded_memory_id"] = old.into();
                structured["association_created"] = true.into();
                structured["message"] =
                    format!("Memory stored (ID: {id}); it supersedes {old}").into();
                return Ok(ok(
                    format!(
                        "Memory stored successfully (ID: {id}); memory {old} is marked superseded."
                    ),
                    structured,
                ));
            }
            let mut structured = out.clone();
            structured["message"] = "Memory stored successfully".into();
            Ok(ok(
                format!("Memory stored successfully (ID: {id})"),
                structured,
            ))
        }
        "associate_memories" => {
            let (_, out) = graph::associate(s, org, args).await?;
            let text = out
                .get("summary")
                .or_else(|| out.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("Association created")
                .to_owned();
            Ok(ok(text, out))
        }
        "update_memory" => {
            let id = args
                .get("memory_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut payload = args.clone();
            payload.as_object_mut().map(|o| o.remove("memory_id"));
            let out = memories::update(s, org, &id, &payload).await?;
            Ok(ok(format!("Memory {id} updated."), out))
        }
        _ => {
            if let Some(id) = args.get("memory_id").and_then(Value::as_str) {
                let out = memories::delete(s, org, id).await?;
                return Ok(ok(format!("Memory {id} deleted."), out));
            }
            let tags = skiff_memory::model::tag_list(args.get("tags"));
            if tags.is_empty() {
                return Err(AutoMemError::bad_request(
                    "Pass `memory_id`, or `tags` to delete by tag",
                ));
            }
            let out = memories::delete_by_tag(s, org, tags).await?;
            let n = out["deleted_count"].as_u64().unwrap_or(0);
            Ok(ok(format!("Deleted {n} memories."), out))
        }
    }
}

async fn read_tool(
    s: &Services,
    caller: &Caller,
    name: &str,
    args: &Value,
) -> Result<Value, AutoMemError> {
    let org = caller.org();
    match name {
        "recall_memory" => {
            if let Some(id) = args.get("memory_id").and_then(Value::as_str) {
                let out = memories::get(s, org, id).await?;
                return Ok(ok(text_of(&out["memory"]), out));
            }
            if args.get("exhaustive").and_then(Value::as_bool) == Some(true) {
                let tags = memories::by_tag_tags(&skiff_memory::model::tag_list(args.get("tags")))?;
                let limit = args
                    .get("limit")
                    .and_then(Value::as_i64)
                    .unwrap_or(20)
                    .clamp(1, 200) as usize;
                let offset = args
                    .get("offset")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    .max(0) as usize;
                let out = memories::by_tag(s, org, tags, limit, offset).await?;
                return Ok(ok(text_of(&out), out));
            }
            let now = skiff_memory::model::Timestamp::from_offset(s.clock.now());
            let request = recall::RecallRequest::parse(&as_pairs(args), now)?;
            let out = recall::recall(s, org, request).await?;
            let lines: Vec<String> = out["results"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| {
                    format!(
                        "{}. [{}] {} (score {:.3}, id {})",
                        i + 1,
                        r["memory"]["type"].as_str().unwrap_or_default(),
                        r["memory"]["content"].as_str().unwrap_or_default(),
                        r["final_score"].as_f64().unwrap_or(0.0),
                        r["id"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            let text = if lines.is_empty() {
                "No memories found.".to_owned()
            } else {
                format!("Found {} memories:\n{}", lines.len(), lines.join("\n"))
            };
            Ok(ok(text, out))
        }
        _ => {
            let out = health::health(s, Some(org)).await;
            let text = format!(
                "Status: {}. Memories: {}, vectors: {}.",
                out["status"].as_str().unwrap_or("unknown"),
                out["memory_count"],
                out["vector_count"]
            );
            let structured =
                json!({"status": out["status"], "backend": "skiff", "statistics": out});
            Ok(ok(text, structured))
        }
    }
}
