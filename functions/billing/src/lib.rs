//! The `billing` function: the plan catalog, checkout, the subscription, the
//! billing portal, the Stripe webhook and the service profile. Thin: routing,
//! extraction and mapping onto `skiff_billing`.
//!
//! Billing routes are never write-locked: a locked org must still be able to pay.

mod simulator;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use skiff_billing::catalog::{Entitlements, Interval, Plan};
use skiff_billing::service::{self, Caller, CheckoutBody, WebhookError, WebhookOutcome};
use skiff_billing::service_profile::{self, Capabilities};
use skiff_billing::{BillingError, Runtime};
use skiff_core::Services;
use skiff_http::error::{Problem, problem_response};
use skiff_http::extract::QueryParams;
use skiff_http::json::JsonBody;
use skiff_http::pagination::{CursorScope, PageRequest};
use skiff_http::principal::{CurrentMember, Principal};
use skiff_http::{ApiError, ApiResult};
use skiff_identity::{Role, users};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

const TAG_PLANS: &str = "plans";
const TAG_BILLING: &str = "billing";
const TAG_SERVICE: &str = "service";

type Problems = skiff_http::openapi::ProblemDetails;

skiff_http::endpoints!(
    Services;
    list_plans,
    get_plan,
    checkout,
    get_subscription,
    cancel_subscription,
    portal,
    billing_events,
    webhook,
    service_profile_route,
);

/// This group's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// Every route of the group, without the payment simulator's.
pub fn router() -> axum::Router<Services> {
    served().layer(axum::Extension(Runtime::new()))
}

/// [`router`], plus the payment simulator's routes where the configuration enables
/// them (`dev` with simulated payments); elsewhere they are absent, so 404 like any
/// unknown route.
pub fn router_for(
    config: &skiff_core::config::Config,
    billing: &skiff_billing::settings::BillingSettings,
) -> axum::Router<Services> {
    if simulator::enabled(config, billing) {
        router().merge(simulator::router())
    } else {
        router()
    }
}

// ---------------------------------------------------------------- plans

/// A price in minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceView {
    /// Minor units (cents): 2900 = $29.00.
    amount: i64,
    currency: String,
    /// For people, e.g. `$29.00`.
    display: String,
}

/// Numeric limits; -1 = unlimited.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntitlementsView {
    max_seats: i64,
    storage_gb: i64,
    backup_gb: i64,
    max_memories: i64,
    max_scripts: i64,
    rate_limit_per_min: i64,
}

impl From<Entitlements> for EntitlementsView {
    fn from(e: Entitlements) -> Self {
        Self {
            max_seats: e.max_seats.0,
            storage_gb: e.storage_gb.0,
            backup_gb: e.backup_gb.0,
            max_memories: e.max_memories.0,
            max_scripts: e.max_scripts.0,
            rate_limit_per_min: e.rate_limit_per_min.0,
        }
    }
}

/// A plan of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    id: String,
    name: String,
    description: String,
    price: PriceView,
    /// `month` or `year`.
    interval: String,
    trial_days: u32,
    entitlements: EntitlementsView,
    features: BTreeMap<String, bool>,
}

impl From<&Plan> for PlanView {
    fn from(p: &Plan) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            price: PriceView {
                amount: p.price.amount,
                currency: p.price.currency.to_string(),
                display: p.price.display(),
            },
            interval: match p.interval {
                Interval::Month => "month",
                Interval::Year => "year",
            }
            .into(),
            trial_days: p.trial_days,
            entitlements: p.entitlements.into(),
            features: p.features.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    /// By price, ascending.
    plans: Vec<PlanView>,
}

/// The plan catalog (public), sorted by price ascending.
#[utoipa::path(get, path = "/api/v1/plans", tag = TAG_PLANS, responses((status = 200, body = PlanList)))]
pub async fn list_plans(State(s): State<Services>) -> Json<PlanList> {
    Json(PlanList {
        plans: skiff_billing::settings(&s)
            .catalog
            .plans()
            .iter()
            .map(PlanView::from)
            .collect(),
    })
}

