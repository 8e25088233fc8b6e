//! The sandbox's catalogue, run through the domain (the HTTP suite proves the
//! statuses): each hostile script ends with the failure that names its limit; a
//! failed log write never changes an answer.

use serde_json::json;
use skiff_core::Services;
use skiff_core::ids::{OrgId, UserId};
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::run::{Answer, Body, Execution, RunRequest};
use skiff_scripts::sandbox::{Overrides, RunFailure};
use skiff_scripts::scripts::{self, ScriptDraft};
use skiff_scripts::{apps, service};

struct World {
    services: Services,
    actor: Actor,
    app: String,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = skiff_app::testing::embedded_services(dir.path()).await;
    let actor = Actor {
        org_id: OrgId::new(),
        user_id: Some(UserId::new()),
        api_key_id: None,
        org_role: Role::Owner,
        can_write: true,
        bound_app: None,
    };
    let app = apps::create(
        &embedded.services,
        &actor,
        "Test".into(),
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
        actor,
        app: app.id.to_string(),
        _dir: dir,
    }
}

impl World {
    async fn save(
        &self,
        name: &str,
        kind: ScriptKind,
        source: &str,
    ) -> skiff_scripts::model::Script {
        scripts::create(
            &self.services,
            &self.actor,
            &self.app,
            ScriptDraft {
                name: ScriptName::parse(name).unwrap(),
                source: source.into(),
                kind,
                overrides: Overrides::default(),
            },
        )
        .await
        .unwrap()
    }

