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
