//! The admin routes: apps and their members, domains and API keys; scripts, their
//! routes and logs. Parse at the edge, call the domain with the caller's actor,
//! map its answer.

use crate::caller::{Reader, Writer};
use crate::paging;
use crate::problem::error;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::clock::rfc3339;
use skiff_core::ids::{AppId, ExecutionId, RouteId, ScriptId, UserId};
use skiff_http::error::FieldError;
use skiff_http::extract::QueryParams;
use skiff_http::json::JsonBody;
use skiff_http::openapi::ProblemDetails as Problems;
use skiff_http::pagination::CursorScope;
use skiff_http::{ApiError, ApiResult};
use skiff_scripts::access::{AppRole, Membership};
use skiff_scripts::context::LogLine;
use skiff_scripts::domains::{Domain, DomainStatus};
use skiff_scripts::logs::{ExecutionLog, RequestSummary, RunStatus};
use skiff_scripts::model::{App, Script, ScriptKind, ScriptName, Slug, parse_display_name};
use skiff_scripts::routes::{Dispatch, Method, Route, RouteDraft};
use skiff_scripts::sandbox::{Knob, Overrides};
use skiff_scripts::scripts::ScriptDraft;
use skiff_scripts::{apps, domains, logs, routes, scripts};
use utoipa::ToSchema;

const TAG: &str = "scripts";

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PageQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

// ------------------------------------------------------------------ apps

#[derive(Serialize, ToSchema)]
pub struct AppView {
    id: AppId,
    name: String,
    slug: String,
    /// The caller's role in the app.
    role: AppRole,
    /// RFC 3339.
    created_at: String,
    updated_at: String,
}

fn app_view(app: App, role: AppRole) -> AppView {
    AppView {
        id: app.id,
        name: app.name,
        slug: app.slug.to_string(),
        role,
        created_at: rfc3339(app.created_at),
        updated_at: rfc3339(app.updated_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    name: String,
    /// `[a-z0-9-]{3,40}`, unique across the deployment: the app's `/run/{slug}/…`.
    slug: String,
}

fn parse_slug(raw: &str) -> Result<Slug, FieldError> {
    Slug::parse(raw).map_err(|e| FieldError::new("slug", "INVALID_SLUG", e.0))
}

fn parse_name(raw: &str) -> Result<String, FieldError> {
    parse_display_name(raw).map_err(|e| FieldError::new("name", "INVALID_NAME", e.0))
}

fn all_ok<A, B>(a: Result<A, FieldError>, b: Result<B, FieldError>) -> ApiResult<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(ApiError::validation(
            [a.err(), b.err()].into_iter().flatten().collect(),
        )),
    }
}

/// Create an app (org owners and admins).
#[utoipa::path(post, path = "/api/v1/apps", tag = TAG, security(("bearer" = [])),
    request_body = CreateApp,
    responses((status = 201, body = AppView),
        (status = 403, description = "INSUFFICIENT_ROLE or INSUFFICIENT_SCOPE", body = Problems),
        (status = 409, description = "SLUG_TAKEN", body = Problems)))]
