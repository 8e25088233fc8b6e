//! Secrets port conformance: the same cases against files in a temporary directory
//! and against Secrets Manager on the moto emulator. Backend-specific behaviour
//! (file modes, the AWS cache) is tested at the end.

use skiff_adapters::aws_secrets::AwsSecrets;
use skiff_adapters::file_secrets::FileSecrets;
use skiff_core::ports::secrets::*;
use std::collections::HashSet;
use std::sync::Arc;

/// A secret that must be configured (like a Stripe API key).
const CONFIGURED: SecretName = SecretName {
    name: "test_configured_key",
    generate: Generate::Never,
};

enum Backend {
    Files(tempfile::TempDir),
    Aws {
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
    },
}

struct Harness {
    backend: Backend,
    secrets: Arc<dyn Secrets>,
}

impl Harness {
    /// A second adapter over the same storage: another process, or a new container.
    fn reopen(&self) -> Arc<dyn Secrets> {
        match &self.backend {
            Backend::Files(dir) => Arc::new(FileSecrets::open(dir.path().join("secrets")).unwrap()),
            Backend::Aws { client, secret_id } => {
                Arc::new(AwsSecrets::new(client.clone(), secret_id.clone()))
            }
        }
    }

    fn s(&self) -> &dyn Secrets {
        self.secrets.as_ref()
    }
}

async fn files() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(FileSecrets::open(dir.path().join("secrets")).unwrap());
    Harness {
        backend: Backend::Files(dir),
        secrets,
    }
}

async fn aws() -> Harness {
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let secret_id = skiff_adapters::testing::unique_name("secret");
    skiff_adapters::provision::create_secret(&client, &secret_id, &skiff_app::secrets())
        .await
        .expect("create the secret on the emulator");
    Harness {
        secrets: Arc::new(AwsSecrets::new(client.clone(), secret_id.clone())),
        backend: Backend::Aws { client, secret_id },
    }
}

