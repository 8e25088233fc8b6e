//! Running a script: the run's context, its compiled form (cached by script id
//! and version, so a changed script is never run stale), a runner thread behind
//! the gate, the answer, and the execution log.

use crate::context::{self, AppRef, LogLine, Principal, RunContext};
use crate::error::{ScriptsError, ScriptsResult};
use crate::logs::{self, ExecutionLog, RequestSummary, RunStatus};
use crate::model::{Script, ScriptKind};
use crate::sandbox::{Knob, Limits, RunFailure};
use rhai::{Dynamic, Scope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::ExecutionId;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// What a script sees as `ctx.request`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    pub method: String,
    pub path: String,
    /// Lowercase names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// JSON when the body is JSON, a string when it is text, `null` when empty.
    pub body: Value,
    pub params: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// What a prefix route's `*` matched.
    pub rest: String,
}

/// How the body of an answer is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Text(String),
    Empty,
}

/// A script's answer, ready for HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// One run's outcome.
#[derive(Debug, Clone)]
pub struct Execution {
    pub id: ExecutionId,
    pub result: Result<Answer, RunFailure>,
    pub duration_ms: u64,
}

/// Who and what a run is for.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub app: AppRef,
    pub principal: Option<Principal>,
    pub request: RunRequest,
    /// The change, schedule or message that triggered the run (`ctx.event`).
    pub event: Option<Value>,
    /// How many triggers led here.
    pub depth: u32,
    pub summary: RequestSummary,
    /// Given when the id was handed out before the run (async dispatch).
    pub execution_id: Option<ExecutionId>,
}

/// A script's limits now: its overrides, held to today's ceilings.
pub fn effective_limits(services: &Services, script: &Script) -> Limits {
    let s = crate::settings(services);
    let mut limits = s.defaults;
    for (knob, value) in &script.overrides.0 {
        limits.set(*knob, (*value).min(s.ceilings.get(*knob)));
    }
    limits
}

/// Run an endpoint script and record its log. `Busy` when every runner is taken.
pub async fn run(
    services: &Services,
    script: &Script,
    invocation: Invocation,
) -> ScriptsResult<Execution> {
    if script.kind != ScriptKind::Endpoint {
        return Err(ScriptsError::NotAnEndpoint(script.name.to_string()));
    }
    let runtime = crate::runtime(services);
    let limits = effective_limits(services, script);
    let engine = runtime.engine(&limits);
    let cached = runtime.cached_ast(&script.id, script.version);
    let execution_id = invocation.execution_id.clone().unwrap_or_default();
    let started_at = services.clock.unix();
    let ctx_value = json!({
        "execution_id": execution_id,
        "script_id": script.id,
        "app": {"id": invocation.app.id, "slug": invocation.app.slug},
        "sdk_version": crate::sdk::SDK_VERSION,
        "principal": invocation.principal,
        "request": invocation.request,
        "event": invocation.event,
    });
    let run_context = RunContext::new(
        services.clone(),
        tokio::runtime::Handle::current(),
        script.org_id.clone(),
        invocation.app.clone(),
        script.id.clone(),
        execution_id.clone(),
        invocation.principal.clone(),
        invocation.depth,
        limits,
        runtime.clone(),
    );
    let source = script.source.clone();
    let (script_id, version) = (script.id.clone(), script.version);
    let job_runtime = runtime.clone();
    let (result, lines, duration_ms) = runtime
        .run(move || {
            let started = Instant::now();
            let ctx = Rc::new(run_context);
            let _entered = context::enter(ctx.clone());
            let ast = match cached {
                Some(ast) => Ok(ast),
                None => crate::sandbox::compile(&engine, &source)
                    .map(Arc::new)
                    .inspect(|ast| job_runtime.cache_ast(&script_id, version, ast.clone()))
                    .map_err(|e| RunFailure::Runtime {
                        message: e.err_type().to_string(),
                        position: crate::sandbox::SourcePosition::of(e.position()),
                    }),
            };
            let result = ast.and_then(|ast| {
                let mut scope = Scope::new();
                scope.push_constant("ctx", crate::convert::to_dynamic(&ctx_value));
                engine
                    .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
                    .map_err(|e| RunFailure::classify(&e, &limits))
                    .and_then(|value| answer(value, &limits))
            });
            let lines = ctx.take_logs();
            (result, lines, started.elapsed().as_millis() as u64)
        })
        .await?;
    let execution = Execution {
        id: execution_id,
        result,
        duration_ms,
    };
    let log = log_of(script, &execution, lines, invocation.summary, started_at);
    logs::record(services, &script.org_id, &log).await;
    crate::EXECUTIONS.inc(&[log.status.as_str()]);
    Ok(execution)
}

