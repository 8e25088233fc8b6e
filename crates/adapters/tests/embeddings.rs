//! The embedding adapters: the static model the test command fetches from PyPI
//! (WordLlama's `l2_supercat_256`, checked by SHA-256), and the OpenAI-compatible
//! client against a fixture endpoint on a loopback port (test infrastructure
//! standing in for a hosted provider, which cannot run here).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use skiff_adapters::embeddings::{OpenAiEmbedder, StaticEmbedder};
use skiff_adapters::file_secrets::FileSecrets;
use skiff_core::ports::embeddings::{EmbedError, Embedder};
use skiff_core::ports::secrets::{Generate, SecretName, SecretValue, Secrets};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn model_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/models/wordllama-l2-supercat-256");
    assert!(
        dir.join("model.safetensors").exists(),
        "{} is missing: the test command fetches it (`scripts/fetch_model.sh`)",
        dir.display()
    );
    dir
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
async fn the_static_model_embeds_by_meaning() {
    let e = StaticEmbedder::new(&model_dir()).unwrap();
    assert_eq!(e.dimension(), None, "loaded on first use");
    let texts: Vec<String> = [
        "The cat sat on the mat",
        "A kitten was sitting on a rug",
        "Quarterly revenue grew by ten percent",
        "zzqx",
    ]
    .map(String::from)
    .to_vec();
    let v = e.embed(&texts).await.unwrap();
    assert_eq!(e.dimension(), Some(256));
    assert!(v.iter().all(|x| x.len() == 256));
    for x in &v {
        assert!((cosine(x, x) - 1.0).abs() < 1e-3, "unit length");
    }
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
    // Deterministic.
    assert_eq!(e.embed(&texts[..1]).await.unwrap()[0], v[0]);
    assert!(e.name().starts_with("static:"));
}

const KEY: SecretName = SecretName {
    name: "embedding_api_key",
    generate: Generate::Never,
};

/// What the fixture saw and how it should answer.
#[derive(Default)]
struct Fixture {
    requests: Vec<(Option<String>, Value)>,
    delay: Duration,
    status: Option<StatusCode>,
    short: bool,
}

async fn embeddings(
    State(fx): State<Arc<Mutex<Fixture>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let (delay, status, short) = {
        let mut f = fx.lock().unwrap();
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        f.requests.push((auth, body.clone()));
        (f.delay, f.status, f.short)
    };
    tokio::time::sleep(delay).await;
    if let Some(s) = status {
        return (s, Json(json!({"error": "down"})));
    }
    let dims = body["dimensions"].as_u64().unwrap_or(3) as usize;
    let mut data: Vec<Value> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let mut v = vec![0.0; dims];
            v[i % dims] = 2.0;
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    data.reverse(); // out of order: the client sorts by index
    if short {
        data.pop();
    }
    (
        StatusCode::OK,
        Json(json!({"object": "list", "data": data})),
    )
}

async fn fixture() -> (String, Arc<Mutex<Fixture>>) {
    let fx = Arc::new(Mutex::new(Fixture::default()));
    let app = axum::Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(fx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), fx)
}

fn secrets() -> (Arc<FileSecrets>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        Arc::new(FileSecrets::open(dir.path().to_owned()).unwrap()),
        dir,
    )
}

#[tokio::test]
async fn an_openai_compatible_endpoint_is_called_with_the_key_and_size() {
    let (url, fx) = fixture().await;
    let (secrets, _dir) = secrets();
    secrets
        .set(KEY, SecretValue::new("sk-test-123"))
        .await
        .unwrap();
    let e = OpenAiEmbedder::new(
        &url,
        "text-embedding-3-small",
        Some(4),
        Duration::from_secs(5),
        secrets,
        KEY,
    );
    let v = e.embed(&["a".into(), "b".into()]).await.unwrap();
    // Sorted back by index, normalized.
    assert_eq!(v, vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0]]);
    let seen = fx.lock().unwrap().requests.clone();
    assert_eq!(seen[0].0.as_deref(), Some("Bearer sk-test-123"));
    assert_eq!(
        seen[0].1,
        json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4})
    );
    assert_eq!(e.dimension(), Some(4));
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent_and_the_size_is_learned() {
    let (url, fx) = fixture().await;
    let (secrets, _dir) = secrets();
    let e = OpenAiEmbedder::new(&url, "local", None, Duration::from_secs(5), secrets, KEY);
    assert_eq!(e.dimension(), None);
    e.embed(&["x".into()]).await.unwrap();
    assert_eq!(e.dimension(), Some(3));
    assert_eq!(fx.lock().unwrap().requests[0].0, None);
}

#[tokio::test]
async fn a_slow_broken_or_short_answer_is_an_error_not_a_vector() {
    let (url, fx) = fixture().await;
    let (secrets, _dir) = secrets();
    let e = OpenAiEmbedder::new(&url, "m", None, Duration::from_millis(200), secrets, KEY);
    fx.lock().unwrap().delay = Duration::from_secs(2);
    assert!(matches!(
        e.embed(&["x".into()]).await,
        Err(EmbedError::Timeout(200))
    ));
    {
        let mut f = fx.lock().unwrap();
        f.delay = Duration::ZERO;
        f.status = Some(StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert!(matches!(
        e.embed(&["x".into()]).await,
        Err(EmbedError::Unavailable(_))
    ));
    {
        let mut f = fx.lock().unwrap();
        f.status = None;
        f.short = true;
    }
    assert!(matches!(
        e.embed(&["x".into(), "y".into()]).await,
        Err(EmbedError::Fatal(_))
    ));
}
