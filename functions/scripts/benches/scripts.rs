//! Scripts through HTTP on the embedded backend, and the engine's own costs.
//!
//! `cargo bench -p skiff-fn-scripts --bench scripts`. `SCRIPTS_BENCH_SECS` sets the
//! seconds of the HTTP workload (default 10), `SCRIPTS_BENCH_CLIENTS` its clients
//! (default 8).
//!
//! 1. Cached-AST execution of a small JSON-transform script through the real local
//!    server: 8 clients (keep-alive connections) POST a JSON order to the app's
//!    public route `/run/bench/transform`; executions/s and p50/p99/max. Each
//!    request reads the slug claim and the script, runs on a runner thread and
//!    writes its execution log.
//! 2. Cold compile of a 200-line script (what saving one costs): median and p99.
//! 3. The progress callback (the wall-clock check): a 5,000,000-operation loop on
//!    an engine with it and without it.

use serde_json::json;
use skiff_core::ids::{OrgId, UserId};
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::routes::{Dispatch, Method, RouteDraft};
use skiff_scripts::sandbox::{Knob, Overrides};
use skiff_scripts::scripts::ScriptDraft;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

const TRANSFORM: &str = r#"
let order = ctx.request.body;
let lines = order.items.map(|i| #{ sku: i.sku.to_upper(), amount: i.price * i.qty });
#{
    id: order.id,
    customer: order.customer.name,
    lines: lines,
    total: lines.reduce(|sum, l| sum + l.amount, 0),
}
"#;

const LOOP: &str = "let s = 0; for i in 0..1000000 { s += i; } s";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A 200-line script: helper functions, maps, loops and string work.
fn two_hundred_lines() -> String {
    let mut s = String::new();
    for f in 0..15 {
        s.push_str(&format!(
            "fn step{f}(x, items) {{\n    let out = [];\n    for i in items {{\n        if i.qty > {f} {{ out.push(#{{ sku: i.sku + \"-{f}\", n: i.qty * x }}); }}\n    }}\n    let total = out.reduce(|a, b| a + b.n, 0);\n    `step {f}: ${{total}}`\n}}\n"
        ));
    }
    for f in 0..40 {
        s.push_str(&format!(
            "let v{f} = step{}(ctx.request.body.id, ctx.request.body.items);\n",
            f % 15
        ));
    }
    s.push_str("let result = [];\n");
    for f in 0..38 {
        s.push_str(&format!("result.push(v{f}.len() + {f});\n"));
    }
    s.push_str("result\n");
    assert_eq!(s.lines().count(), 200, "200 lines");
    s
}

