//! Seat accounting guarantees, proven on both item store adapters: every
//! case is written once against the domain (`licensing::seats`,
//! `licensing::lifecycle`) over the store port and runs on SQLite in a temporary
//! directory (`embedded::…`) and on DynamoDB in the moto emulator, one fresh table
//! per test (`dynamodb::…`).
//!
//! Invariant checked after every case: the license's counter equals the number of
//! seat items, and "seats used" (live sessions) never exceeds `max_seats`.
//!
//! On moto the suite takes ~100 s (with 2 nextest jobs): moto serves one request at
//! a time and deep-copies the table for every write of a transaction, so the churn
//! case (whose table fills with history and audit items) takes ~45 s there, and the
//! 100-machine race runs 5 rounds instead of 20 (~30 s).

use futures::future::join_all;
use skiff_adapters::sqlite_store::SqliteStore;
use skiff_core::clock::{Clock, FixedClock};
use skiff_core::ids::{OrgId, SubscriptionId, UserId};
use skiff_core::ports::store::ItemStore;
use skiff_licensing::hooks::Entitlement;
use skiff_licensing::keys::HardwareId;
use skiff_licensing::model::{LEASE_SECS, License, LicenseRef, RequestMeta, Status, Validity};
use skiff_licensing::seats::{self, SeatError};
use skiff_licensing::{lifecycle, repo};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

/// One store under test, with the clock both the store and the domain read.
struct Harness {
    store: Arc<dyn ItemStore>,
    clock: Arc<FixedClock>,
    /// Rounds of the 100-machine race (see `hundred_machines_race_for_ten_seats`).
    race_rounds: usize,
    /// How long a churn client waits after "seats exhausted", and how often the
    /// churn sampler reads the license: moto serves one request at a time (~7 ms
    /// each), so there the waiting clients and the sampler must leave it room.
    churn_pause: Duration,
    sample_every: Duration,
    _dir: Option<tempfile::TempDir>,
}

fn clock() -> Arc<FixedClock> {
    FixedClock::at(time::OffsetDateTime::now_utc())
}

async fn sqlite() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = clock();
    let store = SqliteStore::open(&dir.path().join("items.db"), clock.clone()).expect("open");
    Harness {
        store: Arc::new(store),
        clock,
        race_rounds: 20,
        churn_pause: Duration::from_millis(2),
        sample_every: Duration::from_millis(2),
        _dir: Some(dir),
    }
}

async fn dynamodb() -> Harness {
    let clock = clock();
    Harness {
        store: Arc::new(skiff_adapters::testing::dynamo_store("seats", clock.clone()).await),
        clock,
        // moto serves ~100 requests/s on one thread and a round costs ~500 requests:
        // 5 rounds keep the whole moto suite near two minutes.
        race_rounds: 5,
        churn_pause: Duration::from_millis(200),
        sample_every: Duration::from_millis(100),
        _dir: None,
    }
}

skiff_adapters::conformance_suite! {
    adapters { embedded => &super::sqlite().await, dynamodb => &super::dynamodb().await }
    cases {
        hundred_machines_race_for_ten_seats,
        churn_never_exceeds_the_limit,
        fifty_concurrent_heartbeats_keep_one_session,
        the_same_machine_gets_its_session_back,
        release_frees_the_seat_and_is_idempotent,
        expired_sessions_never_count_and_are_reclaimed,
        the_sweeper_ends_expired_sessions_only,
        suspension_ends_sessions_and_renewal_restores,
        suspension_racing_acquires_leaves_no_session,
        deactivation_ends_sessions,
        a_downgrade_ends_the_newest_sessions,
        concurrent_issuance_issues_one_license,
        unlimited_licenses_never_refuse,
        seat_changes_are_audited_in_the_same_transaction,
        activations_stop_at_the_seat_count_until_a_machine_is_unbound,
        unbinding_a_machine_ends_its_session_and_frees_its_seat,
        concurrent_unbinds_and_activations_keep_the_count_exact,
    }
}

const PREFIX: &str = "SKIFF";

