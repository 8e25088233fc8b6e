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

/// Fails its first `fail_times` calls, then succeeds; counts calls.
struct FlakyHandler {
    calls: Arc<AtomicU32>,
    fail_times: u32,
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
}

fn registry(calls: &Arc<AtomicU32>, fail_times: u32) -> Registry {
    let mut r = skiff_app::registry();
    r.register(
        Flaky::KIND,
        FlakyHandler {
            calls: calls.clone(),
            fail_times,
        },
    );
    r
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
