//! Mail port: the cases every mailer must pass run against the dev mailbox (over the
//! SQLite item store) and SES v2 on the moto emulator; then what only one of them
//! does — the mailbox's listing, expiry, log hygiene and dev routes; SES's sender
//! verification and what moto records as sent.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use skiff_shared::adapters::dev_mailbox::{DevMailbox, StoredEmail};
use skiff_shared::adapters::ses_mail::SesMailer;
use skiff_shared::adapters::sqlite_store::SqliteStore;
use skiff_shared::clock::FixedClock;
use skiff_shared::ports::mail::*;
use std::sync::Arc;
use std::time::Duration;
use time::macros::datetime;
use tower::ServiceExt;

fn email(to: &str, subject: &str, token: &str) -> Email {
    Email {
        to: to.into(),
        subject: subject.into(),
        text: format!("Verify: https://app.example.com/verify?token={token}"),
        html: format!(
            "<p>Verify: <a href=\"https://app.example.com/verify?token={token}\">click</a> — ünïcode ✓</p>"
        ),
    }
}

struct Dev {
    mailbox: Arc<DevMailbox>,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
}

fn dev() -> Dev {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::at(datetime!(2026-03-01 12:00 UTC));
    let store = SqliteStore::open(&dir.path().join("items.db"), clock.clone())
        .expect("open the SQLite item store");
    Dev {
        mailbox: Arc::new(DevMailbox::new(Arc::new(store), clock.clone())),
        clock,
        _dir: dir,
    }
}

async fn ses_client() -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&skiff_shared::testing::aws_sdk_config().await)
}

/// A sender address verified on the emulator.
async fn verified_sender(client: &aws_sdk_sesv2::Client) -> String {
    let from = format!(
        "{}@example.com",
        skiff_shared::testing::unique_name("noreply")
    );
    client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .expect("verify the sender identity");
    from
}

async fn ses() -> SesMailer {
    let client = ses_client().await;
    let from = verified_sender(&client).await;
    SesMailer::new(client, from)
}

// ---------------------------------------------------------------------------
// Cases every mailer passes.
// ---------------------------------------------------------------------------

async fn sending_returns_an_id(m: Arc<dyn Mailer>) {
    let a = m
        .send(&email("ana@example.com", "Welcome", "t1"))
        .await
        .unwrap();
    let b = m
        .send(&email("ana@example.com", "Welcome", "t2"))
        .await
        .unwrap();
    assert!(!a.is_empty());
    assert_ne!(a, b, "every message has its own id");
}

async fn bad_recipients_are_rejected(m: Arc<dyn Mailer>) {
    for to in [
        "",
        "not-an-address",
        "a@example.com, b@example.com",
        "a@example.com\r\nBcc: x@y.com",
    ] {
        let got = m.send(&email(to, "Hi", "t")).await;
        assert!(
            matches!(got, Err(MailError::Rejected(_))),
            "{to:?}: {got:?}"
        );
    }
}

async fn header_injection_in_the_subject_is_rejected(m: Arc<dyn Mailer>) {
    let got = m
        .send(&email("ana@example.com", "Hi\r\nBcc: all@example.com", "t"))
        .await;
    assert!(matches!(got, Err(MailError::Rejected(_))), "{got:?}");
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod dev_mailbox {
            $(
                #[tokio::test]
                async fn $case() {
                    let dev = super::dev();
                    super::$case(dev.mailbox.clone()).await;
                }
            )*
        }
        mod ses {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(std::sync::Arc::new(super::ses().await)).await;
                }
            )*
        }
    };
}

conformance!(
    sending_returns_an_id,
    bad_recipients_are_rejected,
    header_injection_in_the_subject_is_rejected,
);

// ---------------------------------------------------------------------------
// The dev mailbox.
// ---------------------------------------------------------------------------

mod dev_mailbox_only {
    use super::*;

    #[tokio::test]
    async fn a_sent_email_is_stored_whole() {
        let dev = dev();
        let sent = email("Ana@Example.com", "Verify your address", "tok-1");
        let id = dev.mailbox.send(&sent).await.unwrap();
        let stored = dev.mailbox.get(&id).await.unwrap().expect("stored");
        assert_eq!(
            stored,
            StoredEmail {
                id: id.clone(),
                to: sent.to.clone(),
                subject: sent.subject.clone(),
                text: sent.text.clone(),
                html: sent.html.clone(),
                sent_at: datetime!(2026-03-01 12:00 UTC),
            }
        );
        assert_eq!(dev.mailbox.list(None, 10).await.unwrap(), vec![stored]);
        assert_eq!(dev.mailbox.get("no-such-id").await.unwrap(), None);
    }

