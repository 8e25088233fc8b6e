//! The `events/outbox` fixtures drive the real handler over the embedded adapters.

use aws_lambda_events::event::sqs::SqsEvent;
use skiff_app::testing::embedded_services;

fn fixture(name: &str) -> SqsEvent {
    let path = format!("{}/../../events/outbox/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("SQS event")
}

#[tokio::test]
async fn send_email_fixture_delivers_once_even_when_redelivered() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let services = embedded.services;
    let registry = skiff_app::registry();

    let first =
        skiff_fn_outbox::handle_batch(&services, &registry, fixture("send-email.json")).await;
    assert!(first.batch_item_failures.is_empty());
    // SQS redelivers the same message (e.g. the function timed out before deleting it).
    let again =
        skiff_fn_outbox::handle_batch(&services, &registry, fixture("send-email.json")).await;
    assert!(again.batch_item_failures.is_empty());

    let mails = embedded
        .mailbox
        .list(Some("ada@example.com"), 10)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1, "the e-mail is sent exactly once");
    assert_eq!(mails[0].subject, "Welcome to Skiff");
}

#[tokio::test]
async fn a_bad_record_is_reported_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let response = skiff_fn_outbox::handle_batch(
        &embedded.services,
        &skiff_app::registry(),
        fixture("mixed-batch.json"),
    )
    .await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["8c1b0f4e-1d2a-4a59-9a55-2f0b6c1e7a02"]);
    assert_eq!(embedded.mailbox.list(None, 10).await.unwrap().len(), 1);
}

/// A scripts trigger's message (the fixture's `{org}`, `{app}` and `{trigger}`
/// name what this test creates) runs its script once, however often delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_trigger_fixture_runs_its_script_once() {
    use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
    use skiff_scripts::triggers::{TriggerDraft, TriggerKind};
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let services = embedded.services;
    let owner = skiff_identity::orgs::Membership {
        org_id: skiff_core::ids::OrgId::new(),
        user_id: skiff_core::ids::UserId::new(),
        role: skiff_identity::Role::Owner,
        joined_at: 0,
    };
    let org = skiff_identity::orgs::Org {
        id: owner.org_id.clone(),
        name: "Fixture".into(),
        created_at: 0,
        owners: 1,
    };
    services
        .store
        .transact(skiff_identity::orgs::create_writes(&org, &owner).unwrap())
        .await
        .unwrap();
    let actor = skiff_scripts::access::Actor {
        org_id: owner.org_id.clone(),
        user_id: Some(owner.user_id.clone()),
        api_key_id: None,
        org_role: skiff_identity::Role::Owner,
        can_write: true,
        bound_app: None,
    };
    let app = skiff_scripts::apps::create(
        &services,
        &actor,
        "Fixture".into(),
        Slug::parse("fixture").unwrap(),
    )
    .await
    .unwrap();
    let script = skiff_scripts::scripts::create(
        &services,
        &actor,
        "fixture",
        skiff_scripts::scripts::ScriptDraft {
            name: ScriptName::parse("count").unwrap(),
            source: r#"let c = kv::collection("runs"); c.set(ctx.event.key, (c.get(ctx.event.key) ?? 0) + ctx.event.data.total);"#.into(),
            kind: ScriptKind::Endpoint,
            overrides: Default::default(),
        },
    )
    .await
    .unwrap();
    let trigger = skiff_scripts::triggers::create(
        &services,
        &actor,
        "fixture",
        TriggerDraft {
            kind: TriggerKind::Kv,
            script_id: script.id,
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
    let mut event = fixture("script-trigger.json");
    for record in &mut event.records {
        let body = record.body.take().unwrap();
        record.body = Some(
            body.replace("{org}", app.org_id.as_str())
                .replace("{app}", app.id.as_str())
                .replace("{trigger}", trigger.id.as_str()),
        );
    }
    let registry = skiff_app::registry();
    for _ in 0..2 {
        let response = skiff_fn_outbox::handle_batch(&services, &registry, event.clone()).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let scope = skiff_scripts::data::Scope {
        services: services.clone(),
        org: app.org_id.clone(),
        app: app.id.clone(),
        depth: 0,
        change_id: "check".into(),
    };
    assert_eq!(
        skiff_scripts::data::kv::get(&scope, "runs", "o-1")
            .await
            .unwrap(),
        Some(serde_json::json!(42)),
        "run once, though delivered twice"
    );
}
