//! Scripts' triggers and documents on the embedded backend (SQLite + the
//! embedded queue), the code the local server runs, without HTTP.
//!
//! `cargo bench -p skiff-fn-scripts --bench triggers`. `TRIGGERS_BENCH_WRITES`
//! sets the latency sample (default 1000), `TRIGGERS_BENCH_SECS` the seconds of
//! the 8-writer workload (default 10), `TRIGGERS_BENCH_DOCS` the collection size
//! of the `find` workload (default 100000).
//!
//! 1. Trigger latency: one writer, one write at a time. From the call that sets a
//!    KV entry (its trigger message staged in the same transaction, relayed after
//!    the commit) to the consumer taking the message (`outbox::process` called),
//!    and to the handler script's run finished; p50/p99/max.
//! 2. Triggered executions/s: 8 writers set KV entries as fast as they can for the
//!    duration while one consumer loop (as `skiff serve` runs) processes the
//!    messages; handler runs finished per second, until the queue is drained.
//! 3. `docs::find` over a collection of N documents: an equality filter with a
//!    range and a `$sort`, `$limit` 20 (a full scan: nothing indexes a field), and
//!    the same filter without `$sort` (id order: stops once the page is full).

use serde_json::json;
use skiff_core::Services;
use skiff_core::ids::{OrgId, UserId};
use skiff_core::outbox::{self, Envelope};
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::data::{self, Scope};
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::sandbox::Overrides;
use skiff_scripts::scripts::ScriptDraft;
use skiff_scripts::triggers::{self, TriggerDraft, TriggerKind};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

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

fn report(label: &str, mut lat: Vec<Duration>) {
    lat.sort_unstable();
    println!(
        "{label:<58} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  ({} samples)",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap()),
        lat.len()
    );
}

/// When each write started, by KV key; when its message was taken and its run
/// finished.
#[derive(Default)]
struct Clocks {
    written: Mutex<HashMap<String, Instant>>,
    taken: Mutex<Vec<Duration>>,
    finished: Mutex<Vec<Duration>>,
    done: AtomicUsize,
}

