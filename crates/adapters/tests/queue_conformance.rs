//! Queue port conformance: every case runs unchanged against the embedded SQLite
//! queue (time moved on a `FixedClock`) and against SQS on the moto emulator (real
//! short waits, whole seconds). Backend-specific behaviour lives in the modules at
//! the end.

use skiff_adapters::sqlite_queue::SqliteQueue;
use skiff_adapters::sqs_queue::SqsQueue;
use skiff_core::clock::FixedClock;
use skiff_core::ports::queue::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use time::macros::datetime;

/// Deliveries before a message is dead-lettered, in every harness.
const MAX_RECEIVES: u32 = 2;
/// A visibility long enough that a message stays hidden for a whole case.
const LONG: Duration = Duration::from_secs(60);
/// The shortest visibility SQS can express; what cases wait out.
const SHORT: Duration = Duration::from_secs(2);
/// The longest wait a receive accepts (SQS's limit, which the embedded queue shares).
const MAX_WAIT: Duration = Duration::from_secs(20);
/// Waiting out [`SHORT`], with a margin for the emulator's millisecond clock.
const PAST_SHORT: Duration = Duration::from_millis(2300);

/// A queue under test and a way to let time pass for it.
struct Harness {
    queue: Arc<dyn Queue>,
    /// The embedded queue's clock; `None` = real time (SQS).
    clock: Option<Arc<FixedClock>>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    /// Let `d` pass as the queue sees it: move the fixed clock, or sleep.
    async fn pass(&self, d: Duration) {
        match &self.clock {
            Some(clock) => clock.advance(d),
            None => tokio::time::sleep(d).await,
        }
    }

    fn q(&self) -> &dyn Queue {
        self.queue.as_ref()
    }
}

async fn embedded() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::at(datetime!(2026-03-01 12:00 UTC));
    let queue = SqliteQueue::open(&dir.path().join("queue.db"), MAX_RECEIVES, clock.clone())
        .expect("open the SQLite queue");
    Harness {
        queue: Arc::new(queue),
        clock: Some(clock),
        _dir: Some(dir),
    }
}

async fn aws() -> Harness {
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let name = skiff_adapters::testing::unique_name("outbox");
    let (queue_url, dlq_url) =
        skiff_adapters::provision::create_queues(&client, &name, MAX_RECEIVES)
            .await
            .expect("create the queues on the emulator");
    Harness {
        queue: Arc::new(SqsQueue::new(client, queue_url, dlq_url)),
        clock: None,
        _dir: None,
    }
}

/// Receive until `n` messages arrived (or a few empty answers in a row).
async fn receive_n(q: &dyn Queue, n: usize, visibility: Duration) -> Vec<Received> {
    let mut got = Vec::new();
    let mut empties = 0;
    while got.len() < n && empties < 3 {
        let batch = q
            .receive(MAX_BATCH.min(n - got.len()), visibility, Duration::ZERO)
            .await
            .unwrap();
        if batch.is_empty() {
            empties += 1;
        }
        got.extend(batch);
    }
    got
}

async fn receive_one(q: &dyn Queue, visibility: Duration) -> Received {
    let mut got = receive_n(q, 1, visibility).await;
    assert_eq!(got.len(), 1, "expected one message, got {got:?}");
    got.pop().unwrap()
}

async fn assert_empty(q: &dyn Queue) {
    let got = q.receive(MAX_BATCH, LONG, Duration::ZERO).await.unwrap();
    assert!(got.is_empty(), "expected no visible message, got {got:?}");
}

/// Deliver every visible message until the queue dead-letters them.
async fn exhaust(h: &Harness, n: usize) {
    for round in 1..=MAX_RECEIVES {
        let got = receive_n(h.q(), n, SHORT).await;
        assert_eq!(got.len(), n, "round {round}");
        assert!(got.iter().all(|r| r.receive_count == round), "{got:?}");
        h.pass(PAST_SHORT).await;
    }
    // This receive moves them to the dead-letter queue instead of delivering them.
    assert_empty(h.q()).await;
}

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