pub async fn create_app(
    State(services): State<Services>,
    Writer(actor): Writer,
    JsonBody(body): JsonBody<CreateApp>,
) -> ApiResult<Response> {
    let (name, slug) = all_ok(parse_name(&body.name), parse_slug(&body.slug))?;
    let app = apps::create(&services, &actor, name, slug)
        .await
        .map_err(error)?;
    Ok((StatusCode::CREATED, Json(app_view(app, AppRole::AppAdmin))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct AppsPage {
    apps: Vec<AppView>,
    next_cursor: Option<String>,
}

/// The apps the caller has a role in.
#[utoipa::path(get, path = "/api/v1/apps", tag = TAG, security(("bearer" = [])),
    params(("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "from the previous page")),
    responses((status = 200, body = AppsPage)))]
pub async fn list_apps(
    State(services): State<Services>,
    Reader(actor): Reader,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<AppsPage>> {
    let scope = CursorScope::new("apps", actor.org_id.as_str());
    let (apps, next_cursor) =
        paging::page(&services, scope, q.limit, q.cursor.as_deref(), |n, at| {
            apps::page(services.store.as_ref(), &actor, n, at)
        })
        .await?;
    Ok(Json(AppsPage {
        apps: apps.into_iter().map(|(a, r)| app_view(a, r)).collect(),
        next_cursor,
    }))
}

/// One app, by id or slug.
#[utoipa::path(get, path = "/api/v1/apps/{app}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    responses((status = 200, body = AppView)))]
pub async fn get_app(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
) -> ApiResult<Json<AppView>> {
    let (app, role) = apps::require(services.store.as_ref(), &actor, &app, AppRole::Viewer)
        .await
        .map_err(error)?;
    Ok(Json(app_view(app, role)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchApp {
    name: Option<String>,
    slug: Option<String>,
}

/// Rename an app or move it to another slug (`app_admin`).
#[utoipa::path(patch, path = "/api/v1/apps/{app}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = PatchApp,
    responses((status = 200, body = AppView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 409, description = "SLUG_TAKEN", body = Problems)))]
pub async fn patch_app(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<PatchApp>,
) -> ApiResult<Json<AppView>> {
    let (name, slug) = all_ok(
        body.name.as_deref().map(parse_name).transpose(),
        body.slug.as_deref().map(parse_slug).transpose(),
    )?;
    let app = apps::update(&services, &actor, &app, name, slug)
        .await
        .map_err(error)?;
    Ok(Json(app_view(app, AppRole::AppAdmin)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct DeleteAppQuery {
    /// Delete the app's scripts, routes, logs, domains and triggers too.
    force: bool,
}

/// Delete an app (`app_admin`); with scripts left only with `?force=true`.
#[utoipa::path(delete, path = "/api/v1/apps/{app}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("force" = Option<bool>, Query, description = "also delete its scripts and all that runs them")),
    responses((status = 204, description = "deleted"),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 409, description = "HAS_SCRIPTS {script_count}", body = Problems)))]
pub async fn delete_app(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    QueryParams(q): QueryParams<DeleteAppQuery>,
) -> ApiResult<StatusCode> {
    apps::delete(&services, &actor, &app, q.force)
        .await
        .map_err(error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ members

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    user_id: UserId,
    role: AppRole,
    added_at: String,
}

fn member_view(m: Membership) -> MemberView {
    MemberView {
        user_id: m.user_id,
        role: m.role,
        added_at: rfc3339(m.added_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct MembersPage {
    /// Roles granted in the app (the org's owners and admins are its app_admins
    /// without a grant).
    members: Vec<MemberView>,
    next_cursor: Option<String>,
}

/// The app's members.
#[utoipa::path(get, path = "/api/v1/apps/{app}/members", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "from the previous page")),
    responses((status = 200, body = MembersPage)))]
pub async fn list_members(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<MembersPage>> {
    let scope = CursorScope::new("app-members", actor.org_id.as_str()).within(&app);
    let (members, next_cursor) =
        paging::page(&services, scope, q.limit, q.cursor.as_deref(), |n, at| {
            apps::members(services.store.as_ref(), &actor, &app, n, at)
        })
        .await?;
    Ok(Json(MembersPage {
        members: members.into_iter().map(member_view).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    /// `viewer`, `editor` or `app_admin`.
    role: String,
}

fn parse_user(raw: &str) -> ApiResult<UserId> {
    UserId::parse(raw).map_err(|_| ApiError::not_found("no such member of the organization"))
}

/// Grant an org member a role in the app (`app_admin`).
#[utoipa::path(put, path = "/api/v1/apps/{app}/members/{user_id}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("user_id" = UserId, Path, description = "an org member")),
    request_body = SetMember,
    responses((status = 200, body = MemberView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn set_member(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, user)): Path<(String, String)>,
    JsonBody(body): JsonBody<SetMember>,
) -> ApiResult<Json<MemberView>> {
    let user = parse_user(&user)?;
    let role = AppRole::parse(&body.role).ok_or_else(|| {
        ApiError::invalid_field(
            "role",
            "INVALID_ROLE",
            "`role` is one of viewer, editor, app_admin",
        )
    })?;
    let m = apps::set_member(&services, &actor, &app, &user, role)
        .await
        .map_err(error)?;
    Ok(Json(member_view(m)))
}

/// Take a member's role in the app away (`app_admin`).
#[utoipa::path(delete, path = "/api/v1/apps/{app}/members/{user_id}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("user_id" = UserId, Path, description = "an app member")),
    responses((status = 204, description = "removed"),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn remove_member(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = parse_user(&user)?;
    apps::remove_member(&services, &actor, &app, &user)
        .await
        .map_err(error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ API keys

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppKey {
    name: String,
    /// `scripts:read` and/or `scripts:write`.
    scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AppKeyView {
    id: skiff_core::ids::ApiKeyId,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    app_id: AppId,
    created_at: String,
    /// The key itself, shown this once only.
    secret: String,
}

/// An API key bound to this app only (`app_admin`, a person): it acts with its
/// creator's roles, capped by its scopes, and reaches no other app. List and
/// delete it with the org's keys (`/api/v1/auth/api-keys`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/api-keys", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = CreateAppKey,
    responses((status = 201, body = AppKeyView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE or USER_REQUIRED", body = Problems)))]
pub async fn create_app_key(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<CreateAppKey>,
) -> ApiResult<Response> {
    let (app, _) = apps::require(services.store.as_ref(), &actor, &app, AppRole::AppAdmin)
        .await
        .map_err(error)?;
    let (Some(user), None) = (&actor.user_id, &actor.api_key_id) else {
        return Err(ApiError::forbidden(
            "USER_REQUIRED",
            "API keys are made by a person, not by another key",
        ));
    };
    let name = parse_name(&body.name).map_err(|e| ApiError::validation(vec![e]))?;
    let scripts_scopes = [crate::caller::READ, crate::caller::WRITE];
    if body.scopes.is_empty()
        || body
            .scopes
            .iter()
            .any(|s| !scripts_scopes.contains(&s.as_str()))
    {
        return Err(ApiError::invalid_field(
            "scopes",
            "INVALID_SCOPE",
            "an app's key carries `scripts:read` and/or `scripts:write`",
        ));
    }
    let scopes = skiff_identity::Scopes::parse_list(body.scopes.iter().map(String::as_str))
        .map_err(|_| ApiError::invalid_field("scopes", "INVALID_SCOPE", "unknown scope"))?;
    let (key, secret) = skiff_identity::api_keys::create(
        services.store.as_ref(),
        services.clock.unix(),
        skiff_identity::api_keys::NewKey {
            org: &actor.org_id,
            created_by: user,
            name: &name,
            scopes: &scopes,
            role: actor.org_role,
            expires_at: None,
            app_id: Some(&app.id),
        },
    )
    .await?;
    tracing::info!(app = %app.id, key = %key.id, "app API key created");
    Ok((
        StatusCode::CREATED,
        Json(AppKeyView {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            scopes: key.scopes,
            app_id: app.id,
            created_at: rfc3339(key.created_at),
            secret,
        }),
    )
        .into_response())
}

// ------------------------------------------------------------------ scripts

#[derive(Serialize, ToSchema)]
pub struct ScriptView {
    id: ScriptId,
    app_id: AppId,
    name: String,
    kind: ScriptKind,
    source: String,
    /// The limits the script asked for (the rest are the platform's defaults).
    sandbox: std::collections::BTreeMap<String, u64>,
    version: u64,
    created_at: String,
    updated_at: String,
}

fn script_view(s: Script) -> ScriptView {
    ScriptView {
        id: s.id,
        app_id: s.app_id,
        name: s.name.to_string(),
        kind: s.kind,
        source: s.source,
        sandbox: s
            .overrides
            .0
            .iter()
            .map(|(k, v)| (k.name().to_owned(), *v))
            .collect(),
        version: s.version,
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(s.updated_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptBody {
    /// `[A-Za-z0-9_-]{1,64}`, unique in the app (modules are imported by it).
    name: String,
    /// Rhai source, compiled when saved.
    source: String,
    /// `endpoint` (default) or `module`.
    #[serde(default)]
    kind: Option<ScriptKind>,
    /// Tighter (or, up to the ceiling, looser) limits: `max_operations`,
    /// `max_string_size`, `max_array_size`, `max_map_size`, `max_call_levels`,
    /// `max_expr_depth`, `timeout_ms`, `max_output_bytes`.
    #[serde(default)]
    sandbox: Option<std::collections::BTreeMap<String, u64>>,
    /// Shorthand for `sandbox.timeout_ms`.
    #[serde(default)]
    timeout_seconds: Option<u64>,
}

fn draft(body: ScriptBody) -> ApiResult<ScriptDraft> {
    let mut errors = vec![];
    let name = ScriptName::parse(&body.name)
        .map_err(|e| errors.push(FieldError::new("name", "INVALID_NAME", e.0)))
        .ok();
    let mut overrides = vec![];
    for (knob, value) in body.sandbox.unwrap_or_default() {
        match Knob::parse(&knob) {
            Some(k) => overrides.push((k, value)),
            None => errors.push(FieldError::new(
                &format!("sandbox.{knob}"),
                "UNKNOWN_LIMIT",
                format!(
                    "`{knob}` is not a sandbox limit (one of {})",
                    Knob::ALL.map(Knob::name).join(", ")
                ),
            )),
        }
    }
    if let Some(secs) = body.timeout_seconds {
        if overrides.iter().any(|(k, _)| *k == Knob::TimeoutMs) {
            errors.push(FieldError::new(
                "timeout_seconds",
                "CONFLICT",
                "give `timeout_seconds` or `sandbox.timeout_ms`, not both",
            ));
        }
        overrides.push((Knob::TimeoutMs, secs.saturating_mul(1000)));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ScriptDraft {
        name: name.expect("no error"),
        source: body.source,
        kind: body.kind.unwrap_or(ScriptKind::Endpoint),
        overrides: Overrides(overrides),
    })
}

/// Save a script in the app (`editor`); it is compiled now.
#[utoipa::path(post, path = "/api/v1/apps/{app}/scripts", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = ScriptBody,
    responses((status = 201, body = ScriptView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE or QUOTA_EXCEEDED (max_scripts)", body = Problems),
        (status = 409, description = "SCRIPT_NAME_TAKEN", body = Problems),
        (status = 422, description = "COMPILE_ERROR with line and column; a limit above its ceiling", body = Problems),
        (status = 503, description = "SCRIPTS_BUSY", body = Problems)))]
pub async fn create_script(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<ScriptBody>,
) -> Result<Response, Response> {
    let draft = draft(body).map_err(IntoResponse::into_response)?;
    let script = scripts::create(&services, &actor, &app, draft)
        .await
        .map_err(crate::problem::respond)?;
    Ok((StatusCode::CREATED, Json(script_view(script))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ScriptsPage {
    scripts: Vec<ScriptView>,
    next_cursor: Option<String>,
}

/// The app's scripts, by name.
#[utoipa::path(get, path = "/api/v1/apps/{app}/scripts", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "from the previous page")),
    responses((status = 200, body = ScriptsPage)))]
pub async fn list_scripts(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<ScriptsPage>> {
    let scope = CursorScope::new("scripts", actor.org_id.as_str()).within(&app);
    let (list, next_cursor) =
        paging::page(&services, scope, q.limit, q.cursor.as_deref(), |n, at| {
            scripts::page(services.store.as_ref(), &actor, &app, n, at)
        })
        .await?;
    Ok(Json(ScriptsPage {
        scripts: list.into_iter().map(script_view).collect(),
        next_cursor,
    }))
}

fn parse_script(raw: &str) -> ApiResult<ScriptId> {
    ScriptId::parse(raw).map_err(|_| ApiError::not_found("no such script"))
}

/// One script.
#[utoipa::path(get, path = "/api/v1/scripts/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script")),
    responses((status = 200, body = ScriptView)))]
pub async fn get_script(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(id): Path<String>,
) -> ApiResult<Json<ScriptView>> {
    let id = parse_script(&id)?;
    let (script, _, _) = scripts::require(services.store.as_ref(), &actor, &id, AppRole::Viewer)
        .await
        .map_err(error)?;
    Ok(Json(script_view(script)))
}

/// Replace a script (`editor`): compiled again, its version bumped.
#[utoipa::path(put, path = "/api/v1/scripts/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script")),
    request_body = ScriptBody,
    responses((status = 200, body = ScriptView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 409, description = "SCRIPT_NAME_TAKEN or CONFLICT (changed meanwhile)", body = Problems),
        (status = 422, description = "COMPILE_ERROR with line and column", body = Problems),
        (status = 503, description = "SCRIPTS_BUSY", body = Problems)))]
pub async fn put_script(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ScriptBody>,
) -> Result<Json<ScriptView>, Response> {
    let id = parse_script(&id).map_err(IntoResponse::into_response)?;
    let draft = draft(body).map_err(IntoResponse::into_response)?;
    let script = scripts::update(&services, &actor, &id, draft)
        .await
        .map_err(crate::problem::respond)?;
    Ok(Json(script_view(script)))
}

/// Delete a script with its routes and logs (`app_admin`).
#[utoipa::path(delete, path = "/api/v1/scripts/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script")),
    responses((status = 204, description = "deleted"),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems)))]
pub async fn delete_script(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_script(&id)?;
    scripts::delete(&services, &actor, &id)
        .await
        .map_err(error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ routes

#[derive(Serialize, ToSchema)]
pub struct RouteView {
    id: RouteId,
    script_id: ScriptId,
    method: Method,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    dispatch: Dispatch,
    created_at: String,
}

fn route_view(r: Route) -> RouteView {
    RouteView {
        id: r.id,
        script_id: r.script_id,
        method: r.method,
        path: r.path,
        host: r.host,
        dispatch: r.dispatch,
        created_at: rfc3339(r.created_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoute {
    /// GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY.
    method: String,
    /// `/exact`, `/with/:param` or `/prefix/*`.
    path: String,
    /// Serve only at this host the app has claimed.
    #[serde(default)]
    host: Option<String>,
    /// `sync` (default: the script answers) or `async` (202 with the execution id).
    #[serde(default)]
    dispatch: Option<Dispatch>,
}

/// Route requests to the script (`editor`).
#[utoipa::path(post, path = "/api/v1/scripts/{id}/routes", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script")),
    request_body = CreateRoute,
    responses((status = 201, body = RouteView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 409, description = "ROUTE_CONFLICT naming the existing route", body = Problems),
        (status = 422, description = "RESERVED_PATH, INVALID_PATH, NOT_AN_ENDPOINT", body = Problems)))]
pub async fn create_route(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CreateRoute>,
) -> ApiResult<Response> {
    let id = parse_script(&id)?;
    let mut errors = vec![];
    let method = Method::parse(&body.method);
    if method.is_none() {
        errors.push(FieldError::new(
            "method",
            "INVALID_METHOD",
            "`method` is one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY",
        ));
    }
    let host = match body.host.as_deref().map(domains::parse_host).transpose() {
        Ok(h) => h,
        Err(m) => {
            errors.push(FieldError::new("host", "INVALID_HOST", m));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let route = routes::create(
        &services,
        &actor,
        &id,
        RouteDraft {
            method: method.expect("checked"),
            path: body.path,
            host,
            dispatch: body.dispatch.unwrap_or_default(),
        },
    )
    .await
    .map_err(error)?;
    Ok((StatusCode::CREATED, Json(route_view(route))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct RoutesView {
    routes: Vec<RouteView>,
}

/// The script's routes.
#[utoipa::path(get, path = "/api/v1/scripts/{id}/routes", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script")),
    responses((status = 200, body = RoutesView)))]
pub async fn list_routes(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(id): Path<String>,
) -> ApiResult<Json<RoutesView>> {
    let id = parse_script(&id)?;
    let list = routes::of_script(services.store.as_ref(), &actor, &id)
        .await
        .map_err(error)?;
    Ok(Json(RoutesView {
        routes: list.into_iter().map(route_view).collect(),
    }))
}

/// Delete one of the script's routes (`editor`).
#[utoipa::path(delete, path = "/api/v1/scripts/{id}/routes/{route_id}", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script"),
        ("route_id" = RouteId, Path, description = "the route")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_route(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((id, route)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = parse_script(&id)?;
    let route = RouteId::parse(&route).map_err(|_| ApiError::not_found("no such route"))?;
    routes::delete(&services, &actor, &id, &route)
        .await
        .map_err(error)?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ logs

#[derive(Serialize, ToSchema)]
pub struct LogView {
    execution_id: ExecutionId,
    script_id: ScriptId,
    status: RunStatus,
    duration_ms: u64,
    logs: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    request: RequestSummary,
    started_at: String,
}

fn log_view(l: ExecutionLog) -> LogView {
    LogView {
        execution_id: l.execution_id,
        script_id: l.script_id,
        status: l.status,
        duration_ms: l.duration_ms,
        logs: l.logs,
        error: l.error,
        status_code: l.status_code,
        request: l.request,
        started_at: rfc3339(l.started_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LogsPage {
    /// Newest first.
    logs: Vec<LogView>,
    next_cursor: Option<String>,
}

/// The script's execution logs, newest first (kept for the configured retention).
#[utoipa::path(get, path = "/api/v1/scripts/{id}/logs", tag = TAG, security(("bearer" = [])),
    params(("id" = ScriptId, Path, description = "the script"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "from the previous page")),
    responses((status = 200, body = LogsPage)))]
pub async fn list_logs(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<LogsPage>> {
    let id = parse_script(&id)?;
    let scope = CursorScope::new("script-logs", actor.org_id.as_str()).within(id.as_str());
    let (list, next_cursor) =
        paging::page(&services, scope, q.limit, q.cursor.as_deref(), |n, at| {
            logs::page(&services, &actor, &id, n, at)
        })
        .await?;
    Ok(Json(LogsPage {
        logs: list.into_iter().map(log_view).collect(),
        next_cursor,
    }))
}

// ------------------------------------------------------------------ domains

#[derive(Serialize, ToSchema)]
pub struct DomainView {
    host: String,
    status: DomainStatus,
    /// Where the proof goes: a TXT record at this name …
    txt_name: String,
    /// … carrying this value.
    txt_value: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<String>,
}

fn domain_view(d: Domain) -> DomainView {
    DomainView {
        txt_name: d.challenge_name(),
        host: d.host,
        status: d.status,
        txt_value: d.token,
        created_at: rfc3339(d.created_at),
        verified_at: d.verified_at.map(rfc3339),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDomain {
    /// `api.example.com` or `*.example.com`.
    host: String,
}

/// Claim a host for the app (`app_admin`): active once a DNS TXT record proves
/// ownership (`POST …/verify`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/domains", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    request_body = ClaimDomain,
    responses((status = 201, body = DomainView),
        (status = 403, description = "INSUFFICIENT_APP_ROLE", body = Problems),
        (status = 409, description = "HOST_TAKEN", body = Problems)))]
pub async fn claim_domain(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path(app): Path<String>,
    JsonBody(body): JsonBody<ClaimDomain>,
) -> ApiResult<Response> {
    let host = domains::parse_host(&body.host)
        .map_err(|m| ApiError::invalid_field("host", "INVALID_HOST", m))?;
    let d = domains::claim(&services, &actor, &app, host)
        .await
        .map_err(error)?;
    Ok((StatusCode::CREATED, Json(domain_view(d))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct DomainsView {
    domains: Vec<DomainView>,
}

/// The hosts the app claims.
#[utoipa::path(get, path = "/api/v1/apps/{app}/domains", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug")),
    responses((status = 200, body = DomainsView)))]
pub async fn list_domains(
    State(services): State<Services>,
    Reader(actor): Reader,
    Path(app): Path<String>,
) -> ApiResult<Json<DomainsView>> {
    let list = domains::list(services.store.as_ref(), &actor, &app)
        .await
        .map_err(error)?;
    Ok(Json(DomainsView {
        domains: list.into_iter().map(domain_view).collect(),
    }))
}

/// Check the claim's TXT record now and activate it (`app_admin`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/domains/{host}/verify", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("host" = String, Path, description = "the claimed host")),
    responses((status = 200, body = DomainView),
        (status = 409, description = "DOMAIN_NOT_VERIFIED: the TXT record is not there (yet)", body = Problems)))]
pub async fn verify_domain(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, host)): Path<(String, String)>,
) -> ApiResult<Json<DomainView>> {
    let d = domains::verify(&services, &actor, &app, &host.to_ascii_lowercase())
        .await
        .map_err(error)?;
    Ok(Json(domain_view(d)))
}

/// Give a claimed host up (`app_admin`).
#[utoipa::path(delete, path = "/api/v1/apps/{app}/domains/{host}", tag = TAG, security(("bearer" = [])),
    params(("app" = String, Path, description = "the app's id or slug"),
        ("host" = String, Path, description = "the claimed host")),
    responses((status = 204, description = "released")))]
pub async fn release_domain(
    State(services): State<Services>,
    Writer(actor): Writer,
    Path((app, host)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    domains::release(&services, &actor, &app, &host.to_ascii_lowercase())
        .await
        .map_err(error)?;
    Ok(StatusCode::NO_CONTENT)
}