fn entitlement(
    org: &OrgId,
    subscription: &SubscriptionId,
    max_seats: i64,
    expires_at: i64,
) -> Entitlement {
    Entitlement {
        org_id: org.clone(),
        plan_id: "pro".into(),
        tier: "pro".into(),
        features: vec!["sso".into()],
        max_seats,
        expires_at,
        subscription_id: subscription.clone(),
    }
}

fn unique_subscription() -> SubscriptionId {
    SubscriptionId::parse(&format!("sub_{}", uuid::Uuid::new_v4().simple())).unwrap()
}

/// The user every test request acts as.
fn tester() -> UserId {
    UserId::parse("usr_7e5700000000000000000000000000e5").unwrap()
}

/// A fresh license with `max_seats` in a fresh org.
async fn license(h: &Harness, max_seats: i64) -> License {
    let ent = entitlement(
        &OrgId::new(),
        &unique_subscription(),
        max_seats,
        h.clock.unix() + 30 * 24 * 3600,
    );
    let (license, created) = lifecycle::issue(h.store.as_ref(), h.clock.as_ref(), &ent, PREFIX)
        .await
        .expect("issue");
    assert!(created);
    license
}

fn machine(i: usize) -> HardwareId {
    HardwareId::parse(&format!("machine-{i:04}-{}", uuid::Uuid::new_v4().simple())).unwrap()
}

fn meta() -> RequestMeta {
    RequestMeta {
        user_id: Some(tester()),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("seat-tests/1".into()),
    }
}

async fn acquire(
    h: &Harness,
    lic: &LicenseRef,
    hw: &HardwareId,
) -> Result<seats::Acquired, SeatError> {
    seats::acquire(h.store.as_ref(), h.clock.as_ref(), lic, hw, &meta()).await
}

/// Counter = seat items, and the live sessions are `live`.
async fn assert_usage(h: &Harness, lic: &LicenseRef, live: i64) -> seats::Usage {
    let u = seats::usage(h.store.as_ref(), h.clock.as_ref(), lic)
        .await
        .expect("usage");
    assert_eq!(u.counter, u.items, "counter and seat items agree: {u:?}");
    assert_eq!(u.live, live, "live sessions: {u:?}");
    u
}

async fn hundred_machines_race_for_ten_seats(h: &Harness) {
    for round in 0..h.race_rounds {
        let lic = license(h, 10).await.reference();
        let attempts = (0..100).map(|i| {
            let (store, clock, lic) = (h.store.clone(), h.clock.clone(), lic.clone());
            tokio::spawn(async move {
                seats::acquire(store.as_ref(), clock.as_ref(), &lic, &machine(i), &meta()).await
            })
        });
        let results: Vec<_> = join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .collect();
        let granted = results.iter().filter(|r| r.is_ok()).count();
        let exhausted = results
            .iter()
            .filter(|r| {
                matches!(r, Err(SeatError::Exhausted { seats_used, max_seats: 10 }) if *seats_used <= 10)
            })
            .count();
        assert_eq!(
            (granted, exhausted),
            (10, 90),
            "round {round}: {:?}",
            results
                .iter()
                .filter(|r| r.is_err())
                .take(3)
                .collect::<Vec<_>>()
        );
        let u = assert_usage(h, &lic, 10).await;
        assert_eq!(u.counter, 10);
    }
}

