//! Trigger delivery through the outbox, with the queue pumped by hand: a KV write
//! fires its trigger exactly once even when its message is delivered twice, and a
//! pubsub fan-out is all of its messages or none.

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
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, clock) = skiff_app::testing::embedded_services(dir.path()).await;
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
    embedded
        .services
        .store
        .transact(skiff_identity::orgs::create_writes(&org, &owner).unwrap())
        .await
        .unwrap();
    let app = skiff_scripts::apps::create(
        &embedded.services,
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
        services: embedded.services,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_write_fires_its_trigger_once_even_when_delivered_twice() {
    let w = world().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pubsub_fan_out_is_all_of_its_messages_or_none() {
    let w = world().await;
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
