//! Storage on the embedded adapters (SQLite + the filesystem): records created and
//! read through the real router (JSON, base64, SHA-256 check, quota transaction,
//! blob write); top-10 vector searches in one namespace of 384-dimension vectors,
//! at the index and through the router (JSON, the payloads of the hits); and an
//! export of an org with many records (wall time and the growth of the process's
//! peak memory while it runs).
//!
//! `cargo bench -p skiff-fn-storage --bench storage`. Knobs: `BENCH_SMALL` (4 KiB
//! requests per phase, default 500), `BENCH_LARGE` (1 MiB requests, default 60),
//! `BENCH_VECTORS` (comma-separated namespace sizes, default `10000,100000`),
//! `BENCH_QUERIES` (searches per size and way, default 1000),
//! `BENCH_EXPORT_RECORDS` (records in the exported org, default 10000).

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use http_body_util::BodyExt;
use skiff_core::clock::SystemClock;
use skiff_core::ports::vectors::{VectorId, VectorQuery};
use skiff_core::services::Services;
use skiff_http::principal;
use skiff_identity::access_token::{self, Grant};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::signing_keys;
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Role, Scopes, UserId};
use skiff_storage::exports;
use skiff_storage::quota::Limits;
use skiff_storage::records::{self, Ports};
use skiff_storage::vectors::{self, NewVector};
use skiff_storage::{Checksum, Owner, TableName};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// Measured with the allocator the binaries ship with.
#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn report(name: &str, mut latencies: Vec<Duration>, bytes_each: usize, elapsed: Duration) {
    latencies.sort_unstable();
    let mb = (latencies.len() * bytes_each) as f64 / 1e6;
    println!(
        "{name:<28} n {:>5}  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>7.1} MB/s  {:>7.0} req/s",
        latencies.len(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        mb / elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
    );
}

/// A kB figure from /proc/self/status (`VmRSS`, `VmHWM`).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .map(|r| r.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

async fn owner_and_token(s: &Services) -> (Owner, String) {
    let now = s.clock.unix();
    let (user_id, org_id) = (UserId::new(), OrgId::new());
    let user = User {
        id: user_id.clone(),
        email: EmailAddress::parse(&format!("{user_id}@example.com")).unwrap(),
        full_name: "Bench".into(),
        password_hash: "unused".into(),
        email_verified: true,
        created_at: now,
        platform_admin: false,
        default_org: org_id.clone(),
        company: None,
        suspended_at: None,
    };
    let org = Org {
        id: org_id.clone(),
        name: "Bench Inc".into(),
        created_at: now,
        owners: 1,
    };
    let member = Membership {
        org_id: org_id.clone(),
        user_id: user_id.clone(),
        role: Role::Owner,
        joined_at: now,
    };
    let mut writes = users::create_writes(&user).unwrap();
    writes.extend(orgs::create_writes(&org, &member).unwrap());
    s.store.transact(writes).await.unwrap();
    let keys = signing_keys::current(&s.secrets).await.unwrap();
    let token = access_token::issue(
        &keys,
        &principal::audience(s),
        now,
        Grant {
            user: &user_id,
            org: &org_id,
            role: Role::Owner,
            scopes: &Scopes::all(),
            session: None,
        },
    );
    (
        Owner {
            org: org_id,
            user: user_id,
        },
        token,
    )
}

/// A JSON POST with the bearer token.
fn post_json(path: &str, token: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

/// One request through the router: its status, its whole body, and the time both
/// took.
async fn timed(app: &axum::Router, request: Request<Body>) -> (u16, bytes::Bytes, Duration) {
    let t = Instant::now();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes, t.elapsed())
}

