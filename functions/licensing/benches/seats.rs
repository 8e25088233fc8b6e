//! Seat accounting and validation on the embedded (SQLite) item store: the domain
//! code the routes run, without HTTP. Prints rate and p50/p99 per workload.
//!
//! `cargo bench -p skiff-fn-licensing --bench seats`. `SEATS_BENCH_SECS` sets the
//! seconds per workload (default 3).
//!
//! Workloads:
//! 1. acquire + release cycles, 16 clients spread over 100 licenses (10 seats each);
//! 2. the same 16 clients on one hot license with 16 seats (everyone fits: the cost
//!    of contention alone), and with 8 seats (half the attempts find it full);
//! 3. validation of random keys of the 100 licenses (with the seat count).
//!
//! First it measures the machine's own stalls ([`host_stalls`]), the floor under
//! every p99 it then prints.

use skiff_adapters::sqlite_store::SqliteStore;
use skiff_core::clock::{Clock, SystemClock};
use skiff_core::ids::{OrgId, SubscriptionId, UserId};
use skiff_core::ports::store::ItemStore;
use skiff_fn_licensing::service;
use skiff_licensing::hooks::Entitlement;
use skiff_licensing::keys::HardwareId;
use skiff_licensing::lifecycle;
use skiff_licensing::model::{License, RequestMeta};
use skiff_licensing::seats::{self, SeatError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Measured with the allocator the binaries ship with.
#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

const CLIENTS: usize = 16;

#[derive(Default)]
struct Report {
    latencies: Vec<Duration>,
    elapsed: Duration,
    retries: u64,
    exhausted: u64,
}

impl Report {
    fn print(&mut self, name: &str, unit: &str) {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
            self.latencies[i.min(self.latencies.len() - 1)]
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{name:<52} {:>9.0} {unit:<10} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  retries {:>6}  exhausted {:>6}",
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            ms(pct(0.50)),
            ms(pct(0.99)),
            ms(*self.latencies.last().unwrap()),
            self.retries,
            self.exhausted,
        );
    }
}

struct Bench {
    store: Arc<dyn ItemStore>,
    clock: Arc<dyn Clock>,
}

impl Bench {
    async fn license(&self, i: usize, max_seats: i64) -> License {
        let ent = Entitlement {
            org_id: OrgId::parse(&format!("org_{i:032x}")).unwrap(),
            plan_id: "pro".into(),
            tier: "pro".into(),
            features: vec![],
            max_seats,
            expires_at: self.clock.unix() + 86_400,
            subscription_id: SubscriptionId::parse(&format!("sub_bench{i:04}_{max_seats}"))
                .unwrap(),
        };
        lifecycle::issue(self.store.as_ref(), self.clock.as_ref(), &ent, "SKIFF")
            .await
            .expect("issue")
            .0
    }

    /// Each client runs acquire + release cycles on `pick(client, n)` for `duration`.
    async fn cycles(
        &self,
        duration: Duration,
        licenses: Arc<Vec<License>>,
        pick: fn(usize, u64, usize) -> usize,
    ) -> Report {
        let retries = Arc::new(AtomicU64::new(0));
        let exhausted = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let deadline = start + duration;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (store, clock, licenses) =
                    (self.store.clone(), self.clock.clone(), licenses.clone());
                let (retries, exhausted) = (retries.clone(), exhausted.clone());
                tokio::spawn(async move {
                    let hw = HardwareId::parse(&format!("bench-client-{c:04}")).unwrap();
                    let meta = RequestMeta {
                        user_id: Some(UserId::parse(&format!("usr_{c:032x}")).unwrap()),
                        ip: Some("127.0.0.1".into()),
                        user_agent: Some("seats-bench".into()),
                    };
                    let mut lat = Vec::with_capacity(65_536);
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let lic = licenses[pick(c, n, licenses.len())].reference();
                        let t0 = Instant::now();
                        match seats::acquire(store.as_ref(), clock.as_ref(), &lic, &hw, &meta).await
                        {
                            Ok(a) => {
                                retries.fetch_add(u64::from(a.retries), Ordering::Relaxed);
                                seats::release(
                                    store.as_ref(),
                                    clock.as_ref(),
                                    &lic,
                                    &a.seat.hw_hash,
                                    &a.seat.session_id,
                                    &meta,
                                )
                                .await
                                .expect("release");
                            }
                            Err(SeatError::Exhausted { .. }) => {
                                exhausted.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("acquire: {e}"),
                        }
                        lat.push(t0.elapsed());
                        n += 1;
                    }
                    lat
                })
            })
            .collect();
        let mut report = Report::default();
        for t in tasks {
            report.latencies.extend(t.await.expect("client"));
        }
        report.elapsed = start.elapsed();
        report.retries = retries.load(Ordering::Relaxed);
        report.exhausted = exhausted.load(Ordering::Relaxed);
        report
    }

    async fn validations(&self, duration: Duration, keys: Arc<Vec<String>>) -> Report {
        let start = Instant::now();
        let deadline = start + duration;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (store, clock, keys) = (self.store.clone(), self.clock.clone(), keys.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(65_536);
                    let mut n = c;
                    while Instant::now() < deadline {
                        let key = &keys[n % keys.len()];
                        let t0 = Instant::now();
                        let v = service::validate_in(store.as_ref(), clock.as_ref(), key, None)
                            .await
                            .expect("validate");
                        assert!(v.valid);
                        lat.push(t0.elapsed());
                        n += 7;
                    }
                    lat
                })
            })
            .collect();
        let mut report = Report::default();
        for t in tasks {
            report.latencies.extend(t.await.expect("client"));
        }
        report.elapsed = start.elapsed();
        report
    }
}