/// The consumer: what `skiff serve`'s outbox loop does, timing each message.
async fn consume(services: Services, clocks: Arc<Clocks>, stop: Arc<AtomicBool>) {
    let registry = skiff_app::registry();
    while !stop.load(Ordering::Relaxed) {
        let batch = services
            .queue
            .receive(10, Duration::from_secs(30), Duration::from_millis(200))
            .await
            .unwrap();
        for m in batch {
            let taken = Instant::now();
            let env: Envelope = serde_json::from_str(&m.body).unwrap();
            let key = env.payload["event"]["key"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let outcome = outbox::process(&services, &registry, &m.body).await;
            assert!(outcome.acknowledge(), "{outcome:?}");
            services.queue.delete(&m.receipt).await.unwrap();
            let finished = Instant::now();
            if let Some(t0) = clocks.written.lock().unwrap().remove(&key) {
                clocks.taken.lock().unwrap().push(taken - t0);
                clocks.finished.lock().unwrap().push(finished - t0);
            }
            clocks.done.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn main() {
    let writes = env_or("TRIGGERS_BENCH_WRITES", 1000) as usize;
    let secs = env_or("TRIGGERS_BENCH_SECS", 10);
    let docs = env_or("TRIGGERS_BENCH_DOCS", 100_000) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let (embedded, _clock) = skiff_app::testing::embedded_services(dir.path()).await;
        let services = embedded.services;
        let actor = Actor {
            org_id: OrgId::new(),
            user_id: Some(UserId::new()),
            api_key_id: None,
            org_role: Role::Owner,
            can_write: true,
            bound_app: None,
        };
        // The trigger runs as its owner, whose membership it reads at every run.
        let org = skiff_identity::orgs::Org {
            id: actor.org_id.clone(),
            name: "Bench".into(),
            created_at: 0,
            owners: 1,
        };
        let member = skiff_identity::orgs::Membership {
            org_id: actor.org_id.clone(),
            user_id: actor.user_id.clone().unwrap(),
            role: Role::Owner,
            joined_at: 0,
        };
        services
            .store
            .transact(skiff_identity::orgs::create_writes(&org, &member).unwrap())
            .await
            .unwrap();
        let app = skiff_scripts::apps::create(
            &services,
            &actor,
            "Bench".into(),
            Slug::parse("bench").unwrap(),
        )
        .await
        .unwrap();
        let handler = skiff_scripts::scripts::create(
            &services,
            &actor,
            "bench",
            ScriptDraft {
                name: ScriptName::parse("on_order").unwrap(),
                source: "let o = ctx.event.data; #{ key: ctx.event.key, total: o.price * o.qty }"
                    .into(),
                kind: ScriptKind::Endpoint,
                overrides: Overrides::default(),
            },
        )
        .await
        .unwrap();
        triggers::create(
            &services,
            &actor,
            "bench",
            TriggerDraft {
                kind: TriggerKind::Kv,
                script_id: handler.id.clone(),
                collection: Some("orders".into()),
                ops: vec![],
                schedule: None,
                timezone: None,
                topic: None,
                retry: None,
            },
        )
        .await
        .unwrap();
        let scope = |change: String| Scope {
            services: services.clone(),
            org: app.org_id.clone(),
            app: app.id.clone(),
            depth: 0,
            change_id: change,
        };

        // 1. Latency, one write at a time.
        let clocks = Arc::new(Clocks::default());
        let stop = Arc::new(AtomicBool::new(false));
        let consumer = tokio::spawn(consume(services.clone(), clocks.clone(), stop.clone()));
        for i in 0..writes + 50 {
            let key = format!("lat-{i}");
            let before = clocks.done.load(Ordering::SeqCst);
            clocks
                .written
                .lock()
                .unwrap()
                .insert(key.clone(), Instant::now());
            data::kv::set(&scope(format!("lat{i}")), "orders", &key, json!({"price": 250, "qty": 3}))
                .await
                .unwrap();
            while clocks.done.load(Ordering::SeqCst) == before {
                tokio::task::yield_now().await;
            }
            if i == 49 {
                // Warm-up done: forget it.
                clocks.taken.lock().unwrap().clear();
                clocks.finished.lock().unwrap().clear();
            }
        }
        report(
            "write → message taken by the consumer, 1 writer",
            std::mem::take(&mut *clocks.taken.lock().unwrap()),
        );
        report(
            "write → handler run finished, 1 writer",
            std::mem::take(&mut *clocks.finished.lock().unwrap()),
        );

        // 2. Throughput: 8 writers, one consumer.
        let start_done = clocks.done.load(Ordering::SeqCst);
        let written = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let scope = scope(String::new());
                let written = written.clone();
                tokio::spawn(async move {
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let s = Scope {
                            change_id: format!("w{w}.{n}"),
                            ..scope.clone()
                        };
                        data::kv::set(&s, "orders", &format!("w{w}-{n}"), json!({"price": 100, "qty": 2}))
                            .await
                            .unwrap();
                        n += 1;
                        written.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        let writing = start.elapsed();
        let total = written.load(Ordering::SeqCst);
        while clocks.done.load(Ordering::SeqCst) - start_done < total {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let drained = start.elapsed();
        println!(
            "{:<58} {:>8.0} writes/s while writing; {:>6.0} triggered runs/s until drained ({} runs, {:.1} s)",
            "8 writers, 1 consumer",
            total as f64 / writing.as_secs_f64(),
            total as f64 / drained.as_secs_f64(),
            total,
            drained.as_secs_f64()
        );
        stop.store(true, Ordering::Relaxed);
        consumer.await.unwrap();

        // 3. find over N documents (no trigger watches this collection).
        let t0 = Instant::now();
        let created = Arc::new(AtomicUsize::new(0));
        let loaders: Vec<_> = (0..8)
            .map(|w| {
                let scope = scope(String::new());
                let created = created.clone();
                tokio::spawn(async move {
                    let mut i = w;
                    while i < docs {
                        let s = Scope {
                            change_id: format!("d{i}"),
                            ..scope.clone()
                        };
                        let status = ["paid", "open", "void", "refunded"][i % 4];
                        data::docs::create(
                            &s,
                            "invoices",
                            json!({"status": status, "total": (i * 7919) % 10_000, "customer": {"n": i % 1000}}),
                        )
                        .await
                        .unwrap();
                        created.fetch_add(1, Ordering::Relaxed);
                        i += 8;
                    }
                })
            })
            .collect();
        for l in loaders {
            l.await.unwrap();
        }
        println!(
            "{:<58} {:>8.1} s ({:.0} documents/s, 8 writers)",
            format!("loading {docs} documents"),
            t0.elapsed().as_secs_f64(),
            docs as f64 / t0.elapsed().as_secs_f64()
        );
        let s = scope("find".into());
        for (label, filter) in [
            (
                "find status=paid, total>=9000, $sort total desc, $limit 20",
                json!({"status": "paid", "total": {"$gte": 9000}, "$sort": {"total": -1}, "$limit": 20}),
            ),
            (
                "find status=paid, total>=9000 (id order), $limit 20",
                json!({"status": "paid", "total": {"$gte": 9000}, "$limit": 20}),
            ),
        ] {
            let mut lat = vec![];
            let mut found = 0;
            for _ in 0..10 {
                let t = Instant::now();
                let (page, _) = data::docs::find(&s, "invoices", &filter).await.unwrap();
                lat.push(t.elapsed());
                found = page.len();
            }
            assert_eq!(found, 20);
            report(&format!("{label} over {docs}"), lat);
        }
    });
}
