//! Delivery guarantees of the outbox over the embedded queue: retries end in the
//! dead-letter queue, dead letters can be redriven, and a crash between processing
//! and acknowledging only causes a redelivery that the idempotency record absorbs.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use skiff_app::testing::embedded_services;
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message, Outcome, Registry};
use skiff_core::ports::mail::Email;
use skiff_core::services::Services;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const VISIBILITY: Duration = Duration::from_secs(30);

#[derive(Serialize, Deserialize)]
struct Flaky;

impl Message for Flaky {
    const KIND: &'static str = "flaky";
}

/// Fails its first `fail_times` calls, then succeeds; counts calls and the times
/// it was told its message is given up.
struct FlakyHandler {
    calls: Arc<AtomicU32>,
    fail_times: u32,
    given_up: Arc<AtomicU32>,
}

#[async_trait]
impl Handler for FlakyHandler {
    async fn handle(&self, _s: &Services, _e: &Envelope) -> Result<(), HandlerError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.fail_times {
            Err(HandlerError::new("downstream is down"))
        } else {
            Ok(())
        }
    }

    async fn given_up(&self, _s: &Services, _e: &Envelope, _why: &str) {
        self.given_up.fetch_add(1, Ordering::SeqCst);
    }
}

fn registry(calls: &Arc<AtomicU32>, fail_times: u32) -> Registry {
    registry_counting(calls, fail_times, &Arc::default())
}

fn registry_counting(
    calls: &Arc<AtomicU32>,
    fail_times: u32,
    given_up: &Arc<AtomicU32>,
) -> Registry {
    let mut r = skiff_app::registry();
    r.register(
        Flaky::KIND,
        FlakyHandler {
            calls: calls.clone(),
            fail_times,
            given_up: given_up.clone(),
        },
    );
    r
}

