//! The `events/scheduler` fixtures drive the real handler over the embedded adapters.

use serde_json::Value;
use skiff_app::testing::embedded_services;
use skiff_core::ports::store::{Key, NewItem};
use std::time::Duration;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../events/scheduler/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON event")
}

#[tokio::test]
async fn a_scheduled_tick_runs_every_job_and_purges_expired_items() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let now = s.clock.unix();
    s.store
        .put(
            NewItem::new(Key::new("IDEMP#t#1", "IDEMP")).expires_at(now + 60),
            None,
        )
        .await
        .unwrap();
    s.store
        .put(NewItem::new(Key::new("KEEP", "KEEP")), None)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(120));

    let reports = skiff_fn_scheduler::handle_tick(&s, &skiff_app::jobs(), &fixture("tick.json"))
        .await
        .expect("jobs succeed");
    assert_eq!(reports.len(), skiff_app::jobs().names().len());
    assert!(reports.iter().all(|r| r.ok));
    let purge = reports
        .iter()
        .find(|r| r.job == "purge_expired_items")
        .unwrap();
    assert_eq!(purge.detail, "purged 1 expired items");
    assert!(
        s.store
            .get(&Key::new("KEEP", "KEEP"))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn constant_input_selects_jobs_and_unknown_jobs_fail_the_tick() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let reports = skiff_fn_scheduler::handle_tick(&s, &skiff_app::jobs(), &fixture("purge.json"))
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    let err = skiff_fn_scheduler::handle_tick(
        &s,
        &skiff_app::jobs(),
        &serde_json::json!({"jobs": ["nope"]}),
    )
    .await
    .unwrap_err();
    assert!(err.contains("nope"));
}
