//! Triggers: what runs an endpoint script when an app's data changes (kv, docs,
//! files), on a schedule (cron), on a topic (pubsub) or when another trigger's
//! message dead-letters.
//!
//! Delivery: the change and its trigger messages are written together. The SDK
//! stages the messages (`outbox::Staged`) in the same store transaction as the
//! mutation, on SQLite and on DynamoDB alike; after the commit they are sent to
//! the queue, and what a crash leaves staged the `relay_outbox` job sends later.
//! The consumer claims each envelope id, so a message runs its script once however
//! often it is delivered. A failed run is retried by a new message (delayed by
//! the trigger's backoff) until `max_attempts`, then dead-lettered
//! ([`crate::dead_letters`]). A trigger runs as the member who registered it,
//! whose role is checked again at every run. Chains stop at the configured depth.

use crate::access::{self, Actor, AppRole};
use crate::context::{AppRef, Principal};
use crate::error::{ScriptsError, ScriptsResult};
use crate::keys;
use crate::logs::RequestSummary;
use crate::model::{App, ScriptKind};
use crate::run::{self, Invocation, RunRequest};
use crate::sandbox::RunFailure;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::config::ConfigError;
use skiff_core::ids::{ApiKeyId, AppId, OrgId, ScriptId, TriggerId, UserId};
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message, Staged};
use skiff_core::ports::store::{Condition, IndexKey, ItemStore, NewItem, Query, StoreError, Write};
use std::time::Duration;

/// Most triggers of one kind an app may have (a change's messages are written in
/// one transaction with it).
pub const MAX_PER_KIND: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Kv,
    Docs,
    Files,
    Cron,
    Pubsub,
    DeadLetter,
}

impl TriggerKind {
    pub const ALL: [TriggerKind; 6] = [
        TriggerKind::Kv,
        TriggerKind::Docs,
        TriggerKind::Files,
        TriggerKind::Cron,
        TriggerKind::Pubsub,
        TriggerKind::DeadLetter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Kv => "kv",
            TriggerKind::Docs => "docs",
            TriggerKind::Files => "files",
            TriggerKind::Cron => "cron",
            TriggerKind::Pubsub => "pubsub",
            TriggerKind::DeadLetter => "dead_letter",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// A data change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    Exponential,
    Linear,
    Constant,
}

/// How a trigger's failed runs are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetryPolicy {
    /// Runs in all, the first included (1 to 20).
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// The first retry's delay (100 ms to 15 min).
    pub base_delay_ms: u64,
}

impl RetryPolicy {
    pub const MAX_ATTEMPTS: u32 = 20;

    pub fn from_vars(
        attempts: Option<&str>,
        backoff: Option<&str>,
        base: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let bad = |variable: &'static str, reason: String| ConfigError { variable, reason };
        let policy = Self {
            max_attempts: match attempts {
                None => 3,
                Some(raw) => raw.parse().map_err(|_| {
                    bad(
                        "SKIFF_SCRIPTS_TRIGGER_MAX_ATTEMPTS",
                        format!("`{raw}` is not an integer"),
                    )
                })?,
            },
            backoff: match backoff {
                None | Some("exponential") => Backoff::Exponential,
                Some("linear") => Backoff::Linear,
                Some("constant") => Backoff::Constant,
                Some(other) => {
                    return Err(bad(
                        "SKIFF_SCRIPTS_TRIGGER_BACKOFF",
                        format!("`{other}` is not one of exponential, linear, constant"),
                    ));
                }
            },
            base_delay_ms: match base {
                None => 1000,
                Some(raw) => raw.parse().map_err(|_| {
                    bad(
                        "SKIFF_SCRIPTS_TRIGGER_BASE_DELAY_MS",
                        format!("`{raw}` is not an integer"),
                    )
                })?,
            },
        };
        policy.check().map_err(|(field, reason)| {
            bad(
                if field == "max_attempts" {
                    "SKIFF_SCRIPTS_TRIGGER_MAX_ATTEMPTS"
                } else {
                    "SKIFF_SCRIPTS_TRIGGER_BASE_DELAY_MS"
                },
                reason,
            )
        })?;
        Ok(policy)
    }