async fn churn_never_exceeds_the_limit(h: &Harness) {
    const MAX: i64 = 10;
    let lic = license(h, MAX).await.reference();
    let running = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicI64::new(0));
    let samples = Arc::new(AtomicI64::new(0));
    let sampler = {
        let (store, clock, lic) = (h.store.clone(), h.clock.clone(), lic.clone());
        let (running, peak, samples) = (running.clone(), peak.clone(), samples.clone());
        let every = h.sample_every;
        tokio::spawn(async move {
            while running.load(Ordering::SeqCst) {
                let u = seats::usage(store.as_ref(), clock.as_ref(), &lic)
                    .await
                    .expect("usage");
                assert!(u.live <= MAX && u.items <= MAX && u.counter <= MAX, "{u:?}");
                peak.fetch_max(u.live.max(u.counter), Ordering::SeqCst);
                samples.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(every).await;
            }
        })
    };
    let pause = h.churn_pause;
    let workers = (0..20).map(|t| {
        let (store, clock, lic) = (h.store.clone(), h.clock.clone(), lic.clone());
        tokio::spawn(async move {
            let hw = machine(t);
            let mut exhausted = 0;
            for _ in 0..10 {
                let seat = loop {
                    match seats::acquire(store.as_ref(), clock.as_ref(), &lic, &hw, &meta()).await {
                        Ok(a) => break a.seat,
                        Err(SeatError::Exhausted { .. }) => {
                            exhausted += 1;
                            assert!(exhausted < 10_000, "starved");
                            tokio::time::sleep(pause).await;
                        }
                        Err(e) => panic!("acquire: {e}"),
                    }
                };
                seats::heartbeat(
                    store.as_ref(),
                    clock.as_ref(),
                    &lic,
                    &seat.hw_hash,
                    &seat.session_id,
                )
                .await
                .expect("heartbeat of a live session");
                let ended = seats::release(
                    store.as_ref(),
                    clock.as_ref(),
                    &lic,
                    &seat.hw_hash,
                    &seat.session_id,
                    &meta(),
                )
                .await
                .expect("release");
                assert!(ended.is_some(), "the session was live until released");
            }
            exhausted
        })
    });
    let started = std::time::Instant::now();
    let mut refused = 0;
    for w in join_all(workers).await {
        refused += w.expect("worker");
    }
    eprintln!(
        "churn: 200 cycles, {refused} exhausted answers, {} samples, peak {}, {:?}",
        samples.load(Ordering::SeqCst),
        peak.load(Ordering::SeqCst),
        started.elapsed()
    );
    running.store(false, Ordering::SeqCst);
    sampler.await.expect("sampler");
    assert!(samples.load(Ordering::SeqCst) > 0, "the sampler ran");
    assert!(peak.load(Ordering::SeqCst) <= MAX);
    let u = assert_usage(h, &lic, 0).await;
    assert_eq!((u.counter, u.items), (0, 0));
}

async fn fifty_concurrent_heartbeats_keep_one_session(h: &Harness) {
    let lic = license(h, 3).await.reference();
    let seat = acquire(h, &lic, &machine(1)).await.unwrap().seat;
    h.clock.advance(Duration::from_secs(100));
    let beats = (0..50).map(|_| {
        let (store, clock, lic, seat) =
            (h.store.clone(), h.clock.clone(), lic.clone(), seat.clone());
        tokio::spawn(async move {
            seats::heartbeat(
                store.as_ref(),
                clock.as_ref(),
                &lic,
                &seat.hw_hash,
                &seat.session_id,
            )
            .await
        })
    });
    let results: Vec<_> = join_all(beats)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    for r in &results {
        let s = r.as_ref().unwrap();
        assert_eq!(s.session_id, seat.session_id);
        assert_eq!(s.lease_until, h.clock.unix() + LEASE_SECS);
    }
    let listed = seats::list_seats(h.store.as_ref(), &lic).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].session_id, seat.session_id);
    assert_usage(h, &lic, 1).await;
}

async fn the_same_machine_gets_its_session_back(h: &Harness) {
    let lic = license(h, 2).await.reference();
    let hw = machine(1);
    let first = acquire(h, &lic, &hw).await.unwrap();
    assert!(!first.refreshed);
    h.clock.advance(Duration::from_secs(200));
    let again = acquire(h, &lic, &hw).await.unwrap();
    assert!(again.refreshed);
    assert_eq!(again.seat.session_id, first.seat.session_id);
    assert_eq!(again.seat.lease_until, h.clock.unix() + LEASE_SECS);
    // Twenty concurrent acquires from that machine: one session, one seat.
    let tries = (0..20).map(|_| {
        let (store, clock, lic, hw) = (h.store.clone(), h.clock.clone(), lic.clone(), hw.clone());
        tokio::spawn(async move {
            seats::acquire(store.as_ref(), clock.as_ref(), &lic, &hw, &meta()).await
        })
    });
    for r in join_all(tries).await {
        let a = r.unwrap().expect("the machine's own session");
        assert_eq!(a.seat.session_id, first.seat.session_id);
    }
    assert_usage(h, &lic, 1).await;
    // Another machine still gets the second seat.
    assert!(acquire(h, &lic, &machine(2)).await.is_ok());
    assert_usage(h, &lic, 2).await;
}

