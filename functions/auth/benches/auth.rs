//! Identity benchmarks, printed as figures:
//! - login p50/p99 through the real router (argon2id verify + session + JWT);
//! - access-token verifications per second on one core;
//! - register p50 on the embedded adapter (argon2id hash + one 4-item transaction
//!   + verification token + outbox enqueue).
//!
//! `cargo bench -p skiff-fn-auth --bench auth` (env `BENCH_LOGINS`, `BENCH_REGISTERS`,
//! `BENCH_VERIFY_SECS` shrink or grow the runs).

use axum::body::Body;
use http::Request;
use skiff_app::AppConfig as Config;
use skiff_core::clock::SystemClock;
use skiff_core::services::Services;
use skiff_http::principal::{audience, authenticate};
use skiff_identity::access_token;
use skiff_identity::password::{ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_T_COST};
use skiff_identity::signing_keys;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn post(app: &axum::Router, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let req = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let unlimited = "1000000/60";
    let vars = [
        ("SKIFF_DATA_DIR", dir.path().display().to_string()),
        ("SKIFF_LOG", "off".into()),
        ("SKIFF_RATE_LOGIN_PER_EMAIL", unlimited.into()),
        ("SKIFF_RATE_LOGIN_PER_IP", unlimited.into()),
        ("SKIFF_RATE_REGISTER_PER_IP", unlimited.into()),
    ];
    let config = Config::from_vars(vars.map(|(k, v)| (k.to_owned(), v))).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let services: Services = rt.block_on(async {
        skiff_app::services::embedded(config.clone(), Arc::new(SystemClock))
            .await
            .unwrap()
            .services
    });
    let app = skiff_http::with_common_layers(
        skiff_fn_auth::router().with_state(services.clone()),
        &config,
    );

    println!(
        "argon2id parameters: m = {ARGON2_M_COST_KIB} KiB, t = {ARGON2_T_COST}, p = {ARGON2_P_COST} (OWASP)"
    );
    println!(
        "machine: {} logical cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Register p50 (sequential, one request at a time).
    let registers = env_num("BENCH_REGISTERS", 50) as usize;
    let mut times = rt.block_on(async {
        let mut times = Vec::with_capacity(registers);
        for i in 0..registers {
            let body = serde_json::json!({
                "email": format!("bench{i}@example.com"), "password": "Correct1horse",
                "full_name": "Bench User", "company_name": format!("Bench {i}"),
            });
            let t = Instant::now();
            let (status, b) = post(&app, "/api/v1/auth/register", body).await;
            times.push(t.elapsed());
            assert_eq!(status, 201, "{b}");
        }
        times
    });
    times.sort();
    println!(
        "register (embedded SQLite): n = {registers}, p50 = {:.1} ms, p99 = {:.1} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );

    // Login p50/p99 (sequential).
    let logins = env_num("BENCH_LOGINS", 100) as usize;
    let (mut times, token) = rt.block_on(async {
        let mut times = Vec::with_capacity(logins);
        let mut token = String::new();
        for i in 0..logins {
            let body = serde_json::json!({"email": format!("bench{}@example.com", i % registers), "password": "Correct1horse"});
            let t = Instant::now();
            let (status, b) = post(&app, "/api/v1/auth/login", body).await;
            times.push(t.elapsed());
            assert_eq!(status, 200, "{b}");
            token = b["access_token"].as_str().unwrap().to_owned();
        }
        (times, token)
    });
    times.sort();
    println!(
        "login: n = {logins}, p50 = {:.1} ms, p99 = {:.1} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );

    // Access-token verification on one core: this thread only.
    let secs = env_num("BENCH_VERIFY_SECS", 3);
    let keys = rt
        .block_on(signing_keys::current(&services.secrets))
        .unwrap();
    let who = audience(&services);
    let now = services.clock.unix();
    let per_sec = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(secs);
        let mut n = 0u64;
        while Instant::now() < deadline {
            for _ in 0..500 {
                f();
            }
            n += 500;
        }
        n as f64 / started.elapsed().as_secs_f64()
    };
    let full = per_sec(&mut || {
        std::hint::black_box(
            access_token::verify(&keys, &who, now, std::hint::black_box(&token)).unwrap(),
        );
    });
    println!(
        "access-token verification, full (EdDSA signature + claims), one core: {full:.0}/s ({:.1} µs each)",
        1e6 / full
    );

    // The Ed25519 signature check alone: the ceiling of an uncached verification.
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap();
    let public = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ED25519,
        *keys.current.public_key(),
    );
    let raw = per_sec(&mut || {
        public
            .verify(std::hint::black_box(signing_input.as_bytes()), &signature)
            .unwrap();
    });
    println!(
        "  of which the Ed25519 signature check alone: {raw:.0}/s ({:.1} µs each)",
        1e6 / raw
    );

    // What a warm container does for a token it has seen (the extractor's path:
    // key-set lookup, memo hit, expiry check), on a single-threaded runtime.
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let warm = single.block_on(async {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(secs);
        let mut n = 0u64;
        while Instant::now() < deadline {
            for _ in 0..1000 {
                std::hint::black_box(authenticate(&services, &token).await.unwrap());
            }
            n += 1000;
        }
        n as f64 / started.elapsed().as_secs_f64()
    });
    println!(
        "bearer authentication via the extractor, token already verified (memo hit), one core: {warm:.0}/s"
    );
}
