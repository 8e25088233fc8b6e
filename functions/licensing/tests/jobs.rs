//! The scheduler's `sweep_expired_seats` job ends sessions whose lease ran out and
//! frees their seats, and leaves live ones alone.

mod common;

use skiff_licensing::keys::HardwareId;
use skiff_licensing::model::{LEASE_SECS, RequestMeta};
use skiff_licensing::seats;
use std::time::Duration;

#[tokio::test]
async fn the_sweep_job_frees_expired_seats_only() {
    let e = common::env().await;
    let s = &e.services;
    let lic = e.issue(&common::org("sweep"), 3).await.reference();
    let (store, clock) = (s.store.as_ref(), s.clock.as_ref());
    let meta = RequestMeta::default();
    let quiet = seats::acquire(
        store,
        clock,
        &lic,
        &HardwareId::parse("quiet-machine-01").unwrap(),
        &meta,
    )
    .await
    .unwrap()
    .seat;
    let busy = seats::acquire(
        store,
        clock,
        &lic,
        &HardwareId::parse("busy-machine-01").unwrap(),
        &meta,
    )
    .await
    .unwrap()
    .seat;
    e.clock.advance(Duration::from_secs(300));
    seats::heartbeat(store, clock, &lic, &busy.hw_hash, &busy.session_id)
        .await
        .unwrap();
    e.clock
        .advance(Duration::from_secs(LEASE_SECS as u64 - 299));

    let reports = skiff_app::jobs()
        .run(s, &["sweep_expired_seats".to_owned()])
        .await;
    assert_eq!(reports.len(), 1);
    assert!(reports[0].ok, "{reports:?}");
    assert_eq!(reports[0].detail, "ended 1 expired seat sessions");
    let usage = seats::usage(store, clock, &lic).await.unwrap();
    assert_eq!((usage.live, usage.items, usage.counter), (1, 1, 1));
    let left = seats::list_seats(store, &lic).await.unwrap();
    assert_eq!(left[0].session_id, busy.session_id);
    assert_eq!(
        seats::heartbeat(store, clock, &lic, &quiet.hw_hash, &quiet.session_id).await,
        Err(seats::SeatError::SessionExpired)
    );
}
