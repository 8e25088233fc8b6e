//! Entitlement checks for routes that sell by plan: feature flags and numeric limits of the
//! org's current tier (read from the store on every check, never from a token), and
//! quota counters kept as bounded atomic adds in the item store, so two concurrent
//! creations can never both take the last unit of a quota.

use super::catalog::{Limit, Plan};
use super::keys;
use super::service_profile::{self, ServiceProfile};
use crate::{BillingError, BillingResult};
use serde_json::{Map, Value, json};
use skiff_core::ids::OrgId;
use skiff_core::services::Services;

/// The org's profile and the plan of its tier.
pub async fn current_plan(s: &Services, org_id: &OrgId) -> BillingResult<(ServiceProfile, Plan)> {
    let profile = service_profile::load(s.store.as_ref(), org_id).await?;
    let catalog = &crate::settings(s).catalog;
    let plan = catalog
        .get(&profile.tier)
        .unwrap_or_else(|| catalog.free())
        .clone();
    Ok((profile, plan))
}

fn forbidden(code: &'static str, detail: String, extra: Map<String, Value>) -> BillingError {
    BillingError::NotInPlan {
        code,
        detail,
        extra,
    }
}

/// 403 `ENTITLEMENT_REQUIRED` unless the org's plan has `feature`.
pub async fn require_entitlement(s: &Services, org_id: &OrgId, feature: &str) -> BillingResult<()> {
    let (profile, plan) = current_plan(s, org_id).await?;
    if plan.has_feature(feature) {
        return Ok(());
    }
    let mut extra = Map::new();
    extra.insert("feature".into(), feature.into());
    extra.insert("tier".into(), profile.tier.clone().into());
    extra.insert(
        "upgrade_url".into(),
        crate::settings(s).upgrade_url.clone().into(),
    );
    Err(forbidden(
        "ENTITLEMENT_REQUIRED",
        format!("the {} plan does not include `{feature}`", plan.name),
        extra,
    ))
}

/// A numeric limit of the org's plan (`max_seats`, `max_scripts`, ...).
pub async fn limit(s: &Services, org_id: &OrgId, name: &str) -> BillingResult<Limit> {
    let (_, plan) = current_plan(s, org_id).await?;
    plan.entitlements
        .get(name)
        .ok_or_else(|| BillingError::internal(format!("no entitlement named `{name}`")))
}

