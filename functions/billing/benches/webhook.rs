//! Webhook verification + processing on the embedded adapter: a benchmark.
//!
//! Drives the real billing router (signature check, idempotency claim, the
//! subscription/profile/audit transaction, licensing hooks, completion) with
//! correctly signed events, and prints events/s and p50/p99 latency for
//! - fresh events (`checkout.session.completed` for a new org each: the heaviest
//!   path, and `invoice.payment_failed` for an existing subscription), and
//! - duplicates (redeliveries of done events).
//!
//! Target: p99 ≤ 20 ms for a fresh event.
//!
//! `cargo bench -p skiff-fn-billing --bench webhook` (EVENTS=n to change the count).

use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::json;
use skiff_app::testing::embedded_services;
use skiff_billing::webhook::signature_header;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    println!(
        "{name:<44} {:>6} events  {:>8.0} events/s  p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
        samples.len(),
        samples.len() as f64 / wall.as_secs_f64(),
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

struct Ctx {
    app: axum::Router,
    services: skiff_core::services::Services,
    secret: String,
}

/// Deliver one signed event through the router; (latency, response body).
async fn send(ctx: Arc<Ctx>, body: String) -> (Duration, bytes::Bytes) {
    let t = ctx.services.clock.unix();
    let header = signature_header(&[ctx.secret.as_str()], t, body.as_bytes());
    let started = Instant::now();
    let response = ctx
        .app
        .clone()
        .oneshot(
            http::Request::post("/api/v1/billing/webhook")
                .header("content-type", "application/json")
                .header("stripe-signature", header)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    (elapsed, bytes)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let services = embedded.services;
    let secret = skiff_billing::simulator_webhook_secret(&services)
        .await
        .unwrap();
    let app = skiff_fn_billing::router().with_state(services.clone());

    let ctx = Arc::new(Ctx {
        app,
        services: services.clone(),
        secret,
    });
    let deliver = |body: String| send(ctx.clone(), body);
    let now = services.clock.unix();
    let checkout = |i: usize| {
        json!({"id": format!("evt_bench_co_{i}"), "type": "checkout.session.completed", "created": now,
               "object": "event", "livemode": false,
               "data": {"object": {"object": "checkout.session", "mode": "subscription",
                 "client_reference_id": format!("org_bench_{i}"), "customer": format!("cus_bench_{i}"),
                 "subscription": format!("sub_bench_{i}"),
                 "metadata": {"org_id": format!("org_bench_{i}"), "plan_id": "pro", "trial_days": "0"}}}})
        .to_string()
    };
    let failed = |i: usize| {
        json!({"id": format!("evt_bench_fail_{i}"), "type": "invoice.payment_failed", "created": now,
               "object": "event", "livemode": false,
               "data": {"object": {"object": "invoice", "customer": format!("cus_bench_{i}"), "amount_paid": 0,
                 "parent": {"subscription_details": {"subscription": format!("sub_bench_{i}"),
                   "metadata": {"org_id": format!("org_bench_{i}")}}}}}})
        .to_string()
    };

    // Warm-up (SQLite pages, allocator), not measured.
    for i in 0..50 {
        deliver(checkout(n + i)).await;
    }

    println!(
        "billing webhook benchmark — embedded adapter (SQLite WAL), {n} events per run, sequential"
    );
    let mut samples = vec![];
    let wall = Instant::now();
    for i in 0..n {
        let (d, body) = deliver(checkout(i)).await;
        debug_assert!(String::from_utf8_lossy(&body).contains("processed"));
        samples.push(d);
    }
    report("fresh checkout.session.completed", samples, wall.elapsed());

    let mut samples = vec![];
    let wall = Instant::now();
    for i in 0..n {
        let (d, body) = deliver(failed(i)).await;
        assert!(String::from_utf8_lossy(&body).contains("processed"));
        samples.push(d);
    }
    report("fresh invoice.payment_failed", samples, wall.elapsed());

    let mut samples = vec![];
    let wall = Instant::now();
    for i in 0..n {
        let (d, body) = deliver(failed(i)).await;
        assert!(String::from_utf8_lossy(&body).contains("duplicate"));
        samples.push(d);
    }
    report(
        "duplicate (redelivery of a done event)",
        samples,
        wall.elapsed(),
    );

    // 16 concurrent senders, fresh events on distinct subscriptions.
    let wall = Instant::now();
    let per = n / 16;
    let tasks: Vec<_> = (0..16)
        .map(|w| {
            let ctx = ctx.clone();
            let bodies: Vec<String> = (0..per)
                .map(|k| {
                    let i = w * per + k;
                    json!({"id": format!("evt_bench_renew_{i}"), "type": "invoice.payment_succeeded", "created": now,
                           "object": "event", "livemode": false,
                           "data": {"object": {"object": "invoice", "customer": format!("cus_bench_{i}"), "amount_paid": 9900,
                             "parent": {"subscription_details": {"subscription": format!("sub_bench_{i}"),
                               "metadata": {"org_id": format!("org_bench_{i}")}}}}}})
                    .to_string()
                })
                .collect();
            tokio::spawn(async move {
                let mut s = vec![];
                for b in bodies {
                    s.push(send(ctx.clone(), b).await.0);
                }
                s
            })
        })
        .collect();
    let mut samples = vec![];
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    report(
        "fresh invoice.payment_succeeded, 16 concurrent",
        samples,
        wall.elapsed(),
    );
}