async fn records_through_the_router(s: &Services, token: &str, size: usize, n: usize) {
    let app = skiff_fn_storage::app(s.clone());
    let mut created = vec![];
    let mut latencies = vec![];
    let started = Instant::now();
    for i in 0..n {
        let blob: Vec<u8> = (0..size).map(|j| (i * 31 + j) as u8).collect();
        let body = serde_json::json!({
            "table": "bench",
            "blob": base64::engine::general_purpose::STANDARD.encode(&blob),
            "checksum": skiff_core::ports::blobs::sha256_hex(&blob),
        })
        .to_string();
        let (status, bytes, took) =
            timed(&app, post_json("/api/v1/storage/records", token, body)).await;
        latencies.push(took);
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&bytes));
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        created.push(v["id"].as_str().unwrap().to_owned());
    }
    report(
        &format!("create {} KiB", size / 1024),
        latencies,
        size,
        started.elapsed(),
    );
    let mut latencies = vec![];
    let started = Instant::now();
    for id in &created {
        let request = Request::get(format!("/api/v1/storage/records/{id}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (_, bytes, took) = timed(&app, request).await;
        latencies.push(took);
        assert_eq!(bytes.len(), size);
    }
    report(
        &format!("get {} KiB", size / 1024),
        latencies,
        size,
        started.elapsed(),
    );
}

/// A deterministic pseudo-random vector (xorshift), components in [-1, 1).
fn vector_of(seed: u64, dim: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..dim)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

async fn vector_search(s: &Services, count: usize, queries: usize) {
    const DIM: usize = 384;
    let (owner, token) = owner_and_token(s).await;
    let limits = Limits::unlimited();
    let t = Instant::now();
    for start in (0..count).step_by(500) {
        let batch = (start..(start + 500).min(count))
            .map(|i| {
                let blob = format!("ciphertext of item {i:08}").into_bytes();
                NewVector {
                    id: VectorId::parse(format!("item-{i}")).unwrap(),
                    checksum: Checksum::of(&blob),
                    blob: blob.into(),
                    vector: Some(vector_of(i as u64, DIM)),
                }
            })
            .collect();
        vectors::upsert(
            s.store.as_ref(),
            s.vectors.as_ref(),
            s.clock.as_ref(),
            &owner,
            &limits,
            batch,
        )
        .await
        .unwrap();
    }
    println!(
        "(stored {count} vectors of {DIM} dimensions in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let ns = vectors::namespace(&owner);
    let query = |i: usize| VectorQuery {
        vector: vector_of(1_000_000_007 + i as u64, DIM),
        top_k: 10,
        filter: None,
    };
    // The first query loads the namespace's cache from SQLite.
    let t = Instant::now();
    s.vectors.query(&ns, &query(0)).await.unwrap();
    println!(
        "(first query, loading {count} vectors: {:.1} ms)",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut latencies = vec![];
    let started = Instant::now();
    for i in 0..queries {
        let q = query(i);
        let t = Instant::now();
        let hits = s.vectors.query(&ns, &q).await.unwrap();
        latencies.push(t.elapsed());
        assert_eq!(hits.len(), 10);
    }
    report(
        &format!("index top-10 of {count}"),
        latencies,
        0,
        started.elapsed(),
    );
    let app = skiff_fn_storage::app(s.clone());
    let mut latencies = vec![];
    let started = Instant::now();
    for i in 0..queries {
        let body = serde_json::json!({"vector": query(i).vector, "top_k": 10}).to_string();
        let (status, bytes, took) = timed(
            &app,
            post_json("/api/v1/storage/vectors/search", &token, body),
        )
        .await;
        latencies.push(took);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    }
    report(
        &format!("route top-10 of {count}"),
        latencies,
        0,
        started.elapsed(),
    );
}

async fn export_of(s: &Services, count: usize) {
    let (owner, _) = owner_and_token(s).await;
    let ports = Ports::of(s);
    let limits = Limits::unlimited();
    let table = TableName::parse("bench").unwrap();
    let t = Instant::now();
    for i in 0..count {
        let blob: Vec<u8> = (0..4096).map(|j| (i * 7 + j) as u8).collect();
        let sum = Checksum::of(&blob);
        records::create(ports, &owner, &limits, table.clone(), blob.into(), sum)
            .await
            .unwrap();
    }
    println!(
        "(made {count} records of 4 KiB in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let parts = skiff_app::org_data();
    let before = status_kb("VmRSS:");
    // Reset the peak so VmHWM measures the export alone (Linux: clear_refs 5).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let t = Instant::now();
    let export = exports::request(s, &owner.org, &owner.user).await.unwrap();
    let mut step = 0;
    loop {
        exports::run_step(
            s,
            &parts,
            &exports::ExportStep {
                org_id: owner.org.clone(),
                export_id: export.id.clone(),
                step,
            },
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
        let now = exports::get(s.store.as_ref(), &owner.org, &export.id, s.clock.unix())
            .await
            .unwrap();
        if now.status == exports::Status::Complete {
            let peak = status_kb("VmHWM:");
            println!(
                "export of {count} records      wall {:>6.2} s  archive {:>6.1} MB  RSS before {:>6.1} MiB  peak {:>6.1} MiB  growth {:>6.1} MiB",
                t.elapsed().as_secs_f64(),
                now.size.unwrap_or(0) as f64 / 1e6,
                before as f64 / 1024.0,
                peak as f64 / 1024.0,
                peak.saturating_sub(before) as f64 / 1024.0,
            );
            return;
        }
        step = now.step;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = skiff_app::AppConfig::from_vars(vec![(
            "SKIFF_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )])
        .unwrap();
        let s = skiff_app::services::embedded(config, Arc::new(SystemClock))
            .await
            .unwrap()
            .services;
        let (_, token) = owner_and_token(&s).await;
        // Unlimited plan storage for the bench: the free plan's 1 GiB is plenty.
        records_through_the_router(&s, &token, 4 * 1024, env_or("BENCH_SMALL", 500)).await;
        records_through_the_router(&s, &token, 1024 * 1024, env_or("BENCH_LARGE", 60)).await;
        let sizes = std::env::var("BENCH_VECTORS").unwrap_or_else(|_| "10000,100000".into());
        for count in sizes.split(',').filter_map(|n| n.trim().parse().ok()) {
            vector_search(&s, count, env_or("BENCH_QUERIES", 1000)).await;
        }
        export_of(&s, env_or("BENCH_EXPORT_RECORDS", 10_000)).await;
    });
}