fn log_of(
    script: &Script,
    execution: &Execution,
    lines: Vec<LogLine>,
    request: RequestSummary,
    started_at: i64,
) -> ExecutionLog {
    let (status, error, status_code) = match &execution.result {
        Ok(answer) => (RunStatus::Ok, None, Some(answer.status)),
        Err(f) => (
            match f {
                RunFailure::Thrown { .. } | RunFailure::Runtime { .. } => RunStatus::Error,
                RunFailure::LimitExceeded { .. } => RunStatus::LimitExceeded,
                RunFailure::Timeout { .. } => RunStatus::Timeout,
            },
            Some(f.to_string()),
            None,
        ),
    };
    ExecutionLog {
        execution_id: execution.id.clone(),
        script_id: script.id.clone(),
        status,
        duration_ms: execution.duration_ms,
        logs: lines,
        error,
        status_code,
        request,
        started_at,
    }
}

fn bad_answer(message: impl Into<String>) -> RunFailure {
    RunFailure::Runtime {
        message: message.into(),
        position: None,
    }
}

/// A map with `statusCode` is an HTTP answer (`headers` and `body` optional);
/// anything else is a 200 with the value as JSON.
fn answer(value: Dynamic, limits: &Limits) -> Result<Answer, RunFailure> {
    let too_large = || RunFailure::LimitExceeded {
        knob: Knob::MaxOutputBytes.name(),
        limit: limits.max_output_bytes,
    };
    let mut map = match value.clone().try_cast::<rhai::Map>() {
        Some(map) if map.contains_key("statusCode") => map,
        _ => {
            let json = crate::convert::to_json(&value).map_err(bad_answer)?;
            let size = serde_json::to_vec(&json).map(|v| v.len()).unwrap_or(0);
            if size as u64 > limits.max_output_bytes {
                return Err(too_large());
            }
            return Ok(Answer {
                status: 200,
                headers: vec![],
                body: Body::Json(json),
            });
        }
    };
    for key in map.keys() {
        if !["statusCode", "headers", "body"].contains(&key.as_str()) {
            return Err(bad_answer(format!(
                "an answer map holds statusCode, headers and body, not `{key}`"
            )));
        }
    }
    let status = map
        .remove("statusCode")
        .and_then(|s| s.as_int().ok())
        .filter(|s| (200..=599).contains(s))
        .ok_or_else(|| bad_answer("`statusCode` must be an integer from 200 to 599"))?
        as u16;
    let mut headers = vec![];
    if let Some(h) = map.remove("headers").filter(|h| !h.is_unit()) {
        let h = h
            .try_cast::<rhai::Map>()
            .ok_or_else(|| bad_answer("`headers` must be a map of names to strings"))?;
        for (name, value) in h {
            let name = name.to_ascii_lowercase();
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            let value = if value.is_string() {
                value.into_string().unwrap_or_default()
            } else {
                value.to_string()
            };
            if !valid_name || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(bad_answer(format!(
                    "the header `{name}` is not a valid header"
                )));
            }
            if ["content-length", "transfer-encoding", "connection"].contains(&name.as_str()) {
                continue;
            }
            headers.push((name, value));
        }
    }
    let body = match map.remove("body") {
        None => Body::Empty,
        Some(b) if b.is_unit() => Body::Empty,
        Some(b) if b.is_string() => Body::Text(b.into_string().unwrap_or_default()),
        Some(b) => Body::Json(crate::convert::to_json(&b).map_err(bad_answer)?),
    };
    let size = match &body {
        Body::Json(v) => serde_json::to_vec(v).map(|v| v.len()).unwrap_or(0),
        Body::Text(t) => t.len(),
        Body::Empty => 0,
    };
    if size as u64 > limits.max_output_bytes {
        return Err(too_large());
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}