async fn send_receive_delete(h: Harness) {
    let q = h.q();
    let id = q.send("hello".into()).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), 1);
    let r = receive_one(q, LONG).await;
    assert_eq!(r.message_id, id);
    assert_eq!(r.body, "hello");
    assert_eq!(r.receive_count, 1);
    assert_eq!(q.depth().await.unwrap(), 1, "in flight still counts");
    q.delete(&r.receipt).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), 0);
    assert_empty(q).await;
    q.check().await.unwrap();
}

async fn batch_send(h: Harness) {
    let q = h.q();
    let bodies: Vec<String> = (0..3).map(|i| format!("job-{i}")).collect();
    let ids = q.send_batch(bodies.clone()).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 3, "distinct ids");
    let got = receive_n(q, 3, LONG).await;
    let by_id: HashMap<_, _> = got
        .iter()
        .map(|r| (r.message_id.clone(), r.body.clone()))
        .collect();
    for (id, body) in ids.iter().zip(&bodies) {
        assert_eq!(by_id.get(id), Some(body), "message {id}");
    }
    assert!(q.send_batch(vec![]).await.unwrap().is_empty());
    let eleven = (0..=MAX_BATCH).map(|i| i.to_string()).collect();
    assert!(matches!(
        q.send_batch(eleven).await,
        Err(QueueError::Invalid(_))
    ));
    let big = "x".repeat(MAX_BODY_BYTES / 2 + 1);
    assert!(
        matches!(
            q.send_batch(vec![big.clone(), big]).await,
            Err(QueueError::Invalid(_))
        ),
        "a batch over the total payload limit is refused"
    );
    assert_eq!(q.depth().await.unwrap(), 3, "refused batches sent nothing");
}

async fn a_delayed_message_arrives_after_its_delay(h: Harness) {
    let q = h.q();
    let id = q.send_delayed("later".into(), SHORT).await.unwrap();
    assert_eq!(
        q.depth().await.unwrap(),
        1,
        "a delayed message counts as waiting"
    );
    assert_empty(q).await;
    h.pass(PAST_SHORT).await;
    let r = receive_one(q, LONG).await;
    assert_eq!((r.message_id, r.body.as_str()), (id, "later"));
    assert!(matches!(
        q.send_delayed("too late".into(), MAX_DELAY + Duration::from_secs(1))
            .await,
        Err(QueueError::Invalid(_))
    ));
}

async fn visibility_timeout_hides_then_redelivers(h: Harness) {
    let q = h.q();
    let id = q.send("slow job".into()).await.unwrap();
    let first = receive_one(q, SHORT).await;
    assert_eq!(
        (first.message_id.as_str(), first.receive_count),
        (id.as_str(), 1)
    );
    assert_empty(q).await;
    h.pass(PAST_SHORT).await;
    let second = receive_one(q, LONG).await;
    assert_eq!(second.message_id, id);
    assert_eq!(second.receive_count, 2);
    assert_ne!(
        second.receipt, first.receipt,
        "every delivery has its own receipt"
    );
    q.delete(&second.receipt).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), 0);
}

async fn change_visibility_zero_makes_visible_now(h: Harness) {
    let q = h.q();
    let id = q.send("retry me".into()).await.unwrap();
    let first = receive_one(q, LONG).await;
    assert_empty(q).await;
    q.change_visibility(&first.receipt, Duration::ZERO)
        .await
        .unwrap();
    let second = receive_one(q, LONG).await;
    assert_eq!(
        (second.message_id.as_str(), second.receive_count),
        (id.as_str(), 2)
    );
    // Extending hides it again.
    q.change_visibility(&second.receipt, LONG).await.unwrap();
    assert_empty(q).await;
    q.delete(&second.receipt).await.unwrap();
}

