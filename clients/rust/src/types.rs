//! Request and answer types of the API, as the client reads them. Timestamps are
//! RFC 3339 strings as the server sends them. Answers ignore members this version
//! does not know, so a newer server does not break an older client.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// An access and refresh token pair (`POST /auth/login`, `/auth/refresh`).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// The signed-in user (`GET /auth/me`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub full_name: String,
    pub created_at: String,
    pub org: OrgSummary,
    #[serde(default)]
    pub platform_admin: bool,
}

/// The organization a token acts in.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    pub role: String,
}

/// A license as its org's members see it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct License {
    pub id: String,
    pub key: String,
    pub org_id: String,
    pub plan_id: String,
    pub tier: String,
    pub status: String,
    #[serde(default)]
    pub features: Vec<String>,
    /// `-1`: unlimited.
    pub max_seats: i64,
    pub seats_used: i64,
    /// `None` when unlimited.
    pub seats_remaining: Option<i64>,
    pub issued_at: String,
    pub expires_at: String,
    pub grace_period_ends_at: Option<String>,
    #[serde(default)]
    pub hardware_ids: Vec<String>,
}

/// A page of licenses.
#[derive(Debug, Clone, Deserialize)]
pub struct LicensePage {
    pub licenses: Vec<License>,
    pub next_cursor: Option<String>,
}

/// The answer of `POST /licenses/validate` (always 200 for a well-formed key).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Validation {
    pub valid: bool,
    /// `VALID`, `GRACE_PERIOD`, `NOT_FOUND`, `SUSPENDED`, `EXPIRED`, `INACTIVE`,
    /// `HARDWARE_MISMATCH`.
    pub code: String,
    pub detail: String,
    pub license: Option<ValidationLicense>,
}

/// What validation discloses to a key holder.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ValidationLicense {
    pub status: String,
    pub tier: String,
    pub expires_at: String,
    pub grace_period_ends_at: Option<String>,
    pub seats_used: i64,
    pub max_seats: i64,
}

/// The answer of `POST /licenses/activate`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Activation {
    pub license_id: String,
    pub hardware_id: String,
    pub status: String,
    pub activated_at: String,
    /// `false` when the machine was already bound.
    pub newly_activated: bool,
}

/// The answer of `GET /licenses/{key}/status`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct KeyStatus {
    pub status: String,
    pub code: String,
    pub expires_at: String,
    pub grace_period_ends_at: Option<String>,
}

/// A seat: the answer of `POST /licenses/acquire`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Seat {
    pub session_id: String,
    /// The seat token (EdDSA JWT) every heartbeat and the release present.
    pub signed_token: String,
    pub expires_at: String,
    /// Seconds between heartbeats, as the server asks.
    pub heartbeat_interval: u64,
    pub license_id: String,
    /// The machine already held this session: refreshed, no new seat used.
    #[serde(default)]
    pub refreshed: bool,
}

/// The answer of a heartbeat.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Heartbeat {
    pub session_id: String,
    pub expires_at: String,
    pub heartbeat_interval: u64,
}

/// The license-file verification key (`GET /licenses/public-key`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PublicKeyInfo {
    pub alg: String,
    pub kid: String,
    /// The 32-byte raw key, standard base64.
    pub public_key: String,
    pub public_key_hex: String,
    pub public_key_pem: String,
}

/// A stored record (`POST /storage/records`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RecordCreated {
    pub id: String,
    pub table: String,
    pub size: u64,
    pub checksum: String,
    pub created_at: String,
}

/// A replaced record (`PUT /storage/records/{id}`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RecordUpdated {
    pub id: String,
    pub size: u64,
    pub checksum: String,
    pub updated_at: String,
}

/// A record's metadata in a listing.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RecordMeta {
    pub id: String,
    pub table: String,
    pub size: u64,
    pub checksum: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A page of records.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordPage {
    pub records: Vec<RecordMeta>,
    pub next_cursor: Option<String>,
}