/// Take `amount` units of quota `name` (whose limit is the plan entitlement of the
/// same name); returns the new usage, or 403 `QUOTA_EXCEEDED` with nothing taken.
pub async fn reserve(s: &Services, org_id: &OrgId, name: &str, amount: i64) -> BillingResult<i64> {
    if amount <= 0 {
        return Err(BillingError::internal(
            "a reservation takes a positive amount",
        ));
    }
    let limit = limit(s, org_id, name).await?;
    match s
        .store
        .add(
            &keys::quota(org_id, name),
            "used",
            amount,
            limit.bound(),
            None,
        )
        .await
    {
        Ok(c) => Ok(c.value),
        Err(e) if e.is_condition_failed() => {
            let mut extra = Map::new();
            extra.insert("quota".into(), name.into());
            extra.insert("limit".into(), json!(limit.0));
            extra.insert(
                "upgrade_url".into(),
                crate::settings(s).upgrade_url.clone().into(),
            );
            Err(forbidden(
                "QUOTA_EXCEEDED",
                format!("the plan allows {} of `{name}`", limit.0),
                extra,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Give `amount` units of quota `name` back (never below zero).
pub async fn release(s: &Services, org_id: &OrgId, name: &str, amount: i64) -> BillingResult<i64> {
    if amount <= 0 {
        return Err(BillingError::internal("a release takes a positive amount"));
    }
    let key = keys::quota(org_id, name);
    match s
        .store
        .add(&key, "used", -amount, Some(i64::MAX), None)
        .await
    {
        Ok(c) => Ok(c.value),
        Err(e) if e.is_condition_failed() => {
            // More released than taken (a bug elsewhere): floor at zero.
            tracing::warn!(
                %org_id,
                quota = name,
                amount,
                "quota release below zero; reset to 0"
            );
            let item = s
                .store
                .update(
                    &key,
                    vec![skiff_core::ports::store::Change::set("used", 0)],
                    None,
                )
                .await?;
            Ok(item.get_i64("used").unwrap_or(0))
        }
        Err(e) => Err(e.into()),
    }
}

/// Current usage of quota `name`.
pub async fn usage(s: &Services, org_id: &OrgId, name: &str) -> BillingResult<i64> {
    Ok(s.store
        .get(&keys::quota(org_id, name))
        .await?
        .and_then(|i| i.get_i64("used"))
        .unwrap_or(0))
}

/// Bytes per unit of the `storage_gb` limit.
pub const BYTES_PER_GB: i64 = 1_000_000_000;

/// The counter of bytes stored against `storage_gb` (documents, files, records):
/// one per org, shared by every domain that stores data for it.
pub const STORAGE_BYTES: &str = "storage_bytes";

/// A transaction write that takes `amount` units of quota `name` within the
/// plan's limit of the same name, so the quota moves with the change it pays for
/// (all or nothing). When the transaction fails on this write's condition, answer
/// [`quota_exceeded`].
pub async fn reserve_write(
    s: &Services,
    org_id: &OrgId,
    name: &str,
    amount: i64,
) -> BillingResult<skiff_core::ports::store::Write> {
    let bound = limit(s, org_id, name).await?.bound();
    Ok(bounded_add(keys::quota(org_id, name), amount, bound))
}

/// [`reserve_write`] for stored bytes: counted on [`STORAGE_BYTES`], bounded by
/// the plan's `storage_gb`.
pub async fn reserve_bytes_write(
    s: &Services,
    org_id: &OrgId,
    bytes: i64,
) -> BillingResult<skiff_core::ports::store::Write> {
    let bound = limit(s, org_id, "storage_gb")
        .await?
        .bound()
        .map(|gb| gb.saturating_mul(BYTES_PER_GB));
    Ok(bounded_add(
        keys::quota(org_id, STORAGE_BYTES),
        bytes,
        bound,
    ))
}

/// A transaction write that gives `amount` units of counter `name` back. It is
/// unconditional, so a deletion never fails on its quota.
pub fn release_write(org_id: &OrgId, name: &str, amount: i64) -> skiff_core::ports::store::Write {
    use skiff_core::ports::store::{Change, Write};
    Write::Update {
        key: keys::quota(org_id, name),
        changes: vec![Change::Add("used".into(), -amount)],
        condition: None,
    }
}

fn bounded_add(
    key: skiff_core::ports::store::Key,
    amount: i64,
    bound: Option<i64>,
) -> skiff_core::ports::store::Write {
    use skiff_core::ports::store::{Change, Cmp, Condition, Write};
    let condition = match bound {
        None => None,
        // More than the whole limit: a condition that never holds.
        Some(max) if amount > max => {
            Some(Condition::All(vec![Condition::Exists, Condition::Absent]))
        }
        Some(max) => Some(Condition::Any(vec![
            Condition::AttrMissing("used".into()),
            Condition::attr("used", Cmp::Le, max - amount),
        ])),
    };
    Write::Update {
        key,
        changes: vec![Change::Add("used".into(), amount)],
        condition,
    }
}

/// The 403 `QUOTA_EXCEEDED` of quota `name` (after a [`reserve_write`] failed).
pub async fn quota_exceeded(s: &Services, org_id: &OrgId, name: &str) -> BillingError {
    let limit = match limit(s, org_id, name).await {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut extra = Map::new();
    extra.insert("quota".into(), name.into());
    extra.insert("limit".into(), json!(limit.0));
    extra.insert(
        "upgrade_url".into(),
        crate::settings(s).upgrade_url.clone().into(),
    );
    forbidden(
        "QUOTA_EXCEEDED",
        format!("the plan allows {} of `{name}`", limit.0),
        extra,
    )
}
