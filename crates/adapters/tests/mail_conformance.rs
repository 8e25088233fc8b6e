//! Mail port: the cases every mailer must pass run against the dev mailbox (over the
//! SQLite item store), SES v2 on the moto emulator and SMTP to a local test server
//! (`scripts/smtp_server.py`, started by `scripts/with-moto.sh`); then what only one
//! of them does — the mailbox's listing, expiry, log hygiene and dev routes; SES's
//! sender verification and what moto records as sent; what the SMTP server
//! received, authentication with the password from the secrets port, and how the
//! relay's refusals map.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use skiff_adapters::dev_mailbox::{DevMailbox, StoredEmail};
use skiff_adapters::ses_mail::SesMailer;
use skiff_adapters::smtp_mail::SmtpMailer;
use skiff_adapters::sqlite_store::SqliteStore;
use skiff_core::clock::FixedClock;
use skiff_core::ports::mail::*;
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
    aws_sdk_sesv2::Client::new(&skiff_adapters::testing::aws_sdk_config().await)
}

/// A sender address verified on the emulator.
async fn verified_sender(client: &aws_sdk_sesv2::Client) -> String {
    let from = format!(
        "{}@example.com",
        skiff_adapters::testing::unique_name("noreply")
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

/// The test SMTP server's address; the suite fails (never skips) without it.
fn smtp_addr() -> std::net::SocketAddr {
    std::env::var("SKIFF_TEST_SMTP_ADDR")
        .expect(
            "SKIFF_TEST_SMTP_ADDR is not set: run this suite through scripts/with-moto.sh, \
             which starts the test SMTP server",
        )
        .parse()
        .expect("SKIFF_TEST_SMTP_ADDR is host:port")
}

fn smtp_settings(username: Option<&str>) -> skiff_core::config::SmtpSettings {
    let addr = smtp_addr();
    skiff_core::config::SmtpSettings {
        host: addr.ip().to_string(),
        port: addr.port(),
        tls: skiff_core::config::SmtpTls::Plain,
        username: username.map(str::to_owned),
    }
}

const SMTP_FROM: &str = "Skiff Test <no-reply@skiff.test>";

fn smtp() -> SmtpMailer {
    SmtpMailer::new(&smtp_settings(None), SMTP_FROM, None).expect("SMTP mailer")
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
        mod smtp {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(std::sync::Arc::new(super::smtp())).await;
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
        let app = skiff_local::dev_mailbox::router(dev.mailbox.clone());
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
            skiff_adapters::testing::unique_name("nobody")
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
        let subject = format!("Verify {}", skiff_adapters::testing::unique_name("s"));
        let id = mailer
            .send(&email("ana@example.com", &subject, "tok-ses"))
            .await
            .unwrap();

        let url = format!(
            "{}/moto-api/data.json",
            skiff_adapters::testing::aws_endpoint()
        );
        // moto answers its model dump with a 500 while another suite's multipart
        // upload is open in the shared emulator: ask again until it answers.
        let mut data = serde_json::Value::Null;
        for _ in 0..50 {
            let r = reqwest::get(&url).await.unwrap();
            if r.status().is_success() {
                data = r.json().await.unwrap();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
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

// ---------------------------------------------------------------------------
// SMTP.
// ---------------------------------------------------------------------------

mod smtp_only {
    use super::*;
    use serde_json::Value;
    use skiff_adapters::smtp_mail::SMTP_PASSWORD;
    use skiff_app::AppConfig as Config;
    use skiff_core::config::MailTransport;
    use skiff_core::ports::secrets::{SecretValue, Secrets};

    /// What the test server received for the message with this Message-ID.
    fn received(message_id: &str) -> Value {
        let dir = std::env::var("SKIFF_TEST_SMTP_DIR")
            .expect("SKIFF_TEST_SMTP_DIR is not set: run through scripts/with-moto.sh");
        for entry in std::fs::read_dir(&dir).expect("the SMTP server's directory") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                if record["message_id"] == message_id {
                    return record;
                }
            }
        }
        panic!("the SMTP server received no message {message_id}");
    }

    fn to_address(prefix: &str) -> String {
        format!(
            "{}@example.com",
            skiff_adapters::testing::unique_name(prefix)
        )
    }

    #[tokio::test]
    async fn the_relay_receives_sender_recipient_subject_text_and_html() {
        let to = to_address("ana");
        let sent = email(&to, "Verify your address ✓", "tok-smtp");
        let id = smtp().send(&sent).await.unwrap();
        let got = received(&id);
        assert_eq!(got["mail_from"], "no-reply@skiff.test");
        assert_eq!(got["rcpt_tos"], serde_json::json!([to]));
        assert_eq!(got["from"], SMTP_FROM);
        assert_eq!(got["to"], to.as_str());
        assert_eq!(got["subject"], "Verify your address ✓");
        assert_eq!(got["content_type"], "multipart/alternative");
        assert_eq!(got["text"].as_str().unwrap().trim_end(), sent.text);
        assert_eq!(got["html"].as_str().unwrap().trim_end(), sent.html);
        assert_eq!(got["auth_user"], Value::Null, "no credentials configured");
    }

    fn smtp_config(data_dir: &std::path::Path) -> Config {
        let addr = smtp_addr();
        let vars = [
            ("SKIFF_DATA_DIR", data_dir.display().to_string()),
            ("SKIFF_MAIL", "smtp".into()),
            ("SKIFF_SMTP_HOST", addr.ip().to_string()),
            ("SKIFF_SMTP_PORT", addr.port().to_string()),
            ("SKIFF_SMTP_TLS", "none".into()),
            (
                "SKIFF_SMTP_USERNAME",
                std::env::var("SKIFF_TEST_SMTP_USER").expect("SKIFF_TEST_SMTP_USER"),
            ),
            ("SKIFF_MAIL_FROM", SMTP_FROM.into()),
        ];
        let config = Config::from_vars(vars.map(|(k, v)| (k.to_owned(), v))).unwrap();
        assert!(matches!(config.mail.transport, MailTransport::Smtp(_)));
        config
    }

    async fn set_password(data_dir: &std::path::Path, value: &str) {
        skiff_adapters::file_secrets::FileSecrets::open(data_dir.join("secrets"))
            .unwrap()
            .set(SMTP_PASSWORD, SecretValue::new(value))
            .await
            .unwrap();
    }

    /// The wiring the server uses: `SKIFF_MAIL=smtp` with a username takes the
    /// password from the secrets port and authenticates with it.
    #[tokio::test]
    async fn the_configured_mailer_authenticates_with_the_password_from_the_secrets_port() {
        let dir = tempfile::tempdir().unwrap();
        let password = std::env::var("SKIFF_TEST_SMTP_PASSWORD").expect("SKIFF_TEST_SMTP_PASSWORD");
        set_password(dir.path(), &password).await;
        let clock = FixedClock::at(datetime!(2026-03-01 12:00 UTC));
        let services = skiff_app::services::embedded(smtp_config(dir.path()), clock)
            .await
            .expect("services")
            .services;
        let to = to_address("auth");
        let id = services
            .mailer
            .send(&email(&to, "Authenticated", "t"))
            .await
            .unwrap();
        let got = received(&id);
        assert_eq!(
            got["auth_user"],
            std::env::var("SKIFF_TEST_SMTP_USER").unwrap()
        );
        assert_eq!(got["rcpt_tos"], serde_json::json!([to]));
    }

    #[tokio::test]
    async fn a_wrong_password_is_unavailable_and_a_missing_one_stops_startup() {
        let dir = tempfile::tempdir().unwrap();
        let clock = FixedClock::at(datetime!(2026-03-01 12:00 UTC));
        let missing = skiff_app::services::embedded(smtp_config(dir.path()), clock.clone()).await;
        let why = missing
            .err()
            .expect("startup refuses a missing password")
            .to_string();
        assert!(why.contains("skiff secrets set smtp_password"), "{why}");

        let dir = tempfile::tempdir().unwrap();
        set_password(dir.path(), "not-the-password").await;
        let services = skiff_app::services::embedded(smtp_config(dir.path()), clock)
            .await
            .unwrap()
            .services;
        let got = services
            .mailer
            .send(&email(&to_address("x"), "Hi", "t"))
            .await;
        assert!(matches!(got, Err(MailError::Unavailable(_))), "{got:?}");
    }

    #[tokio::test]
    async fn a_refused_recipient_is_rejected_a_deferred_one_unavailable() {
        let got = smtp().send(&email("nobody@reject.test", "Hi", "t")).await;
        assert!(
            matches!(&got, Err(MailError::Rejected(m)) if m.contains("550")),
            "{got:?}"
        );
        let got = smtp().send(&email("later@busy.test", "Hi", "t")).await;
        assert!(matches!(got, Err(MailError::Unavailable(_))), "{got:?}");
    }

    #[tokio::test]
    async fn no_relay_listening_is_unavailable() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let mut settings = smtp_settings(None);
        settings.port = port;
        let mailer = SmtpMailer::new(&settings, SMTP_FROM, None).unwrap();
        let got = mailer.send(&email("ana@example.com", "Hi", "t")).await;
        assert!(matches!(got, Err(MailError::Unavailable(_))), "{got:?}");
    }

    #[test]
    fn a_malformed_sender_is_refused_when_the_mailer_is_built() {
        let got = SmtpMailer::new(&smtp_settings(None), "not an address", None);
        assert!(matches!(got, Err(MailError::Rejected(_))), "{got:?}");
    }
}