/// A stored backup (`PUT /backup`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BackupCreated {
    pub id: String,
    pub size: u64,
    pub checksum: String,
    pub created_at: String,
}

/// A kept backup (`GET /backup/history`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BackupMeta {
    pub id: String,
    pub size: u64,
    pub checksum: String,
    pub created_at: String,
    /// The client's timestamp, unix milliseconds.
    pub timestamp: i64,
    pub version: String,
}

/// The newest backup's bytes and labels (`GET /backup`).
#[derive(Debug, Clone)]
pub struct Backup {
    pub bytes: Vec<u8>,
    pub version: String,
    /// Unix milliseconds.
    pub timestamp: i64,
    pub checksum: String,
}

/// One vector to upsert: the client's embedding (or none: a vector derived from
/// the blob's SHA-256, which finds exact duplicates only) and the item's ciphertext.
#[derive(Debug, Clone)]
pub struct VectorItem {
    pub id: String,
    pub blob: Vec<u8>,
    pub vector: Option<Vec<f32>>,
}

/// A search hit: the item's id, cosine score and ciphertext.
#[derive(Debug, Clone)]
pub struct VectorHit {
    pub id: String,
    pub score: f32,
    pub blob: Vec<u8>,
}

/// A memory to store (AutoMem's `POST /memory`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewMemory {
    pub content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance: Option<f64>,
    /// AutoMem's memory type (`Decision`, `Pattern`, …); classified when absent.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// The client's own embedding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
}

impl NewMemory {
    pub fn new(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            ..Self::default()
        }
    }

    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    pub fn importance(mut self, importance: f64) -> Self {
        self.importance = Some(importance);
        self
    }
}

/// The answer of storing a memory.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StoredMemory {
    pub memory_id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub confidence: Option<f64>,
    /// The whole answer (AutoMem's extra members).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// A stored memory.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Memory {
    pub id: String,
    pub content: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub importance: Option<f64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub timestamp: Option<String>,
    #[serde(default)]
    pub metadata: Value,
}

/// What to recall (AutoMem's `GET /recall`).
#[derive(Debug, Clone, Default)]
pub struct RecallQuery {
    pub query: Option<String>,
    pub tags: Vec<String>,
    pub limit: Option<u32>,
}

impl RecallQuery {
    pub fn text(query: impl Into<String>) -> Self {
        Self {
            query: Some(query.into()),
            ..Self::default()
        }
    }
}

/// One recalled memory with its score.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RecallHit {
    pub id: String,
    pub final_score: f64,
    pub memory: Memory,
    /// The whole hit (score components, relations, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// A scripts app: the isolation unit of scripts inside an org (`/apps`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct App {
    pub id: String,
    pub name: String,
    /// `[a-z0-9-]{3,40}`, unique across the deployment: the app's `/run/{slug}/…`.
    pub slug: String,
    /// The caller's role in the app: `viewer`, `editor` or `app_admin`.
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A page of apps.
#[derive(Debug, Clone, Deserialize)]
pub struct AppPage {
    pub apps: Vec<App>,
    pub next_cursor: Option<String>,
}

/// What a script is: run (by `execute`, routes and triggers) or imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptKind {
    #[default]
    Endpoint,
    /// Constants, functions and imports only, for other scripts of the app to
    /// `import "name" as m;`.
    Module,
}

impl ScriptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Endpoint => "endpoint",
            ScriptKind::Module => "module",
        }
    }
}

/// A saved script.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Script {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub kind: ScriptKind,
    pub source: String,
    /// The limits the script asked for (`timeout_ms`, `max_operations`, …); the
    /// rest are the deployment's defaults.
    #[serde(default)]
    pub sandbox: BTreeMap<String, u64>,
    /// Bumped on every save.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// What a script is saved from (`POST /apps/{app}/scripts`, `PUT /scripts/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct ScriptDraft {
    /// `[A-Za-z0-9_-]{1,64}`, unique in the app.
    pub name: String,
    /// Rhai source, compiled by the server when saved (a syntax error is a 422
    /// `COMPILE_ERROR`; [`crate::Error::source_position`] gives its line and column).
    pub source: String,
    pub kind: ScriptKind,
    /// Limits of its own, up to the deployment's ceilings.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sandbox: BTreeMap<String, u64>,
}

