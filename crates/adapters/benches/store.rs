//! Throughput and latency of the embedded (SQLite) item store for the operations
//! the hot paths use. Prints ops/s and p50/p99/max latency per workload.
//!
//! `cargo bench -p skiff-adapters --bench store` (≈ 8 s). `STORE_BENCH_SECS` sets the
//! seconds per workload (default 1).

use serde_json::json;
use skiff_adapters::sqlite_store::SqliteStore;
use skiff_core::clock::SystemClock;
use skiff_core::ports::store::*;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Measured with the allocator the binaries ship with.
#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

/// One workload's numbers.
struct Report {
    ops: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn print(&mut self, name: &str, tasks: usize, wal: &std::path::Path) {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
            self.latencies[i.min(self.latencies.len() - 1)]
        };
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{name:<44} {tasks:>5} {:>10.0} {:>9.0} {:>9.0} {:>9.0} {:>8} {:>7.1}",
            self.ops as f64 / self.elapsed.as_secs_f64(),
            us(pct(0.50)),
            us(pct(0.99)),
            us(*self.latencies.last().unwrap()),
            self.errors,
            std::fs::metadata(wal).map_or(0.0, |m| m.len() as f64 / 1e6),
        );
    }
}

/// Run `op(task, n)` from `tasks` concurrent tasks for `duration`; `op` returns
/// whether the operation succeeded (a failed condition is an expected outcome, but
/// counted apart).
async fn measure<F, Fut>(tasks: usize, duration: Duration, op: F) -> Report
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = bool> + Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(32_768);
                let mut errors = 0;
                let mut n = 0;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    if !op(t, n).await {
                        errors += 1;
                    }
                    latencies.push(t0.elapsed());
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut report = Report {
        ops: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for h in handles {
        let (lat, errors) = h.await.expect("bench task");
        report.latencies.extend(lat);
        report.errors += errors;
    }
    report.elapsed = start.elapsed();
    report.ops = report.latencies.len();
    report
}

fn record(i: u64) -> NewItem {
    NewItem::new(Key::new(
        format!("tenant#{}", i % 64),
        format!("item#{i:012}"),
    ))
    .attr("name", format!("item number {i}"))
    .attr("count", i)
    .attr("tags", json!(["alpha", "beta"]))
    .index(IndexKey::new("status#open", format!("{i:012}")))
}

fn main() {
    let secs: f64 = std::env::var("STORE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let duration = Duration::from_secs_f64(secs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn ItemStore> = Arc::new(
            SqliteStore::open(&dir.path().join("bench.db"), Arc::new(SystemClock)).expect("open"),
        );
        let wal = dir.path().join("bench.db-wal");
        println!(
            "SQLite item store, {} cores, {secs} s per workload",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!(
            "{:<44} {:>5} {:>10} {:>9} {:>9} {:>9} {:>8} {:>7}",
            "workload", "tasks", "ops/s", "p50 µs", "p99 µs", "max µs", "failed", "WAL MB"
        );
        let next_key = Arc::new(AtomicU64::new(0));

        for tasks in [1, 4] {
            let (s, k) = (store.clone(), next_key.clone());
            measure(tasks, duration, move |_, _| {
                let (s, k) = (s.clone(), k.clone());
                async move {
                    let i = k.fetch_add(1, Ordering::Relaxed);
                    s.put(record(i), Some(Condition::Absent)).await.is_ok()
                }
            })
            .await
            .print("conditional put (put-if-absent, fresh keys)", tasks, &wal);
        }

        let written = next_key.load(Ordering::Relaxed);
        for tasks in [1, 4] {
            let s = store.clone();
            measure(tasks, duration, move |_, _| {
                let s = s.clone();
                async move {
                    let i = rand::random_range(0..written);
                    let key = Key::new(format!("tenant#{}", i % 64), format!("item#{i:012}"));
                    matches!(s.get(&key).await, Ok(Some(_)))
                }
            })
            .await
            .print("get (random existing key)", tasks, &wal);
        }

        let s = store.clone();
        let hot = Key::new("limits", "hot");
        measure(16, duration, move |_, _| {
            let (s, hot) = (s.clone(), hot.clone());
            async move { s.add(&hot, "n", 1, Some(i64::MAX / 2), None).await.is_ok() }
        })
        .await
        .print("bounded increment, one hot key", 16, &wal);

        for tasks in [1, 4] {
            let (s, k) = (store.clone(), next_key.clone());
            measure(tasks, duration, move |_, _| {
                let (s, k) = (s.clone(), k.clone());
                async move {
                    let writes = (0..4)
                        .map(|_| Write::Put {
                            item: record(k.fetch_add(1, Ordering::Relaxed)),
                            condition: Some(Condition::Absent),
                        })
                        .collect();
                    s.transact(writes).await.is_ok()
                }
            })
            .await
            .print("transaction of 4 conditional puts", tasks, &wal);
        }
    });
}
