//! Dead letters: a trigger's message whose last attempt failed, with what it
//! carried and why it failed. An app's `dead_letter` triggers run on each one; a
//! failing dead-letter handler marks its dead letter `handler_failed` and is never
//! itself dead-lettered. Operators (and scripts) replay or resolve them; a replay
//! that succeeds resolves its dead letter. Kept for the configured retention.

use crate::access::{Actor, AppRole};
use crate::error::{ScriptsError, ScriptsResult};
use crate::keys;
use crate::triggers::{self, Trigger, TriggerKind, TriggerRun};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::{AppId, DeadLetterId, OrgId, ScriptId, TriggerId};
use skiff_core::outbox::{self, Staged};
use skiff_core::ports::store::{
    Change, Cmp, Condition, IndexKey, Key, NewItem, Query, StoreError, Write,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterStatus {
    Unresolved,
    /// A dead-letter handler failed on it; still open.
    HandlerFailed,
    Resolved,
}

impl DeadLetterStatus {
    pub fn is_open(self) -> bool {
        self != DeadLetterStatus::Resolved
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: DeadLetterId,
    pub org_id: OrgId,
    pub app_id: AppId,
    pub trigger_id: TriggerId,
    pub trigger_kind: TriggerKind,
    pub script_id: ScriptId,
    /// The event the runs carried.
    pub event: Value,
    pub error: String,
    pub attempts: u32,
    pub first_failure_at: i64,
    pub last_failure_at: i64,
    pub status: DeadLetterStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler_error: Option<String>,
    #[serde(default)]
    pub replays: u32,
    /// The chain depth of the failed message.
    pub depth: u32,
    pub created_at: i64,
}

fn pk(org: &OrgId, app: &AppId) -> String {
    format!("{}#DL", keys::app_pk(org, app))
}

fn key(org: &OrgId, app: &AppId, id: &DeadLetterId) -> Key {
    Key::new(pk(org, app), id.to_string())
}

/// The app's count of open dead letters.
fn counter(org: &OrgId, app: &AppId) -> Key {
    Key::new(keys::app_pk(org, app), "DLCOUNT")
}

/// Every dead letter by age, for the retention sweep.
pub const BY_AGE_PK: &str = "SCRIPTS#DL#BYAGE";

fn by_age(dl: &DeadLetter) -> IndexKey {
    IndexKey::new(
        BY_AGE_PK,
        format!(
            "{:012}#{}#{}#{}",
            dl.created_at, dl.org_id, dl.app_id, dl.id
        ),
    )
}

/// A dead letter's id derives from its message's root id, so recording the same
/// failure twice (a redelivery after a crash) writes one dead letter.
fn id_for(root_id: &str) -> DeadLetterId {
    let digest = skiff_core::ports::blobs::sha256_hex(root_id.as_bytes());
    DeadLetterId::parse(&format!("{}{}", DeadLetterId::PREFIX, &digest[..32]))
        .expect("32 lowercase hex digits")
}

fn count_change(delta: i64, org: &OrgId, app: &AppId) -> Write {
    Write::Update {
        key: counter(org, app),
        changes: vec![Change::Add("open".into(), delta)],
        condition: None,
    }
}

/// The JSON a dead-letter handler sees as `ctx.event.dead_letter`.
pub fn view(dl: &DeadLetter) -> Value {
    json!({
        "id": dl.id,
        "trigger_id": dl.trigger_id,
        "trigger_kind": dl.trigger_kind,
        "script_id": dl.script_id,
        "event": dl.event,
        "error": dl.error,
        "attempts": dl.attempts,
        "first_failure_at": dl.first_failure_at,
        "last_failure_at": dl.last_failure_at,
        "status": dl.status,
    })
}

/// After a message's last attempt: a new dead letter (and its handlers' runs, in
/// the same transaction), an update of the dead letter a replay came from, or,
/// for a failed dead-letter handler, its dead letter marked `handler_failed`.
pub(crate) async fn record(
    services: &Services,
    trigger: &Trigger,
    m: &TriggerRun,
    message_id: &str,
    error: &str,
    now: i64,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    if trigger.kind == TriggerKind::DeadLetter {
        let Some(dl_id) = m.event["dead_letter"]["id"]
            .as_str()
            .and_then(|i| DeadLetterId::parse(i).ok())
        else {
            return Ok(());
        };
        match store
            .update(
                &key(&m.org_id, &m.app_id, &dl_id),
                vec![
                    Change::set("status", "handler_failed"),
                    Change::set("handler_error", error),
                ],
                Some(Condition::attr("status", Cmp::Ne, "resolved")),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_condition_failed() => {}
            Err(e) => return Err(e.into()),
        }
        tracing::warn!(dead_letter = %dl_id, "dead-letter handler failed; marked handler_failed");
        return Ok(());
    }
    if let Some(dl_id) = &m.replay_of {
        match store
            .update(
                &key(&m.org_id, &m.app_id, dl_id),
                vec![
                    Change::set("error", error),
                    Change::set("last_failure_at", now),
                    Change::Add("attempts".into(), i64::from(m.attempt)),
                ],
                Some(Condition::Exists),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_condition_failed() => {}
            Err(e) => return Err(e.into()),
        }
        return Ok(());
    }
    let dl = DeadLetter {
        id: id_for(&m.root_id),
        org_id: m.org_id.clone(),
        app_id: m.app_id.clone(),
        trigger_id: trigger.id.clone(),
        trigger_kind: trigger.kind,
        script_id: trigger.script_id.clone(),
        event: m.event.clone(),
        error: error.to_owned(),
        attempts: m.attempt,
        first_failure_at: m.first_failure_at.unwrap_or(now),
        last_failure_at: now,
        status: DeadLetterStatus::Unresolved,
        resolution: None,
        resolved_at: None,
        handler_error: None,
        replays: 0,
        depth: m.depth,
        created_at: now,
    };
    let handlers = triggers::of_kind(store, &m.org_id, &m.app_id, TriggerKind::DeadLetter).await?;
    let staged = triggers::stage(
        services,
        &handlers,
        m.depth + 1,
        &format!("{message_id}.dl"),
        &json!({"kind": "dead_letter", "dead_letter": view(&dl)}),
        None,
    )?;
    let mut writes = vec![
        Write::Put {
            item: NewItem::from_record(key(&dl.org_id, &dl.app_id, &dl.id), &dl)?
                .index(by_age(&dl)),
            condition: Some(Condition::Absent),
        },
        count_change(1, &dl.org_id, &dl.app_id),
    ];
    writes.extend(triggers::writes(&staged)?);
    match store.transact(writes).await {
        Ok(()) => {}
        // Recorded already (this is a redelivery).
        Err(StoreError::ConditionFailed { index: Some(0) }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    tracing::warn!(dead_letter = %dl.id, trigger = %trigger.id, attempts = dl.attempts, "trigger message dead-lettered");
    outbox::relay(services, &staged).await;
    Ok(())
}

async fn load(
    services: &Services,
    org: &OrgId,
    app: &AppId,
    id: &DeadLetterId,
) -> ScriptsResult<DeadLetter> {
    services
        .store
        .get(&key(org, app, id))
        .await?
        .map(|i| i.parse())
        .transpose()?
        .ok_or(ScriptsError::NotFound("dead letter"))
}

/// One page of an app's dead letters, newest first (`viewer`).
pub async fn page(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    open_only: bool,
    limit: usize,
    position: Option<String>,
) -> ScriptsResult<(Vec<DeadLetter>, Option<String>)> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Viewer).await?;
    let query = Query::partition(pk(&app.org_id, &app.id))
        .descending()
        .after(position);
    let (items, next) = skiff_core::ports::store::filtered_page(store, query, limit, |item| {
        let dl: DeadLetter = item.parse()?;
        Ok((!open_only || dl.status.is_open()).then_some(dl))
    })
    .await?;
    Ok((items, next))
}

/// How many of an app's dead letters are open (`viewer`).
pub async fn count(services: &Services, actor: &Actor, app_ref: &str) -> ScriptsResult<i64> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Viewer).await?;
    Ok(store
        .get(&counter(&app.org_id, &app.id))
        .await?
        .and_then(|i| i.get_i64("open"))
        .unwrap_or(0)
        .max(0))
}