async fn release_frees_the_seat_and_is_idempotent(h: &Harness) {
    let lic = license(h, 1).await.reference();
    let a = acquire(h, &lic, &machine(1)).await.unwrap().seat;
    assert!(matches!(
        acquire(h, &lic, &machine(2)).await,
        Err(SeatError::Exhausted {
            seats_used: 1,
            max_seats: 1
        })
    ));
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let ended = seats::release(store, clock, &lic, &a.hw_hash, &a.session_id, &meta())
        .await
        .unwrap();
    assert_eq!(ended.map(|r| r.session_id), Some(a.session_id.clone()));
    assert_eq!(
        seats::release(store, clock, &lic, &a.hw_hash, &a.session_id, &meta())
            .await
            .unwrap(),
        None,
        "a second release is a no-op"
    );
    assert_eq!(
        seats::heartbeat(store, clock, &lic, &a.hw_hash, &a.session_id).await,
        Err(SeatError::SessionExpired)
    );
    assert_usage(h, &lic, 0).await;
    let b = acquire(h, &lic, &machine(2)).await.unwrap().seat;
    // Releasing the old session of a machine never ends its newer one.
    let a2 = seats::release(store, clock, &lic, &b.hw_hash, &a.session_id, &meta())
        .await
        .unwrap();
    assert_eq!(a2, None);
    assert_usage(h, &lic, 1).await;
}

async fn expired_sessions_never_count_and_are_reclaimed(h: &Harness) {
    let lic = license(h, 2).await.reference();
    let a = acquire(h, &lic, &machine(1)).await.unwrap().seat;
    let b = acquire(h, &lic, &machine(2)).await.unwrap().seat;
    assert!(matches!(
        acquire(h, &lic, &machine(3)).await,
        Err(SeatError::Exhausted {
            seats_used: 2,
            max_seats: 2
        })
    ));
    h.clock.advance(Duration::from_secs(LEASE_SECS as u64 + 1));
    // Both leases ran out: nothing counts as used, though the items still exist.
    let u = assert_usage(h, &lic, 0).await;
    assert_eq!(u.items, 2);
    // The full license admits a new machine by reclaiming an expired session.
    let c = acquire(h, &lic, &machine(3))
        .await
        .expect("a seat from an expired session");
    assert!(c.reclaimed.is_some());
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    assert_eq!(
        seats::heartbeat(store, clock, &lic, &a.hw_hash, &a.session_id).await,
        Err(SeatError::SessionExpired)
    );
    assert_eq!(
        seats::heartbeat(store, clock, &lic, &b.hw_hash, &b.session_id).await,
        Err(SeatError::SessionExpired)
    );
    assert_usage(h, &lic, 1).await;
    // The first machine comes back: a new session (in its own expired item, or in
    // the other expired one); two live sessions, never three.
    let back = acquire(h, &lic, &a.hardware_id).await.unwrap();
    assert!(!back.refreshed);
    assert_ne!(back.seat.session_id, a.session_id);
    assert!(matches!(
        acquire(h, &lic, &machine(4)).await,
        Err(SeatError::Exhausted {
            seats_used: 2,
            max_seats: 2
        })
    ));
    let u = assert_usage(h, &lic, 2).await;
    assert_eq!(u.counter, 2);
}

async fn the_sweeper_ends_expired_sessions_only(h: &Harness) {
    let lic = license(h, 5).await.reference();
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let seats_now: Vec<_> = {
        let mut v = vec![];
        for i in 0..4 {
            v.push(acquire(h, &lic, &machine(i)).await.unwrap().seat);
        }
        v
    };
    h.clock.advance(Duration::from_secs(200));
    // Two keep beating; two go silent.
    for s in &seats_now[..2] {
        seats::heartbeat(store, clock, &lic, &s.hw_hash, &s.session_id)
            .await
            .unwrap();
    }
    h.clock.advance(Duration::from_secs(200));
    let ended = seats::sweep_expired(store, clock, 1000).await.unwrap();
    let mut ended_ids: Vec<_> = ended
        .iter()
        .filter(|s| s.license_id == lic.license_id)
        .map(|s| s.session_id.clone())
        .collect();
    ended_ids.sort();
    let mut silent: Vec<_> = seats_now[2..]
        .iter()
        .map(|s| s.session_id.clone())
        .collect();
    silent.sort();
    assert_eq!(ended_ids, silent);
    let u = assert_usage(h, &lic, 2).await;
    assert_eq!(u.counter, 2);
    // A second run finds nothing more.
    let again = seats::sweep_expired(store, clock, 1000).await.unwrap();
    assert!(again.iter().all(|s| s.license_id != lic.license_id));
    // The history lists the swept sessions.
    let page = store
        .query(skiff_core::ports::store::Query::partition(lic.history_pk()))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
}

