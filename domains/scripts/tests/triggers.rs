//! Trigger delivery through the outbox, with the queue pumped by hand: a KV write
//! fires its trigger exactly once even when its message is delivered twice, and a
//! pubsub fan-out is all of its messages or none (both on the embedded backend and
//! on DynamoDB + SQS); retries, dead letters, cron catch-up and the depth limit
//! (embedded: they move its clock).

use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::{OrgId, ScriptId, UserId};
use skiff_core::outbox::{self, Envelope, Outcome, Staged};
use skiff_core::ports::queue::Received;
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::data::{self, Scope};
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::run::RunRequest;
use skiff_scripts::sandbox::Overrides;
use skiff_scripts::scripts::ScriptDraft;
use skiff_scripts::triggers::{self, TriggerDraft, TriggerKind};
use std::time::Duration;

struct World {
    services: Services,
    clock: std::sync::Arc<skiff_core::clock::OffsetClock>,
    actor: Actor,
    app: skiff_scripts::model::App,
    _dir: Option<tempfile::TempDir>,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = skiff_app::testing::embedded_services(dir.path()).await;
    world_over(embedded.services, clock, Some(dir)).await
}

/// The same over DynamoDB, S3 and SQS on the emulator (on the system clock: the
/// cases run there move no clock).
async fn aws_world() -> World {
    let services = skiff_app::testing::aws_services("scripts-trig", None).await;
    world_over(services, skiff_core::clock::OffsetClock::new(), None).await
}