/// One dead letter (`viewer`).
pub async fn get(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    id: &DeadLetterId,
) -> ScriptsResult<DeadLetter> {
    let (app, _) =
        crate::apps::require(services.store.as_ref(), actor, app_ref, AppRole::Viewer).await?;
    load(services, &app.org_id, &app.id, id).await
}

/// Run a dead letter's trigger again with its event (`app_admin`); a run that
/// succeeds resolves it. Returns the new message's id.
pub async fn replay(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    id: &DeadLetterId,
) -> ScriptsResult<String> {
    let (app, _) =
        crate::apps::require(services.store.as_ref(), actor, app_ref, AppRole::AppAdmin).await?;
    replay_in(services, &app.org_id, &app.id, id).await
}

pub(crate) async fn replay_in(
    services: &Services,
    org: &OrgId,
    app: &AppId,
    id: &DeadLetterId,
) -> ScriptsResult<String> {
    let dl = load(services, org, app, id).await?;
    let updated = services
        .store
        .update(
            &key(org, app, id),
            vec![Change::Add("replays".into(), 1)],
            Some(Condition::Exists),
        )
        .await?;
    let n = updated.get_i64("replays").unwrap_or(1);
    let now = services.clock.unix();
    let root = format!("{id}.replay{n}");
    let run = TriggerRun {
        org_id: org.clone(),
        app_id: app.clone(),
        trigger_id: dl.trigger_id.clone(),
        kind: dl.trigger_kind,
        event: dl.event.clone(),
        depth: dl.depth,
        attempt: 1,
        root_id: root.clone(),
        first_failure_at: None,
        replay_of: Some(dl.id.clone()),
    };
    let staged = Staged::now(triggers::envelope(root.clone(), &run, now)?);
    services.store.transact(vec![staged.write()?]).await?;
    outbox::relay(services, std::slice::from_ref(&staged)).await;
    Ok(root)
}

