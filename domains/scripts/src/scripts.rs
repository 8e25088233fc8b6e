//! Scripts: saved compiled (a syntax error is refused with its line and column;
//! a module is checked to hold only constants, functions and imports), unique by
//! name within their app, counted against the plan's `max_scripts` in the same
//! transaction that creates or deletes them, and versioned on every change.

use crate::access::{Actor, AppRole};
use crate::error::{ScriptsError, ScriptsResult};
use crate::keys;
use crate::model::{App, MAX_SOURCE_BYTES, Script, ScriptKind, ScriptName};
use crate::sandbox::{self, Limits, Overrides};
use serde::{Deserialize, Serialize};
use skiff_billing::entitlements;
use skiff_core::Services;
use skiff_core::ids::{AppId, OrgId, ScriptId};
use skiff_core::ports::store::{Condition, ItemStore, NewItem, Query, StoreError, Write};
use std::sync::Arc;

/// The plan limit scripts count against.
pub const QUOTA: &str = "max_scripts";

/// What a script is saved from.
#[derive(Debug, Clone)]
pub struct ScriptDraft {
    pub name: ScriptName,
    pub source: String,
    pub kind: ScriptKind,
    pub overrides: Overrides,
}

/// The name claim of a script within its app: which script, and its version (so
/// an import finds a module's current version with one read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameClaim {
    pub script_id: ScriptId,
    pub kind: ScriptKind,
    pub version: u64,
}

/// The limits a script with these overrides runs with, or 422 naming each knob
/// above its ceiling.
pub fn limits_of(services: &Services, overrides: &Overrides) -> ScriptsResult<Limits> {
    let s = crate::settings(services);
    overrides
        .apply(&s.defaults, &s.ceilings)
        .map_err(ScriptsError::LimitsRefused)
}

/// Compile a source with a script's limits (on a runner thread: parsing deeply
/// nested code recurses).
pub async fn compile(
    services: &Services,
    source: &str,
    kind: ScriptKind,
    limits: &Limits,
) -> ScriptsResult<Arc<rhai::AST>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ScriptsError::invalid(
            "source",
            "TOO_LARGE",
            format!("a source is at most {MAX_SOURCE_BYTES} bytes"),
        ));
    }
    let runtime = crate::runtime(services);
    let engine = runtime.engine(limits);
    let source = source.to_owned();
    let compiled = runtime
        .run(move || -> Result<rhai::AST, sandbox::CompileError> {
            let ast = if kind == ScriptKind::Module {
                engine.compile(&source)
            } else {
                sandbox::compile(&engine, &source)
            }
            .map_err(|e| sandbox::CompileError::from_parse(&e))?;
            if kind == ScriptKind::Module {
                sandbox::check_module(&ast)?;
            }
            Ok(ast)
        })
        .await?;
    compiled.map(Arc::new).map_err(ScriptsError::Compile)
}

fn script_item(script: &Script) -> Result<NewItem, StoreError> {
    Ok(
        NewItem::from_record(keys::script(&script.org_id, &script.id), script)?.index(
            keys::script_index(&script.org_id, &script.app_id, script.name.as_str()),
        ),
    )
}

fn name_item(script: &Script) -> Result<NewItem, StoreError> {
    NewItem::from_record(
        keys::script_name(&script.org_id, &script.app_id, script.name.as_str()),
        &NameClaim {
            script_id: script.id.clone(),
            kind: script.kind,
            version: script.version,
        },
    )
}

/// Save a new script in an app (`editor`).
pub async fn create(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    draft: ScriptDraft,
) -> ScriptsResult<Script> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Editor).await?;
    let limits = limits_of(services, &draft.overrides)?;
    let ast = compile(services, &draft.source, draft.kind, &limits).await?;
    let now = services.clock.unix();
    let script = Script {
        id: ScriptId::new(),
        org_id: app.org_id.clone(),
        app_id: app.id.clone(),
        name: draft.name,
        kind: draft.kind,
        source: draft.source,
        overrides: draft.overrides,
        version: 1,
        created_at: now,
        updated_at: now,
        created_by: actor.user_id.clone(),
    };
    let quota = entitlements::reserve_write(services, &app.org_id, QUOTA, 1).await?;
    match store
        .transact(vec![
            Write::Put {
                item: name_item(&script)?,
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: script_item(&script)?,
                condition: Some(Condition::Absent),
            },
            quota,
        ])
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: Some(0) }) => {
            return Err(ScriptsError::NameTaken(script.name.to_string()));
        }
        Err(StoreError::ConditionFailed { index: Some(2) }) => {
            return Err(entitlements::quota_exceeded(services, &app.org_id, QUOTA)
                .await
                .into());
        }
        Err(e) => return Err(e.into()),
    }
    crate::runtime(services).cache_ast(&script.id, script.version, ast);
    tracing::info!(script = %script.id, app = %app.id, "script created");
    Ok(script)
}

/// A script of the caller's org, by id.
pub async fn load(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &ScriptId,
) -> Result<Option<Script>, StoreError> {
    store
        .get(&keys::script(org, id))
        .await?
        .map(|i| i.parse())
        .transpose()
}

