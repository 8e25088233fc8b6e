//! The transactional outbox on both backends: a message staged in the same store
//! transaction as a change reaches the queue exactly when the change commits. On
//! AWS that is one DynamoDB transaction (the change and the staged item), relayed
//! to SQS by the producer after its commit, or, when the producer died in between,
//! by the `relay_outbox` sweeper; on one machine the same code over SQLite and the
//! embedded queue. Here the producer "crashes" (never relays), and the sweeper
//! alone must deliver; a transaction that fails stages nothing.

use skiff_adapters::sqlite_queue::SqliteQueue;
use skiff_adapters::sqs_queue::SqsQueue;
use skiff_adapters::testing::StoreHarness;
use skiff_core::outbox::{Envelope, Ports, RELAY_GRACE, Staged, relay_stale_with, relay_with};
use skiff_core::ports::queue::Queue;
use skiff_core::ports::store::{Condition, Key, NewItem, StoreError, Write};
use std::sync::Arc;
use std::time::Duration;

struct Harness {
    store: StoreHarness,
    queue: Arc<dyn Queue>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    fn ports(&self) -> Ports<'_> {
        Ports {
            store: self.store.store.as_ref(),
            queue: self.queue.as_ref(),
            clock: self.store.clock.as_ref(),
        }
    }

    async fn received_ids(&self) -> Vec<String> {
        let mut ids = vec![];
        for _ in 0..3 {
            let got = self
                .queue
                .receive(10, Duration::from_secs(60), Duration::from_secs(1))
                .await
                .unwrap();
            for m in got {
                let env: Envelope = serde_json::from_str(&m.body).unwrap();
                ids.push(env.id);
            }
        }
        ids.sort();
        ids
    }
}

async fn embedded() -> Harness {
    let store = StoreHarness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(&dir.path().join("queue.db"), 5, store.clock.clone()).unwrap();
    Harness {
        store,
        queue: Arc::new(queue),
        _dir: Some(dir),
    }
}

async fn aws() -> Harness {
    let store = StoreHarness::dynamodb("staging").await;
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let name = skiff_adapters::testing::unique_name("staging");
    let (queue_url, dlq_url) = skiff_adapters::provision::create_queues(&client, &name, 5)
        .await
        .expect("create the queues on the emulator");
    Harness {
        store,
        queue: Arc::new(SqsQueue::new(client, queue_url, dlq_url)),
        _dir: None,
    }
}

fn message(id: &str, now: i64) -> Staged {
    Staged::now(Envelope {
        id: id.into(),
        kind: "test".into(),
        payload: serde_json::json!({"n": 1}),
        created_at: now,
    })
}

async fn a_committed_change_reaches_the_queue_through_the_sweeper(h: Harness) {
    let now = h.store.now();
    let change = Key::new("ORDERS", "o-1");
    let staged = [message("m-1", now), message("m-2", now)];
    let mut writes = vec![Write::Put {
        item: NewItem::new(change.clone()).attr("total", 42),
        condition: Some(Condition::Absent),
    }];
    writes.extend(staged.iter().map(|s| s.write().unwrap()));
    h.store.store.transact(writes).await.unwrap();
    // The producer dies here: it never relays. Within the grace the sweeper
    // leaves the messages to it.
    let ports = h.ports();
    assert!(relay_stale_with(ports).await.unwrap().starts_with("sent 0"));
    assert!(h.received_ids().await.is_empty());
    h.store.clock.advance(RELAY_GRACE + Duration::from_secs(1));
    let report = relay_stale_with(h.ports()).await.unwrap();
    assert!(report.starts_with("sent 2"), "{report}");
    assert_eq!(h.received_ids().await, ["m-1", "m-2"]);
    // Sent once: nothing is left to send again.
    assert!(
        relay_stale_with(h.ports())
            .await
            .unwrap()
            .starts_with("sent 0")
    );
    assert!(h.store.store.get(&change).await.unwrap().is_some());
}

async fn a_failed_change_stages_nothing(h: Harness) {
    let now = h.store.now();
    let change = Key::new("ORDERS", "o-2");
    h.store
        .store
        .put(NewItem::new(change.clone()), None)
        .await
        .unwrap();
    let staged = message("m-3", now);
    let writes = vec![
        Write::Put {
            item: NewItem::new(change).attr("total", 1),
            condition: Some(Condition::Absent),
        },
        staged.write().unwrap(),
    ];
    assert_eq!(
        h.store.store.transact(writes).await,
        Err(StoreError::ConditionFailed { index: Some(0) })
    );
    h.store.clock.advance(RELAY_GRACE + Duration::from_secs(1));
    relay_stale_with(h.ports()).await.unwrap();
    assert!(h.received_ids().await.is_empty());
}

async fn the_producers_relay_sends_at_once_and_unstages(h: Harness) {
    let now = h.store.now();
    let staged = message("m-4", now);
    h.store
        .store
        .transact(vec![staged.write().unwrap()])
        .await
        .unwrap();
    relay_with(h.ports(), std::slice::from_ref(&staged)).await;
    assert_eq!(h.received_ids().await, ["m-4"]);
    h.store.clock.advance(RELAY_GRACE + Duration::from_secs(1));
    assert!(
        relay_stale_with(h.ports())
            .await
            .unwrap()
            .starts_with("sent 0")
    );
    // Staging the same id again fails its transaction (a change never fires twice).
    assert!(
        h.store
            .store
            .transact(vec![
                staged.write().unwrap(),
                message("m-5", now).write().unwrap()
            ])
            .await
            .is_ok(),
        "the relayed message was unstaged, so its id may be staged anew"
    );
    assert!(
        h.store
            .store
            .transact(vec![message("m-5", now).write().unwrap()])
            .await
            .unwrap_err()
            .is_condition_failed()
    );
}

skiff_adapters::conformance_suite! {
    adapters { embedded => super::embedded().await, aws => super::aws().await }
    cases {
        a_committed_change_reaches_the_queue_through_the_sweeper,
        a_failed_change_stages_nothing,
        the_producers_relay_sends_at_once_and_unstages,
    }
}