fn main() {
    let secs = env_or("SCRIPTS_BENCH_SECS", 10);
    let clients = env_or("SCRIPTS_BENCH_CLIENTS", 8) as usize;
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let config = skiff_app::AppConfig::from_vars(vec![
        ("SKIFF_DATA_DIR".into(), dir.path().display().to_string()),
        ("SKIFF_ADDR".into(), addr.to_string()),
        ("SKIFF_PUBLIC_URL".into(), format!("http://{addr}")),
        ("SKIFF_LOG".into(), "off".into()),
    ])
    .unwrap();

    // The server on its own runtime (as `skiff serve` runs), the clients on another.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let running = skiff_local::start(config, listener).await.unwrap();
            ready_tx.send(running.services.clone()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let services = ready_rx.recv().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let actor = Actor {
            org_id: OrgId::new(),
            user_id: Some(UserId::new()),
            api_key_id: None,
            org_role: Role::Owner,
            can_write: true,
            bound_app: None,
        };
        skiff_scripts::apps::create(
            &services,
            &actor,
            "Bench".into(),
            Slug::parse("bench").unwrap(),
        )
        .await
        .unwrap();
        let script = skiff_scripts::scripts::create(
            &services,
            &actor,
            "bench",
            ScriptDraft {
                name: ScriptName::parse("transform").unwrap(),
                source: TRANSFORM.into(),
                kind: ScriptKind::Endpoint,
                overrides: Overrides::default(),
            },
        )
        .await
        .unwrap();
        skiff_scripts::routes::create(
            &services,
            &actor,
            &script.id,
            RouteDraft {
                method: Method::Post,
                path: "/transform".into(),
                host: None,
                dispatch: Dispatch::Sync,
            },
        )
        .await
        .unwrap();

        // 1. Executions through HTTP.
        let url = format!("http://{addr}/run/bench/transform");
        let order = json!({
            "id": 42,
            "customer": {"name": "Ada", "email": "ada@example.com"},
            "items": [
                {"sku": "kb-1", "price": 4999, "qty": 1},
                {"sku": "ms-2", "price": 1999, "qty": 2},
                {"sku": "cb-3", "price": 499, "qty": 5}
            ]
        });
        let body = order.to_string();
        let run = |duration: Duration| {
            let (url, body) = (url.clone(), body.clone());
            async move {
                let deadline = Instant::now() + duration;
                let tasks: Vec<_> = (0..clients)
                    .map(|_| {
                        let (url, body) = (url.clone(), body.clone());
                        tokio::spawn(async move {
                            let client = reqwest::Client::new();
                            let mut lat = Vec::with_capacity(100_000);
                            while Instant::now() < deadline {
                                let t0 = Instant::now();
                                let r = client
                                    .post(&url)
                                    .header("content-type", "application/json")
                                    .body(body.clone())
                                    .send()
                                    .await
                                    .unwrap();
                                assert_eq!(r.status(), 200);
                                let _ = r.bytes().await.unwrap();
                                lat.push(t0.elapsed());
                            }
                            lat
                        })
                    })
                    .collect();
                let mut all = vec![];
                for t in tasks {
                    all.extend(t.await.unwrap());
                }
                all
            }
        };
        let check = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        println!("answer: {}", check.text().await.unwrap());
        run(Duration::from_secs(1)).await; // warm up
        let start = Instant::now();
        let mut lat = run(Duration::from_secs(secs)).await;
        let elapsed = start.elapsed();
        lat.sort_unstable();
        println!(
            "{:<58} {:>8.0} exec/s  p50 {:>5.2} ms  p99 {:>5.2} ms  max {:>6.2} ms  ({} runs)",
            format!("cached-AST transform via /run, {clients} clients"),
            lat.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.99)),
            ms(*lat.last().unwrap()),
            lat.len()
        );

        // 2. Cold compile of 200 lines.
        let source = two_hundred_lines();
        let limits = skiff_scripts::run::effective_limits(&services, &script);
        let mut compiles = vec![];
        for _ in 0..200 {
            let t0 = Instant::now();
            skiff_scripts::scripts::compile(&services, &source, ScriptKind::Endpoint, &limits)
                .await
                .unwrap();
            compiles.push(t0.elapsed());
        }
        compiles.sort_unstable();
        println!(
            "{:<58} p50 {:>5.2} ms  p99 {:>5.2} ms ({} bytes)",
            "cold compile of a 200-line script (on a runner thread)",
            ms(percentile(&compiles, 0.5)),
            ms(percentile(&compiles, 0.99)),
            source.len()
        );

        // 3a. The loop as a real run: context, deadline, progress callback.
        let looped = skiff_scripts::scripts::create(
            &services,
            &actor,
            "bench",
            ScriptDraft {
                name: ScriptName::parse("loop").unwrap(),
                source: LOOP.into(),
                kind: ScriptKind::Endpoint,
                overrides: Overrides(vec![(Knob::MaxOperations, 50_000_000)]),
            },
        )
        .await
        .unwrap();
        let mut times = vec![];
        for _ in 0..7 {
            let t0 = Instant::now();
            let e =
                skiff_scripts::service::execute(&services, &actor, &looped.id, Default::default())
                    .await
                    .unwrap();
            assert!(e.result.is_ok(), "{:?}", e.result);
            times.push(t0.elapsed());
        }
        times.sort_unstable();
        println!(
            "{:<58} median {:>6.1} ms",
            "1M-iteration loop as a run (callback on, clock read)",
            ms(times[times.len() / 2])
        );
    });

    // 3. The progress callback.
    let mut limits = skiff_scripts::sandbox::Limits::default();
    for knob in Knob::ALL {
        limits.set(knob, 1_000_000_000);
    }
    let looped = LOOP;
    for progress in [false, true, false, true] {
        let engine = skiff_scripts::sandbox::standalone_engine(&limits, progress);
        let ast = engine.compile(looped).unwrap();
        let mut times = vec![];
        for _ in 0..7 {
            let t0 = Instant::now();
            let _ = engine.eval_ast::<rhai::Dynamic>(&ast).unwrap();
            times.push(t0.elapsed());
        }
        times.sort_unstable();
        println!(
            "{:<58} median {:>6.1} ms",
            format!(
                "1M-iteration loop, bare engine, callback {}",
                if progress { "on " } else { "off" }
            ),
            ms(times[times.len() / 2])
        );
    }
}
