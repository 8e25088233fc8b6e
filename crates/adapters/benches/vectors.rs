//! The embedded vector index (SQLite + the in-process cosine scan): upsert
//! throughput, and top-10 search latency through the port over one namespace of
//! 10,000 and of 100,000 vectors of 384 dimensions, without a filter, with a
//! filter that passes a quarter of the vectors and with one that passes 1 %.
//!
//! `cargo bench -p skiff-adapters --bench vectors`. `VECTOR_BENCH_QUERIES` sets the
//! queries per workload (default 500); `VECTOR_BENCH_LARGE` the size of the second
//! namespace (default 100000, 0 skips it).

use serde_json::json;
use skiff_adapters::sqlite_vectors::SqliteVectors;
use skiff_core::ports::vectors::*;
use std::time::{Duration, Instant};

/// Measured with the allocator the binaries ship with.
#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

const DIM: usize = 384;
const KINDS: [&str; 4] = ["a", "b", "c", "d"];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random vectors (xorshift), values in [-1, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn vector(&mut self) -> Vec<f32> {
        (0..DIM)
            .map(|_| (self.next() % 20_000) as f32 / 10_000.0 - 0.9999)
            .collect()
    }
}

fn record(i: usize, rng: &mut Rng) -> VectorRecord {
    VectorRecord {
        id: VectorId::parse(format!("vec-{i:07}")).unwrap(),
        vector: rng.vector(),
        metadata:
            json!({"kind": KINDS[i % 4], "bucket": i % 100, "tags": ["x", format!("t{}", i % 7)]})
                .as_object()
                .unwrap()
                .clone(),
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Upsert vectors `from..to` in batches of 500; vectors/s.
async fn fill(index: &SqliteVectors, ns: &Namespace, from: usize, to: usize, rng: &mut Rng) -> f64 {
    let started = Instant::now();
    let mut i = from;
    while i < to {
        let end = (i + MAX_BATCH).min(to);
        let batch = (i..end).map(|k| record(k, rng)).collect();
        index.upsert(ns, batch).await.expect("upsert");
        i = end;
    }
    (to - from) as f64 / started.elapsed().as_secs_f64()
}

async fn search(index: &SqliteVectors, ns: &Namespace, size: usize, queries: usize, rng: &mut Rng) {
    // The first query loads the namespace into the cache.
    let q = VectorQuery {
        vector: rng.vector(),
        top_k: 10,
        filter: None,
    };
    let started = Instant::now();
    index.query(ns, &q).await.expect("query");
    println!(
        "{:<40} {:>8} {:>9.1} ms",
        "first query (loads the cache)",
        size,
        ms(started.elapsed())
    );

    let filters: [(&str, Option<MetadataFilter>); 3] = [
        ("top-10, no filter", None),
        (
            "top-10, filter passes 25 %",
            Some(MetadataFilter::Eq("kind".into(), json!("b"))),
        ),
        (
            "top-10, filter passes 1 %",
            Some(MetadataFilter::Eq("bucket".into(), json!(42))),
        ),
    ];
    for (name, filter) in filters {
        let mut latencies = Vec::with_capacity(queries);
        let started = Instant::now();
        for _ in 0..queries {
            let q = VectorQuery {
                vector: rng.vector(),
                top_k: 10,
                filter: filter.clone(),
            };
            let t = Instant::now();
            let hits = index.query(ns, &q).await.expect("query");
            latencies.push(t.elapsed());
            assert_eq!(hits.len(), 10);
        }
        let qps = queries as f64 / started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        println!(
            "{name:<40} {size:>8} {:>9.2} ms {:>9.2} ms {:>9.2} ms {:>8.0} q/s",
            ms(pct(&latencies, 0.50)),
            ms(pct(&latencies, 0.99)),
            ms(*latencies.last().unwrap()),
            qps
        );
    }
}

fn main() {
    let queries = env_usize("VECTOR_BENCH_QUERIES", 500);
    let large = env_usize("VECTOR_BENCH_LARGE", 100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let index = SqliteVectors::open(&dir.path().join("vectors.db"), 1 << 30).unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        println!(
            "{DIM} dimensions, one namespace, {queries} queries per workload, through the port"
        );
        println!(
            "{:<40} {:>8} {:>12} {:>12} {:>12} {:>12}",
            "workload", "vectors", "p50", "p99", "max", "rate"
        );

        let small = Namespace::parse("bench.small").unwrap();
        let rate = fill(&index, &small, 0, 10_000, &mut rng).await;
        println!(
            "{:<40} {:>8} {:>10.0} vectors/s (batches of {MAX_BATCH})",
            "upsert", 10_000, rate
        );
        search(&index, &small, 10_000, queries, &mut rng).await;

        if large > 0 {
            let big = Namespace::parse("bench.large").unwrap();
            let rate = fill(&index, &big, 0, large, &mut rng).await;
            println!(
                "{:<40} {:>8} {:>10.0} vectors/s (batches of {MAX_BATCH})",
                "upsert", large, rate
            );
            search(&index, &big, large, queries.min(200), &mut rng).await;
        }
        // An upsert into a loaded namespace updates the cache in place.
        let mut latencies = vec![];
        for i in 0..200 {
            let t = Instant::now();
            index
                .upsert(&small, vec![record(20_000 + i, &mut rng)])
                .await
                .unwrap();
            latencies.push(t.elapsed());
        }
        latencies.sort_unstable();
        println!(
            "{:<40} {:>8} {:>9.2} ms {:>9.2} ms {:>9.2} ms",
            "single upsert into a loaded namespace",
            10_000,
            ms(pct(&latencies, 0.50)),
            ms(pct(&latencies, 0.99)),
            ms(*latencies.last().unwrap())
        );
    });
}
