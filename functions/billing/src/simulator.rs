//! The payment simulator's pages and dev triggers (the simulator itself, which
//! plays Stripe's part, is billing's: `skiff_billing::simulator`). Routes live under
//! `/api/v1/billing/simulator/` and are mounted only in `dev` with simulated
//! payments: org ids are not secret, so outside `dev` nothing here may be
//! reachable. The checkout and portal pages are reached by their unguessable
//! session or customer id, as a person pays; the org-level triggers act only for
//! an owner or admin access token of that org.

use crate::problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use skiff_billing::settings::PaymentsMode;
use skiff_billing::simulator::{BASE, Delivery, SimSubscription, Simulator};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_identity::Role;

/// Whether the simulator's routes belong in this deployment's router: `dev` with
/// simulated payments.
pub fn enabled(
    config: &skiff_core::config::Config,
    billing: &skiff_billing::settings::BillingSettings,
) -> bool {
    config.is_dev() && billing.payments == PaymentsMode::Simulator
}

/// The simulator's pages and dev triggers; mount only where [`enabled`] says so.
pub fn router() -> axum::Router<Services> {
    axum::Router::new()
        .route(
            &format!("{BASE}/checkout/{{session_id}}"),
            get(checkout_page),
        )
        .route(
            &format!("{BASE}/checkout/{{session_id}}/pay"),
            post(pay_route),
        )
        .route(
            &format!("{BASE}/checkout/{{session_id}}/decline"),
            post(decline_route),
        )
        .route(&format!("{BASE}/portal/{{customer_id}}"), get(portal_page))
        .route(&format!("{BASE}/orgs/{{org_id}}"), get(subscription_route))
        .route(
            &format!("{BASE}/orgs/{{org_id}}/{{action}}"),
            post(trigger_route),
        )
}