/// One plan (public).
#[utoipa::path(
    get,
    path = "/api/v1/plans/{plan_id}",
    tag = TAG_PLANS,
    params(("plan_id" = String, Path, description = "e.g. `pro`")),
    responses((status = 200, body = PlanView), (status = 404, body = Problems))
)]
pub async fn get_plan(
    State(s): State<Services>,
    Path(plan_id): Path<String>,
) -> ApiResult<Json<PlanView>> {
    skiff_billing::settings(&s)
        .catalog
        .get(&plan_id)
        .map(|p| Json(PlanView::from(p)))
        .ok_or_else(|| ApiError::not_found(format!("no plan `{plan_id}`")))
}

// ---------------------------------------------------------------- caller

/// The billing view of the principal: its org and role, and — for a user — the
/// e-mail address and whether it is verified (read from the store, not the token).
async fn caller(s: &Services, p: &Principal) -> ApiResult<Caller> {
    let user = match &p.user_id {
        Some(id) => users::get(s.store.as_ref(), id).await?,
        None => None,
    };
    Ok(Caller {
        org_id: p.org_id.clone(),
        user_id: p.user_id.clone(),
        role: p.role,
        email: user.as_ref().map(|u| u.email.clone()),
        email_verified: user.as_ref().is_some_and(|u| u.email_verified),
    })
}

/// Owners and admins; handlers that call this take a [`CurrentMember`], so the
/// role is the one the store has now, not the token's.
fn require_admin(p: &Principal) -> ApiResult<()> {
    p.require_role(Role::Admin)
}

// ---------------------------------------------------------------- checkout

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckoutRequest {
    /// A paid plan of the catalog.
    plan_id: String,
    /// Where the payment page returns after payment (an allowed origin).
    success_url: String,
    /// Where it returns when the customer gives up (an allowed origin).
    cancel_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResponse {
    /// Send the customer here.
    checkout_url: String,
    session_id: String,
}

/// Start a checkout for a paid plan (owner/admin with a verified e-mail).
#[utoipa::path(
    post,
    path = "/api/v1/billing/checkout",
    tag = TAG_BILLING,
    security(("bearer" = [])),
    request_body = CheckoutRequest,
    responses(
        (status = 200, body = CheckoutResponse),
        (status = 403, description = "EMAIL_NOT_VERIFIED or INSUFFICIENT_ROLE", body = Problems),
        (status = 404, description = "unknown plan", body = Problems),
        (status = 409, description = "ALREADY_SUBSCRIBED", body = Problems),
        (status = 422, description = "free plan or redirect URL not allowed", body = Problems),
    )
)]
pub async fn checkout(
    State(s): State<Services>,
    axum::Extension(rt): axum::Extension<Arc<Runtime>>,
    CurrentMember(principal): CurrentMember,
    JsonBody(body): JsonBody<CheckoutRequest>,
) -> ApiResult<Json<CheckoutResponse>> {
    principal.require_scope("billing:write")?;
    require_admin(&principal)?;
    let caller = caller(&s, &principal).await?;
    let payments = rt.payments(&s).await.map_err(problem)?;
    let started = service::checkout(
        &s,
        payments.as_ref(),
        &caller,
        &CheckoutBody {
            plan_id: body.plan_id,
            success_url: body.success_url,
            cancel_url: body.cancel_url,
        },
    )
    .await
    .map_err(problem)?;
    Ok(Json(CheckoutResponse {
        checkout_url: started.checkout_url,
        session_id: started.session_id,
    }))
}

// ---------------------------------------------------------------- subscription

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionResponse {
    plan_id: String,
    /// `trialing|active|past_due|canceled|none`.
    status: String,
    /// Unix seconds.
    current_period_end: Option<i64>,
    trial_end: Option<i64>,
    failed_payment_count: u32,
    grace_ends_at: Option<i64>,
    cancel_at_period_end: bool,
    /// Seats of the license (-1 = unlimited).
    seats: i64,
}

