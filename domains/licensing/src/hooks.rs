//! What billing asks of licensing. Every hook is idempotent: billing may call it
//! again for the same event (webhook redelivery) without a second effect. The work
//! is in [`super::lifecycle`]; issuance adds the e-mail.

use super::{LicensingError, lifecycle, mail};
use skiff_core::ids::{OrgId, SubscriptionId};
use skiff_core::services::Services;

/// A completed checkout (or a plan change) for an org.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entitlement {
    pub org_id: OrgId,
    pub plan_id: String,
    /// Tier name from the plan catalog (`starter`, `pro`, ...).
    pub tier: String,
    pub features: Vec<String>,
    /// -1 = unlimited.
    pub max_seats: i64,
    /// Unix seconds: the license expires at the end of the paid (or trial) period.
    pub expires_at: i64,
    /// The billing subscription this license belongs to (idempotency key of issuance).
    pub subscription_id: SubscriptionId,
}

/// Issue the org's license for a subscription exactly once (a second call for the
/// same subscription returns without effect); sends the "license issued" e-mail.
pub async fn issue_license(
    services: &Services,
    entitlement: &Entitlement,
) -> Result<(), LicensingError> {
    let (license, _) = lifecycle::issue(
        services.store.as_ref(),
        services.clock.as_ref(),
        entitlement,
        &super::settings(services).key_prefix,
    )
    .await
    .map_err(LicensingError::from)?;
    // Also on a redelivery: the first call may have failed before queuing it. The
    // e-mail is claimed on the license item, so it goes out once.
    mail::send_issued_once(services, &license).await
}

/// Renewal or plan change: move expiry, apply seats/tier/features, reactivate a
/// suspended license; a seat decrease ends the newest sessions above the limit.
pub async fn update_license(
    services: &Services,
    entitlement: &Entitlement,
) -> Result<(), LicensingError> {
    let license = lifecycle::update(
        services.store.as_ref(),
        services.clock.as_ref(),
        entitlement,
        &super::settings(services).key_prefix,
    )
    .await
    .map_err(LicensingError::from)?;
    if let Some(license) = license {
        mail::send_issued_once(services, &license).await?;
    }
    Ok(())
}

/// Payment failed past grace: status `suspended`, every seat session ended.
pub async fn suspend_licenses(
    services: &Services,
    org_id: &OrgId,
    reason: &str,
) -> Result<(), LicensingError> {
    lifecycle::suspend_org(
        services.store.as_ref(),
        services.clock.as_ref(),
        org_id,
        reason,
    )
    .await
    .map(|_| ())
    .map_err(LicensingError::from)
}

/// Subscription canceled: status `inactive`, every seat session ended.
pub async fn deactivate_licenses(
    services: &Services,
    org_id: &OrgId,
) -> Result<(), LicensingError> {
    lifecycle::deactivate_org(services.store.as_ref(), services.clock.as_ref(), org_id)
        .await
        .map(|_| ())
        .map_err(LicensingError::from)
}

/// Grace period set or cleared (payment overdue but still valid): validation
/// answers `GRACE_PERIOD` until `grace_ends_at`.
pub async fn set_grace_period(
    services: &Services,
    org_id: &OrgId,
    grace_ends_at: Option<i64>,
) -> Result<(), LicensingError> {
    lifecycle::set_grace_org(
        services.store.as_ref(),
        services.clock.as_ref(),
        org_id,
        grace_ends_at,
    )
    .await
    .map_err(LicensingError::from)
}
