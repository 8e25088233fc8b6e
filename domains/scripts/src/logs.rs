//! Execution logs: one record per run (status, duration, the lines the script
//! logged, the error, a summary of the request), kept for the configured
//! retention and then expired by the store's TTL. Writing one never changes the
//! run's answer: a failure is logged and dropped.

use crate::access::{Actor, AppRole};
use crate::context::LogLine;
use crate::error::ScriptsResult;
use crate::keys;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::{ExecutionId, OrgId, ScriptId};
use skiff_core::ports::store::{NewItem, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Ok,
    Error,
    Timeout,
    LimitExceeded,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Error => "error",
            RunStatus::Timeout => "timeout",
            RunStatus::LimitExceeded => "limit_exceeded",
        }
    }
}

/// What started a run, and the request's shape (never its body or headers'
/// values: they may carry secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestSummary {
    /// `execute`, `route`, `async`, or a trigger kind.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<String>,
}

/// One run's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionLog {
    pub execution_id: ExecutionId,
    pub script_id: ScriptId,
    pub status: RunStatus,
    pub duration_ms: u64,
    pub logs: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    pub request: RequestSummary,
    /// Unix seconds.
    pub started_at: i64,
}

/// Store a run's record (failures are logged, never returned).
pub async fn record(services: &Services, org: &OrgId, log: &ExecutionLog) {
    let retention = i64::from(crate::settings(services).log_retention_days) * 86_400;
    let item = match NewItem::from_record(keys::log(org, &log.script_id, &log.execution_id), log) {
        Ok(item) => item.expires_at(log.started_at + retention),
        Err(e) => {
            tracing::warn!(error = %e, "execution log does not serialize");
            return;
        }
    };
    if let Err(e) = services.store.put(item, None).await {
        tracing::warn!(execution = %log.execution_id, error = %e, "could not record an execution log");
    }
}

/// One page of a script's logs, newest first (`viewer`).
pub async fn page(
    services: &Services,
    actor: &Actor,
    script: &ScriptId,
    limit: usize,
    position: Option<String>,
) -> ScriptsResult<(Vec<ExecutionLog>, Option<String>)> {
    let store = services.store.as_ref();
    let (script, _, _) = crate::scripts::require(store, actor, script, AppRole::Viewer).await?;
    let page = store
        .query(
            Query::partition(keys::logs_pk(&script.org_id, &script.id))
                .descending()
                .limit(limit)
                .after(position),
        )
        .await?;
    let logs = page
        .items
        .iter()
        .map(|i| i.parse())
        .collect::<Result<_, _>>()?;
    Ok((logs, page.next))
}
