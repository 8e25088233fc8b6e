//! License lifecycle driven by billing: issuance, renewal and plan changes,
//! suspension, deactivation, grace periods. Over the store and the clock only, so
//! the seat conformance suite runs exactly what billing's hooks run; the hooks add
//! the e-mail.

use super::audit::{self, Action, Actor};
use super::hooks::Entitlement;
use super::model::{EndReason, License, RequestMeta, Status};
use super::repo;
use super::seats::{self, SeatError};
use serde_json::json;
use skiff_core::clock::Clock;
use skiff_core::ids::OrgId;
use skiff_core::ports::store::ItemStore;

async fn log_audit(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    license: &License,
    action: Action,
    detail: serde_json::Value,
) {
    audit::record_logged(
        store,
        clock,
        &license.org_id,
        &license.license_id,
        action,
        &Actor::Billing,
        &RequestMeta::default(),
        detail,
    )
    .await;
}

/// Issue the license of a subscription once; `true` when this call issued it.
pub async fn issue(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    entitlement: &Entitlement,
    key_prefix: &str,
) -> Result<(License, bool), SeatError> {
    let (license, created) = repo::issue(store, clock, entitlement, key_prefix).await?;
    if created {
        tracing::info!(org_id = %license.org_id, license_id = %license.license_id, "license issued");
        log_audit(
            store,
            clock,
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
    Ok((license, created))
}

/// Apply a renewal or plan change to the subscription's license (issuing it if it
/// never was), reactivating a suspended one; a lower seat limit ends the newest
/// sessions above it. Returns the license, `None` if it is inactive.
pub async fn update(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    entitlement: &Entitlement,
    key_prefix: &str,
) -> Result<Option<License>, SeatError> {
    let Some(license) =
        repo::for_subscription(store, &entitlement.org_id, &entitlement.subscription_id).await?
    else {
        // Never issued (the checkout event was lost or is late): issue it now.
        return Ok(Some(issue(store, clock, entitlement, key_prefix).await?.0));
    };
    let lic = license.reference();
    let unchanged = license.status == Status::Active
        && license.plan_id == entitlement.plan_id
        && license.tier == entitlement.tier
        && license.features == entitlement.features
        && license.max_seats == entitlement.max_seats
        && license.expires_at == entitlement.expires_at;
    if unchanged {
        // Billing re-syncs on every event: nothing to write, nothing to audit.
        return Ok(Some(license));
    }
    let Some(updated) = repo::apply_entitlement(store, clock, &lic, entitlement).await? else {
        tracing::info!(license_id = %license.license_id, "inactive license left as it is");
        return Ok(None);
    };
    log_audit(
        store,
        clock,
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
    let ended = seats::enforce_limit(store, clock, &lic).await?;
    if !ended.is_empty() {
        tracing::info!(license_id = %lic.license_id, ended = ended.len(), "downgrade ended sessions");
    }
    Ok(repo::get(store, &lic).await?)
}

/// Suspend every license of the org and end all their sessions. Returns the
/// number of sessions ended.
pub async fn suspend_org(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org_id: &OrgId,
    reason: &str,
) -> Result<usize, SeatError> {
    let mut total = 0;
    for license in repo::list(store, org_id).await? {
        let lic = license.reference();
        let changed = repo::suspend(store, clock, &lic, reason).await?;
        // End the sessions of every license that cannot hand out seats now, also
        // when it was already suspended (a previous call may have stopped midway).
        let current = repo::get(store, &lic).await?;
        if current.as_ref().is_none_or(|l| l.status == Status::Active) {
            continue;
        }
        let ended = seats::end_all(store, clock, &lic, EndReason::Suspended).await?;
        total += ended.len();
        if changed || !ended.is_empty() {
            log_audit(
                store,
                clock,
                &license,
                Action::LicenseSuspended,
                json!({ "reason": reason, "sessions_ended": ended.len() }),
            )
            .await;
        }
    }
    Ok(total)
}

/// Deactivate every license of the org and end all their sessions. Returns the
/// number of sessions ended.
pub async fn deactivate_org(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org_id: &OrgId,
) -> Result<usize, SeatError> {
    let mut total = 0;
    for license in repo::list(store, org_id).await? {
        let lic = license.reference();
        let changed = repo::deactivate(store, clock, &lic).await?;
        let ended = seats::end_all(store, clock, &lic, EndReason::Deactivated).await?;
        total += ended.len();
        if changed || !ended.is_empty() {
            log_audit(
                store,
                clock,
                &license,
                Action::LicenseDeactivated,
                json!({ "sessions_ended": ended.len() }),
            )
            .await;
        }
    }
    Ok(total)
}

/// Set or clear the grace period of every license of the org that is not inactive.
pub async fn set_grace_org(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org_id: &OrgId,
    grace_ends_at: Option<i64>,
) -> Result<(), SeatError> {
    for license in repo::list(store, org_id).await? {
        repo::set_grace(store, clock, &license.reference(), grace_ends_at).await?;
    }
    Ok(())
}

/// What an operator's suspension or reinstatement did.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorChange {
    pub license: License,
    /// `false` when the license already was so.
    pub changed: bool,
    pub sessions_ended: usize,
}

/// An operator suspends a license: it refuses validation, activation and seats
/// whatever billing does to it, and its sessions end, until [`operator_reinstate`].
/// Safe to repeat (sessions left by an interrupted call are ended again).
pub async fn operator_suspend(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &super::model::LicenseRef,
    operator: &skiff_core::ids::UserId,
) -> Result<Option<OperatorChange>, SeatError> {
    if repo::get(store, lic).await?.is_none() {
        return Ok(None);
    }
    let changed = repo::set_operator_hold(store, clock, lic, true).await?;
    let ended = seats::end_all(store, clock, lic, EndReason::Suspended).await?;
    let Some(license) = repo::get(store, lic).await? else {
        return Ok(None);
    };
    if changed {
        audit::record_logged(
            store,
            clock,
            &license.org_id,
            &license.license_id,
            Action::LicenseHeld,
            &Actor::Operator(operator.clone()),
            &RequestMeta::default(),
            json!({ "sessions_ended": ended.len() }),
        )
        .await;
    }
    Ok(Some(OperatorChange {
        license,
        changed,
        sessions_ended: ended.len(),
    }))
}

/// Lift an operator's suspension: the license is again what billing made it.
pub async fn operator_reinstate(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &super::model::LicenseRef,
    operator: &skiff_core::ids::UserId,
) -> Result<Option<OperatorChange>, SeatError> {
    let changed = repo::set_operator_hold(store, clock, lic, false).await?;
    let Some(license) = repo::get(store, lic).await? else {
        return Ok(None);
    };
    if changed {
        audit::record_logged(
            store,
            clock,
            &license.org_id,
            &license.license_id,
            Action::LicenseReinstated,
            &Actor::Operator(operator.clone()),
            &RequestMeta::default(),
            json!({ "status": license.effective_status(clock.unix()) }),
        )
        .await;
    }
    Ok(Some(OperatorChange {
        license,
        changed,
        sessions_ended: 0,
    }))
}
