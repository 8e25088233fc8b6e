use skiff_core::outbox;
use skiff_core::ports::mail::Email;
use skiff_e2e::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_email_reaches_the_dev_mailbox_through_the_outbox_worker() {
    let app = spawn_app().await;
    let email = Email {
        to: "lin@example.com".into(),
        subject: "Your receipt".into(),
        text: "Thanks — open http://example.com/r/1".into(),
        html: "<p>Thanks</p>".into(),
    };
    outbox::send_email(app.services(), email).await.unwrap();
    let mail = app.wait_for_email("lin@example.com", "Your receipt").await;
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("http://example.com/r/1")
    );
    assert!(
        app.services()
            .queue
            .dead_letters(10)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}