/// Receive and process every delivery the queue allows, as the consumer does.
async fn deliver_until_dead_lettered(
    s: &Services,
    reg: &Registry,
    clock: &skiff_core::clock::OffsetClock,
) {
    for attempt in 1..=s.config.queue_max_receives {
        let got = s
            .queue
            .receive(10, VISIBILITY, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "delivery {attempt}");
        let outcome = outbox::process_delivery(s, reg, &got[0].body, got[0].receive_count).await;
        assert!(
            matches!(outcome, Outcome::Retry(_)),
            "delivery {attempt}: {outcome:?}"
        );
        clock.advance(VISIBILITY + Duration::from_secs(1));
    }
    // The next receive finds it past its last delivery and moves it aside.
    let after = s
        .queue
        .receive(10, VISIBILITY, Duration::ZERO)
        .await
        .unwrap();
    assert!(after.is_empty());
    assert_eq!(s.queue.dead_letters(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_handler_hears_once_that_its_message_is_given_up_at_the_last_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let (calls, given_up) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let reg = registry_counting(&calls, u32::MAX, &given_up);
    outbox::enqueue(&s, &Flaky).await.unwrap();
    let max = s.config.queue_max_receives;
    for attempt in 1..max {
        let got = s
            .queue
            .receive(10, VISIBILITY, Duration::ZERO)
            .await
            .unwrap();
        outbox::process_delivery(&s, &reg, &got[0].body, got[0].receive_count).await;
        assert_eq!(
            given_up.load(Ordering::SeqCst),
            0,
            "not before the last delivery ({attempt})"
        );
        clock.advance(VISIBILITY + Duration::from_secs(1));
    }
    let got = s
        .queue
        .receive(10, VISIBILITY, Duration::ZERO)
        .await
        .unwrap();
    outbox::process_delivery(&s, &reg, &got[0].body, got[0].receive_count).await;
    assert_eq!(given_up.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_export_whose_job_keeps_failing_ends_failed_instead_of_running_forever() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = embedded_services(dir.path()).await;
    let mut s = embedded.services;
    // The export bucket refuses every write, so each step fails.
    s.exports = Arc::new(skiff_app::absent::Absent("export store"));
    let (org, user) = (
        skiff_core::ids::OrgId::new(),
        skiff_core::ids::UserId::new(),
    );
    let export = skiff_storage::exports::request(&s, &org, &user)
        .await
        .unwrap();
    deliver_until_dead_lettered(&s, &skiff_app::registry(), &clock).await;
    let now = s.clock.unix();
    let after = skiff_storage::exports::get(s.store.as_ref(), &org, &export.id, now)
        .await
        .unwrap();
    assert_eq!(after.status, skiff_storage::exports::Status::Failed);
    assert!(after.error.is_some_and(|e| e.contains("request a new one")));
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_dead_lettered_then_redriven() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let calls = Arc::new(AtomicU32::new(0));
    let reg = registry(&calls, u32::MAX);
    outbox::enqueue(&s, &Flaky).await.unwrap();

    let max = s.config.queue_max_receives;
    for attempt in 1..=max {
        let got = s
            .queue
            .receive(10, VISIBILITY, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "delivery {attempt}");
        assert_eq!(got[0].receive_count, attempt);
        let outcome = outbox::process(&s, &reg, &got[0].body).await;
        assert!(matches!(outcome, Outcome::Retry(_)));
        clock.advance(VISIBILITY + Duration::from_secs(1));
    }
    assert!(
        s.queue
            .receive(10, VISIBILITY, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    let dead = s.queue.dead_letters(10).await.unwrap();
    assert_eq!(
        dead.len(),
        1,
        "the message is visible in the dead-letter queue"
    );
    assert_eq!(calls.load(Ordering::SeqCst), max);

    // An operator fixes the cause and redrives: the message is processed once.
    let ok = registry(&calls, 0);
    s.queue.redrive(&dead[0].message_id).await.unwrap();
    let got = s
        .queue
        .receive(10, VISIBILITY, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(outbox::process(&s, &ok, &got[0].body).await, Outcome::Done);
    s.queue.delete(&got[0].receipt).await.unwrap();
    assert!(s.queue.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_crash_before_acknowledging_only_causes_a_harmless_redelivery() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let reg = skiff_app::registry();
    let email = Email {
        to: "grace@example.com".into(),
        subject: "Once only".into(),
        text: "t".into(),
        html: "<p>t</p>".into(),
    };
    outbox::send_email(&s, email).await.unwrap();

    let first = s
        .queue
        .receive(1, VISIBILITY, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        outbox::process(&s, &reg, &first[0].body).await,
        Outcome::Done
    );
    // ...the consumer dies here, before deleting the message.
    clock.advance(VISIBILITY + Duration::from_secs(1));
    let again = s
        .queue
        .receive(1, VISIBILITY, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "the message comes back");
    assert_eq!(again[0].receive_count, 2);
    assert_eq!(
        outbox::process(&s, &reg, &again[0].body).await,
        Outcome::Duplicate
    );
    s.queue.delete(&again[0].receipt).await.unwrap();

    let mails = embedded
        .mailbox
        .list(Some("grace@example.com"), 10)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1, "the e-mail went out exactly once");
}

#[tokio::test]
async fn a_failure_releases_the_claim_so_the_retry_runs_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let calls = Arc::new(AtomicU32::new(0));
    let reg = registry(&calls, 1);
    let env = outbox::envelope(&s, &Flaky).unwrap();
    let body = serde_json::to_string(&env).unwrap();
    assert!(matches!(
        outbox::process(&s, &reg, &body).await,
        Outcome::Retry(_)
    ));
    assert_eq!(outbox::process(&s, &reg, &body).await, Outcome::Done);
    assert_eq!(outbox::process(&s, &reg, &body).await, Outcome::Duplicate);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn concurrent_deliveries_of_one_message_run_the_handler_once() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let s = embedded.services;
    let calls = Arc::new(AtomicU32::new(0));
    let reg = registry(&calls, 0);
    let body = serde_json::to_string(&outbox::envelope(&s, &Flaky).unwrap()).unwrap();
    let runs = futures::future::join_all((0..16).map(|_| outbox::process(&s, &reg, &body))).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(runs.iter().filter(|o| **o == Outcome::Done).count(), 1);
}