async fn stale_receipts_are_refused(h: Harness) {
    let q = h.q();
    let made_up = "AQEBnotARealReceiptHandle0000000000000000";
    assert!(matches!(
        q.delete(made_up).await,
        Err(QueueError::StaleReceipt)
    ));
    assert!(matches!(
        q.change_visibility(made_up, Duration::ZERO).await,
        Err(QueueError::StaleReceipt)
    ));
    q.send("once".into()).await.unwrap();
    let r = receive_one(q, LONG).await;
    q.delete(&r.receipt).await.unwrap();
    assert!(
        matches!(
            q.change_visibility(&r.receipt, Duration::ZERO).await,
            Err(QueueError::StaleReceipt)
        ),
        "the receipt of a deleted message is stale"
    );
    assert_empty(q).await;
}

async fn dead_letter_after_max_receives_then_redrive(h: Harness) {
    let q = h.q();
    let id = q.send("poison".into()).await.unwrap();
    exhaust(&h, 1).await;
    assert_eq!(
        q.depth().await.unwrap(),
        0,
        "the dead letter left the queue"
    );

    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, id);
    assert_eq!(dead[0].body, "poison");
    assert!(dead[0].receive_count >= MAX_RECEIVES, "{dead:?}");
    let again = q.dead_letters(10).await.unwrap();
    assert_eq!(again.len(), 1, "listing does not consume dead letters");
    assert_empty(q).await;

    let new_id = q.redrive(&id).await.unwrap();
    assert_ne!(new_id, id, "a redriven message is a new message");
    assert!(q.dead_letters(10).await.unwrap().is_empty());
    let back = receive_one(q, LONG).await;
    assert_eq!(back.message_id, new_id);
    assert_eq!(back.body, "poison");
    assert_eq!(back.receive_count, 1, "the receive count starts again");
    q.delete(&back.receipt).await.unwrap();
}

async fn resolve_drops_one_dead_letter(h: Harness) {
    let q = h.q();
    let a = q.send("first".into()).await.unwrap();
    h.pass(Duration::from_millis(20)).await;
    let b = q.send("second".into()).await.unwrap();
    exhaust(&h, 2).await;

    let dead = q.dead_letters(10).await.unwrap();
    let ids: Vec<_> = dead.iter().map(|d| d.message_id.clone()).collect();
    assert_eq!(ids, vec![a.clone(), b.clone()], "oldest first");
    let only_one = q.dead_letters(1).await.unwrap();
    assert_eq!(only_one.len(), 1);

    q.resolve(&a).await.unwrap();
    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(
        dead.iter().map(|d| &d.message_id).collect::<Vec<_>>(),
        vec![&b]
    );
    assert!(matches!(q.resolve(&a).await, Err(QueueError::DeadLetterNotFound(x)) if x == a));
    assert!(matches!(
        q.redrive("no-such-message").await,
        Err(QueueError::DeadLetterNotFound(_))
    ));
    q.resolve(&b).await.unwrap();
    assert!(q.dead_letters(10).await.unwrap().is_empty());
    assert_empty(q).await;
}

