//! Billing's payments client: built on first use from the Stripe key, reused while
//! the key stays the same, rebuilt when it is rotated.

use skiff_app::AppConfig as Config;
use skiff_billing::{BillingError, Runtime, STRIPE_SECRET_KEY};
use skiff_core::Services;
use skiff_core::ports::secrets::SecretValue;
use std::sync::Arc;

async fn stripe_services(dir: &std::path::Path) -> Services {
    let config = Config::from_vars([
        ("SKIFF_DATA_DIR".to_owned(), dir.display().to_string()),
        ("SKIFF_PAYMENTS".to_owned(), "stripe".to_owned()),
    ])
    .unwrap();
    skiff_app::services::embedded(config, Arc::new(skiff_core::clock::SystemClock))
        .await
        .unwrap()
        .services
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payments_client_follows_the_stripe_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = stripe_services(dir.path()).await;
    let rt = Runtime::new();

    // Not configured yet: 503, and nothing is remembered of it.
    let err = rt.payments(&s).await.err().expect("no key yet");
    assert!(matches!(err, BillingError::Unavailable(_)), "{err:?}");

    s.secrets
        .set(STRIPE_SECRET_KEY, SecretValue::new("sk_test_first"))
        .await
        .unwrap();
    let first = rt.payments(&s).await.unwrap();
    assert_eq!(first.name(), "stripe");
    assert!(
        Arc::ptr_eq(&first, &rt.payments(&s).await.unwrap()),
        "the same key keeps the client"
    );

    s.secrets
        .set(STRIPE_SECRET_KEY, SecretValue::new("sk_test_rotated"))
        .await
        .unwrap();
    let rotated = rt.payments(&s).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &rotated), "a new key, a new client");
    assert!(Arc::ptr_eq(&rotated, &rt.payments(&s).await.unwrap()));
}