async fn suspension_ends_sessions_and_renewal_restores(h: &Harness) {
    let license = license(h, 3).await;
    let lic = license.reference();
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let a = acquire(h, &lic, &machine(1)).await.unwrap().seat;
    acquire(h, &lic, &machine(2)).await.unwrap();
    let ended = lifecycle::suspend_org(store, clock, &lic.org_id, "payment_failed")
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert_usage(h, &lic, 0).await;
    assert_eq!(
        acquire(h, &lic, &machine(3)).await,
        Err(SeatError::NotActive(Validity::Suspended))
    );
    assert_eq!(
        seats::heartbeat(store, clock, &lic, &a.hw_hash, &a.session_id).await,
        Err(SeatError::SessionExpired)
    );
    // Billing redelivers the suspension: no effect.
    assert_eq!(
        lifecycle::suspend_org(store, clock, &lic.org_id, "payment_failed")
            .await
            .unwrap(),
        0
    );
    let l = repo::get(store, &lic).await.unwrap().unwrap();
    assert_eq!(l.status, Status::Suspended);
    assert_eq!(l.suspend_reason.as_deref(), Some("payment_failed"));
    // Renewal: active again, with the new period.
    let renewed_until = clock.unix() + 60 * 24 * 3600;
    let ent = entitlement(&lic.org_id, &license.subscription_id, 3, renewed_until);
    let l = lifecycle::update(store, clock, &ent, PREFIX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((l.status, l.expires_at), (Status::Active, renewed_until));
    assert!(acquire(h, &lic, &machine(3)).await.is_ok());
    assert_usage(h, &lic, 1).await;
}

async fn suspension_racing_acquires_leaves_no_session(h: &Harness) {
    let lic = license(h, 1000).await.reference();
    let granted = Arc::new(AtomicI64::new(0));
    // Eight clients keep acquiring seats for new machines until the license says
    // it is suspended; the suspension starts while they are at it.
    let workers = (0..8).map(|w| {
        let (store, clock, lic, granted) = (
            h.store.clone(),
            h.clock.clone(),
            lic.clone(),
            granted.clone(),
        );
        tokio::spawn(async move {
            for i in 0.. {
                match seats::acquire(
                    store.as_ref(),
                    clock.as_ref(),
                    &lic,
                    &machine(w * 10_000 + i),
                    &meta(),
                )
                .await
                {
                    Ok(_) => {
                        granted.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(SeatError::NotActive(Validity::Suspended)) => return,
                    Err(e) => panic!("unexpected: {e:?}"),
                }
            }
        })
    });
    let workers: Vec<_> = workers.collect();
    while granted.load(Ordering::SeqCst) < 16 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    lifecycle::suspend_org(
        h.store.as_ref(),
        h.clock.as_ref(),
        &lic.org_id,
        "payment_failed",
    )
    .await
    .expect("suspension");
    for w in join_all(workers).await {
        w.expect("worker");
    }
    let u = assert_usage(h, &lic, 0).await;
    assert_eq!((u.counter, u.items), (0, 0));
}

async fn deactivation_ends_sessions(h: &Harness) {
    let lic = license(h, 4).await.reference();
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    for i in 0..3 {
        acquire(h, &lic, &machine(i)).await.unwrap();
    }
    assert_eq!(
        lifecycle::deactivate_org(store, clock, &lic.org_id)
            .await
            .unwrap(),
        3
    );
    assert_usage(h, &lic, 0).await;
    assert_eq!(
        acquire(h, &lic, &machine(9)).await,
        Err(SeatError::NotActive(Validity::Inactive))
    );
    let l = repo::get(store, &lic).await.unwrap().unwrap();
    assert_eq!(l.status, Status::Inactive);
    assert!(l.deactivated_at.is_some());
}

async fn a_downgrade_ends_the_newest_sessions(h: &Harness) {
    let license = license(h, 5).await;
    let lic = license.reference();
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let mut started = vec![];
    for i in 0..5 {
        started.push(acquire(h, &lic, &machine(i)).await.unwrap().seat);
        h.clock.advance(Duration::from_secs(10));
    }
    // One of the older sessions expires: it goes first, then the newest live ones.
    h.clock.advance(Duration::from_secs(300));
    for s in &started[1..] {
        seats::heartbeat(store, clock, &lic, &s.hw_hash, &s.session_id)
            .await
            .unwrap();
    }
    h.clock.advance(Duration::from_secs(20));
    assert_usage(h, &lic, 4).await;
    let ent = entitlement(&lic.org_id, &license.subscription_id, 2, license.expires_at);
    let l = lifecycle::update(store, clock, &ent, PREFIX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.max_seats, 2);
    let u = assert_usage(h, &lic, 2).await;
    assert_eq!(u.counter, 2);
    let mut kept: Vec<_> = seats::list_seats(store, &lic)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    kept.sort();
    let mut oldest_live: Vec<_> = started[1..3].iter().map(|s| s.session_id.clone()).collect();
    oldest_live.sort();
    assert_eq!(kept, oldest_live, "the two oldest live sessions stay");
    assert!(matches!(
        acquire(h, &lic, &machine(7)).await,
        Err(SeatError::Exhausted {
            seats_used: 2,
            max_seats: 2
        })
    ));
}

async fn concurrent_issuance_issues_one_license(h: &Harness) {
    let ent = entitlement(
        &OrgId::new(),
        &unique_subscription(),
        3,
        h.clock.unix() + 3600,
    );
    let calls = (0..10).map(|_| {
        let (store, clock, ent) = (h.store.clone(), h.clock.clone(), ent.clone());
        tokio::spawn(
            async move { lifecycle::issue(store.as_ref(), clock.as_ref(), &ent, PREFIX).await },
        )
    });
    let results: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    let id = &results[0].0.license_id;
    assert!(results.iter().all(|(l, _)| &l.license_id == id));
    let all = repo::list(h.store.as_ref(), &ent.org_id).await.unwrap();
    assert_eq!(all.len(), 1);
    let by_key = repo::by_key(
        h.store.as_ref(),
        &skiff_licensing::keys::LicenseKey::parse(&all[0].key).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(by_key.map(|l| l.license_id), Some(id.clone()));
}

async fn unlimited_licenses_never_refuse(h: &Harness) {
    let lic = license(h, -1).await.reference();
    let attempts = (0..30).map(|i| {
        let (store, clock, lic) = (h.store.clone(), h.clock.clone(), lic.clone());
        tokio::spawn(async move {
            seats::acquire(store.as_ref(), clock.as_ref(), &lic, &machine(i), &meta()).await
        })
    });
    for r in join_all(attempts).await {
        r.unwrap().expect("unlimited");
    }
    let u = assert_usage(h, &lic, 30).await;
    assert_eq!(u.counter, 30);
}

async fn seat_changes_are_audited_in_the_same_transaction(h: &Harness) {
    use skiff_licensing::audit::{self, Action};
    let lic = license(h, 2).await.reference();
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let a = acquire(h, &lic, &machine(1)).await.unwrap().seat;
    let b = acquire(h, &lic, &machine(2)).await.unwrap().seat;
    acquire(h, &lic, &machine(1)).await.unwrap_err(); // full: nothing recorded
    seats::release(store, clock, &lic, &a.hw_hash, &a.session_id, &meta())
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(LEASE_SECS as u64 + 1));
    acquire(h, &lic, &machine(3)).await.unwrap();
    acquire(h, &lic, &machine(4)).await.unwrap(); // reclaims b's expired seat
    let (entries, _) = audit::list(store, &lic.org_id, Some(&lic.license_id), 100, None)
        .await
        .unwrap();
    let count = |action: Action| entries.iter().filter(|e| e.action == action).count();
    assert_eq!(count(Action::SeatAcquired), 4);
    assert_eq!(count(Action::SeatReleased), 1);
    assert_eq!(count(Action::SeatExpired), 1);
    let expired = entries
        .iter()
        .find(|e| e.action == Action::SeatExpired)
        .unwrap();
    assert_eq!(expired.detail["session_id"], b.session_id.as_str());
    assert_eq!(expired.actor, "system");
    let acquired = entries
        .iter()
        .find(|e| e.action == Action::SeatAcquired)
        .unwrap();
    assert_eq!(acquired.actor, format!("user:{}", tester()));
    assert_eq!(acquired.ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(acquired.user_agent.as_deref(), Some("seat-tests/1"));
    // Newest first.
    assert!(entries.windows(2).all(|w| w[0].id >= w[1].id));
}

async fn activate(h: &Harness, license: &License, hw: &HardwareId) -> repo::Activation {
    repo::activate(h.store.as_ref(), h.clock.as_ref(), license, hw, &meta())
        .await
        .expect("activate")
}

async fn unbind(h: &Harness, lic: &LicenseRef, hw: &HardwareId) -> seats::Unbound {
    seats::unbind_machine(h.store.as_ref(), h.clock.as_ref(), lic, hw, &meta())
        .await
        .expect("unbind")
}

/// The license's activation counter equals its machine items; returns their number.
async fn assert_activations(h: &Harness, lic: &LicenseRef) -> i64 {
    let machines = repo::machines(h.store.as_ref(), lic).await.unwrap().len() as i64;
    let license = repo::get(h.store.as_ref(), lic).await.unwrap().unwrap();
    assert_eq!(
        license.activations, machines,
        "counter and machine items agree"
    );
    machines
}

async fn activations_stop_at_the_seat_count_until_a_machine_is_unbound(h: &Harness) {
    let license = license(h, 2).await;
    let lic = license.reference();
    let (a, b, c) = (machine(1), machine(2), machine(3));
    assert!(matches!(
        activate(h, &license, &a).await,
        repo::Activation::Bound { new: true, .. }
    ));
    assert!(matches!(
        activate(h, &license, &b).await,
        repo::Activation::Bound { new: true, .. }
    ));
    // Re-activating a bound machine never counts twice, even when full.
    assert!(matches!(
        activate(h, &license, &a).await,
        repo::Activation::Bound { new: false, .. }
    ));
    assert_eq!(
        activate(h, &license, &c).await,
        repo::Activation::LimitReached { limit: 2 }
    );
    assert_eq!(assert_activations(h, &lic).await, 2);

    let unbound = unbind(h, &lic, &a).await;
    assert_eq!(unbound.machine.map(|m| m.hardware_id), Some(a.clone()));
    assert_eq!(unbound.ended, None, "the machine held no seat");
    assert!(!repo::is_bound(h.store.as_ref(), &lic, &a).await.unwrap());
    assert!(matches!(
        activate(h, &license, &c).await,
        repo::Activation::Bound { new: true, .. }
    ));
    assert_eq!(assert_activations(h, &lic).await, 2);
    // Unbinding again changes nothing.
    assert!(!unbind(h, &lic, &a).await.changed());
    assert_eq!(assert_activations(h, &lic).await, 2);
}

async fn unbinding_a_machine_ends_its_session_and_frees_its_seat(h: &Harness) {
    use skiff_licensing::audit::{self, Action};
    let license = license(h, 1).await;
    let lic = license.reference();
    let (a, b) = (machine(1), machine(2));
    activate(h, &license, &a).await;
    let seat = acquire(h, &lic, &a).await.unwrap().seat;
    assert!(matches!(
        acquire(h, &lic, &b).await,
        Err(SeatError::Exhausted { .. })
    ));

    let unbound = unbind(h, &lic, &a).await;
    assert_eq!(
        unbound.ended.map(|s| s.session_id),
        Some(seat.session_id.clone())
    );
    assert_usage(h, &lic, 0).await;
    assert_eq!(assert_activations(h, &lic).await, 0);
    assert_eq!(
        seats::heartbeat(
            h.store.as_ref(),
            h.clock.as_ref(),
            &lic,
            &seat.hw_hash,
            &seat.session_id
        )
        .await,
        Err(SeatError::SessionExpired),
        "the unbound machine's session is over"
    );
    // Its seat went back to the pool and its slot to the activation limit.
    activate(h, &license, &b).await;
    acquire(h, &lic, &b).await.expect("the freed seat");
    assert_usage(h, &lic, 1).await;

    let (entries, _) = audit::list(
        h.store.as_ref(),
        &lic.org_id,
        Some(&lic.license_id),
        100,
        None,
    )
    .await
    .unwrap();
    let unbinds: Vec<_> = entries
        .iter()
        .filter(|e| e.action == Action::MachineDeactivated)
        .collect();
    assert_eq!(unbinds.len(), 1, "{entries:?}");
    assert_eq!(unbinds[0].detail["hardware_id"], a.as_str());
    assert_eq!(unbinds[0].detail["session_id"], seat.session_id.as_str());
    assert_eq!(unbinds[0].actor, format!("user:{}", tester()));
    let ended = entries
        .iter()
        .find(|e| e.action == Action::SeatEnded)
        .expect("the session's end is recorded");
    assert_eq!(ended.detail["reason"], "machine_deactivated");
    // A repeated unbind records nothing more.
    assert!(!unbind(h, &lic, &a).await.changed());
    let (again, _) = audit::list(
        h.store.as_ref(),
        &lic.org_id,
        Some(&lic.license_id),
        100,
        None,
    )
    .await
    .unwrap();
    assert_eq!(again.len(), entries.len());
}

async fn concurrent_unbinds_and_activations_keep_the_count_exact(h: &Harness) {
    const LIMIT: i64 = 3;
    let license = license(h, LIMIT).await;
    let lic = license.reference();
    let bound: Vec<HardwareId> = (0..LIMIT as usize).map(machine).collect();
    for hw in &bound {
        activate(h, &license, hw).await;
        acquire(h, &lic, hw).await.unwrap();
    }
    // Every bound machine is unbound by five racing callers while ten new machines
    // race to activate.
    let unbinds = bound.iter().flat_map(|hw| {
        (0..5).map(|_| {
            let (store, clock, lic, hw) =
                (h.store.clone(), h.clock.clone(), lic.clone(), hw.clone());
            tokio::spawn(async move {
                seats::unbind_machine(store.as_ref(), clock.as_ref(), &lic, &hw, &meta())
                    .await
                    .expect("unbind")
                    .changed()
            })
        })
    });
    let unbinds: Vec<_> = unbinds.collect();
    let activations: Vec<_> = (100..110)
        .map(|i| {
            let (store, clock, license) = (h.store.clone(), h.clock.clone(), license.clone());
            tokio::spawn(async move {
                repo::activate(
                    store.as_ref(),
                    clock.as_ref(),
                    &license,
                    &machine(i),
                    &meta(),
                )
                .await
                .expect("activate")
            })
        })
        .collect();
    let changed = join_all(unbinds)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().expect("task"))
        .count();
    assert_eq!(
        changed, LIMIT as usize,
        "each machine is unbound exactly once"
    );
    let granted = join_all(activations)
        .await
        .into_iter()
        .filter(|r| {
            matches!(
                r.as_ref().expect("task"),
                repo::Activation::Bound { new: true, .. }
            )
        })
        .count() as i64;
    assert!(granted <= LIMIT, "{granted} new machines for {LIMIT} slots");
    assert_eq!(assert_activations(h, &lic).await, granted);
    assert_usage(h, &lic, 0).await;
    for hw in &bound {
        assert!(!repo::is_bound(h.store.as_ref(), &lic, hw).await.unwrap());
    }
    // Whatever the interleaving, the freed slots are usable now.
    for i in 200..(200 + (LIMIT - granted) as usize) {
        assert!(matches!(
            activate(h, &license, &machine(i)).await,
            repo::Activation::Bound { new: true, .. }
        ));
    }
    assert_eq!(
        activate(h, &license, &machine(300)).await,
        repo::Activation::LimitReached { limit: LIMIT }
    );
}
