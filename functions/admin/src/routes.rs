//! The operators' routes: parse, call `skiff_admin`, answer. Every route takes the
//! [`PlatformAdmin`] guard first, so to anyone else each one is a 404.

use crate::{Problems, TAG, operator, problem};
use axum::Json;
use axum::extract::{Path, State};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use skiff_admin::AdminError;
use skiff_admin::analytics::{self, Figures, Metric, Point};
use skiff_admin::audit::{AuditFilter, AuditRecord};
use skiff_admin::dead_letters::{self, DeadLetterView};
use skiff_admin::licenses::{LicenseFilter, LicenseQuery, LicenseSummary};
use skiff_admin::orgs::{OrgDetail, OrgFilter, OrgSummary};
use skiff_admin::users::{UserDetail, UserFilter, UserStatus, UserSummary};
use skiff_admin::{licenses, orgs, users};
use skiff_billing::service_profile::Mode;
use skiff_core::ids::{LicenseId, OrgId, UserId};
use skiff_core::services::Services;
use skiff_http::error::FieldError;
use skiff_http::extract::QueryParams;
use skiff_http::pagination::{CursorScope, PageLimit, PageRequest};
use skiff_http::principal::PlatformAdmin;
use skiff_http::{ApiError, ApiResult};
use skiff_licensing::model::Status as LicenseStatus;
use utoipa::ToSchema;

/// A path id of the wrong shape names nothing: 404, like an unknown one.
fn id<T: std::str::FromStr>(raw: &str, what: &str) -> ApiResult<T> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("no such {what}")))
}

/// The lowercased search text, `None` when blank; at most 200 characters.
fn search(q: Option<&str>) -> ApiResult<Option<String>> {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        None => Ok(None),
        Some(q) if q.chars().count() > 200 => Err(ApiError::invalid_field(
            "q",
            "TOO_LONG",
            "`q` is at most 200 characters",
        )),
        Some(q) => Ok(Some(q.to_lowercase())),
    }
}

fn one_of<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    names: &str,
) -> ApiResult<Option<T>> {
    match raw.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => parse(r).map(Some).ok_or_else(|| {
            ApiError::invalid_field(
                field,
                "INVALID_VALUE",
                format!("`{field}` is one of {names}"),
            )
        }),
    }
}

/// A page of some list.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last one. A filtered list
    /// may answer a short (even empty) page with a cursor.
    pub next_cursor: Option<String>,
}

/// One page of an operator's list: the cursor is bound to the list and its
/// filter (`scope`), `fetch` reads from its position, the next one is sealed.
async fn paged<T, Fut>(
    s: &Services,
    list: &'static str,
    scope: &str,
    (limit, cursor): (Option<usize>, Option<&str>),
    fetch: impl FnOnce(usize, Option<String>) -> Fut,
) -> ApiResult<Json<Page<T>>>
where
    T: ToSchema,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), AdminError>>,
{
    let (items, next_cursor) = PageRequest::open(
        s.secrets.as_ref(),
        CursorScope::new(list, "platform").within(scope),
        limit,
        cursor,
    )
    .await?
    .read(fetch, problem)
    .await?;
    Ok(Json(Page { items, next_cursor }))
}

// ---------------------------------------------------------------- users

#[derive(Deserialize)]
pub struct UsersQuery {
    status: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Every account, newest first; `q` searches e-mail, name and company.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = TAG, security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "active, unverified or suspended"),
        ("q" = Option<String>, Query, description = "part of an e-mail, name or company (case-insensitive)"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = Page<UserSummary>),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 404, description = "not a platform operator", body = Problems),
        (status = 422, body = Problems)))]
pub async fn list_users(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<UsersQuery>,
) -> ApiResult<Json<Page<UserSummary>>> {
    let filter = UserFilter {
        status: one_of(
            "status",
            query.status.as_deref(),
            UserStatus::parse,
            "active, unverified, suspended",
        )?,
        q: search(query.q.as_deref())?,
    };
    let scope = format!("{:?}|{}", filter.status, filter.q.as_deref().unwrap_or(""));
    paged(
        &s,
        "admin-users",
        &scope,
        (query.limit, query.cursor.as_deref()),
        |limit, at| users::list(&s, &filter, limit, at),
    )
    .await
}

/// One account with its memberships and live sessions.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = UserDetail), (status = 404, body = Problems)))]
pub async fn get_user(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<UserDetail>> {
    let user: UserId = id(&raw, "user")?;
    Ok(Json(users::detail(&s, &user).await.map_err(problem)?))
}

/// Suspend an account: its sessions are revoked, its API keys deleted, and login
/// answers 403 `ACCOUNT_SUSPENDED` until it is restored.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/suspend", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = UserDetail), (status = 404, body = Problems),
        (status = 409, description = "CANNOT_SUSPEND_SELF", body = Problems)))]