fn simulator(s: &Services) -> ApiResult<Simulator> {
    // A router that mounted these routes where they do not belong still refuses.
    if !enabled(&s.config, skiff_billing::settings(s)) {
        return Err(ApiError::not_found("the payment simulator is not enabled"));
    }
    Ok(Simulator::new(s.clone()))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
         .card{{border:1px solid #ccc;border-radius:8px;padding:1.5rem}}button{{font-size:1rem;padding:.6rem 1.4rem;margin-right:.5rem;cursor:pointer}}\
         .pay{{background:#2b7a0b;color:#fff;border:0;border-radius:4px}}.decline{{background:#b00020;color:#fff;border:0;border-radius:4px}}\
         .note{{color:#666;font-size:.85rem}}</style></head><body><div class=\"card\">{body}</div>\
         <p class=\"note\">Skiff payment simulator — no money moves. Events are signed like Stripe's and sent to the real webhook.</p></body></html>",
        t = escape(title)
    );
    Html(html).into_response()
}

async fn checkout_page(
    State(s): State<Services>,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let sim = simulator(&s)?;
    let session = sim.session(&session_id).await.map_err(problem)?;
    let plan = skiff_billing::settings(&s).catalog.get(&session.plan_id);
    let name = plan.map_or(session.plan_id.clone(), |p| p.name.clone());
    let price = plan.map_or(String::new(), |p| p.price.display());
    let trial = if session.trial_days > 0 {
        format!(
            "<p><strong>{} days free</strong>, then {price} per month.</p>",
            session.trial_days
        )
    } else {
        format!("<p>{price} per month.</p>")
    };
    let body = if session.status == "open" {
        format!(
            "<h1>Subscribe to {n}</h1>{trial}<p>Card: 4242 4242 4242 4242 (simulated)</p>\
             <form method=\"post\" action=\"{BASE}/checkout/{id}/pay\" style=\"display:inline\"><button class=\"pay\" type=\"submit\">Pay</button></form>\
             <form method=\"post\" action=\"{BASE}/checkout/{id}/decline\" style=\"display:inline\"><button class=\"decline\" type=\"submit\">Decline</button></form>",
            n = escape(&name),
            id = escape(&session.id),
        )
    } else {
        format!(
            "<h1>{}</h1><p>This checkout session is {}.</p>",
            escape(&name),
            escape(&session.status)
        )
    };
    Ok(page(&format!("Checkout — {name}"), &body))
}

async fn pay_route(
    State(s): State<Services>,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let (redirect, deliveries) = simulator(&s)?.pay(&session_id).await.map_err(problem)?;
    delivered_redirect(&redirect, &deliveries)
}

async fn decline_route(
    State(s): State<Services>,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let (redirect, deliveries) = simulator(&s)?.decline(&session_id).await.map_err(problem)?;
    delivered_redirect(&redirect, &deliveries)
}

/// 303 to the merchant's URL once the webhook accepted every event; otherwise a
/// 502 saying which delivery failed (Stripe would keep retrying).
fn delivered_redirect(redirect: &str, deliveries: &[Delivery]) -> ApiResult<Response> {
    if let Some(bad) = deliveries.iter().find(|d| !(200..300).contains(&d.status)) {
        return Ok((
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": "webhook delivery failed", "delivery": bad, "deliveries": deliveries})),
        )
            .into_response());
    }
    Ok(Redirect::to(redirect).into_response())
}

async fn portal_page(
    State(s): State<Services>,
    Path(customer_id): Path<String>,
) -> ApiResult<Response> {
    simulator(&s)?;
    let org_id = s
        .store
        .get(&skiff_billing::keys::customer(&customer_id))
        .await?
        .and_then(|i| i.get_str("org_id").and_then(|o| OrgId::parse(o).ok()))
        .ok_or_else(|| ApiError::not_found("no such customer"))?;
    let sub = Simulator::new(s.clone()).subscription(&org_id).await.ok();
    let status = sub.as_ref().map_or("none".to_owned(), |s| {
        format!("{} ({}, {} seat packs)", s.status, s.plan_id, s.quantity)
    });
    let body = format!(
        "<h1>Billing portal</h1><p>Subscription: {}</p>\
         <p>Simulate a renewal, a failed payment, a cancellation or a plan change with \
         <code>POST {BASE}/orgs/{o}/renew|fail|cancel|update</code> and an owner's or \
         admin's access token.</p>",
        escape(&status),
        o = escape(org_id.as_str()),
    );
    Ok(page("Billing portal", &body))
}

/// The org-level routes act on the caller's own org only: another org's id is 404
/// (as if it did not exist), a member or an API key is 403. The org, typed.
fn require_org_admin<'p>(principal: &'p Principal, org_id: &str) -> ApiResult<&'p OrgId> {
    if principal.org_id.as_str() != org_id {
        return Err(ApiError::not_found(
            "the organization has no simulated subscription",
        ));
    }
    principal.require_user()?;
    principal.require_role(Role::Admin)?;
    Ok(&principal.org_id)
}

async fn subscription_route(
    State(s): State<Services>,
    principal: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<SimSubscription>> {
    let sim = simulator(&s)?;
    let org_id = require_org_admin(&principal, &org_id)?;
    Ok(Json(sim.subscription(org_id).await.map_err(problem)?))
}

#[derive(Debug, Default, Deserialize)]
struct ChangeBody {
    plan_id: Option<String>,
    quantity: Option<i64>,
}

/// `POST …/orgs/{org_id}/{renew|fail|cancel|update}` → the deliveries made.
async fn trigger_route(
    State(s): State<Services>,
    principal: Principal,
    Path((org_id, action)): Path<(String, String)>,
    body: Option<Json<ChangeBody>>,
) -> ApiResult<Json<Value>> {
    let sim = simulator(&s)?;
    let org_id = require_org_admin(&principal, &org_id)?;
    tracing::warn!(%org_id, action, "payment simulator trigger");
    let deliveries = match action.as_str() {
        "renew" => sim.renew(org_id).await.map_err(problem)?,
        "fail" => sim.fail(org_id).await.map_err(problem)?,
        "cancel" => sim.cancel_now(org_id).await.map_err(problem)?,
        "update" => {
            let b = body.map(|Json(b)| b).unwrap_or_default();
            sim.change(org_id, b.plan_id.as_deref(), b.quantity)
                .await
                .map_err(problem)?
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no simulator action `{other}`"
            )));
        }
    };
    Ok(Json(json!({ "deliveries": deliveries })))
}