    async fn run(&self, source: &str) -> Execution {
        let s = self.save("main", ScriptKind::Endpoint, source).await;
        service::execute(
            &self.services,
            &self.actor,
            &s.id,
            RunRequest {
                method: "POST".into(),
                body: json!({"n": 2}),
                ..Default::default()
            },
        )
        .await
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_answers_with_a_value_or_a_status_map() {
    let w = world().await;
    let e = w.run("#{ doubled: ctx.request.body.n * 2 }").await;
    assert_eq!(
        e.result.unwrap(),
        Answer {
            status: 200,
            headers: vec![],
            body: Body::Json(json!({"doubled": 4}))
        }
    );
    let s = w
        .save(
            "status",
            ScriptKind::Endpoint,
            r#"#{ statusCode: 201, headers: #{ "X-Thing": "a" }, body: "made" }"#,
        )
        .await;
    let e = service::execute(&w.services, &w.actor, &s.id, RunRequest::default())
        .await
        .unwrap();
    let a = e.result.unwrap();
    assert_eq!(a.status, 201);
    assert_eq!(a.headers, vec![("x-thing".to_owned(), "a".to_owned())]);
    assert_eq!(a.body, Body::Text("made".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_script_ends_on_its_limit() {
    let w = world().await;
    let cases: Vec<(&str, &str)> = vec![
        ("loop {}", "max_operations"),
        ("fn f(n) { f(n + 1) } f(0)", "max_call_levels"),
        (r#"let s = "ab"; loop { s += s; }"#, "max_string_size"),
        ("let a = []; loop { a.push(1); }", "max_array_size"),
    ];
    for (source, knob) in cases {
        let e = w.run_fresh(source).await;
        match e.result {
            Err(RunFailure::LimitExceeded { knob: k, .. }) => assert_eq!(k, knob, "{source}"),
            other => panic!("{source}: {other:?}"),
        }
    }
    let e = w.run_fresh(r#"throw "no way""#).await;
    assert!(
        matches!(&e.result, Err(RunFailure::Thrown { message, .. }) if message == "no way"),
        "{:?}",
        e.result
    );
    let e = w.run_fresh("let x = 1; x.nope()").await;
    assert!(
        matches!(&e.result, Err(RunFailure::Runtime { .. })),
        "{:?}",
        e.result
    );
}

impl World {
    async fn run_fresh(&self, source: &str) -> Execution {
        let name = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let s = self.save(&name, ScriptKind::Endpoint, source).await;
        let e = service::execute(&self.services, &self.actor, &s.id, RunRequest::default())
            .await
            .unwrap();
        scripts::delete(&self.services, &self.actor, &s.id)
            .await
            .unwrap();
        e
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_import_within_the_app_and_cycles_are_refused() {
    let w = world().await;
    let util = w
        .save(
            "util",
            ScriptKind::Module,
            "export const K = 40; fn add(x) { x + 40 }",
        )
        .await;
    let e = w
        .run_fresh(r#"import "util" as u; u::add(2) + u::K - 40"#)
        .await;
    assert_eq!(e.result.unwrap().body, Body::Json(json!(42)));
    // The free plan holds 3 scripts.
    scripts::delete(&w.services, &w.actor, &util.id)
        .await
        .unwrap();
    w.save("a", ScriptKind::Module, r#"import "b" as b; fn fa() { 1 }"#)
        .await;
    w.save("b", ScriptKind::Module, r#"import "a" as a; fn fb() { 2 }"#)
        .await;
    let e = w.run_fresh(r#"import "a" as a; a::fa()"#).await;
    match e.result {
        Err(RunFailure::Runtime { message, .. }) => {
            assert!(message.contains("import cycle: a → b → a"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

/// The store, except that writing an execution log always fails.
struct LogsFail(std::sync::Arc<dyn skiff_core::ports::store::ItemStore>);

#[async_trait::async_trait]
impl skiff_core::ports::store::ItemStore for LogsFail {
    async fn get(
        &self,
        key: &skiff_core::ports::store::Key,
    ) -> Result<Option<skiff_core::ports::store::Item>, skiff_core::ports::store::StoreError> {
        self.0.get(key).await
    }
    async fn put(
        &self,
        item: skiff_core::ports::store::NewItem,
        condition: Option<skiff_core::ports::store::Condition>,
    ) -> Result<skiff_core::ports::store::Item, skiff_core::ports::store::StoreError> {
        if item.key().pk.ends_with("#LOG") {
            return Err(skiff_core::ports::store::StoreError::Unavailable(
                "the log partition is throttled".into(),
            ));
        }
        self.0.put(item, condition).await
    }
    async fn update(
        &self,
        key: &skiff_core::ports::store::Key,
        changes: Vec<skiff_core::ports::store::Change>,
        condition: Option<skiff_core::ports::store::Condition>,
    ) -> Result<skiff_core::ports::store::Item, skiff_core::ports::store::StoreError> {
        self.0.update(key, changes, condition).await
    }
    async fn delete(
        &self,
        key: &skiff_core::ports::store::Key,
        condition: Option<skiff_core::ports::store::Condition>,
    ) -> Result<Option<skiff_core::ports::store::Item>, skiff_core::ports::store::StoreError> {
        self.0.delete(key, condition).await
    }
    async fn add(
        &self,
        key: &skiff_core::ports::store::Key,
        name: &str,
        delta: i64,
        max: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<skiff_core::ports::store::Counter, skiff_core::ports::store::StoreError> {
        self.0.add(key, name, delta, max, expires_at).await
    }
    async fn transact(
        &self,
        writes: Vec<skiff_core::ports::store::Write>,
    ) -> Result<(), skiff_core::ports::store::StoreError> {
        self.0.transact(writes).await
    }
    async fn query(
        &self,
        query: skiff_core::ports::store::Query,
    ) -> Result<skiff_core::ports::store::Page, skiff_core::ports::store::StoreError> {
        self.0.query(query).await
    }
    async fn count(
        &self,
        query: skiff_core::ports::store::Query,
    ) -> Result<u64, skiff_core::ports::store::StoreError> {
        self.0.count(query).await
    }
    async fn purge_expired(
        &self,
        max: usize,
    ) -> Result<usize, skiff_core::ports::store::StoreError> {
        self.0.purge_expired(max).await
    }
    async fn check(&self) -> Result<(), skiff_core::ports::store::StoreError> {
        self.0.check().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_write_never_changes_the_answer() {
    let mut w = world().await;
    let ok = w
        .save("fine", ScriptKind::Endpoint, "log::info(\"hi\"); #{ n: 7 }")
        .await;
    let thrower = w
        .save("throws", ScriptKind::Endpoint, "throw \"card declined\";")
        .await;
    w.services.store = std::sync::Arc::new(LogsFail(w.services.store.clone()));
    for (script, want_ok) in [(&ok, true), (&thrower, false)] {
        let e = service::execute(&w.services, &w.actor, &script.id, RunRequest::default())
            .await
            .unwrap();
        match (&e.result, want_ok) {
            (Ok(answer), true) => {
                assert!(matches!(&answer.body, Body::Json(v) if *v == json!({"n": 7})))
            }
            (Err(RunFailure::Thrown { .. }), false) => {}
            (other, _) => panic!("{other:?}"),
        }
    }
    let (logs, _) = skiff_scripts::logs::page(&w.services, &w.actor, &ok.id, 10, None)
        .await
        .unwrap();
    assert!(logs.is_empty(), "the log write did fail");
}