pub async fn suspend_user(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<UserDetail>> {
    let user: UserId = id(&raw, "user")?;
    Ok(Json(
        users::suspend(&s, &operator(&admin), &user)
            .await
            .map_err(problem)?,
    ))
}

/// Lift a suspension.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/restore", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = UserDetail), (status = 404, body = Problems)))]
pub async fn restore_user(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<UserDetail>> {
    let user: UserId = id(&raw, "user")?;
    Ok(Json(
        users::restore(&s, &operator(&admin), &user)
            .await
            .map_err(problem)?,
    ))
}

// ---------------------------------------------------------------- orgs

#[derive(Deserialize)]
pub struct OrgsQuery {
    q: Option<String>,
    mode: Option<String>,
    plan: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn mode(raw: &str) -> Option<Mode> {
    match raw {
        "active" => Some(Mode::Active),
        "read_only" => Some(Mode::ReadOnly),
        "archived" => Some(Mode::Archived),
        _ => None,
    }
}

/// Every org, newest first; `q` searches the name (or is an org id).
#[utoipa::path(get, path = "/api/v1/admin/orgs", tag = TAG, security(("bearer" = [])),
    params(("q" = Option<String>, Query, description = "part of the name (case-insensitive), or an org id"),
        ("mode" = Option<String>, Query, description = "active, read_only or archived (as it applies: a held org is read_only)"),
        ("plan" = Option<String>, Query, description = "a plan id of the catalog"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = Page<OrgSummary>),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 404, body = Problems), (status = 422, body = Problems)))]
pub async fn list_orgs(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<OrgsQuery>,
) -> ApiResult<Json<Page<OrgSummary>>> {
    let catalog = &skiff_billing::settings(&s).catalog;
    let filter = OrgFilter {
        q: search(query.q.as_deref())?,
        mode: one_of(
            "mode",
            query.mode.as_deref(),
            mode,
            "active, read_only, archived",
        )?,
        plan: one_of(
            "plan",
            query.plan.as_deref(),
            |p| catalog.get(p).map(|p| p.id.clone()),
            &catalog
                .plans()
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )?,
    };
    let scope = format!(
        "{}|{:?}|{}",
        filter.q.as_deref().unwrap_or(""),
        filter.mode,
        filter.plan.as_deref().unwrap_or("")
    );
    paged(
        &s,
        "admin-orgs",
        &scope,
        (query.limit, query.cursor.as_deref()),
        |limit, at| orgs::list(&s, &filter, limit, at),
    )
    .await
}

/// One org: members, subscription, licenses with seat use, usage against each
/// entitlement, and its service profile with any hold.
#[utoipa::path(get, path = "/api/v1/admin/orgs/{id}", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OrgDetail), (status = 404, body = Problems)))]
pub async fn get_org(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<OrgDetail>> {
    let org: OrgId = id(&raw, "organization")?;
    Ok(Json(orgs::detail(&s, &org).await.map_err(problem)?))
}

/// Why an org is held (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Shown to operators, never to the org; at most 500 characters.
    note: Option<String>,
}

/// Put an org on hold: its locked routes answer 423 `operator_hold` until it is
/// released; billing events never lift it. The body is optional.
#[utoipa::path(post, path = "/api/v1/admin/orgs/{id}/hold", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = Option<HoldRequest>, description = "optional"),
    responses((status = 200, body = OrgDetail), (status = 404, body = Problems),
        (status = 400, body = Problems), (status = 415, body = Problems), (status = 422, body = Problems)))]
pub async fn hold_org(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(raw): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<Json<OrgDetail>> {
    let org: OrgId = id(&raw, "organization")?;
    let request: HoldRequest = if body.is_empty() {
        HoldRequest::default()
    } else if !skiff_http::json::is_json_content_type(&headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as application/json (or no body)".into(),
        ));
    } else {
        skiff_http::json::parse(&body)?
    };
    let note = request
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::validation(vec![FieldError::new(
            "note",
            "TOO_LONG",
            "`note` is at most 500 characters",
        )]));
    }
    Ok(Json(
        orgs::hold(&s, &operator(&admin), &org, note)
            .await
            .map_err(problem)?,
    ))
}

/// Release an operator's hold.
#[utoipa::path(post, path = "/api/v1/admin/orgs/{id}/release", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OrgDetail), (status = 404, body = Problems)))]
pub async fn release_org(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<OrgDetail>> {
    let org: OrgId = id(&raw, "organization")?;
    Ok(Json(
        orgs::release(&s, &operator(&admin), &org)
            .await
            .map_err(problem)?,
    ))
}

// ---------------------------------------------------------------- licenses

#[derive(Deserialize)]
pub struct LicensesQuery {
    status: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Every license, newest first; `q` finds a license key, the licenses an e-mail
/// address owns, or those of an org or license id (all matches, one page).
#[utoipa::path(get, path = "/api/v1/admin/licenses", tag = TAG, security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "active, suspended, inactive or expired (as validation answers now)"),
        ("q" = Option<String>, Query, description = "a license key, an owner's e-mail, an org id or a license id"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = Page<LicenseSummary>),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 404, body = Problems), (status = 422, body = Problems)))]