async fn world_over(
    services: Services,
    clock: std::sync::Arc<skiff_core::clock::OffsetClock>,
    dir: Option<tempfile::TempDir>,
) -> World {
    let actor = Actor {
        org_id: OrgId::new(),
        user_id: Some(UserId::new()),
        api_key_id: None,
        org_role: Role::Owner,
        can_write: true,
        bound_app: None,
    };
    // Triggers run as their owner, whose membership is read at every run.
    let org = skiff_identity::orgs::Org {
        id: actor.org_id.clone(),
        name: "Triggers".into(),
        created_at: 0,
        owners: 1,
    };
    let owner = skiff_identity::orgs::Membership {
        org_id: actor.org_id.clone(),
        user_id: actor.user_id.clone().unwrap(),
        role: Role::Owner,
        joined_at: 0,
    };
    services
        .store
        .transact(skiff_identity::orgs::create_writes(&org, &owner).unwrap())
        .await
        .unwrap();
    let app = skiff_scripts::apps::create(
        &services,
        &actor,
        "T".into(),
        Slug::parse(&format!(
            "t-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ))
        .unwrap(),
    )
    .await
    .unwrap();
    World {
        services,
        clock,
        actor,
        app,
        _dir: dir,
    }
}

impl World {
    async fn script(&self, name: &str, source: &str) -> ScriptId {
        skiff_scripts::scripts::create(
            &self.services,
            &self.actor,
            self.app.id.as_str(),
            ScriptDraft {
                name: ScriptName::parse(name).unwrap(),
                source: source.into(),
                kind: ScriptKind::Endpoint,
                overrides: Overrides::default(),
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn trigger(
        &self,
        kind: TriggerKind,
        script: &ScriptId,
        collection: Option<&str>,
        topic: Option<&str>,
    ) -> skiff_scripts::triggers::Trigger {
        triggers::create(
            &self.services,
            &self.actor,
            self.app.id.as_str(),
            TriggerDraft {
                kind,
                script_id: script.clone(),
                collection: collection.map(str::to_owned),
                ops: vec![],
                schedule: None,
                timezone: None,
                topic: topic.map(str::to_owned),
                retry: None,
            },
        )
        .await
        .unwrap()
    }

    async fn execute(&self, script: &ScriptId, body: Value) -> Value {
        let e = skiff_scripts::service::execute(
            &self.services,
            &self.actor,
            script,
            RunRequest {
                method: "POST".into(),
                body,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        match e.result.unwrap().body {
            skiff_scripts::run::Body::Json(v) => v,
            other => panic!("{other:?}"),
        }
    }

    async fn receive(&self) -> Vec<Received> {
        self.services
            .queue
            .receive(10, Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap()
    }

    fn scope(&self, change: &str) -> Scope {
        Scope {
            services: self.services.clone(),
            org: self.app.org_id.clone(),
            app: self.app.id.clone(),
            depth: 0,
            change_id: change.into(),
        }
    }
}

async fn a_kv_write_fires_its_trigger_once_even_when_delivered_twice(w: World) {
    let counter = w
        .script(
            "count",
            r#"let c = kv::collection("stats"); c.set("runs", (c.get("runs") ?? 0) + 1); log::info(`saw ${ctx.event.key} = ${ctx.event.data}`);"#,
        )
        .await;
    w.trigger(TriggerKind::Kv, &counter, Some("orders"), None)
        .await;
    let writer = w
        .script(
            "write",
            r#"kv::collection("orders").set("o-1", ctx.request.body); 1"#,
        )
        .await;
    w.execute(&writer, json!({"total": 10})).await;

    let messages = w.receive().await;
    assert_eq!(messages.len(), 1, "one trigger message");
    let registry = skiff_app::registry();
    let body = &messages[0].body;
    let env: Envelope = serde_json::from_str(body).unwrap();
    assert_eq!(env.kind, "script_trigger");
    assert_eq!(env.payload["event"]["op"], "insert");
    assert_eq!(env.payload["event"]["data"], json!({"total": 10}));
    assert_eq!(env.payload["depth"], 1);
    // Delivered twice (SQS may): processed once.
    assert_eq!(
        outbox::process(&w.services, &registry, body).await,
        Outcome::Done
    );
    assert_eq!(
        outbox::process(&w.services, &registry, body).await,
        Outcome::Duplicate
    );
    let scope = w.scope("check");
    assert_eq!(
        data::kv::get(&scope, "stats", "runs").await.unwrap(),
        Some(json!(1))
    );
    // The handler's own write (stats) fires nothing: no trigger watches it.
    assert!(w.receive().await.is_empty());
}

async fn a_pubsub_fan_out_is_all_of_its_messages_or_none(w: World) {
    let handler = w.script("h", "1").await;
    let mut subscribed = vec![];
    for pattern in ["orders.*", "orders.created", "*"] {
        subscribed.push(
            w.trigger(TriggerKind::Pubsub, &handler, None, Some(pattern))
                .await,
        );
    }
    let other = w
        .trigger(TriggerKind::Pubsub, &handler, None, Some("invoices.*"))
        .await;

    // All three matching triggers get a message, the fourth none.
    let n = data::pubsub::publish(&w.scope("p1"), "orders.created", json!({"id": 7}))
        .await
        .unwrap();
    assert_eq!(n, 3);
    let got: Vec<Envelope> = w
        .receive()
        .await
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    let mut targets: Vec<String> = got
        .iter()
        .map(|e| e.payload["trigger_id"].as_str().unwrap().to_owned())
        .collect();
    targets.sort();
    let mut want: Vec<String> = subscribed.iter().map(|t| t.id.to_string()).collect();
    want.sort();
    assert_eq!(targets, want);
    assert!(!targets.contains(&other.id.to_string()));
    assert_eq!(
        got[0].payload["event"]["pubsub"],
        json!({"topic": "orders.created", "message": {"id": 7}})
    );

    // A fan-out whose write cannot complete (one message's slot is taken) sends
    // none of its messages, not the first two.
    let blocked = Staged::now(Envelope {
        id: format!("p2.{}", subscribed[2].id),
        kind: "script_trigger".into(),
        payload: json!({}),
        created_at: 0,
    });
    w.services
        .store
        .transact(vec![blocked.write().unwrap()])
        .await
        .unwrap();
    let err = data::pubsub::publish(&w.scope("p2"), "orders.created", json!({"id": 8})).await;
    assert!(err.is_err(), "{err:?}");
    assert!(
        w.receive().await.is_empty(),
        "no message of a failed fan-out was sent"
    );
    // And nothing of it waits for the sweeper either (only the planted item).
    w.clock
        .advance(outbox::RELAY_GRACE + Duration::from_secs(1));
    outbox::relay_stale(&w.services).await.unwrap();
    let late: Vec<Envelope> = w
        .receive()
        .await
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    assert!(late.iter().all(|e| e.id == blocked.envelope.id), "{late:?}");
}

/// A dead-letter handler closes its dead letters through the SDK: it fixes the
/// cause and replays one (the replay succeeds and resolves it), resolves another
/// with a reason, and an id of no dead letter of its app is an error it can catch.
async fn a_dead_letter_handler_replays_and_resolves_through_the_sdk(w: World) {
    use skiff_scripts::dead_letters::DeadLetterStatus;
    use skiff_scripts::triggers::{Backoff, RetryPolicy};
    let flaky = w
        .script(
            "flaky",
            r#"let s = kv::collection("seen"); s.set(ctx.event.key, (s.get(ctx.event.key) ?? 0) + 1);
               if !kv::collection("flags").has("ok") { throw "downstream unavailable"; } 1"#,
        )
        .await;
    let unknown = skiff_core::ids::DeadLetterId::new();
    let handler = w
        .script(
            "on_dead_letter",
            &format!(
                r#"let dl = ctx.event.dead_letter;
                   let out = kv::collection("handled");
                   if dl.event.key == "o-replay" {{
                       kv::collection("flags").set("ok", true);
                       out.set(dl.event.key, dead_letters::replay(dl.id));
                   }} else {{
                       dead_letters::resolve(dl.id, "closed by the handler");
                       let err = "";
                       try {{ dead_letters::resolve("{unknown}", "x"); }} catch (e) {{ err = `${{e}}`; }}
                       out.set(dl.event.key, err);
                   }}"#
            ),
        )
        .await;
    let once = RetryPolicy {
        max_attempts: 1,
        backoff: Backoff::Constant,
        base_delay_ms: 100,
    };
    w.trigger_with(TriggerDraft {
        collection: Some("orders".into()),
        retry: Some(once),
        ..draft(TriggerKind::Kv, &flaky)
    })
    .await;
    w.trigger_with(TriggerDraft {
        retry: Some(once),
        ..draft(TriggerKind::DeadLetter, &handler)
    })
    .await;

    // Fails, dead-letters; the handler resolves it with its reason.
    data::kv::set(&w.scope("w1"), "orders", "o-resolve", json!(1))
        .await
        .unwrap();
    assert_eq!(w.pump().await, 2, "the run and the handler");
    let dls = w.dead_letters().await;
    assert_eq!(dls.len(), 1);
    assert_eq!(dls[0].status, DeadLetterStatus::Resolved);
    assert_eq!(dls[0].resolution.as_deref(), Some("closed by the handler"));
    let err = w.kv("handled", "o-resolve").await.unwrap();
    assert!(
        err.as_str().unwrap().contains("no such dead letter"),
        "{err}"
    );

    // Fails, dead-letters; the handler fixes the cause and replays: the replay
    // runs the trigger again, succeeds and resolves the dead letter.
    data::kv::set(&w.scope("w2"), "orders", "o-replay", json!(2))
        .await
        .unwrap();
    assert_eq!(w.pump().await, 3, "the run, the handler, the replay");
    assert_eq!(w.kv("seen", "o-replay").await, Some(json!(2)));
    let replayed = w
        .dead_letters()
        .await
        .into_iter()
        .find(|d| d.event["key"] == "o-replay")
        .unwrap();
    assert_eq!(replayed.status, DeadLetterStatus::Resolved);
    assert_eq!(replayed.replays, 1);
    let message = w.kv("handled", "o-replay").await.unwrap();
    assert!(
        message
            .as_str()
            .unwrap()
            .starts_with(&format!("{}.replay", replayed.id)),
        "{message}"
    );
    assert_eq!(
        skiff_scripts::dead_letters::count(&w.services, &w.actor, w.app.id.as_str())
            .await
            .unwrap(),
        0
    );
}

/// A file write fires the app's files trigger; the handler's event carries the
/// file's metadata (before and after), never its bytes or its storage key.
async fn a_file_write_fires_its_trigger_with_metadata_only(w: World) {
    let handler = w
        .script(
            "on_file",
            r#"kv::collection("events").set(ctx.event.op, ctx.event);"#,
        )
        .await;
    w.trigger(TriggerKind::Files, &handler, Some("upl*"), None)
        .await;
    let writer = w
        .script(
            "upload",
            r#"let f = files::collection("uploads");
               f.create("a.txt", "first-secret-bytes", #{ owner: "ada", content_type: "text/plain" });
               f.update("a.txt", "second-secret-bytes", #{ owner: "bob" });
               files::collection("other").create("b.txt", "not watched");
               1"#,
        )
        .await;
    w.execute(&writer, json!({})).await;
    assert_eq!(w.pump().await, 2, "the insert and the update, not `other`");
    let insert = w.kv("events", "insert").await.expect("the insert's event");
    assert_eq!(
        (&insert["collection"], &insert["name"], &insert["op"]),
        (&json!("uploads"), &json!("a.txt"), &json!("insert"))
    );
    let data = &insert["data"];
    assert_eq!(data["size"], 18);
    assert_eq!(
        data["sha256"],
        skiff_core::ports::blobs::sha256_hex(b"first-secret-bytes")
    );
    assert_eq!(
        (&data["content_type"], &data["meta"]),
        (&json!("text/plain"), &json!({"owner": "ada"}))
    );
    let update = w.kv("events", "update").await.expect("the update's event");
    assert_eq!(update["prev_data"]["sha256"], data["sha256"]);
    assert_eq!(update["data"]["meta"], json!({"owner": "bob"}));
    for event in [&insert, &update] {
        let text = event.to_string();
        assert!(
            !text.contains("secret-bytes") && !text.contains("blob"),
            "metadata only: {text}"
        );
    }
}

/// A trigger with `ops: ["update"]` stays silent on insert and delete and fires
/// on update.
async fn the_ops_filter_fires_only_on_its_ops(w: World) {
    let handler = w.script("h", "1").await;
    w.trigger_with(TriggerDraft {
        collection: Some("prefs".into()),
        ops: vec![skiff_scripts::triggers::Op::Update],
        ..draft(TriggerKind::Kv, &handler)
    })
    .await;
    data::kv::set(&w.scope("c1"), "prefs", "theme", json!("dark"))
        .await
        .unwrap();
    assert!(w.receive().await.is_empty(), "no message on insert");
    data::kv::set(&w.scope("c2"), "prefs", "theme", json!("light"))
        .await
        .unwrap();
    let got = w.receive().await;
    assert_eq!(got.len(), 1, "one message on update");
    let env: Envelope = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(env.payload["event"]["op"], "update");
    assert_eq!(env.payload["event"]["prev_data"], "dark");
    w.services.queue.delete(&got[0].receipt).await.unwrap();
    data::kv::delete(&w.scope("c3"), "prefs", "theme")
        .await
        .unwrap();
    assert!(w.receive().await.is_empty(), "no message on delete");
}

/// A file whose stored bytes were replaced behind the store's back (not through
/// `files::`) is refused by the checked read with an error that says so.
async fn a_file_changed_behind_the_store_is_refused(w: World) {
    let meta = stored_report(&w).await;
    let key = skiff_core::ports::blobs::BlobKey::parse(meta.blob_key.clone()).unwrap();
    w.services
        .blobs
        .put(
            &key,
            bytes::Bytes::from_static(b"a forged report"),
            "text/plain",
        )
        .await
        .unwrap();
    assert_corrupt_read_refused(&w).await;
}

/// `docs/report.txt`, written by a script; its metadata.
async fn stored_report(w: &World) -> data::files::FileMeta {
    let writer = w
        .script(
            "write",
            r#"files::collection("docs").create("report.txt", "the real report"); 1"#,
        )
        .await;
    w.execute(&writer, json!({})).await;
    data::files::head(&w.scope("r"), "docs", "report.txt")
        .await
        .unwrap()
        .unwrap()
}

/// Reading `docs/report.txt` from a script fails with the integrity error, which
/// names the file and not the storage key; `head` still answers.
async fn assert_corrupt_read_refused(w: &World) {
    let reader = w
        .script(
            &format!("read{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
            r#"let f = files::collection("docs");
               let err = "";
               try { f.get("report.txt"); } catch (e) { err = `${e}`; }
               #{ err: err, head: f.head("report.txt").name }"#,
        )
        .await;
    let out = w.execute(&reader, json!({})).await;
    let err = out["err"].as_str().unwrap();
    assert!(
        err.contains("report.txt") && err.contains("SHA-256") && err.contains("not read"),
        "{err}"
    );
    assert!(!err.contains("scripts/"), "no storage key: {err}");
    assert_eq!(out["head"], "report.txt");
}

// Delivery on both backends (the queue pumped by hand).
skiff_adapters::conformance_suite! {
    adapters { embedded => super::world().await, aws => super::aws_world().await }
    cases {
        a_kv_write_fires_its_trigger_once_even_when_delivered_twice,
        a_pubsub_fan_out_is_all_of_its_messages_or_none,
        a_dead_letter_handler_replays_and_resolves_through_the_sdk,
        a_file_write_fires_its_trigger_with_metadata_only,
        the_ops_filter_fires_only_on_its_ops,
        a_file_changed_behind_the_store_is_refused,
    }
}

impl World {
    async fn trigger_with(&self, draft: TriggerDraft) -> skiff_scripts::triggers::Trigger {
        triggers::create(&self.services, &self.actor, self.app.id.as_str(), draft)
            .await
            .unwrap()
    }

    /// Run every message visible now through the outbox consumer (acknowledging
    /// what it acknowledges); returns how many were processed.
    async fn pump(&self) -> usize {
        let registry = skiff_app::registry();
        let mut n = 0;
        loop {
            let messages = self.receive().await;
            if messages.is_empty() {
                return n;
            }
            for m in messages {
                let outcome = outbox::process(&self.services, &registry, &m.body).await;
                assert!(outcome.acknowledge(), "{outcome:?}");
                self.services.queue.delete(&m.receipt).await.unwrap();
                n += 1;
            }
        }
    }

    async fn dead_letters(&self) -> Vec<skiff_scripts::dead_letters::DeadLetter> {
        skiff_scripts::dead_letters::page(
            &self.services,
            &self.actor,
            self.app.id.as_str(),
            false,
            50,
            None,
        )
        .await
        .unwrap()
        .0
    }

    async fn kv(&self, collection: &str, key: &str) -> Option<Value> {
        data::kv::get(&self.scope("read"), collection, key)
            .await
            .unwrap()
    }
}

fn draft(kind: TriggerKind, script: &ScriptId) -> TriggerDraft {
    TriggerDraft {
        kind,
        script_id: script.clone(),
        collection: None,
        ops: vec![],
        schedule: None,
        timezone: None,
        topic: None,
        retry: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_retries_then_dead_letters_and_replay_and_resolve_close_it() {
    use skiff_scripts::dead_letters::{self, DeadLetterStatus};
    use skiff_scripts::triggers::{Backoff, RetryPolicy};
    let w = world().await;
    // Fails until the flag is set; counts its attempts.
    let flaky = w
        .script(
            "flaky",
            r#"let s = kv::collection("seen"); s.set("runs", (s.get("runs") ?? 0) + 1);
               if !kv::collection("flags").has("ok") { throw "downstream unavailable"; } 1"#,
        )
        .await;
    // The dead-letter handler fails too: it must mark, never dead-letter again.
    let dl_handler = w
        .script(
            "on_dead_letter",
            r#"kv::collection("seen").set("dl", ctx.event.dead_letter.id); throw "handler broke";"#,
        )
        .await;
    let retry = RetryPolicy {
        max_attempts: 3,
        backoff: Backoff::Constant,
        base_delay_ms: 1000,
    };
    let trigger = w
        .trigger_with(TriggerDraft {
            collection: Some("orders".into()),
            retry: Some(retry),
            ..draft(TriggerKind::Kv, &flaky)
        })
        .await;
    w.trigger_with(TriggerDraft {
        retry: Some(RetryPolicy {
            max_attempts: 1,
            ..retry
        }),
        ..draft(TriggerKind::DeadLetter, &dl_handler)
    })
    .await;
    data::kv::set(&w.scope("w1"), "orders", "o-1", json!({"total": 5}))
        .await
        .unwrap();

    // Attempt 1 now; each retry becomes visible only after its backoff.
    assert_eq!(w.pump().await, 1);
    assert_eq!(w.kv("seen", "runs").await, Some(json!(1)));
    assert!(w.dead_letters().await.is_empty(), "retries first");
    w.clock.advance(Duration::from_secs(2));
    assert_eq!(w.pump().await, 1, "attempt 2");
    assert_eq!(w.kv("seen", "runs").await, Some(json!(2)));
    // The last attempt: a dead letter, whose handler runs (once, failing).
    w.clock.advance(Duration::from_secs(2));
    assert_eq!(w.pump().await, 2, "attempt 3 and the dead-letter handler");
    assert_eq!(w.kv("seen", "runs").await, Some(json!(3)));
    let dls = w.dead_letters().await;
    assert_eq!(dls.len(), 1);
    let dl = &dls[0];
    assert_eq!(
        (dl.trigger_id.clone(), dl.attempts, dl.event["key"].clone()),
        (trigger.id.clone(), 3, json!("o-1"))
    );
    assert!(dl.error.contains("downstream unavailable"), "{}", dl.error);
    assert!(dl.first_failure_at <= dl.last_failure_at);
    assert_eq!(w.kv("seen", "dl").await, Some(json!(dl.id.to_string())));
    let dls = w.dead_letters().await;
    assert_eq!(dls.len(), 1, "a failing handler is not dead-lettered");
    assert_eq!(dls[0].status, DeadLetterStatus::HandlerFailed);
    w.clock.advance(Duration::from_secs(60));
    assert_eq!(w.pump().await, 0, "nor retried");
    let app = w.app.id.as_str();
    assert_eq!(
        dead_letters::count(&w.services, &w.actor, app)
            .await
            .unwrap(),
        1
    );

    // Replay, once the cause is fixed: the trigger runs again and the dead
    // letter closes.
    data::kv::set(&w.scope("fix"), "flags", "ok", json!(true))
        .await
        .unwrap();
    dead_letters::replay(&w.services, &w.actor, app, &dl.id)
        .await
        .unwrap();
    assert_eq!(w.pump().await, 1);
    assert_eq!(w.kv("seen", "runs").await, Some(json!(4)));
    let replayed = dead_letters::get(&w.services, &w.actor, app, &dl.id)
        .await
        .unwrap();
    assert_eq!(replayed.status, DeadLetterStatus::Resolved);
    assert_eq!(
        dead_letters::count(&w.services, &w.actor, app)
            .await
            .unwrap(),
        0
    );

    // Another failure, closed by hand with a reason.
    data::kv::delete(&w.scope("fix2"), "flags", "ok")
        .await
        .unwrap();
    data::kv::set(&w.scope("w2"), "orders", "o-2", json!({"total": 6}))
        .await
        .unwrap();
    for _ in 0..3 {
        w.pump().await;
        w.clock.advance(Duration::from_secs(2));
    }
    w.pump().await;
    let open: Vec<_> = w
        .dead_letters()
        .await
        .into_iter()
        .filter(|d| d.status.is_open())
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].event["key"], "o-2");
    let closed = dead_letters::resolve(&w.services, &w.actor, app, &open[0].id, "refunded by hand")
        .await
        .unwrap();
    assert_eq!(closed.status, DeadLetterStatus::Resolved);
    assert_eq!(closed.resolution.as_deref(), Some("refunded by hand"));
    assert_eq!(
        dead_letters::count(&w.services, &w.actor, app)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_trigger_fires_once_after_downtime() {
    let w = world().await;
    let tick = w
        .script(
            "tick",
            r#"let s = kv::collection("cron"); s.set("runs", (s.get("runs") ?? 0) + 1); s.set("last", ctx.event.scheduled_at);"#,
        )
        .await;
    let t = w
        .trigger_with(TriggerDraft {
            schedule: Some("0 * * * * *".into()),
            timezone: Some("Europe/Paris".into()),
            ..draft(TriggerKind::Cron, &tick)
        })
        .await;
    let first = t.next_at.unwrap();
    // Three hours of downtime: 180 minutes missed.
    w.clock.advance(Duration::from_secs(3 * 3600));
    assert_eq!(
        skiff_scripts::cron::fire_due(&w.services).await.unwrap(),
        "fired 1 cron triggers (0 skipped)"
    );
    assert_eq!(w.pump().await, 1, "one run, not one per missed minute");
    assert_eq!(w.kv("cron", "runs").await, Some(json!(1)));
    assert_eq!(
        w.kv("cron", "last").await,
        Some(json!(skiff_core::clock::rfc3339(first)))
    );
    // The tick also staged the next occurrence within its look-ahead (the
    // scheduler's interval), delayed to its time.
    let now = w.services.clock.unix();
    let next_minute = now - now.rem_euclid(60) + 60;
    let moved = triggers::get(
        w.services.store.as_ref(),
        &w.actor,
        w.app.id.as_str(),
        &t.id,
    )
    .await
    .unwrap();
    assert_eq!(moved.next_at, Some(next_minute + 60));
    w.clock.advance(Duration::from_secs(61));
    assert_eq!(w.pump().await, 1, "the next minute's run, at its time");
    assert_eq!(w.kv("cron", "runs").await, Some(json!(2)));
    assert_eq!(
        w.kv("cron", "last").await,
        Some(json!(skiff_core::clock::rfc3339(next_minute)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_expressions_and_zones_are_checked_at_create() {
    let w = world().await;
    let tick = w.script("tick", "1").await;
    for (schedule, zone, field) in [
        ("*/5 * * * *", "UTC", "schedule"),
        ("0 0 25 * * *", "UTC", "schedule"),
        ("0 0 * * * *", "Mars/Olympus", "timezone"),
    ] {
        let err = triggers::create(
            &w.services,
            &w.actor,
            w.app.id.as_str(),
            TriggerDraft {
                schedule: Some(schedule.into()),
                timezone: Some(zone.into()),
                ..draft(TriggerKind::Cron, &tick)
            },
        )
        .await
        .unwrap_err();
        match err {
            skiff_scripts::ScriptsError::Invalid(problems) => {
                assert_eq!(problems[0].field, field, "{schedule} {zone}")
            }
            other => panic!("{schedule} {zone}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_triggering_script_stops_at_the_depth_limit() {
    let w = world().await;
    let echo = w
        .script(
            "echo",
            r#"let c = kv::collection("loop"); c.set("n", ctx.event.data + 1);"#,
        )
        .await;
    w.trigger(TriggerKind::Kv, &echo, Some("loop"), None).await;
    data::kv::set(&w.scope("start"), "loop", "n", json!(0))
        .await
        .unwrap();
    // Every run writes the collection it watches; the chain must end by itself.
    let runs = w.pump().await;
    assert_eq!(runs, 8, "the default depth limit");
    assert_eq!(w.kv("loop", "n").await, Some(json!(8)));
    assert!(w.dead_letters().await.is_empty(), "never dead-lettered");
    assert_eq!(w.pump().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_runs_as_its_owner_whose_role_is_checked_at_every_run() {
    let w = world().await;
    // An org admin (every app's app_admin) registers the trigger.
    let admin = UserId::new();
    w.services
        .store
        .transact(
            skiff_identity::orgs::join_writes(&skiff_identity::orgs::Membership {
                org_id: w.app.org_id.clone(),
                user_id: admin.clone(),
                role: Role::Admin,
                joined_at: 0,
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let as_admin = Actor {
        user_id: Some(admin.clone()),
        org_role: Role::Admin,
        ..w.actor.clone()
    };
    let handler = w
        .script(
            "who",
            r#"kv::collection("seen").set(ctx.event.key, ctx.principal.role);"#,
        )
        .await;
    triggers::create(
        &w.services,
        &as_admin,
        w.app.id.as_str(),
        TriggerDraft {
            collection: Some("orders".into()),
            ..draft(TriggerKind::Kv, &handler)
        },
    )
    .await
    .unwrap();
    data::kv::set(&w.scope("a"), "orders", "o-1", json!(1))
        .await
        .unwrap();
    assert_eq!(w.pump().await, 1);
    assert_eq!(w.kv("seen", "o-1").await, Some(json!("app_admin")));

    // Demoted to a plain member with no role in the app: the next run is refused
    // (not retried: nothing would change) and dead-lettered with the reason.
    skiff_identity::orgs::change_role(
        w.services.store.as_ref(),
        &w.app.org_id,
        &admin,
        Role::Member,
    )
    .await
    .unwrap();
    data::kv::set(&w.scope("b"), "orders", "o-2", json!(2))
        .await
        .unwrap();
    assert_eq!(w.pump().await, 1);
    assert_eq!(w.kv("seen", "o-2").await, None, "the script did not run");
    let dls = w.dead_letters().await;
    assert_eq!(dls.len(), 1);
    assert_eq!(dls[0].attempts, 1);
    assert!(dls[0].error.contains("no longer"), "{}", dls[0].error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_swept_after_their_retention() {
    use skiff_scripts::triggers::{Backoff, RetryPolicy};
    let w = world().await;
    let failing = w.script("fail", r#"throw "no";"#).await;
    w.trigger_with(TriggerDraft {
        collection: Some("orders".into()),
        retry: Some(RetryPolicy {
            max_attempts: 1,
            backoff: Backoff::Constant,
            base_delay_ms: 100,
        }),
        ..draft(TriggerKind::Kv, &failing)
    })
    .await;
    data::kv::set(&w.scope("a"), "orders", "o-1", json!(1))
        .await
        .unwrap();
    w.pump().await;
    assert_eq!(w.dead_letters().await.len(), 1);
    let app = w.app.id.as_str();
    let count = || skiff_scripts::dead_letters::count(&w.services, &w.actor, app);
    assert_eq!(count().await.unwrap(), 1);
    // Kept for the retention (30 days by default), then swept with its count.
    w.clock.advance(Duration::from_secs(29 * 86_400));
    skiff_scripts::dead_letters::sweep(&w.services)
        .await
        .unwrap();
    assert_eq!(w.dead_letters().await.len(), 1);
    w.clock.advance(Duration::from_secs(2 * 86_400));
    assert_eq!(
        skiff_scripts::dead_letters::sweep(&w.services)
            .await
            .unwrap(),
        "deleted 1 dead letters older than 30 days"
    );
    assert!(w.dead_letters().await.is_empty());
    assert_eq!(count().await.unwrap(), 0);
}

/// On the embedded store, bytes flipped on disk (not through the blob port) are
/// caught by the blob store's own check and refused the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_corrupted_on_disk_is_refused() {
    let w = world().await;
    let meta = stored_report(&w).await;
    let leaf = meta.blob_key.rsplit('/').next().unwrap().to_owned();
    let root = w._dir.as_ref().unwrap().path().to_owned();
    let mut stack = vec![root];
    let mut found = None;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&leaf)
            {
                found = Some(path);
            }
        }
    }
    let path = found.expect("the file's blob on disk");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    assert_corrupt_read_refused(&w).await;
}
