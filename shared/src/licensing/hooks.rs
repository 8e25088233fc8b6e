//! What billing asks of licensing. Every hook is idempotent: billing may call it
//! again for the same event (webhook redelivery) without a second effect.
//! STUB bodies — the licensing work implements them.

use crate::ApiError;
use crate::services::Services;

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

/// Issue the org's license for a subscription exactly once (a second call for the
/// same subscription returns without effect); sends the "license issued" e-mail.
pub async fn issue_license(
    _services: &Services,
    _entitlement: &Entitlement,
) -> Result<(), ApiError> {
    Ok(())
}

/// Renewal or plan change: move expiry, apply seats/tier/features, reactivate a
/// suspended license; a seat decrease ends the newest sessions above the limit.
pub async fn update_license(
    _services: &Services,
    _entitlement: &Entitlement,
) -> Result<(), ApiError> {
    Ok(())
}

/// Payment failed past grace: status `suspended`, every seat session ended.
pub async fn suspend_licenses(
    _services: &Services,
    _org_id: &str,
    _reason: &str,
) -> Result<(), ApiError> {
    Ok(())
}

/// Subscription canceled: status `inactive`, every seat session ended.
pub async fn deactivate_licenses(_services: &Services, _org_id: &str) -> Result<(), ApiError> {
    Ok(())
}

/// Grace period set or cleared (payment overdue but still valid): validation
/// answers `GRACE_PERIOD` until `grace_ends_at`.
pub async fn set_grace_period(
    _services: &Services,
    _org_id: &str,
    _grace_ends_at: Option<i64>,
) -> Result<(), ApiError> {
    Ok(())
}
