//! Entitlement checks over the embedded store: feature flags of the org's tier and
//! quota counters as bounded atomic adds (never over the limit under concurrency).

use skiff_app::testing::embedded_services;
use skiff_billing::BillingError;
use skiff_billing::entitlements::{release, require_entitlement, reserve, usage};
use skiff_billing::service_profile::{Mode, ServiceProfile};
use skiff_core::ids::OrgId;

/// The code of a refusal by the plan (403 at the HTTP edge).
fn not_in_plan(e: &BillingError) -> &str {
    match e {
        BillingError::NotInPlan { code, .. } => code,
        other => panic!("expected a refusal by the plan, got {other:?}"),
    }
}

#[tokio::test]
async fn features_follow_the_stored_tier_and_quotas_never_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let (org_a, org_b) = (OrgId::new(), OrgId::new());

    // No profile: the free plan. It lacks the marketplace and allows 3 scripts.
    let e = require_entitlement(&s, &org_a, "marketplace")
        .await
        .unwrap_err();
    assert_eq!(not_in_plan(&e), "ENTITLEMENT_REQUIRED");
    let attempts = (0..20).map(|_| reserve(&s, &org_a, "max_scripts", 1));
    let results = futures::future::join_all(attempts).await;
    let granted = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(granted, 3, "exactly the free plan's 3 scripts");
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(not_in_plan(refused), "QUOTA_EXCEEDED");
    assert_eq!(usage(&s, &org_a, "max_scripts").await.unwrap(), 3);
    assert_eq!(release(&s, &org_a, "max_scripts", 1).await.unwrap(), 2);
    assert!(reserve(&s, &org_a, "max_scripts", 1).await.is_ok());
    // Releasing more than was taken floors at zero.
    assert_eq!(release(&s, &org_a, "max_scripts", 10).await.unwrap(), 0);

    // Another org on enterprise: the marketplace and unlimited scripts.
    let mut p = ServiceProfile::default_for(&org_b);
    p.tier = "enterprise".into();
    p.mode = Mode::Active;
    s.store.put(p.to_item().unwrap(), None).await.unwrap();
    require_entitlement(&s, &org_b, "marketplace")
        .await
        .unwrap();
    for _ in 0..50 {
        reserve(&s, &org_b, "max_scripts", 1).await.unwrap();
    }
    assert_eq!(usage(&s, &org_b, "max_scripts").await.unwrap(), 50);
    // Tenants do not share counters.
    assert_eq!(usage(&s, &org_a, "max_scripts").await.unwrap(), 0);
}