impl From<service::SubscriptionView> for SubscriptionResponse {
    fn from(v: service::SubscriptionView) -> Self {
        Self {
            plan_id: v.plan_id,
            status: v.status.to_owned(),
            current_period_end: v.current_period_end,
            trial_end: v.trial_end,
            failed_payment_count: v.failed_payment_count,
            grace_ends_at: v.grace_ends_at,
            cancel_at_period_end: v.cancel_at_period_end,
            seats: v.seats,
        }
    }
}

/// The org's subscription (`status: none` without one).
#[utoipa::path(
    get,
    path = "/api/v1/billing/subscription",
    tag = TAG_BILLING,
    security(("bearer" = [])),
    responses((status = 200, body = SubscriptionResponse), (status = 401, body = Problems))
)]
pub async fn get_subscription(
    State(s): State<Services>,
    principal: Principal,
) -> ApiResult<Json<SubscriptionResponse>> {
    principal.require_scope("billing:read")?;
    Ok(Json(
        service::subscription_view(&s, &principal.org_id)
            .await
            .map_err(problem)?
            .into(),
    ))
}

/// Cancel at the end of the current period (owner/admin); 202, the change arrives
/// by webhook.
#[utoipa::path(
    delete,
    path = "/api/v1/billing/subscription",
    tag = TAG_BILLING,
    security(("bearer" = [])),
    responses(
        (status = 202, body = SubscriptionResponse),
        (status = 404, description = "no subscription", body = Problems),
    )
)]
pub async fn cancel_subscription(
    State(s): State<Services>,
    axum::Extension(rt): axum::Extension<Arc<Runtime>>,
    CurrentMember(principal): CurrentMember,
) -> ApiResult<(StatusCode, Json<SubscriptionResponse>)> {
    principal.require_scope("billing:write")?;
    require_admin(&principal)?;
    let caller = caller(&s, &principal).await?;
    let payments = rt.payments(&s).await.map_err(problem)?;
    let view = service::cancel(&s, payments.as_ref(), &caller)
        .await
        .map_err(problem)?;
    Ok((StatusCode::ACCEPTED, Json(view.into())))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PortalRequest {
    /// Where the portal returns (an allowed origin; default the public URL).
    return_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalResponse {
    url: String,
}

/// A billing-portal URL (owner/admin).
#[utoipa::path(
    post,
    path = "/api/v1/billing/portal",
    tag = TAG_BILLING,
    security(("bearer" = [])),
    request_body = PortalRequest,
    responses((status = 200, body = PortalResponse), (status = 404, description = "no billing account yet", body = Problems))
)]
pub async fn portal(
    State(s): State<Services>,
    axum::Extension(rt): axum::Extension<Arc<Runtime>>,
    CurrentMember(principal): CurrentMember,
    body: Bytes,
) -> ApiResult<Json<PortalResponse>> {
    principal.require_scope("billing:write")?;
    require_admin(&principal)?;
    // The body is optional: none (or `{}`) means "return to the public URL".
    let body: PortalRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PortalRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("INVALID_JSON", e.to_string()))?
    };
    let caller = caller(&s, &principal).await?;
    let payments = rt.payments(&s).await.map_err(problem)?;
    let url = service::portal(&s, payments.as_ref(), &caller, body.return_url.as_deref())
        .await
        .map_err(problem)?;
    Ok(Json(PortalResponse { url }))
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingEvent {
    /// e.g. `SUBSCRIPTION_STARTED`, `PAYMENT_FAILED`, `SERVICE_SUSPENDED`.
    action: String,
    /// Unix seconds.
    at: i64,
    event_id: String,
    /// `stripe` or `scheduler`.
    actor: String,
    #[schema(value_type = Object)]
    detail: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingEvents {
    /// Newest first.
    events: Vec<BillingEvent>,
    /// Pass as `cursor` for the next page; absent on the last one.
    next_cursor: Option<String>,
}

/// The org's billing audit trail (owner/admin), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/billing/events",
    tag = TAG_BILLING,
    security(("bearer" = [])),
    params(
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, body = BillingEvents),
        (status = 400, description = "INVALID_CURSOR", body = Problems),
        (status = 401, body = Problems),
        (status = 403, body = Problems),
        (status = 422, body = Problems),
    )
)]
pub async fn billing_events(
    State(s): State<Services>,
    CurrentMember(principal): CurrentMember,
    QueryParams(q): QueryParams<EventsQuery>,
) -> ApiResult<Json<BillingEvents>> {
    principal.require_scope("billing:read")?;
    require_admin(&principal)?;
    let mut pager = PageRequest::open(
        s.secrets.as_ref(),
        CursorScope::new("billing-events", principal.org_id.as_str()),
        q.limit,
        q.cursor.as_deref(),
    )
    .await?;
    let (entries, next) =
        service::audit_log(&s, &principal.org_id, pager.limit, pager.position.take())
            .await
            .map_err(problem)?;
    Ok(Json(BillingEvents {
        next_cursor: pager.next_cursor(next.as_deref()),
        events: entries
            .into_iter()
            .map(|e| BillingEvent {
                action: e.action,
                at: e.at,
                event_id: e.event_id,
                actor: e.actor,
                detail: e.detail,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------- webhook

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `processed`, `ignored` or `duplicate`.
    status: String,
}

/// Stripe's webhook (no bearer token: the `Stripe-Signature` header authenticates).
#[utoipa::path(
    post,
    path = "/api/v1/billing/webhook",
    tag = TAG_BILLING,
    request_body(content = String, content_type = "application/json", description = "a Stripe event, verified on the raw bytes"),
    params(("Stripe-Signature" = String, Header, description = "t=…,v1=…[,v1=…]")),
    responses(
        (status = 200, body = WebhookAck),
        (status = 400, description = "missing or invalid signature, stale timestamp, malformed event", body = Problems),
        (status = 409, description = "EVENT_IN_PROGRESS: another delivery is being processed", body = Problems),
        (status = 500, description = "processing failed; retry", body = Problems),
    )
)]
pub async fn webhook(
    State(s): State<Services>,
    axum::Extension(rt): axum::Extension<Arc<Runtime>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let secrets = match rt.webhook_secrets(&s).await {
        Ok(s) => s,
        Err(e) => return problem(e).into_response(),
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let ack = |status: &str| Json(json!({ "status": status })).into_response();
    match service::handle_webhook(&s, &secrets, signature, &body).await {
        Ok(WebhookOutcome::Processed) => ack("processed"),
        Ok(WebhookOutcome::Ignored(_)) => ack("ignored"),
        Ok(WebhookOutcome::Duplicate) => ack("duplicate"),
        Ok(WebhookOutcome::InProgress) => {
            let mut extra = Map::new();
            extra.insert("status".into(), "processing".into());
            problem_response(
                StatusCode::CONFLICT,
                "EVENT_IN_PROGRESS",
                "another delivery of this event is being processed; retry later",
                extra,
            )
        }
        Err(WebhookError::Signature(e)) => {
            tracing::warn!(error = %e, "webhook signature refused");
            ApiError::bad_request("INVALID_SIGNATURE", e.to_string()).into_response()
        }
        Err(WebhookError::Malformed(e)) => {
            ApiError::bad_request("MALFORMED_EVENT", e).into_response()
        }
        Err(WebhookError::Failed(e)) => {
            tracing::error!(error = %e, "webhook processing failed");
            ApiError::Custom(Box::new(Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "WEBHOOK_PROCESSING_FAILED".into(),
                title: "Webhook processing failed".into(),
                detail: "The event could not be processed now; it will be retried.".into(),
                extra: Map::new(),
            }))
            .into_response()
        }
    }
}

// ---------------------------------------------------------------- service profile

#[derive(Debug, Serialize, ToSchema)]
pub struct CapabilitiesView {
    writes_enabled: bool,
    admin_mutations_enabled: bool,
    archive_export_enabled: bool,
    self_service_export_enabled: bool,
}

impl From<Capabilities> for CapabilitiesView {
    fn from(c: Capabilities) -> Self {
        Self {
            writes_enabled: c.writes_enabled,
            admin_mutations_enabled: c.admin_mutations_enabled,
            archive_export_enabled: c.archive_export_enabled,
            self_service_export_enabled: c.self_service_export_enabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceProfileView {
    /// The plan id (`free`, `starter`, `pro`, `enterprise`).
    tier: String,
    /// `active`, `read_only` or `archived`.
    mode: String,
    /// Why the mode is not `active`: `payment_failed`, `trial_expired`, `canceled`,
    /// `operator_hold`.
    reason: Option<String>,
    trialing: bool,
    capabilities: CapabilitiesView,
    entitlements: EntitlementsView,
    features: Vec<String>,
    upgrade_url: String,
}

/// The org's service profile: tier, mode, capabilities and entitlements.
#[utoipa::path(
    get,
    path = "/api/v1/service/profile",
    tag = TAG_SERVICE,
    security(("bearer" = [])),
    responses((status = 200, body = ServiceProfileView), (status = 401, body = Problems))
)]
pub async fn service_profile_route(
    State(s): State<Services>,
    principal: Principal,
) -> ApiResult<Json<ServiceProfileView>> {
    let profile = service_profile::load(s.store.as_ref(), &principal.org_id)
        .await?
        .effective();
    let catalog = &skiff_billing::settings(&s).catalog;
    let plan = catalog.get(&profile.tier).unwrap_or_else(|| catalog.free());
    Ok(Json(ServiceProfileView {
        tier: profile.tier.clone(),
        mode: profile.mode.as_str().to_owned(),
        reason: profile.reason.map(|r| r.as_str().to_owned()),
        trialing: profile.trialing,
        capabilities: profile.capabilities(catalog).into(),
        entitlements: profile.entitlements(catalog).into(),
        features: plan.enabled_features(),
        upgrade_url: skiff_billing::settings(&s).upgrade_url.clone(),
    }))
}

/// The `billing` Lambda's whole HTTP surface: health, the group's routes and, where
/// the configuration enables it, the payment simulator.
pub fn app(services: Services) -> axum::Router {
    let router = router_for(&services.config, skiff_billing::settings(&services));
    skiff_http::lambda_app(router, services)
}

/// The HTTP answer for a billing error (the one place billing's errors meet HTTP).
pub(crate) fn problem(e: BillingError) -> ApiError {
    match e {
        BillingError::NotFound(detail) => ApiError::NotFound(detail),
        BillingError::Forbidden { code, detail } => ApiError::Forbidden { code, detail },
        BillingError::NotInPlan {
            code,
            detail,
            extra,
        } => ApiError::Custom(Box::new(Problem {
            status: StatusCode::FORBIDDEN,
            code: code.to_owned(),
            title: "Not included in your plan".into(),
            detail,
            extra,
        })),
        BillingError::Conflict { code, detail } => ApiError::Conflict { code, detail },
        BillingError::Invalid(errors) => ApiError::validation(errors),
        BillingError::Unavailable(detail) => ApiError::Unavailable(detail),
        BillingError::Internal(detail) => ApiError::Internal(detail),
        BillingError::Payments(e) => e.into(),
        BillingError::Store(e) => e.into(),
        BillingError::Secrets(e) => e.into(),
        BillingError::Queue(e) => e.into(),
        BillingError::Licensing(e) => ApiError::internal(format!("licensing: {e}")),
    }
}