impl ScriptDraft {
    pub fn endpoint(name: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
            kind: ScriptKind::Endpoint,
            sandbox: BTreeMap::new(),
        }
    }

    pub fn module(name: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            kind: ScriptKind::Module,
            ..Self::endpoint(name, source)
        }
    }
}

/// A page of an app's scripts, by name.
#[derive(Debug, Clone, Deserialize)]
pub struct ScriptPage {
    pub scripts: Vec<Script>,
    pub next_cursor: Option<String>,
}

/// The method a user route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RouteMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    /// Every method.
    Any,
}

impl RouteMethod {
    pub const ALL: [RouteMethod; 8] = [
        RouteMethod::Get,
        RouteMethod::Post,
        RouteMethod::Put,
        RouteMethod::Patch,
        RouteMethod::Delete,
        RouteMethod::Head,
        RouteMethod::Options,
        RouteMethod::Any,
    ];

    /// Case-insensitive: `get`, `POST`, `any`.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(raw))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouteMethod::Get => "GET",
            RouteMethod::Post => "POST",
            RouteMethod::Put => "PUT",
            RouteMethod::Patch => "PATCH",
            RouteMethod::Delete => "DELETE",
            RouteMethod::Head => "HEAD",
            RouteMethod::Options => "OPTIONS",
            RouteMethod::Any => "ANY",
        }
    }
}

/// Whether a route answers with the script's answer (`sync`) or queues the run
/// and answers 202 with its execution id (`async`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dispatch {
    #[default]
    Sync,
    Async,
}

impl Dispatch {
    pub fn as_str(self) -> &'static str {
        match self {
            Dispatch::Sync => "sync",
            Dispatch::Async => "async",
        }
    }
}

/// A user route: requests to `/run/{slug}{path}` (and the app's claimed hosts)
/// run its script.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Route {
    pub id: String,
    pub script_id: String,
    pub method: RouteMethod,
    /// `/exact`, `/with/:param` or `/prefix/*`.
    pub path: String,
    /// Served only at this claimed host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub dispatch: Dispatch,
    pub created_at: String,
}

/// A new route (`POST /scripts/{id}/routes`).
#[derive(Debug, Clone, Serialize)]
pub struct RouteDraft {
    pub method: RouteMethod,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub dispatch: Dispatch,
}

/// What a script answered to `POST /scripts/{id}/execute`: its status, headers
/// and body, whatever the status (a script may answer 404 on purpose).
#[derive(Debug, Clone, Serialize)]
pub struct ScriptAnswer {
    pub execution_id: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: AnswerBody,
}

/// A script's answer body: JSON when it says so, else text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnswerBody {
    Json(Value),
    Text(String),
    Empty,
}

/// One line a script logged.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogLine {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
}

/// One run of a script.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ExecutionLog {
    pub execution_id: String,
    pub script_id: String,
    /// `ok`, `error`, `timeout` or `limit_exceeded`.
    pub status: String,
    pub duration_ms: u64,
    #[serde(default)]
    pub logs: Vec<LogLine>,
    pub error: Option<String>,
    /// The status the script answered with.
    pub status_code: Option<u16>,
    /// What started the run: `{source: execute | route | async | <trigger kind>,
    /// method, path, body_bytes, trigger_id}`.
    pub request: Value,
    pub started_at: String,
}

/// A page of a script's execution logs, newest first.
#[derive(Debug, Clone, Deserialize)]
pub struct LogPage {
    pub logs: Vec<ExecutionLog>,
    pub next_cursor: Option<String>,
}