async fn empty_receive_honours_wait(h: Harness) {
    let q = h.q();
    // A zero wait and a long poll on an empty queue both come back empty once their
    // wait is over (that a long poll really waits, and wakes on an arrival, is shown
    // on the embedded queue below: the single-threaded emulator cannot serve a send
    // while it holds a poll).
    assert!(
        q.receive(MAX_BATCH, LONG, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        q.receive(1, LONG, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    // Neither took anything: the next message sent is the next one received.
    let id = q.send("after the polls".into()).await.unwrap();
    assert_eq!(receive_one(q, LONG).await.message_id, id);
}

async fn body_and_request_limits(h: Harness) {
    let q = h.q();
    let largest = "y".repeat(MAX_BODY_BYTES);
    q.send(largest.clone()).await.unwrap();
    let r = receive_one(q, LONG).await;
    assert_eq!(r.body.len(), MAX_BODY_BYTES);
    assert!(r.body == largest);
    q.delete(&r.receipt).await.unwrap();

    let invalid = |r: Result<String, QueueError>| matches!(r, Err(QueueError::Invalid(_)));
    assert!(invalid(q.send("z".repeat(MAX_BODY_BYTES + 1)).await));
    assert!(invalid(q.send(String::new()).await));
    assert!(invalid(q.send("nul \u{0} byte".into()).await));
    assert!(matches!(
        q.receive(0, LONG, Duration::ZERO).await,
        Err(QueueError::Invalid(_))
    ));
    assert!(matches!(
        q.receive(MAX_BATCH + 1, LONG, Duration::ZERO).await,
        Err(QueueError::Invalid(_))
    ));
    assert_eq!(q.depth().await.unwrap(), 0, "nothing invalid was queued");
    // Unicode outside the BMP is fine.
    q.send("crab 🦀".into()).await.unwrap();
    assert_eq!(receive_one(q, LONG).await.body, "crab 🦀");
}

async fn concurrent_receivers_never_share_a_message(h: Harness) {
    const MESSAGES: usize = 20;
    const RECEIVERS: usize = 8;
    let bodies: Vec<String> = (0..MESSAGES).map(|i| format!("m{i}")).collect();
    for chunk in bodies.chunks(MAX_BATCH) {
        h.q().send_batch(chunk.to_vec()).await.unwrap();
    }
    let taken = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut tasks = Vec::new();
    for _ in 0..RECEIVERS {
        let (queue, taken) = (h.queue.clone(), taken.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while taken.load(Ordering::SeqCst) < MESSAGES && Instant::now() < deadline {
                let got = queue.receive(3, LONG, Duration::ZERO).await.unwrap();
                taken.fetch_add(got.len(), Ordering::SeqCst);
                mine.extend(got);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let ids: HashSet<_> = all.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(
        ids.len(),
        all.len(),
        "a message was delivered twice while invisible"
    );
    assert_eq!(all.len(), MESSAGES);
    let got_bodies: HashSet<_> = all.iter().map(|r| r.body.clone()).collect();
    assert_eq!(got_bodies, bodies.into_iter().collect());
    assert!(all.iter().all(|r| r.receive_count == 1));
}

skiff_adapters::conformance_suite! {
    adapters { embedded => super::embedded().await, aws => super::aws().await }
    cases {
        send_receive_delete,
        batch_send,
        a_delayed_message_arrives_after_its_delay,
        visibility_timeout_hides_then_redelivers,
        change_visibility_zero_makes_visible_now,
        stale_receipts_are_refused,
        dead_letter_after_max_receives_then_redrive,
        resolve_drops_one_dead_letter,
        empty_receive_honours_wait,
        body_and_request_limits,
        concurrent_receivers_never_share_a_message,
    }
}

// ---------------------------------------------------------------------------
// Embedded-only behaviour.
// ---------------------------------------------------------------------------

mod embedded_only {
    use super::*;

    /// SQS accepts an older delivery's receipt; the embedded queue is strict.
    #[tokio::test]
    async fn a_receipt_from_an_older_delivery_is_stale() {
        let h = embedded().await;
        let q = h.q();
        q.send("twice".into()).await.unwrap();
        let first = receive_one(q, SHORT).await;
        h.pass(PAST_SHORT).await;
        let second = receive_one(q, LONG).await;
        assert!(matches!(
            q.delete(&first.receipt).await,
            Err(QueueError::StaleReceipt)
        ));
        assert!(matches!(
            q.change_visibility(&first.receipt, Duration::ZERO).await,
            Err(QueueError::StaleReceipt)
        ));
        assert_eq!(
            q.depth().await.unwrap(),
            1,
            "a stale delete deletes nothing"
        );
        q.delete(&second.receipt).await.unwrap();
        assert!(matches!(
            q.delete(&second.receipt).await,
            Err(QueueError::StaleReceipt)
        ));
    }

    #[tokio::test]
    async fn dead_letters_record_the_exact_receive_count() {
        let h = embedded().await;
        h.q().send("x".into()).await.unwrap();
        exhaust(&h, 1).await;
        let dead = h.q().dead_letters(10).await.unwrap();
        assert_eq!(dead[0].receive_count, MAX_RECEIVES);
        assert_eq!(
            h.q().dead_letters(10).await.unwrap(),
            dead,
            "listing changes nothing"
        );
    }

    #[tokio::test]
    async fn messages_and_dead_letters_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.db");
        let clock = FixedClock::at(datetime!(2026-03-01 12:00 UTC));
        let (pending, dead) = {
            let q = SqliteQueue::open(&path, 1, clock.clone()).unwrap();
            let dead = q.send("doomed".into()).await.unwrap();
            let r = q.receive(1, SHORT, Duration::ZERO).await.unwrap();
            assert_eq!(r.len(), 1);
            clock.advance(PAST_SHORT);
            assert!(q.receive(1, LONG, Duration::ZERO).await.unwrap().is_empty());
            (q.send("pending".into()).await.unwrap(), dead)
        };
        let q = SqliteQueue::open(&path, 1, clock.clone()).unwrap();
        let r = q.receive(10, LONG, Duration::ZERO).await.unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].message_id.as_str(), r[0].body.as_str()),
            (pending.as_str(), "pending")
        );
        let dl = q.dead_letters(10).await.unwrap();
        assert_eq!(dl.len(), 1);
        assert_eq!(dl[0].message_id, dead);
        // A receipt issued before the restart still works.
        q.delete(&r[0].receipt).await.unwrap();
    }

    /// Spawn a long poll of the longest wait, and let it start waiting.
    async fn pending_long_poll(
        h: &Harness,
    ) -> tokio::task::JoinHandle<Result<Vec<Received>, QueueError>> {
        let queue = h.queue.clone();
        let waiter = tokio::spawn(async move { queue.receive(1, LONG, MAX_WAIT).await });
        // Give a poll that does not wait every chance to return; requests of others
        // are served meanwhile.
        for _ in 0..3 {
            assert_empty(h.q()).await;
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiter.is_finished(), "an empty long poll waits");
        waiter
    }

    /// The poll's answer, awaited for half its wait: a poll that only answers when
    /// its wait runs out does not make it.
    async fn answer_before_its_wait_ends(
        waiter: tokio::task::JoinHandle<Result<Vec<Received>, QueueError>>,
    ) -> Vec<Received> {
        tokio::time::timeout(MAX_WAIT / 2, waiter)
            .await
            .expect("the long poll answers on the change, not at the end of its wait")
            .unwrap()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_poll_answers_as_soon_as_a_message_is_sent() {
        let h = embedded().await;
        let waiter = pending_long_poll(&h).await;
        let id = h.q().send("wake up".into()).await.unwrap();
        let got = answer_before_its_wait_ends(waiter).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message_id, id);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_poll_sees_a_visibility_timeout_run_out() {
        let h = embedded().await;
        h.q().send("comes back".into()).await.unwrap();
        let first = receive_one(h.q(), SHORT).await;
        let waiter = pending_long_poll(&h).await;
        h.pass(PAST_SHORT).await;
        let got = answer_before_its_wait_ends(waiter).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message_id, first.message_id);
        assert_eq!(got[0].receive_count, 2);
    }

    #[tokio::test]
    async fn the_file_is_private_and_zero_receives_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("queue.db");
        let clock = FixedClock::at(datetime!(2026-03-01 12:00 UTC));
        let _q = SqliteQueue::open(&path, 3, clock.clone()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            SqliteQueue::open(&dir.path().join("other.db"), 0, clock),
            Err(QueueError::Invalid(_))
        ));
    }
}

// ---------------------------------------------------------------------------
// SQS-only behaviour.
// ---------------------------------------------------------------------------

mod aws_only {
    use super::*;

    #[tokio::test]
    async fn a_missing_queue_fails_the_readiness_check() {
        let sdk = skiff_adapters::testing::aws_sdk_config().await;
        let client = aws_sdk_sqs::Client::new(&sdk);
        let base = skiff_adapters::testing::aws_endpoint();
        let q = SqsQueue::new(
            client,
            format!("{base}/123456789012/no-such-queue"),
            format!("{base}/123456789012/no-such-queue-dlq"),
        );
        let err = q.check().await.expect_err("a missing queue is not ready");
        assert!(matches!(err, QueueError::Fatal(_)), "{err:?}");
    }
}