    /// The bounds, as (field, reason).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1..=Self::MAX_ATTEMPTS).contains(&self.max_attempts) {
            return Err((
                "max_attempts",
                format!("max_attempts is 1 to {}", Self::MAX_ATTEMPTS),
            ));
        }
        if !(100..=900_000).contains(&self.base_delay_ms) {
            return Err((
                "base_delay_ms",
                "base_delay_ms is 100 to 900000 (15 minutes)".into(),
            ));
        }
        Ok(())
    }

    /// The delay before the run after `failed` failed runs, with jitter (half of
    /// it random), at most the queue's longest delay.
    pub fn delay(&self, failed: u32) -> Duration {
        let n = u64::from(failed.max(1));
        let ms = match self.backoff {
            Backoff::Exponential => self.base_delay_ms.saturating_mul(1u64 << (n - 1).min(20)),
            Backoff::Linear => self.base_delay_ms.saturating_mul(n),
            Backoff::Constant => self.base_delay_ms,
        };
        let ms = ms.min(skiff_core::ports::queue::MAX_DELAY.as_millis() as u64);
        let half = ms / 2;
        Duration::from_millis(half + rand::random_range(0..=half))
    }
}

/// Who registered a trigger (its runs act as them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<ApiKeyId>,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub id: TriggerId,
    pub org_id: OrgId,
    pub app_id: AppId,
    pub script_id: ScriptId,
    pub kind: TriggerKind,
    /// kv, docs, files: `*`, `prefix*` or an exact collection name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// kv, docs, files: the changes that fire it (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<Op>,
    /// cron: a 6-field expression (seconds first) and its IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// cron: the next occurrence (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<i64>,
    /// pubsub: `a.b.c`, `prefix.*` or `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    pub retry: RetryPolicy,
    pub owner: Owner,
    pub created_at: i64,
}

/// What a new trigger is made of (the kind fields checked by [`create`]).
#[derive(Debug, Clone)]
pub struct TriggerDraft {
    pub kind: TriggerKind,
    pub script_id: ScriptId,
    pub collection: Option<String>,
    pub ops: Vec<Op>,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub topic: Option<String>,
    pub retry: Option<RetryPolicy>,
}

/// `*`, `prefix*` or an exact name.
pub fn glob_matches(glob: &str, name: &str) -> bool {
    match glob.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => glob == name,
    }
}

fn check_glob(glob: &str) -> Result<(), String> {
    let body = glob.strip_suffix('*').unwrap_or(glob);
    if body.contains('*') {
        return Err("a collection pattern is `*`, `prefix*` or a name".into());
    }
    if !body.is_empty() {
        crate::data::check_collection(body).map_err(|e| e.to_string())?;
    }
    if glob.is_empty() {
        return Err("a collection pattern must not be empty".into());
    }
    Ok(())
}