fn is_hex_key(v: &SecretValue) -> bool {
    v.expose().len() == 64 && v.expose().chars().all(|c| c.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

async fn generated_key_is_stable(h: Harness) {
    let first = h.s().get(BLOB_URL_KEY).await.unwrap();
    assert!(is_hex_key(&first), "32 random bytes, hex");
    assert_eq!(h.s().get(BLOB_URL_KEY).await.unwrap(), first);
    let reopened = h.reopen();
    assert_eq!(
        reopened.get(BLOB_URL_KEY).await.unwrap(),
        first,
        "stable across re-open"
    );
}

async fn unconfigured_secret_is_missing(h: Harness) {
    match h.s().get(CONFIGURED).await {
        Err(SecretsError::Missing(name)) => assert_eq!(name, CONFIGURED.name),
        other => panic!("expected Missing, got {other:?}"),
    }
}

async fn set_then_get(h: Harness) {
    let url_key = h.s().get(BLOB_URL_KEY).await.unwrap();
    h.s()
        .set(CONFIGURED, SecretValue::new("sk_test_one"))
        .await
        .unwrap();
    assert_eq!(h.s().get(CONFIGURED).await.unwrap().expose(), "sk_test_one");
    assert_eq!(
        h.reopen().get(CONFIGURED).await.unwrap().expose(),
        "sk_test_one"
    );

    h.s()
        .set(CONFIGURED, SecretValue::new("sk_test_two"))
        .await
        .unwrap();
    assert_eq!(
        h.s().get(CONFIGURED).await.unwrap().expose(),
        "sk_test_two",
        "rotation"
    );
    assert_eq!(
        h.reopen().get(CONFIGURED).await.unwrap().expose(),
        "sk_test_two"
    );
    assert_eq!(
        h.s().get(BLOB_URL_KEY).await.unwrap(),
        url_key,
        "other secrets kept"
    );

    // Values round-trip exactly, newlines included (PEM keys).
    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    h.s().set(CONFIGURED, SecretValue::new(pem)).await.unwrap();
    assert_eq!(h.reopen().get(CONFIGURED).await.unwrap().expose(), pem);
}

async fn concurrent_first_gets_agree(h: Harness) {
    // Several adapters over the same storage (processes, containers), none of which
    // has read the secret yet, each asked several times at once.
    let adapters: Vec<Arc<dyn Secrets>> = (0..4).map(|_| h.reopen()).collect();
    let mut tasks = Vec::new();
    for round in 0..16 {
        let s = adapters[round % adapters.len()].clone();
        tasks.push(tokio::spawn(
            async move { s.get(BLOB_URL_KEY).await.unwrap() },
        ));
    }
    let mut values = HashSet::new();
    for t in tasks {
        values.insert(t.await.unwrap().expose().to_owned());
    }
    assert_eq!(values.len(), 1, "every first get saw the same value");
    let value = values.into_iter().next().unwrap();
    assert_eq!(h.s().get(BLOB_URL_KEY).await.unwrap().expose(), value);
}

async fn debug_never_shows_the_value(h: Harness) {
    let v = h.s().get(BLOB_URL_KEY).await.unwrap();
    let shown = format!("{v:?} {:?}", Some(&v));
    assert!(!shown.contains(v.expose()), "{shown}");
    assert!(shown.contains("***"));
    h.s()
        .set(CONFIGURED, SecretValue::new("sk_live_visible?"))
        .await
        .unwrap();
    let configured = h.s().get(CONFIGURED).await.unwrap();
    assert!(!format!("{configured:?}").contains("sk_live"));
}

skiff_adapters::conformance_suite! {
    adapters { files => super::files().await, aws => super::aws().await }
    cases {
        generated_key_is_stable,
        unconfigured_secret_is_missing,
        set_then_get,
        concurrent_first_gets_agree,
        debug_never_shows_the_value,
    }
}

// ---------------------------------------------------------------------------
// File-only behaviour.
// ---------------------------------------------------------------------------

mod files_only {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data").join("secrets");
        let s = FileSecrets::open(dir.clone()).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let v = s.get(BLOB_URL_KEY).await.unwrap();
        let file = dir.join(BLOB_URL_KEY.name);
        assert_eq!(mode(&file), 0o600, "generated secret");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("{}\n", v.expose())
        );
        s.set(CONFIGURED, SecretValue::new("abc")).await.unwrap();
        assert_eq!(mode(&dir.join(CONFIGURED.name)), 0o600, "set secret");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[tokio::test]
    async fn an_open_directory_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("secrets");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        FileSecrets::open(dir.clone()).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[tokio::test]
    async fn a_hand_written_file_is_read_without_its_newline() {
        let tmp = tempfile::tempdir().unwrap();
        let s = FileSecrets::open(tmp.path().to_path_buf()).unwrap();
        std::fs::write(tmp.path().join(CONFIGURED.name), "sk_test_by_hand\n").unwrap();
        assert_eq!(s.get(CONFIGURED).await.unwrap().expose(), "sk_test_by_hand");
        std::fs::write(tmp.path().join(CONFIGURED.name), "").unwrap();
        assert!(
            matches!(s.get(CONFIGURED).await, Err(SecretsError::Fatal(_))),
            "empty file"
        );
    }

    #[tokio::test]
    async fn names_cannot_escape_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let s = FileSecrets::open(tmp.path().join("secrets")).unwrap();
        for name in ["../escape", ".hidden", "a/b", ""] {
            let bad = SecretName {
                name: Box::leak(name.to_owned().into_boxed_str()),
                generate: Generate::RandomKey,
            };
            assert!(
                matches!(s.get(bad).await, Err(SecretsError::Fatal(_))),
                "{name:?}"
            );
        }
        assert!(!tmp.path().join("escape").exists());
    }
}

// ---------------------------------------------------------------------------
// Secrets Manager-only behaviour.
// ---------------------------------------------------------------------------

mod aws_only {
    use super::*;
    use skiff_adapters::aws_secrets::CachePolicy;
    use skiff_core::clock::FixedClock;
    use std::time::Duration;

    async fn put_out_of_band(h: &Harness, json: serde_json::Value) {
        let Backend::Aws { client, secret_id } = &h.backend else {
            unreachable!()
        };
        client
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(json.to_string())
            .send()
            .await
            .unwrap();
    }

    const POLICY: CachePolicy = CachePolicy {
        ttl: Duration::from_secs(300),
        missing_retry: Duration::from_secs(30),
    };

