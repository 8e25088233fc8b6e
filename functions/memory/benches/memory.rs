//! Agent memory on the embedded backend, through the memory function's router
//! (API-key authentication, the common layers, JSON in and out), as the local
//! server serves it. Prints rate and p50/p99 per workload.
//!
//! `cargo bench -p skiff-fn-memory --bench memory`. Knobs: `MEMORY_BENCH_ONE_ORG`
//! (memories in the single org, default 10000), `MEMORY_BENCH_ORGS` and
//! `MEMORY_BENCH_PER_ORG` (default 100 × 1000), `MEMORY_BENCH_SECS` (seconds per
//! recall workload, default 5). Embeddings: the static model the test command
//! fetches (`.tools/models/wordllama-l2-supercat-256`), else the hashing embedder.
//!
//! Workloads:
//! 1. stores into one org until it holds `MEMORY_BENCH_ONE_ORG` memories (8 clients);
//! 2. recall in that org — a 3-word query (keyword and vector channels) filtered by
//!    a tag — at 1 client and at 8;
//! 3. the same over `MEMORY_BENCH_ORGS` orgs of `MEMORY_BENCH_PER_ORG` each, each
//!    request to a random org.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use skiff_core::services::Services;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// Measured with the allocator the binaries ship with.
#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A deterministic pseudo-random stream (xorshift), so every run stores the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Zipf-like: small indexes far more often.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

const TOPICS: [&str; 24] = [
    "database",
    "deploy",
    "cache",
    "billing",
    "auth",
    "search",
    "queue",
    "frontend",
    "backend",
    "latency",
    "migration",
    "schema",
    "invoice",
    "release",
    "testing",
    "logging",
    "metrics",
    "kubernetes",
    "postgres",
    "redis",
    "rust",
    "typescript",
    "python",
    "security",
];
const WORDS: [&str; 48] = [
    "decided",
    "prefer",
    "because",
    "team",
    "customer",
    "incident",
    "rollback",
    "config",
    "service",
    "endpoint",
    "timeout",
    "retry",
    "index",
    "query",
    "replica",
    "backup",
    "token",
    "session",
    "upgrade",
    "version",
    "feature",
    "flag",
    "budget",
    "review",
    "pattern",
    "bug",
    "fix",
    "root",
    "cause",
    "cluster",
    "region",
    "storage",
    "pipeline",
    "build",
    "cost",
    "owner",
    "policy",
    "alert",
    "dashboard",
    "trace",
    "error",
    "warning",
    "throughput",
    "memory",
    "cpu",
    "disk",
    "network",
    "contract",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 12 + rng.below(20);
    let mut words: Vec<&str> = (0..n)
        .map(|_| {
            if rng.below(4) == 0 {
                TOPICS[rng.skewed(TOPICS.len())]
            } else {
                WORDS[rng.skewed(WORDS.len())]
            }
        })
        .collect();
    words[0] = "We";
    format!("{}.", words.join(" "))
}

fn memory(rng: &mut Rng) -> Value {
    json!({
        "content": sentence(rng),
        "tags": [format!("project:p{}", rng.below(20)), TOPICS[rng.below(TOPICS.len())]],
        "importance": (rng.below(100) as f64) / 100.0,
    })
}

fn recall_query(rng: &mut Rng) -> String {
    format!(
        "/api/v1/memory/recall?query={}%20{}%20{}&tags={}&limit=10",
        TOPICS[rng.skewed(TOPICS.len())],
        WORDS[rng.skewed(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        TOPICS[rng.below(TOPICS.len())],
    )
}

struct Bench {
    services: Services,
    app: axum::Router,
}

impl Bench {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        key: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-api-key", key)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// An org with an owner and a read/write API key.
    async fn org(&self, i: usize) -> String {
        use skiff_identity::names::Name;
        use skiff_identity::{Password, Role, Scopes, api_keys, registration};
        let (user, org) = registration::register(
            &self.services,
            registration::Registration {
                email: skiff_identity::EmailAddress::parse(&format!("owner{i}@bench.test"))
                    .unwrap(),
                password: Password::new("Correct1horse", "password").unwrap(),
                full_name: Name::parse("Owner", "full_name").unwrap(),
                company: Name::parse(&format!("Bench {i}"), "company_name").unwrap(),
            },
        )
        .await
        .map_err(|e| e.to_string())
        .unwrap();
        let scopes = Scopes::parse_list(["memory:read", "memory:write"]).unwrap();
        api_keys::create(
            self.services.store.as_ref(),
            self.services.clock.unix(),
            api_keys::NewKey {
                org: &org.id,
                created_by: &user.id,
                name: "bench",
                scopes: &scopes,
                role: Role::Owner,
                expires_at: None,
                app_id: None,
            },
        )
        .await
        .unwrap()
        .1
    }
}

fn print(name: &str, unit: &str, latencies: &mut [Duration], elapsed: Duration) {
    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies[i.min(latencies.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<44} {:>8.0} {unit:<10} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  (n = {})",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap()),
        latencies.len(),
    );
}

/// Store `total` memories spread over `keys` with `clients` concurrent clients.
async fn store_all(
    bench: &Arc<Bench>,
    keys: &Arc<Vec<String>>,
    total: usize,
    clients: usize,
) -> (Vec<Duration>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (bench, keys, next) = (bench.clone(), keys.clone(), next.clone());
            tokio::spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (c as u64 + 1));
                let mut lat = vec![];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break lat;
                    }
                    let key = &keys[i % keys.len()];
                    let body = memory(&mut rng);
                    let t = Instant::now();
                    let (status, out) = bench
                        .call("POST", "/api/v1/memory/memory", key, Some(&body))
                        .await;
                    assert_eq!(status, StatusCode::CREATED, "{out}");
                    lat.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed())
}

