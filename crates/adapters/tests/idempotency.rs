//! Exactly-once claims on both item store adapters (SQLite in a temporary
//! directory, DynamoDB in the emulator), the concurrent case raced on a
//! multi-thread runtime.

use skiff_core::idempotency::{Claim, claim};
use std::time::Duration;

type Harness = skiff_adapters::testing::StoreHarness;

skiff_adapters::conformance_suite! {
    adapters { embedded => &super::Harness::sqlite().await, dynamodb => &super::Harness::dynamodb("idempotency").await }
    cases {
        a_completed_claim_is_reported_done_with_its_result,
        a_live_lease_blocks_and_an_expired_one_is_taken_over,
        a_released_claim_can_be_claimed_again_at_once,
        of_many_concurrent_claims_exactly_one_acquires,
    }
}

async fn a_completed_claim_is_reported_done_with_its_result(h: &Harness) {
    let (s, clock) = (h.store.clone(), h.clock.clone());
    let Claim::Acquired(lease) = claim(
        s.as_ref(),
        clock.as_ref(),
        "t",
        "e1",
        Duration::from_secs(60),
    )
    .await
    .unwrap() else {
        panic!("first claim acquires")
    };
    lease
        .complete(s.as_ref(), Some(serde_json::json!({"ok": 1})))
        .await
        .unwrap();
    match claim(
        s.as_ref(),
        clock.as_ref(),
        "t",
        "e1",
        Duration::from_secs(60),
    )
    .await
    .unwrap()
    {
        Claim::Done { result } => assert_eq!(result, Some(serde_json::json!({"ok": 1}))),
        other => panic!("expected Done, got {other:?}"),
    }
}

async fn a_live_lease_blocks_and_an_expired_one_is_taken_over(h: &Harness) {
    let (s, clock) = (h.store.clone(), h.clock.clone());
    let lease = Duration::from_secs(60);
    let Claim::Acquired(first) = claim(s.as_ref(), clock.as_ref(), "t", "e2", lease)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(matches!(
        claim(s.as_ref(), clock.as_ref(), "t", "e2", lease)
            .await
            .unwrap(),
        Claim::InProgress
    ));
    clock.advance(Duration::from_secs(61));
    let Claim::Acquired(second) = claim(s.as_ref(), clock.as_ref(), "t", "e2", lease)
        .await
        .unwrap()
    else {
        panic!("an expired lease is taken over")
    };
    // The crashed holder coming back cannot complete over the new holder.
    assert!(
        first
            .complete(s.as_ref(), None)
            .await
            .unwrap_err()
            .is_condition_failed()
    );
    second.complete(s.as_ref(), None).await.unwrap();
}

async fn a_released_claim_can_be_claimed_again_at_once(h: &Harness) {
    let (s, clock) = (h.store.clone(), h.clock.clone());
    let Claim::Acquired(l) = claim(
        s.as_ref(),
        clock.as_ref(),
        "t",
        "e3",
        Duration::from_secs(60),
    )
    .await
    .unwrap() else {
        panic!()
    };
    l.release(s.as_ref()).await.unwrap();
    assert!(matches!(
        claim(
            s.as_ref(),
            clock.as_ref(),
            "t",
            "e3",
            Duration::from_secs(60)
        )
        .await
        .unwrap(),
        Claim::Acquired(_)
    ));
}

async fn of_many_concurrent_claims_exactly_one_acquires(h: &Harness) {
    let (s, clock) = (h.store.clone(), h.clock.clone());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (s, c) = (s.clone(), clock.clone());
            tokio::spawn(async move {
                matches!(
                    claim(s.as_ref(), c.as_ref(), "t", "e4", Duration::from_secs(60))
                        .await
                        .unwrap(),
                    Claim::Acquired(_)
                )
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += t.await.unwrap() as usize;
    }
    assert_eq!(won, 1);
}