/// Close a dead letter with a reason (`app_admin`).
pub async fn resolve(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    id: &DeadLetterId,
    reason: &str,
) -> ScriptsResult<DeadLetter> {
    let (app, _) =
        crate::apps::require(services.store.as_ref(), actor, app_ref, AppRole::AppAdmin).await?;
    resolve_in(services, &app.org_id, &app.id, id, reason).await
}

pub(crate) async fn resolve_in(
    services: &Services,
    org: &OrgId,
    app: &AppId,
    id: &DeadLetterId,
    reason: &str,
) -> ScriptsResult<DeadLetter> {
    let mut dl = load(services, org, app, id).await?;
    if !dl.status.is_open() {
        return Ok(dl);
    }
    let now = services.clock.unix();
    match services
        .store
        .transact(vec![
            Write::Update {
                key: key(org, app, id),
                changes: vec![
                    Change::set("status", "resolved"),
                    Change::set("resolution", reason),
                    Change::set("resolved_at", now),
                ],
                condition: Some(Condition::attr("status", Cmp::Ne, "resolved")),
            },
            count_change(-1, org, app),
        ])
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_condition_failed() => {}
        Err(e) => return Err(e.into()),
    }
    dl.status = DeadLetterStatus::Resolved;
    dl.resolution = Some(reason.to_owned());
    dl.resolved_at = Some(now);
    Ok(dl)
}

/// A replay succeeded: its dead letter is resolved.
pub(crate) async fn replayed(
    services: &Services,
    org: &OrgId,
    app: &AppId,
    id: &DeadLetterId,
) -> ScriptsResult<()> {
    match resolve_in(services, org, app, id, "replay succeeded").await {
        Ok(_) | Err(ScriptsError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The retention sweep (job `scripts_dead_letters_sweep`): delete dead letters
/// older than the retention. Bounded per run.
pub async fn sweep(services: &Services) -> Result<String, String> {
    let days = i64::from(crate::settings(services).dead_letter_retention_days);
    let cutoff = services.clock.unix() - days * 86_400;
    let store = services.store.as_ref();
    let page = store
        .query(Query {
            index: skiff_core::ports::store::Index::Gsi1,
            pk: BY_AGE_PK.into(),
            sort: skiff_core::ports::store::SortKey::Lt(format!("{cutoff:012}")),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut deleted = 0;
    for item in &page.items {
        let dl: DeadLetter = item.parse().map_err(|e| e.to_string())?;
        let mut writes = vec![Write::Delete {
            key: item.key.clone(),
            condition: Some(Condition::Exists),
        }];
        if dl.status.is_open() {
            writes.push(count_change(-1, &dl.org_id, &dl.app_id));
        }
        match store.transact(writes).await {
            Ok(()) => deleted += 1,
            Err(e) if e.is_condition_failed() => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(format!(
        "deleted {deleted} dead letters older than {days} days"
    ))
}