    #[tokio::test]
    async fn listing_is_newest_first_filtered_and_limited() {
        let dev = dev();
        let mut ids = Vec::new();
        for (i, to) in [
            "ana@example.com",
            "bo@example.com",
            "ana@example.com",
            "ana@example.com",
        ]
        .into_iter()
        .enumerate()
        {
            // Two mails in the same instant still keep their order.
            if i % 2 == 0 {
                dev.clock.advance(Duration::from_secs(1));
            }
            ids.push(
                dev.mailbox
                    .send(&email(to, &format!("mail {i}"), "t"))
                    .await
                    .unwrap(),
            );
        }
        let all: Vec<_> = dev
            .mailbox
            .list(None, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(all, ids.iter().rev().cloned().collect::<Vec<_>>());

        let ana: Vec<_> = dev
            .mailbox
            .list(Some("ANA@example.com"), 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(
            ana,
            vec![ids[3].clone(), ids[2].clone(), ids[0].clone()],
            "case-blind filter"
        );

        let newest_two: Vec<_> = dev
            .mailbox
            .list(None, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(newest_two, vec![ids[3].clone(), ids[2].clone()]);
        assert!(
            dev.mailbox
                .list(Some("nobody@example.com"), 50)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn mail_expires_after_seven_days() {
        let dev = dev();
        let id = dev
            .mailbox
            .send(&email("ana@example.com", "old", "t"))
            .await
            .unwrap();
        dev.clock.advance(Duration::from_secs(7 * 24 * 3600 - 60));
        assert!(
            dev.mailbox.get(&id).await.unwrap().is_some(),
            "kept for 7 days"
        );
        dev.clock.advance(Duration::from_secs(120));
        assert_eq!(dev.mailbox.get(&id).await.unwrap(), None);
        assert!(dev.mailbox.list(None, 10).await.unwrap().is_empty());
        assert!(
            dev.mailbox
                .list(Some("ana@example.com"), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// A `tracing` writer that keeps everything written to it.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_log_names_recipient_and_subject_never_the_body() {
        let dev = dev();
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        dev.mailbox
            .send(&email(
                "ana@example.com",
                "Reset your password",
                "SECRET-TOKEN-42",
            ))
            .await
            .unwrap();
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("ana@example.com"), "{log}");
        assert!(log.contains("Reset your password"), "{log}");
        assert!(
            !log.contains("SECRET-TOKEN-42"),
            "the body leaked into the log: {log}"
        );
    }

    fn emails(body: &[u8]) -> Vec<StoredEmail> {
        let page: serde_json::Value = serde_json::from_slice(body).unwrap();
        serde_json::from_value(page["emails"].clone()).unwrap()
    }

    async fn call(dev: &Dev, uri: &str) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        let app = skiff_shared::http::dev_mailbox::router(dev.mailbox.clone());
        let response = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, bytes.to_vec())
    }

    #[tokio::test]
    async fn the_dev_routes_list_show_and_render() {
        let dev = dev();
        let a = dev
            .mailbox
            .send(&email("ana@example.com", "For Ana", "tok-a"))
            .await
            .unwrap();
        dev.clock.advance(Duration::from_secs(1));
        let b = dev
            .mailbox
            .send(&email("bo@example.com", "For Bo", "tok-b"))
            .await
            .unwrap();

        let (status, headers, body) = call(&dev, "/_dev/mailbox").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let list = emails(&body);
        assert_eq!(
            list.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            vec![b.clone(), a.clone()]
        );

        let (_, _, body) = call(&dev, "/_dev/mailbox?to=ana%40example.com").await;
        let list = emails(&body);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].subject, "For Ana");

        let (_, _, body) = call(&dev, "/_dev/mailbox?limit=1").await;
        let list = emails(&body);
        assert_eq!(
            list.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            vec![b.clone()]
        );

        for bad in ["0", "201", "many"] {
            let (status, headers, _) = call(&dev, &format!("/_dev/mailbox?limit={bad}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "limit={bad}");
            assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        }

        let (status, _, body) = call(&dev, &format!("/_dev/mailbox/{a}")).await;
        assert_eq!(status, StatusCode::OK);
        let one: StoredEmail = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (one.id.as_str(), one.to.as_str()),
            (a.as_str(), "ana@example.com")
        );
        assert!(one.text.contains("token=tok-a"));

        let (status, headers, body) = call(&dev, &format!("/_dev/mailbox/{a}/html")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        let html = String::from_utf8(body).unwrap();
        assert!(
            html.contains("href=\"https://app.example.com/verify?token=tok-a\""),
            "{html}"
        );

        for uri in ["/_dev/mailbox/nope", "/_dev/mailbox/nope/html"] {
            let (status, headers, _) = call(&dev, uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        }
    }
}

// ---------------------------------------------------------------------------
// SES v2.
// ---------------------------------------------------------------------------

mod ses_only {
    use super::*;

    #[tokio::test]
    async fn an_unverified_sender_is_rejected() {
        let client = ses_client().await;
        let from = format!(
            "{}@unverified.example.com",
            skiff_shared::testing::unique_name("nobody")
        );
        let mailer = SesMailer::new(client, from);
        let got = mailer.send(&email("ana@example.com", "Hi", "t")).await;
        assert!(
            matches!(&got, Err(MailError::Rejected(m)) if m.contains("not verified")),
            "{got:?}"
        );
    }

    /// moto keeps what it "sent"; its model dump shows subject, recipient and body.
    /// (moto records only the HTML part when both are given, so the text part is
    /// checked by the request shape, not here.)
    #[tokio::test]
    async fn the_message_reaches_ses_with_subject_and_body() {
        let client = ses_client().await;
        let from = verified_sender(&client).await;
        let mailer = SesMailer::new(client, from.clone());
        let subject = format!("Verify {}", skiff_shared::testing::unique_name("s"));
        let id = mailer
            .send(&email("ana@example.com", &subject, "tok-ses"))
            .await
            .unwrap();

        let url = format!(
            "{}/moto-api/data.json",
            skiff_shared::testing::aws_endpoint()
        );
        let data: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        let messages = data["ses"]["Message"]
            .as_array()
            .expect("moto's SES messages");
        let sent = messages
            .iter()
            .find(|m| m["id"] == id.as_str())
            .unwrap_or_else(|| panic!("message {id} not recorded by moto"));
        assert_eq!(sent["subject"], subject.as_str());
        assert_eq!(sent["source"], from.as_str());
        assert_eq!(sent["destinations"]["ToAddresses"][0], "ana@example.com");
        let body = sent["body"].as_str().unwrap();
        assert!(
            body.contains("href=\"https://app.example.com/verify?token=tok-ses\""),
            "{body}"
        );
        assert!(body.contains("ünïcode ✓"), "UTF-8 survives: {body}");
    }
}
