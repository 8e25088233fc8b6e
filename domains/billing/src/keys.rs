//! Item keys of billing. Tenant items live in the org's partition (`ORG#<id>`);
//! the only global items are the Stripe customer → org map, the scheduler's
//! deadline index and the subscriptions directory (a copy of every org's
//! subscription, written with it, that operators' analytics read in one partition).

use skiff_core::ids::OrgId;
use skiff_core::ports::store::{IndexKey, Key};

pub fn org_pk(org_id: &OrgId) -> String {
    format!("ORG#{org_id}")
}

/// The org's subscription (one per org).
pub fn subscription(org_id: &OrgId) -> Key {
    Key::new(org_pk(org_id), "BILLING#SUBSCRIPTION")
}

/// The org's billing account: Stripe customer, billing e-mail, trial used.
pub fn account(org_id: &OrgId) -> Key {
    Key::new(org_pk(org_id), "BILLING#ACCOUNT")
}

/// The org's service profile.
pub fn profile(org_id: &OrgId) -> Key {
    Key::new(org_pk(org_id), "SERVICE#PROFILE")
}

/// One quota counter of the org.
pub fn quota(org_id: &OrgId, name: &str) -> Key {
    Key::new(org_pk(org_id), format!("QUOTA#{name}"))
}

/// Sort-key prefix of the org's billing audit entries.
pub const AUDIT_PREFIX: &str = "AUDIT#BILLING#";

/// One audit entry; the key is deterministic per (event, action) so a replay
/// rewrites the same entry.
pub fn audit(org_id: &OrgId, at: i64, event_id: &str, action: &str) -> Key {
    Key::new(
        org_pk(org_id),
        format!("{AUDIT_PREFIX}{at:012}#{event_id}#{action}"),
    )
}

/// Stripe customer id → org (written when Skiff creates the customer).
pub fn customer(customer_id: &str) -> Key {
    Key::new(format!("STRIPE#CUSTOMER#{customer_id}"), "ORG")
}

/// Partition of the index of subscriptions with a deadline (grace end, trial end).
pub const DUE_PK: &str = "BILLING#DUE";

pub fn due(deadline: i64, org_id: &OrgId) -> IndexKey {
    IndexKey::new(DUE_PK, format!("{deadline:012}#{org_id}"))
}

/// Index sort keys strictly below this are due at `now`.
pub fn due_before(now: i64) -> String {
    format!("{:012}", now + 1)
}

/// Partition of the subscriptions directory.
pub const SUBSCRIPTIONS_PK: &str = "BILLING#SUBSCRIPTIONS";

/// The org's entry in the subscriptions directory.
pub fn subscription_entry(org_id: &OrgId) -> Key {
    Key::new(SUBSCRIPTIONS_PK, org_id.as_str())
}