/// A script with its app, if the caller has at least `needed` there (404 when
/// they have no role in its app).
pub async fn require(
    store: &dyn ItemStore,
    actor: &Actor,
    id: &ScriptId,
    needed: AppRole,
) -> ScriptsResult<(Script, App, AppRole)> {
    let script = load(store, &actor.org_id, id)
        .await?
        .ok_or(ScriptsError::NotFound("script"))?;
    let (app, role) = match crate::apps::require_id(store, actor, &script.app_id, needed).await {
        Ok(found) => found,
        Err(ScriptsError::NotFound(_)) => return Err(ScriptsError::NotFound("script")),
        Err(e) => return Err(e),
    };
    Ok((script, app, role))
}

/// One page of an app's scripts, by name.
pub async fn page(
    store: &dyn ItemStore,
    actor: &Actor,
    app_ref: &str,
    limit: usize,
    position: Option<String>,
) -> ScriptsResult<(Vec<Script>, Option<String>)> {
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Viewer).await?;
    let page = store
        .query(
            Query::gsi1(keys::scripts_index_pk(&app.org_id, &app.id))
                .limit(limit)
                .after(position),
        )
        .await?;
    let scripts = page
        .items
        .iter()
        .map(|i| i.parse())
        .collect::<Result<_, _>>()?;
    Ok((scripts, page.next))
}

/// Replace a script's name, source, kind and limits (`editor`); its version and
/// `updated_at` move on.
pub async fn update(
    services: &Services,
    actor: &Actor,
    id: &ScriptId,
    draft: ScriptDraft,
) -> ScriptsResult<Script> {
    let store = services.store.as_ref();
    let (old, app, _) = require(store, actor, id, AppRole::Editor).await?;
    let limits = limits_of(services, &draft.overrides)?;
    let ast = compile(services, &draft.source, draft.kind, &limits).await?;
    if old.kind == ScriptKind::Endpoint
        && draft.kind == ScriptKind::Module
        && crate::hooks::is_targeted(services, &app, &old.id).await?
    {
        return Err(ScriptsError::invalid(
            "kind",
            "HAS_ROUTES",
            "routes or triggers run this script: delete them before making it a module",
        ));
    }
    let script = Script {
        name: draft.name,
        kind: draft.kind,
        source: draft.source,
        overrides: draft.overrides,
        version: old.version + 1,
        updated_at: services.clock.unix().max(old.updated_at),
        ..old.clone()
    };
    let renamed = script.name != old.name;
    let mut writes = vec![Write::Put {
        item: script_item(&script)?,
        condition: Some(Condition::attr(
            "version",
            skiff_core::ports::store::Cmp::Eq,
            old.version,
        )),
    }];
    writes.push(Write::Put {
        item: name_item(&script)?,
        condition: Some(if renamed {
            Condition::Absent
        } else {
            Condition::Exists
        }),
    });
    if renamed {
        writes.push(Write::Delete {
            key: keys::script_name(&old.org_id, &old.app_id, old.name.as_str()),
            condition: None,
        });
    }
    match store.transact(writes).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index: Some(1) }) if renamed => {
            return Err(ScriptsError::NameTaken(script.name.to_string()));
        }
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(ScriptsError::Conflict(
                "the script changed meanwhile; read it again".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    crate::runtime(services).cache_ast(&script.id, script.version, ast);
    Ok(script)
}

/// Delete a script (`app_admin`) with its routes, triggers and logs.
pub async fn delete(services: &Services, actor: &Actor, id: &ScriptId) -> ScriptsResult<()> {
    let (_, app, _) = require(services.store.as_ref(), actor, id, AppRole::AppAdmin).await?;
    remove(services, &app, id).await
}

/// Remove a script of `app` and everything that runs it.
pub(crate) async fn remove(services: &Services, app: &App, id: &ScriptId) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let Some(script) = load(store, &app.org_id, id).await? else {
        return Ok(());
    };
    crate::hooks::script_deleted(services, app, id).await?;
    match store
        .transact(vec![
            Write::Delete {
                key: keys::script(&app.org_id, id),
                condition: Some(Condition::Exists),
            },
            Write::Delete {
                key: keys::script_name(&app.org_id, &app.id, script.name.as_str()),
                condition: None,
            },
            entitlements::release_write(&app.org_id, QUOTA, 1),
        ])
        .await
    {
        Ok(()) => {}
        // Deleted concurrently: the other deletion released the quota.
        Err(e) if e.is_condition_failed() => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    // Logs expire on their own; removing them now is a courtesy that may stop
    // half-way without harm.
    if let Err(e) =
        crate::apps::delete_partition(store, &keys::logs_pk(&app.org_id, id), |_| None).await
    {
        tracing::warn!(script = %id, error = %e, "could not delete every log of a deleted script");
    }
    tracing::info!(script = %id, "script deleted");
    Ok(())
}

/// The names of an app's scripts (from the app's own partition: read after write).
pub async fn names(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
) -> Result<Vec<(String, ScriptId)>, StoreError> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(
                Query::partition(keys::app_pk(org, app))
                    .prefix(keys::SCRIPT_NAME_PREFIX)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            let claim: NameClaim = item.parse()?;
            let name = item.key.sk[keys::SCRIPT_NAME_PREFIX.len()..].to_owned();
            out.push((name, claim.script_id));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// The name claim of a script of an app (what `import` reads).
pub async fn by_name(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
    name: &str,
) -> Result<Option<NameClaim>, StoreError> {
    store
        .get(&keys::script_name(org, app, name))
        .await?
        .map(|i| i.parse())
        .transpose()
}