/// A topic: 1 to 8 dot-separated segments of `[A-Za-z0-9_-]`.
pub fn check_topic(topic: &str) -> Result<(), String> {
    let ok = topic.len() <= 255
        && topic.split('.').count() <= 8
        && topic.split('.').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{topic}` is not a topic (1 to 8 dot-separated segments of A-Z a-z 0-9 _ -)"
        ))
    }
}

/// A topic pattern: a topic, `prefix.*` or `*` (no wildcard mid-pattern).
pub fn check_topic_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    let body = pattern.strip_suffix(".*").unwrap_or(pattern);
    if body.contains('*') {
        return Err(format!(
            "`{pattern}`: a wildcard only ends a pattern (`prefix.*`) or is the whole of it (`*`)"
        ));
    }
    check_topic(body)
}

pub fn topic_matches(pattern: &str, topic: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => topic
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => pattern == topic,
    }
}

fn sk(kind: TriggerKind, id: &TriggerId) -> String {
    format!("TRIGGER#{}#{id}", kind.as_str())
}

fn key(
    org: &OrgId,
    app: &AppId,
    kind: TriggerKind,
    id: &TriggerId,
) -> skiff_core::ports::store::Key {
    skiff_core::ports::store::Key::new(keys::app_pk(org, app), sk(kind, id))
}

/// The cron index: due triggers across every app, by their next occurrence.
pub const CRON_DUE_PK: &str = "SCRIPTS#CRON#DUE";

fn cron_index(next_at: i64, id: &TriggerId) -> IndexKey {
    IndexKey::new(CRON_DUE_PK, format!("{next_at:012}#{id}"))
}

fn item(trigger: &Trigger) -> Result<NewItem, StoreError> {
    let mut item = NewItem::from_record(
        key(&trigger.org_id, &trigger.app_id, trigger.kind, &trigger.id),
        trigger,
    )?;
    if let Some(next) = trigger.next_at {
        item = item.index(cron_index(next, &trigger.id));
    }
    Ok(item)
}

/// Register a trigger (`app_admin`). Its script must be an endpoint of the app.
pub async fn create(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    draft: TriggerDraft,
) -> ScriptsResult<Trigger> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::AppAdmin).await?;
    let script = crate::scripts::load(store, &app.org_id, &draft.script_id)
        .await?
        .filter(|s| s.app_id == app.id)
        .ok_or_else(|| {
            ScriptsError::invalid("script_id", "UNKNOWN_SCRIPT", "no such script in this app")
        })?;
    if script.kind != ScriptKind::Endpoint {
        return Err(ScriptsError::NotAnEndpoint(script.name.to_string()));
    }
    let mut problems = vec![];
    let mut field = |f: &str, code: &'static str, m: String| {
        problems.push(crate::FieldProblem::new(f, code, m))
    };
    let mut next_at = None;
    match draft.kind {
        TriggerKind::Kv | TriggerKind::Docs | TriggerKind::Files => match &draft.collection {
            None => field("collection", "REQUIRED", "`collection` is required".into()),
            Some(c) => {
                if let Err(m) = check_glob(c) {
                    field("collection", "INVALID_COLLECTION", m)
                }
            }
        },
        TriggerKind::Cron => {
            let tz = draft.timezone.as_deref().unwrap_or("UTC");
            match (&draft.schedule, crate::cron::parse_zone(tz)) {
                (None, _) => field("schedule", "REQUIRED", "`schedule` is required".into()),
                (_, Err(m)) => field("timezone", "INVALID_TIMEZONE", m),
                (Some(expr), Ok(zone)) => match crate::cron::Schedule::parse(expr, zone) {
                    Err(m) => field("schedule", "INVALID_SCHEDULE", m),
                    Ok(schedule) => match schedule.next_after(services.clock.unix()) {
                        Some(n) => next_at = Some(n),
                        None => field(
                            "schedule",
                            "INVALID_SCHEDULE",
                            "the schedule never fires again".into(),
                        ),
                    },
                },
            }
        }
        TriggerKind::Pubsub => match &draft.topic {
            None => field("topic", "REQUIRED", "`topic` is required".into()),
            Some(t) => {
                if let Err(m) = check_topic_pattern(t) {
                    field("topic", "INVALID_TOPIC", m)
                }
            }
        },
        TriggerKind::DeadLetter => {}
    }
    let retry = draft
        .retry
        .unwrap_or(crate::settings(services).trigger_retry);
    if let Err((f, m)) = retry.check() {
        field(&format!("retry.{f}"), "OUT_OF_RANGE", m);
    }
    if !problems.is_empty() {
        return Err(ScriptsError::Invalid(problems));
    }
    if of_kind(store, &app.org_id, &app.id, draft.kind)
        .await?
        .len()
        >= MAX_PER_KIND
    {
        return Err(ScriptsError::invalid(
            "kind",
            "TOO_MANY_TRIGGERS",
            format!("an app has at most {MAX_PER_KIND} triggers of one kind"),
        ));
    }
    let timezone = (draft.kind == TriggerKind::Cron)
        .then(|| draft.timezone.clone().unwrap_or_else(|| "UTC".into()));
    let trigger = Trigger {
        id: TriggerId::new(),
        org_id: app.org_id.clone(),
        app_id: app.id.clone(),
        script_id: script.id,
        kind: draft.kind,
        collection: draft.collection,
        ops: draft.ops,
        schedule: draft.schedule,
        timezone,
        next_at,
        topic: draft.topic,
        retry,
        owner: Owner {
            user_id: actor.user_id.clone(),
            api_key_id: actor.api_key_id.clone(),
        },
        created_at: services.clock.unix(),
    };
    store.put(item(&trigger)?, Some(Condition::Absent)).await?;
    tracing::info!(trigger = %trigger.id, kind = trigger.kind.as_str(), "trigger created");
    Ok(trigger)
}

/// An app's triggers of one kind (strongly consistent: the app's own partition).
pub async fn of_kind(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
    kind: TriggerKind,
) -> Result<Vec<Trigger>, StoreError> {
    let page = store
        .query(
            Query::partition(keys::app_pk(org, app))
                .prefix(format!("TRIGGER#{}#", kind.as_str()))
                .limit(MAX_PER_KIND + 10),
        )
        .await?;
    page.items.iter().map(|i| i.parse()).collect()
}

/// Every trigger of an app, optionally of one kind (`viewer`).
pub async fn list(
    store: &dyn ItemStore,
    actor: &Actor,
    app_ref: &str,
    kind: Option<TriggerKind>,
) -> ScriptsResult<Vec<Trigger>> {
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Viewer).await?;
    let mut out = vec![];
    for k in TriggerKind::ALL
        .into_iter()
        .filter(|k| kind.is_none_or(|x| x == *k))
    {
        out.extend(of_kind(store, &app.org_id, &app.id, k).await?);
    }
    Ok(out)
}

async fn find(store: &dyn ItemStore, app: &App, id: &TriggerId) -> ScriptsResult<Trigger> {
    for kind in TriggerKind::ALL {
        if let Some(item) = store.get(&key(&app.org_id, &app.id, kind, id)).await? {
            return Ok(item.parse()?);
        }
    }
    Err(ScriptsError::NotFound("trigger"))
}

/// One trigger (`viewer`).
pub async fn get(
    store: &dyn ItemStore,
    actor: &Actor,
    app_ref: &str,
    id: &TriggerId,
) -> ScriptsResult<Trigger> {
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Viewer).await?;
    find(store, &app, id).await
}

/// Delete a trigger (`app_admin`); messages already queued for it are dropped.
pub async fn delete(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    id: &TriggerId,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::AppAdmin).await?;
    let t = find(store, &app, id).await?;
    store
        .delete(&key(&app.org_id, &app.id, t.kind, id), None)
        .await?;
    Ok(())
}

/// Triggers that run `script`.
pub(crate) async fn of_script(
    store: &dyn ItemStore,
    app: &App,
    script: &ScriptId,
) -> Result<Vec<Trigger>, StoreError> {
    let mut out = vec![];
    for kind in TriggerKind::ALL {
        out.extend(
            of_kind(store, &app.org_id, &app.id, kind)
                .await?
                .into_iter()
                .filter(|t| &t.script_id == script),
        );
    }
    Ok(out)
}

pub(crate) async fn remove_all(
    store: &dyn ItemStore,
    triggers: &[Trigger],
) -> Result<(), StoreError> {
    for t in triggers {
        store
            .delete(&key(&t.org_id, &t.app_id, t.kind, &t.id), None)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Messages and their runs.
// ---------------------------------------------------------------------------

/// One run of a trigger, as it travels the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerRun {
    pub org_id: OrgId,
    pub app_id: AppId,
    pub trigger_id: TriggerId,
    pub kind: TriggerKind,
    /// `ctx.event`.
    pub event: Value,
    /// The chain's depth: 1 for a change made by a request.
    pub depth: u32,
    /// 1 for the first run.
    pub attempt: u32,
    /// The first message's id (retries are `<root>.<attempt>`).
    pub root_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_failure_at: Option<i64>,
    /// The dead letter a replay came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<skiff_core::ids::DeadLetterId>,
}

impl Message for TriggerRun {
    const KIND: &'static str = "script_trigger";
}

/// The staged messages for a change at chain depth `depth`, one per trigger it
/// fires; their ids derive from `id_base`, so the same change staged twice fails
/// its transaction rather than running twice. Beyond the depth limit nothing is
/// staged (the chain stops here, logged, never dead-lettered).
pub(crate) fn stage(
    services: &Services,
    triggers: &[Trigger],
    depth: u32,
    id_base: &str,
    event: &Value,
    not_before: Option<i64>,
) -> ScriptsResult<Vec<Staged>> {
    if triggers.is_empty() {
        return Ok(vec![]);
    }
    let max = crate::settings(services).trigger_max_depth;
    if depth > max {
        tracing::warn!(
            depth,
            max,
            triggers = triggers.len(),
            "trigger chain stopped at its depth limit"
        );
        crate::context::log_line(
            crate::context::Level::Warn,
            &format!(
                "{} trigger(s) not fired: the chain reached its depth limit ({max})",
                triggers.len()
            ),
        );
        return Ok(vec![]);
    }
    let now = services.clock.unix();
    triggers
        .iter()
        .map(|t| {
            let id = format!("{id_base}.{}", t.id);
            let run = TriggerRun {
                org_id: t.org_id.clone(),
                app_id: t.app_id.clone(),
                trigger_id: t.id.clone(),
                kind: t.kind,
                event: event.clone(),
                depth,
                attempt: 1,
                root_id: id.clone(),
                first_failure_at: None,
                replay_of: None,
            };
            Ok(Staged {
                envelope: envelope(id, &run, now)?,
                not_before: not_before.unwrap_or(now),
            })
        })
        .collect()
}

pub(crate) fn envelope(id: String, run: &TriggerRun, now: i64) -> ScriptsResult<Envelope> {
    Ok(Envelope {
        id,
        kind: TriggerRun::KIND.to_owned(),
        payload: serde_json::to_value(run)
            .map_err(|e| ScriptsError::Conflict(format!("trigger message: {e}")))?,
        created_at: now,
    })
}

/// Stage writes for a transaction.
pub(crate) fn writes(staged: &[Staged]) -> ScriptsResult<Vec<Write>> {
    staged
        .iter()
        .map(|s| s.write().map_err(ScriptsError::from))
        .collect()
}

/// The role a trigger's owner has in its app now (`None`: gone or no role).
async fn owner_role(services: &Services, t: &Trigger) -> Result<Option<AppRole>, StoreError> {
    let store = services.store.as_ref();
    let (user, can_write, api_key_id) = match (&t.owner.api_key_id, &t.owner.user_id) {
        (Some(key_id), _) => match skiff_identity::api_keys::get(store, &t.org_id, key_id).await? {
            Some(key) if key.app_id.as_ref().is_none_or(|a| a == &t.app_id) => (
                key.created_by.clone(),
                key.scopes.iter().any(|s| s == "scripts:write"),
                Some(key_id.clone()),
            ),
            _ => return Ok(None),
        },
        (None, Some(user)) => (user.clone(), true, None),
        (None, None) => return Ok(None),
    };
    let Some(membership) = skiff_identity::orgs::membership(store, &t.org_id, &user).await? else {
        return Ok(None);
    };
    let actor = Actor {
        org_id: t.org_id.clone(),
        user_id: Some(user),
        api_key_id,
        org_role: membership.role,
        can_write,
        bound_app: None,
    };
    access::role_in(store, &actor, &t.app_id).await
}

struct TriggerHandler;

#[async_trait]
impl Handler for TriggerHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let m: TriggerRun = outbox::payload(envelope)?;
        dispatch(services, &envelope.id, m)
            .await
            .map_err(HandlerError::new)
    }
}

pub(crate) fn register(registry: &mut outbox::Registry) {
    registry.register(TriggerRun::KIND, TriggerHandler);
}

/// Run one trigger message: the script as the trigger's owner, then a retry, a
/// dead letter, or (for a replay) the dead letter's update.
async fn dispatch(services: &Services, message_id: &str, m: TriggerRun) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let Some(trigger) = store
        .get(&key(&m.org_id, &m.app_id, m.kind, &m.trigger_id))
        .await?
        .map(|i| i.parse::<Trigger>())
        .transpose()?
    else {
        tracing::info!(trigger = %m.trigger_id, "message of a deleted trigger dropped");
        return Ok(());
    };
    let app: Option<App> = store
        .get(&keys::app(&m.org_id, &m.app_id))
        .await?
        .map(|i| i.parse())
        .transpose()?;
    let script = crate::scripts::load(store, &m.org_id, &trigger.script_id).await?;
    let (Some(app), Some(script)) = (app, script) else {
        tracing::info!(trigger = %m.trigger_id, "message of a deleted app or script dropped");
        return Ok(());
    };
    let failure = match owner_role(services, &trigger).await? {
        Some(role) if role >= AppRole::Editor => {
            let principal = Principal {
                user_id: trigger.owner.user_id.clone(),
                api_key_id: trigger.owner.api_key_id.as_ref().map(|k| k.to_string()),
                role: role.as_str().to_owned(),
            };
            let execution = run::run(
                services,
                &script,
                Invocation {
                    app: AppRef {
                        id: app.id.clone(),
                        slug: app.slug.to_string(),
                    },
                    principal: Some(principal),
                    request: RunRequest::default(),
                    event: Some(m.event.clone()),
                    depth: m.depth,
                    summary: RequestSummary {
                        source: format!("trigger:{}", m.kind.as_str()),
                        method: None,
                        path: None,
                        body_bytes: None,
                        trigger_id: Some(trigger.id.to_string()),
                    },
                    execution_id: None,
                },
            )
            .await;
            match execution {
                Ok(e) => match e.result {
                    Ok(_) => None,
                    Err(f) => Some((failure_text(&f), true)),
                },
                // Not a failure of the script: the outbox delivers it again.
                Err(ScriptsError::Busy) => return Err(ScriptsError::Busy),
                Err(e) => return Err(e),
            }
        }
        _ => Some((
            "the member who registered this trigger may no longer run scripts in the app".into(),
            false,
        )),
    };
    let Some((error, retryable)) = failure else {
        if let Some(dl) = &m.replay_of {
            crate::dead_letters::replayed(services, &m.org_id, &m.app_id, dl).await?;
        }
        return Ok(());
    };
    let now = services.clock.unix();
    if retryable && m.attempt < trigger.retry.max_attempts {
        let delay = trigger.retry.delay(m.attempt);
        let next = TriggerRun {
            attempt: m.attempt + 1,
            first_failure_at: Some(m.first_failure_at.unwrap_or(now)),
            ..m.clone()
        };
        let id = format!("{}.{}", m.root_id, next.attempt);
        let body = serde_json::to_string(&envelope(id, &next, now)?)
            .map_err(|e| ScriptsError::Conflict(e.to_string()))?;
        services.queue.send_delayed(body, delay).await?;
        tracing::info!(trigger = %trigger.id, attempt = m.attempt, delay_ms = delay.as_millis() as u64, "trigger run failed; retry scheduled");
        return Ok(());
    }
    crate::dead_letters::record(services, &trigger, &m, message_id, &error, now).await
}

fn failure_text(f: &RunFailure) -> String {
    let kind = match f {
        RunFailure::Thrown { .. } => "error",
        RunFailure::Runtime { .. } => "runtime error",
        RunFailure::LimitExceeded { .. } => "limit exceeded",
        RunFailure::Timeout { .. } => "timeout",
    };
    format!("{kind}: {f}")
}

/// The event of a data change.
pub(crate) fn change_event(
    kind: TriggerKind,
    collection: &str,
    key_field: &str,
    key: &str,
    op: Op,
    data: Option<Value>,
    prev: Option<Value>,
) -> Value {
    json!({
        "kind": kind.as_str(),
        "collection": collection,
        key_field: key,
        "op": op.as_str(),
        "data": data,
        "prev_data": prev,
    })
}

/// The app's triggers of `kind` that a change of `op` in `collection` fires.
pub(crate) async fn matching(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
    kind: TriggerKind,
    collection: &str,
    op: Op,
) -> Result<Vec<Trigger>, StoreError> {
    Ok(of_kind(store, org, app, kind)
        .await?
        .into_iter()
        .filter(|t| {
            t.collection
                .as_deref()
                .is_some_and(|g| glob_matches(g, collection))
                && (t.ops.is_empty() || t.ops.contains(&op))
        })
        .collect())
}

/// Re-index a cron trigger at its next occurrence, only if it is still at `seen`
/// (so two scheduler runs never both fire one occurrence).
pub(crate) fn advance_cron(t: &Trigger, seen: i64, next: i64) -> Result<Write, StoreError> {
    let mut moved = t.clone();
    moved.next_at = Some(next);
    Ok(Write::Put {
        item: item(&moved)?,
        condition: Some(Condition::attr(
            "next_at",
            skiff_core::ports::store::Cmp::Eq,
            seen,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_topic_patterns_match_as_documented() {
        assert!(glob_matches("*", "orders"));
        assert!(glob_matches("ord*", "orders"));
        assert!(!glob_matches("ord*", "invoices"));
        assert!(glob_matches("orders", "orders"));
        assert!(!glob_matches("orders", "orders2"));
        assert!(check_topic_pattern("orders.*").is_ok());
        assert!(check_topic_pattern("*").is_ok());
        assert!(check_topic_pattern("a.b.c").is_ok());
        assert!(check_topic_pattern("a.*.c").is_err());
        assert!(check_topic_pattern("a*").is_err());
        assert!(topic_matches("orders.*", "orders.created"));
        assert!(topic_matches("orders.*", "orders.eu.created"));
        assert!(!topic_matches("orders.*", "orders"));
        assert!(!topic_matches("orders.*", "ordersx.created"));
        assert!(topic_matches("*", "anything.at.all"));
        assert!(topic_matches("a.b", "a.b"));
        assert!(check_topic("a..b").is_err());
    }

    #[test]
    fn backoff_grows_as_its_kind_says_within_jitter() {
        let p = |backoff| RetryPolicy {
            max_attempts: 5,
            backoff,
            base_delay_ms: 1000,
        };
        for n in 1..=4u32 {
            let within = |d: Duration, full: u64| {
                d >= Duration::from_millis(full / 2) && d <= Duration::from_millis(full)
            };
            assert!(within(p(Backoff::Exponential).delay(n), 1000 << (n - 1)));
            assert!(within(p(Backoff::Linear).delay(n), 1000 * u64::from(n)));
            assert!(within(p(Backoff::Constant).delay(n), 1000));
        }
        assert!(p(Backoff::Exponential).delay(30) <= skiff_core::ports::queue::MAX_DELAY);
    }
}