    /// An adapter over the harness's secret whose cache ages by a hand-moved clock.
    fn clocked(h: &Harness) -> (AwsSecrets, Arc<FixedClock>) {
        let Backend::Aws { client, secret_id } = &h.backend else {
            unreachable!()
        };
        let clock = FixedClock::at(time::OffsetDateTime::now_utc());
        let secrets =
            AwsSecrets::with_policy(client.clone(), secret_id.clone(), POLICY, clock.clone());
        (secrets, clock)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn values_are_cached_until_the_ttl_passes() {
        let h = aws().await;
        let (s, clock) = clocked(&h);
        let original = s.get(BLOB_URL_KEY).await.unwrap();
        put_out_of_band(
            &h,
            serde_json::json!({ "blob_url_key": "rotated-elsewhere" }),
        )
        .await;
        clock.advance(POLICY.ttl - Duration::from_secs(1));
        assert_eq!(
            s.get(BLOB_URL_KEY).await.unwrap(),
            original,
            "served from the cache within the TTL"
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            s.get(BLOB_URL_KEY).await.unwrap().expose(),
            "rotated-elsewhere",
            "re-read once the TTL has passed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_value_is_reread_at_most_once_per_retry_interval() {
        let h = aws().await;
        let (s, clock) = clocked(&h);
        let url_key = s.get(BLOB_URL_KEY).await.unwrap();
        assert!(matches!(
            s.get(CONFIGURED).await,
            Err(SecretsError::Missing(_))
        ));

        // The operator sets the key after deploying.
        put_out_of_band(
            &h,
            serde_json::json!({ "blob_url_key": url_key.expose(), "test_configured_key": "sk_live_new" }),
        )
        .await;
        clock.advance(POLICY.missing_retry - Duration::from_secs(1));
        assert!(
            matches!(s.get(CONFIGURED).await, Err(SecretsError::Missing(_))),
            "within the retry interval a missing key does not re-read the secret"
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            s.get(CONFIGURED).await.unwrap().expose(),
            "sk_live_new",
            "a missing key re-reads the secret once the interval has passed"
        );
        assert_eq!(s.get(BLOB_URL_KEY).await.unwrap(), url_key);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_gets_after_the_ttl_agree_on_the_new_value() {
        let h = aws().await;
        let (s, clock) = clocked(&h);
        s.get(BLOB_URL_KEY).await.unwrap();
        put_out_of_band(&h, serde_json::json!({ "blob_url_key": "rotated" })).await;
        clock.advance(POLICY.ttl);
        let s = Arc::new(s);
        let reads = futures::future::join_all((0..16).map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.get(BLOB_URL_KEY).await.unwrap() })
        }))
        .await;
        for r in reads {
            assert_eq!(r.unwrap().expose(), "rotated");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_set_refreshes_the_cache_from_the_stored_object() {
        let h = aws().await;
        h.s().get(BLOB_URL_KEY).await.unwrap();
        put_out_of_band(
            &h,
            serde_json::json!({ "blob_url_key": "changed-elsewhere" }),
        )
        .await;
        h.s()
            .set(CONFIGURED, SecretValue::new("through-adapter"))
            .await
            .unwrap();
        assert_eq!(
            h.s().get(CONFIGURED).await.unwrap().expose(),
            "through-adapter"
        );
        assert_eq!(
            h.s().get(BLOB_URL_KEY).await.unwrap().expose(),
            "changed-elsewhere",
            "a set keeps the keys changed elsewhere"
        );
    }

    #[tokio::test]
    async fn keys_are_not_generated_at_runtime() {
        let h = aws().await;
        let unprovisioned = SecretName {
            name: "not_provisioned_key",
            generate: Generate::RandomKey,
        };
        assert!(matches!(
            h.s().get(unprovisioned).await,
            Err(SecretsError::Missing(_))
        ));
    }

    #[tokio::test]
    async fn a_missing_or_malformed_secret_is_fatal() {
        let h = aws().await;
        let Backend::Aws { client, .. } = &h.backend else {
            unreachable!()
        };
        let missing = AwsSecrets::new(client.clone(), "no-such-secret-anywhere".into());
        let err = missing.get(BLOB_URL_KEY).await.unwrap_err();
        assert!(matches!(err, SecretsError::Fatal(_)), "{err:?}");

        put_out_of_band(&h, serde_json::json!("just a string: hunter2")).await;
        let err = h.reopen().get(BLOB_URL_KEY).await.unwrap_err();
        assert!(matches!(err, SecretsError::Fatal(_)), "{err:?}");
        assert!(
            !err.to_string().contains("hunter2"),
            "the error never quotes the secret"
        );
    }
}
