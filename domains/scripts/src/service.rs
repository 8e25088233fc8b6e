//! The use cases the `scripts` function calls to run scripts: execute one by id,
//! and dispatch a request to the route that answers it (synchronously, or through
//! the outbox for `async` routes).

use crate::access::{Actor, AppRole};
use crate::apps::{self, SlugClaim};
use crate::context::{AppRef, Principal};
use crate::error::{ScriptsError, ScriptsResult};
use crate::logs::RequestSummary;
use crate::model::App;
use crate::routes::Dispatch;
use crate::run::{self, Execution, Invocation, RunRequest};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::{AppId, ExecutionId, OrgId, ScriptId};
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message, Registry};

/// Run a script by id for a member (`editor`): `POST /scripts/{id}/execute`.
pub async fn execute(
    services: &Services,
    actor: &Actor,
    script_id: &ScriptId,
    request: RunRequest,
) -> ScriptsResult<Execution> {
    let store = services.store.as_ref();
    let (script, app, role) =
        crate::scripts::require(store, actor, script_id, AppRole::Editor).await?;
    let summary = RequestSummary {
        source: "execute".into(),
        method: Some(request.method.clone()),
        path: None,
        body_bytes: Some(body_bytes(&request)),
        trigger_id: None,
    };
    run::run(
        services,
        &script,
        Invocation {
            app: app_ref(&app),
            principal: Some(actor.principal(role)),
            request,
            event: None,
            depth: 0,
            summary,
            execution_id: None,
        },
    )
    .await
}

fn app_ref(app: &App) -> AppRef {
    AppRef {
        id: app.id.clone(),
        slug: app.slug.to_string(),
    }
}

fn body_bytes(request: &RunRequest) -> usize {
    match &request.body {
        serde_json::Value::Null => 0,
        serde_json::Value::String(s) => s.len(),
        other => other.to_string().len(),
    }
}

/// What a public request became.
#[derive(Debug)]
pub enum Dispatched {
    /// A synchronous route ran.
    Ran(Execution),
    /// An asynchronous route queued its run.
    Queued(ExecutionId),
}

/// Where a public request arrived.
#[derive(Debug, Clone)]
pub enum Entry<'a> {
    /// `/run/<slug>/…`
    Slug(&'a str),
    /// The root of a claimed host.
    Host(&'a str),
}

/// Answer a public request with the app's route for it: 404 (`route`) when no
/// app, host or route matches.
pub async fn dispatch(
    services: &Services,
    entry: Entry<'_>,
    mut request: RunRequest,
) -> ScriptsResult<Dispatched> {
    let store = services.store.as_ref();
    let not_found = || ScriptsError::NotFound("route");
    let (claim, slug, host) = match entry {
        Entry::Slug(slug) => (
            apps::claim(store, slug).await?.ok_or_else(not_found)?,
            slug.to_owned(),
            None,
        ),
        Entry::Host(host) => {
            let domain = crate::domains::serving(store, host)
                .await?
                .ok_or_else(not_found)?;
            let app: App = store
                .get(&crate::keys::app(&domain.org_id, &domain.app_id))
                .await?
                .map(|i| i.parse())
                .transpose()?
                .ok_or_else(not_found)?;
            let claim = apps::claim(store, app.slug.as_str())
                .await?
                .ok_or_else(not_found)?;
            (claim, app.slug.to_string(), Some(domain.host))
        }
    };
    let table = crate::runtime(services).routes.table(store, &claim).await?;
    let matched = table
        .find(&request.method, &request.path, host.as_deref())
        .ok_or_else(not_found)?;
    request.params = matched.params;
    request.rest = matched.rest;
    let app = AppRef {
        id: claim.app_id.clone(),
        slug,
    };
    let summary = RequestSummary {
        source: "route".into(),
        method: Some(request.method.clone()),
        path: Some(matched.route.path.clone()),
        body_bytes: Some(body_bytes(&request)),
        trigger_id: None,
    };
    match matched.route.dispatch {
        Dispatch::Sync => {
            let script = crate::scripts::load(store, &claim.org_id, &matched.route.script_id)
                .await?
                .ok_or_else(not_found)?;
            let execution = run::run(
                services,
                &script,
                Invocation {
                    app,
                    principal: None,
                    request,
                    event: None,
                    depth: 0,
                    summary,
                    execution_id: None,
                },
            )
            .await?;
            Ok(Dispatched::Ran(execution))
        }
        Dispatch::Async => {
            let execution_id = ExecutionId::new();
            outbox::enqueue(
                services,
                &ScriptRun {
                    org_id: claim.org_id.clone(),
                    app_id: claim.app_id.clone(),
                    app_slug: app.slug,
                    script_id: matched.route.script_id.clone(),
                    execution_id: execution_id.clone(),
                    request,
                    summary: RequestSummary {
                        source: "async".into(),
                        ..summary
                    },
                },
            )
            .await?;
            Ok(Dispatched::Queued(execution_id))
        }
    }
}

/// The run of an `async` route, through the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScriptRun {
    pub org_id: OrgId,
    pub app_id: AppId,
    pub app_slug: String,
    pub script_id: ScriptId,
    pub execution_id: ExecutionId,
    pub request: RunRequest,
    pub summary: RequestSummary,
}

impl Message for ScriptRun {
    const KIND: &'static str = "script_run";
}

struct ScriptRunHandler;

#[async_trait]
impl Handler for ScriptRunHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let m: ScriptRun = outbox::payload(envelope)?;
        let store = services.store.as_ref();
        let Some(script) = crate::scripts::load(store, &m.org_id, &m.script_id)
            .await
            .map_err(HandlerError::new)?
        else {
            tracing::warn!(script = %m.script_id, "queued run of a deleted script dropped");
            return Ok(());
        };
        let execution = run::run(
            services,
            &script,
            Invocation {
                app: AppRef {
                    id: m.app_id,
                    slug: m.app_slug,
                },
                principal: None,
                request: m.request,
                event: None,
                depth: 0,
                summary: m.summary,
                execution_id: Some(m.execution_id),
            },
        )
        .await;
        match execution {
            // The run happened (its failure, if any, is in its log): done.
            Ok(_) => Ok(()),
            Err(ScriptsError::Busy) => Err(HandlerError("every script runner is busy".into())),
            Err(e) => Err(HandlerError::new(e)),
        }
    }
}

pub(crate) fn register(registry: &mut Registry) {
    registry.register(ScriptRun::KIND, ScriptRunHandler);
}

/// The principal of a member, as a run shows it.
pub fn principal_of(actor: &Actor, role: AppRole) -> Principal {
    actor.principal(role)
}

/// Keep the claim type reachable for callers that read it.
pub type Claim = SlugClaim;