/// How much CPU time this machine takes away from a thread that never yields: one
/// spinning thread per core, for `duration`, counts the gaps of 1 ms or more between
/// its clock reads. On a shared VM such stalls (other guests, the host, kernel
/// threads such as DAMON's reclaim) put a floor under any p99 measured here: a stall
/// on the writer thread's core delays every request in flight.
fn host_stalls(duration: Duration) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spinners: Vec<_> = (0..cores)
        .map(|_| {
            std::thread::spawn(move || {
                let end = Instant::now() + duration;
                let mut last = Instant::now();
                let mut stalls = vec![];
                while last < end {
                    let now = Instant::now();
                    let gap = now - last;
                    if gap >= Duration::from_millis(1) {
                        stalls.push(gap);
                    }
                    last = now;
                }
                stalls
            })
        })
        .collect();
    let stalls: Vec<Duration> = spinners
        .into_iter()
        .flat_map(|s| s.join().expect("spinner"))
        .collect();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "host stalls: a spinning thread per core lost {:.1} ms in {} stalls of 1 ms or more over {:.0} s (longest {:.2} ms)",
        ms(stalls.iter().sum()),
        stalls.len(),
        duration.as_secs_f64(),
        ms(stalls.iter().max().copied().unwrap_or_default()),
    );
}

fn main() {
    let secs: f64 = std::env::var("SEATS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let duration = Duration::from_secs_f64(secs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store: Arc<dyn ItemStore> = Arc::new(
            SqliteStore::open(&dir.path().join("bench.db"), clock.clone()).expect("open"),
        );
        let bench = Bench { store, clock };
        println!(
            "Licensing seats on the SQLite item store, {} cores, {CLIENTS} clients, {secs} s per workload",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        host_stalls(Duration::from_secs(2));

        let mut spread = vec![];
        for i in 0..100 {
            spread.push(bench.license(i, 10).await);
        }
        let keys: Arc<Vec<String>> = Arc::new(spread.iter().map(|l| l.key.clone()).collect());
        let spread = Arc::new(spread);
        // Client c uses license (c * 7 + n) % 100: every client moves over all licenses.
        bench
            .cycles(duration, spread, |c, n, len| (c * 7 + n as usize) % len)
            .await
            .print("acquire+release, 100 licenses × 10 seats", "cycles/s");

        let hot = Arc::new(vec![bench.license(1000, 16).await]);
        bench
            .cycles(duration, hot, |_, _, _| 0)
            .await
            .print("acquire+release, one hot license, 16 seats", "cycles/s");
        let hot = Arc::new(vec![bench.license(1001, 8).await]);
        bench
            .cycles(duration, hot, |_, _, _| 0)
            .await
            .print("acquire(+release), one hot license, 8 seats", "attempts/s");

        bench
            .validations(duration, keys)
            .await
            .print("validate (key lookup + license + live seats)", "req/s");
    });
}