pub async fn list_licenses(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<LicensesQuery>,
) -> ApiResult<Json<Page<LicenseSummary>>> {
    let status = one_of(
        "status",
        query.status.as_deref(),
        LicenseStatus::parse,
        "active, suspended, inactive, expired",
    )?;
    let q = match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        None => None,
        Some(raw) if raw.len() > 320 => {
            return Err(ApiError::invalid_field("q", "TOO_LONG", "`q` is too long"));
        }
        Some(raw) => Some(LicenseQuery::parse(raw).map_err(problem)?),
    };
    let scope = format!("{status:?}");
    let filter = LicenseFilter { status, q };
    paged(
        &s,
        "admin-licenses",
        &scope,
        (query.limit, query.cursor.as_deref()),
        |limit, at| licenses::list(&s, &filter, limit, at),
    )
    .await
}

/// Suspend a license: validation answers `SUSPENDED`, its sessions end, no seat is
/// handed out, whatever billing does, until it is reinstated.
#[utoipa::path(post, path = "/api/v1/admin/licenses/{id}/suspend", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = LicenseSummary), (status = 404, body = Problems)))]
pub async fn suspend_license(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<LicenseSummary>> {
    let license: LicenseId = id(&raw, "license")?;
    Ok(Json(
        licenses::suspend(&s, &operator(&admin), &license)
            .await
            .map_err(problem)?,
    ))
}

/// Lift an operator's suspension: the license is again what billing made it.
#[utoipa::path(post, path = "/api/v1/admin/licenses/{id}/reinstate", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = LicenseSummary), (status = 404, body = Problems)))]
pub async fn reinstate_license(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(raw): Path<String>,
) -> ApiResult<Json<LicenseSummary>> {
    let license: LicenseId = id(&raw, "license")?;
    Ok(Json(
        licenses::reinstate(&s, &operator(&admin), &license)
            .await
            .map_err(problem)?,
    ))
}

// ---------------------------------------------------------------- analytics

#[derive(Deserialize)]
pub struct FiguresQuery {
    fresh: Option<bool>,
}

/// The business: MRR and ARR in minor units of `currency`, subscription counts,
/// churn and conversion as fractions, seats. The figures the scheduler stored
/// last (at most a few minutes old; `as_of` says when), or computed now with
/// `fresh=true`.
#[utoipa::path(get, path = "/api/v1/admin/analytics", tag = TAG, security(("bearer" = [])),
    params(("fresh" = Option<bool>, Query, description = "compute the figures now instead of serving the stored ones")),
    responses((status = 200, body = Figures), (status = 404, body = Problems), (status = 422, body = Problems)))]
pub async fn analytics(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<FiguresQuery>,
) -> ApiResult<Json<Figures>> {
    let fresh = query.fresh.unwrap_or(false);
    Ok(Json(analytics::latest(&s, fresh).await.map_err(problem)?))
}

#[derive(Deserialize)]
pub struct SeriesQuery {
    metric: Option<String>,
    days: Option<u32>,
}

/// A daily series.
#[derive(Serialize, ToSchema)]
pub struct Series {
    pub metric: String,
    /// Oldest first; the last point is today's, live.
    pub points: Vec<Point>,
}

/// One metric per UTC day over the last `days` days: the daily snapshots, and
/// today's figure live.
#[utoipa::path(get, path = "/api/v1/admin/analytics/series", tag = TAG, security(("bearer" = [])),
    params(("metric" = String, Query, description = "mrr, signups, seats_in_use or active_subscriptions"),
        ("days" = Option<u32>, Query, description = "1-366, default 90")),
    responses((status = 200, body = Series), (status = 404, body = Problems), (status = 422, body = Problems)))]
pub async fn analytics_series(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<SeriesQuery>,
) -> ApiResult<Json<Series>> {
    let names = Metric::NAMES.join(", ");
    let metric =
        one_of("metric", query.metric.as_deref(), Metric::parse, &names)?.ok_or_else(|| {
            ApiError::invalid_field("metric", "REQUIRED", format!("`metric` is one of {names}"))
        })?;
    let points = analytics::series(&s, metric, query.days.unwrap_or(90))
        .await
        .map_err(problem)?;
    Ok(Json(Series {
        metric: query.metric.unwrap_or_default(),
        points,
    }))
}

// ---------------------------------------------------------------- audit