/// Recall for `secs` with `clients` concurrent clients, each request to a random key.
async fn recall_for(
    bench: &Arc<Bench>,
    keys: &Arc<Vec<String>>,
    clients: usize,
    secs: u64,
) -> (Vec<Duration>, Duration, usize) {
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (bench, keys) = (bench.clone(), keys.clone());
            tokio::spawn(async move {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (c as u64 + 7));
                let (mut lat, mut found) = (vec![], 0usize);
                while Instant::now() < until {
                    let key = &keys[rng.below(keys.len())];
                    let uri = recall_query(&mut rng);
                    let t = Instant::now();
                    let (status, out) = bench.call("GET", &uri, key, None).await;
                    lat.push(t.elapsed());
                    assert_eq!(status, StatusCode::OK, "{out}");
                    found += out["count"].as_u64().unwrap_or(0) as usize;
                }
                (lat, found)
            })
        })
        .collect();
    let (mut all, mut found) = (vec![], 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        all.extend(l);
        found += f;
    }
    (all, start.elapsed(), found)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let one_org = knob("MEMORY_BENCH_ONE_ORG", 10_000);
    let (orgs, per_org) = (
        knob("MEMORY_BENCH_ORGS", 100),
        knob("MEMORY_BENCH_PER_ORG", 1_000),
    );
    let secs = knob("MEMORY_BENCH_SECS", 5) as u64;
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans.json");
    let mut catalog: Value =
        serde_json::from_str(include_str!("../../../domains/billing/plans.json")).unwrap();
    for p in catalog["plans"].as_array_mut().unwrap() {
        p["entitlements"]["max_memories"] = json!(-1);
    }
    std::fs::write(&plans, catalog.to_string()).unwrap();
    let model = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/models/wordllama-l2-supercat-256");
    let mut vars = vec![
        (
            "SKIFF_DATA_DIR".to_owned(),
            dir.path().join("data").display().to_string(),
        ),
        ("SKIFF_PLANS_FILE".to_owned(), plans.display().to_string()),
        ("SKIFF_LOG".to_owned(), "off".to_owned()),
    ];
    let embedder = if model.join("model.safetensors").exists() {
        vars.push(("SKIFF_EMBEDDINGS".into(), "static".into()));
        vars.push((
            "SKIFF_EMBEDDING_MODEL_DIR".into(),
            model.display().to_string(),
        ));
        "static model wordllama l2_supercat_256 (256 dims)"
    } else {
        "hashing embedder (256 dims): run scripts/fetch_model.sh for the static model"
    };
    let config = skiff_app::AppConfig::from_vars(vars).unwrap();
    let services = skiff_app::services::embedded(config, Arc::new(skiff_core::clock::SystemClock))
        .await
        .unwrap()
        .services;
    let bench = Arc::new(Bench {
        app: skiff_fn_memory::app(services.clone()),
        services,
    });
    println!("embeddings: {embedder}; 2 worker threads");

    // 1–2: one org.
    let keys = Arc::new(vec![bench.org(0).await]);
    let (mut lat, took) = store_all(&bench, &keys, one_org, 8).await;
    print(
        &format!("store into one org ({one_org}), 8 clients"),
        "stores/s",
        &mut lat,
        took,
    );
    for clients in [1, 8] {
        let (mut lat, took, found) = recall_for(&bench, &keys, clients, secs).await;
        print(
            &format!("recall, one org of {one_org}, {clients} client(s)"),
            "recalls/s",
            &mut lat,
            took,
        );
        println!(
            "{:<44} {:.1} results per recall",
            "",
            found as f64 / lat.len() as f64
        );
    }

    // 3: many orgs.
    let mut many = vec![];
    for i in 0..orgs {
        many.push(bench.org(i + 1).await);
    }
    let many = Arc::new(many);
    let (mut lat, took) = store_all(&bench, &many, orgs * per_org, 8).await;
    print(
        &format!("store into {orgs} orgs × {per_org}, 8 clients"),
        "stores/s",
        &mut lat,
        took,
    );
    for clients in [1, 8] {
        let (mut lat, took, _) = recall_for(&bench, &many, clients, secs).await;
        print(
            &format!("recall, {orgs} orgs × {per_org}, {clients} client(s)"),
            "recalls/s",
            &mut lat,
            took,
        );
    }
}
