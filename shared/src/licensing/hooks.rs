//! What billing asks of licensing. Every hook is idempotent: billing may call it
//! again for the same event (webhook redelivery) without a second effect.

use super::audit::{self, Action, Actor};
use super::model::{EndReason, License, RequestMeta, Status};
use super::{mail, repo, seats, service};
use crate::ApiError;
use crate::services::Services;
use serde_json::json;

/// A completed checkout (or a plan change) for an org.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entitlement {
    pub org_id: String,
    pub plan_id: String,
    /// Tier name from the plan catalog (`starter`, `pro`, ...).
    pub tier: String,
    pub features: Vec<String>,
    /// -1 = unlimited.
    pub max_seats: i64,
    /// Unix seconds: the license expires at the end of the paid (or trial) period.
    pub expires_at: i64,
    /// The billing subscription this license belongs to (idempotency key of issuance).
    pub subscription_id: String,
}

async fn log_audit(
    services: &Services,
    license: &License,
    action: Action,
    detail: serde_json::Value,
) {
    audit::record_logged(
        services.store.as_ref(),
        services.clock.as_ref(),
        &license.org_id,
        &license.license_id,
        action,
        &Actor::Billing,
        &RequestMeta::default(),
        detail,
    )
    .await;
}

/// Issue the org's license for a subscription exactly once (a second call for the
/// same subscription returns without effect); sends the "license issued" e-mail.
pub async fn issue_license(services: &Services, entitlement: &Entitlement) -> Result<(), ApiError> {
    let (license, created) = repo::issue(
        services.store.as_ref(),
        services.clock.as_ref(),
        entitlement,
        &services.config.licensing.key_prefix,
    )
    .await?;
    if created {
        tracing::info!(org_id = %license.org_id, license_id = %license.license_id, "license issued");
        log_audit(
            services,
            &license,
            Action::LicenseIssued,
            json!({
                "subscription_id": license.subscription_id,
                "plan_id": license.plan_id,
                "tier": license.tier,
                "max_seats": license.max_seats,
            }),
        )
        .await;
    }
    // Also on a redelivery: the first call may have failed before queuing it.
    mail::send_issued_once(services, &license).await
}

/// Renewal or plan change: move expiry, apply seats/tier/features, reactivate a
/// suspended license; a seat decrease ends the newest sessions above the limit.
pub async fn update_license(
    services: &Services,
    entitlement: &Entitlement,
) -> Result<(), ApiError> {
    let store = services.store.as_ref();
    let clock = services.clock.as_ref();
    let Some(license) =
        repo::for_subscription(store, &entitlement.org_id, &entitlement.subscription_id).await?
    else {
        // Never issued (the checkout event was lost or is late): issue it now.
        return issue_license(services, entitlement).await;
    };
    let lic = license.reference();
    let Some(updated) = repo::apply_entitlement(store, clock, &lic, entitlement).await? else {
        tracing::info!(license_id = %license.license_id, "inactive license left as it is");
        return Ok(());
    };
    {
        log_audit(
            services,
            &updated,
            Action::LicenseUpdated,
            json!({
                "plan_id": updated.plan_id,
                "tier": updated.tier,
                "max_seats": updated.max_seats,
                "expires_at": updated.expires_at,
                "reactivated": license.status != Status::Active,
            }),
        )
        .await;
    }
    let ended = seats::enforce_limit(store, clock, &lic)
        .await
        .map_err(service::seat_error)?;
    for seat in &ended {
        service::audit_seat_end(services, seat, EndReason::Downgraded).await;
    }
    Ok(())
}

/// Payment failed past grace: status `suspended`, every seat session ended.
pub async fn suspend_licenses(
    services: &Services,
    org_id: &str,
    reason: &str,
) -> Result<(), ApiError> {
    let store = services.store.as_ref();
    let clock = services.clock.as_ref();
    for license in repo::list(store, org_id).await? {
        let lic = license.reference();
        let changed = repo::suspend(store, clock, &lic, reason).await?;
        // End the sessions of every license that cannot hand out seats now, also
        // when it was already suspended (a previous call may have stopped midway).
        let current = repo::get(store, &lic).await?;
        if current.as_ref().is_none_or(|l| l.status == Status::Active) {
            continue;
        }
        let ended = seats::end_all(store, clock, &lic, EndReason::Suspended)
            .await
            .map_err(service::seat_error)?;
        if changed || !ended.is_empty() {
            log_audit(
                services,
                &license,
                Action::LicenseSuspended,
                json!({ "reason": reason, "sessions_ended": ended.len() }),
            )
            .await;
        }
    }
    Ok(())
}

/// Subscription canceled: status `inactive`, every seat session ended.
pub async fn deactivate_licenses(services: &Services, org_id: &str) -> Result<(), ApiError> {
    let store = services.store.as_ref();
    let clock = services.clock.as_ref();
    for license in repo::list(store, org_id).await? {
        let lic = license.reference();
        let changed = repo::deactivate(store, clock, &lic).await?;
        let ended = seats::end_all(store, clock, &lic, EndReason::Deactivated)
            .await
            .map_err(service::seat_error)?;
        if changed || !ended.is_empty() {
            log_audit(
                services,
                &license,
                Action::LicenseDeactivated,
                json!({ "sessions_ended": ended.len() }),
            )
            .await;
        }
    }
    Ok(())
}

/// Grace period set or cleared (payment overdue but still valid): validation
/// answers `GRACE_PERIOD` until `grace_ends_at`.
pub async fn set_grace_period(
    services: &Services,
    org_id: &str,
    grace_ends_at: Option<i64>,
) -> Result<(), ApiError> {
    let store = services.store.as_ref();
    for license in repo::list(store, org_id).await? {
        repo::set_grace(
            store,
            services.clock.as_ref(),
            &license.reference(),
            grace_ends_at,
        )
        .await?;
    }
    Ok(())
}