#[derive(Deserialize)]
pub struct AuditQuery {
    org: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Every domain's audit entries, newest first, over a range of at most 400 days
/// (default: the last 30).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = TAG, security(("bearer" = [])),
    params(("org" = Option<String>, Query, description = "an org id"),
        ("actor" = Option<String>, Query, description = "exactly, e.g. operator:usr_…, user:usr_…, billing, system"),
        ("action" = Option<String>, Query, description = "exactly, e.g. USER_SUSPENDED, SEAT_ACQUIRED"),
        ("since" = Option<i64>, Query, description = "unix seconds, inclusive"),
        ("until" = Option<i64>, Query, description = "unix seconds, inclusive (default now)"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = Page<AuditRecord>),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 404, body = Problems), (status = 422, body = Problems)))]
pub async fn audit(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<AuditQuery>,
) -> ApiResult<Json<Page<AuditRecord>>> {
    let org = match query.org.as_deref().filter(|o| !o.is_empty()) {
        None => None,
        Some(raw) => Some(OrgId::parse(raw).map_err(|_| {
            ApiError::invalid_field("org", "INVALID_ID", "`org` is an org id (org_…)")
        })?),
    };
    let short = |field: &str, v: Option<String>| -> ApiResult<Option<String>> {
        match v.filter(|v| !v.is_empty()) {
            Some(v) if v.len() > 200 => Err(ApiError::invalid_field(
                field,
                "TOO_LONG",
                format!("`{field}` is at most 200 characters"),
            )),
            other => Ok(other),
        }
    };
    let filter = AuditFilter {
        org,
        actor: short("actor", query.actor)?,
        action: short("action", query.action)?,
        since: query.since,
        until: query.until,
    };
    // Pin the range, so every page of one listing reads the same days.
    let (since, until) = filter.range(s.clock.unix()).map_err(problem)?;
    let filter = AuditFilter {
        since: Some(since),
        until: Some(until),
        ..filter
    };
    let scope = format!(
        "{:?}|{:?}|{:?}|{since}|{until}",
        filter.org, filter.actor, filter.action
    );
    paged(
        &s,
        "admin-audit",
        &scope,
        (query.limit, query.cursor.as_deref()),
        |limit, at| skiff_admin::audit::list(&s, &filter, limit, at),
    )
    .await
}

// ---------------------------------------------------------------- dead letters

#[derive(Deserialize)]
pub struct DeadLettersQuery {
    limit: Option<usize>,
}

/// The dead letters.
#[derive(Serialize, ToSchema)]
pub struct DeadLetters {
    /// Oldest first.
    pub items: Vec<DeadLetterView>,
}

/// The outbox's dead letters (the embedded queue's table, or the SQS DLQ), oldest
/// first, payloads summarized.
#[utoipa::path(get, path = "/api/v1/admin/dead-letters", tag = TAG, security(("bearer" = [])),
    params(("limit" = Option<usize>, Query, description = "1-200, default 50")),
    responses((status = 200, body = DeadLetters), (status = 404, body = Problems), (status = 422, body = Problems)))]
pub async fn list_dead_letters(
    State(s): State<Services>,
    _admin: PlatformAdmin,
    QueryParams(query): QueryParams<DeadLettersQuery>,
) -> ApiResult<Json<DeadLetters>> {
    let limit = PageLimit::parse(query.limit)?.get();
    Ok(Json(DeadLetters {
        items: dead_letters::list(&s, limit).await.map_err(problem)?,
    }))
}

/// A replayed dead letter.
#[derive(Serialize, ToSchema)]
pub struct Replayed {
    /// The queue's id of the message put back.
    pub message_id: String,
}

/// Put a dead letter back on the outbox queue with a fresh receive count.
#[utoipa::path(post, path = "/api/v1/admin/dead-letters/{id}/replay", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "the dead letter's message id")),
    responses((status = 200, body = Replayed), (status = 404, body = Problems)))]
pub async fn replay_dead_letter(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(message_id): Path<String>,
) -> ApiResult<Json<Replayed>> {
    let message_id = dead_letters::replay(&s, &operator(&admin), &message_id)
        .await
        .map_err(problem)?;
    Ok(Json(Replayed { message_id }))
}

/// Drop a dead letter for good.
#[utoipa::path(post, path = "/api/v1/admin/dead-letters/{id}/resolve", tag = TAG, security(("bearer" = [])),
    params(("id" = String, Path, description = "the dead letter's message id")),
    responses((status = 204, description = "resolved"), (status = 404, body = Problems)))]
pub async fn resolve_dead_letter(
    State(s): State<Services>,
    admin: PlatformAdmin,
    Path(message_id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    dead_letters::resolve(&s, &operator(&admin), &message_id)
        .await
        .map_err(problem)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
