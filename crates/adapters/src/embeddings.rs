//! The embedding adapters: an OpenAI-compatible HTTP endpoint, a local static model
//! in model2vec's format, and a lexical hashing embedder that needs nothing.

use async_trait::async_trait;
use serde::Deserialize;
use skiff_core::ports::embeddings::{EmbedError, Embedder, normalize};
use skiff_core::ports::keywords::{STOPWORDS, words};
use skiff_core::ports::secrets::{SecretName, Secrets, SecretsError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// An OpenAI-compatible `POST {base}/embeddings` endpoint (OpenAI, Azure-style
/// gateways, Ollama, vLLM, LM Studio, …). The API key is the named secret, sent as
/// a bearer token when configured (a local endpoint often needs none). `timeout`
/// bounds any one call; callers that must answer sooner wrap the call in their own.
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    url: String,
    model: String,
    dimensions: Option<usize>,
    timeout: Duration,
    secrets: Arc<dyn Secrets>,
    key: SecretName,
    learned: OnceLock<usize>,
}

impl OpenAiEmbedder {
    pub fn new(
        base_url: &str,
        model: &str,
        dimensions: Option<usize>,
        timeout: Duration,
        secrets: Arc<dyn Secrets>,
        key: SecretName,
    ) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            url: format!("{}/embeddings", base_url.trim_end_matches('/')),
            model: model.to_owned(),
            dimensions,
            timeout,
            secrets,
            key,
            learned: OnceLock::new(),
        }
    }
}

#[derive(Deserialize)]
struct EmbeddingsAnswer {
    data: Vec<EmbeddingRow>,
}

#[derive(Deserialize)]
struct EmbeddingRow {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }

    fn dimension(&self) -> Option<usize> {
        self.dimensions.or_else(|| self.learned.get().copied())
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(vec![]);
        }
        let mut body = serde_json::json!({"model": self.model, "input": texts});
        if let Some(d) = self.dimensions {
            body["dimensions"] = d.into();
        }
        let mut request = self.client.post(&self.url).json(&body);
        match self.secrets.get(self.key).await {
            Ok(key) => request = request.bearer_auth(key.expose()),
            Err(SecretsError::Missing(_)) => {}
            Err(e) => return Err(EmbedError::Unavailable(e.to_string())),
        }
        let timeout_ms = self.timeout.as_millis() as u64;
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                EmbedError::Timeout(timeout_ms)
            } else {
                EmbedError::Unavailable(format!("embedding endpoint: {}", e.without_url()))
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(EmbedError::Unavailable(format!(
                "embedding endpoint answered {status}"
            )));
        }
        let answer: EmbeddingsAnswer = response.json().await.map_err(|e| {
            if e.is_timeout() {
                EmbedError::Timeout(timeout_ms)
            } else {
                EmbedError::Fatal(format!("embedding endpoint answer: {}", e.without_url()))
            }
        })?;
        if answer.data.len() != texts.len() {
            return Err(EmbedError::Fatal(format!(
                "embedding endpoint returned {} vectors for {} texts",
                answer.data.len(),
                texts.len()
            )));
        }
        let mut rows = answer.data;
        if rows.iter().all(|r| r.index.is_some()) {
            rows.sort_by_key(|r| r.index);
        }
        let dim = rows[0].embedding.len();
        if dim == 0 || rows.iter().any(|r| r.embedding.len() != dim) {
            return Err(EmbedError::Fatal(
                "embedding endpoint returned vectors of different sizes".into(),
            ));
        }
        if let Some(want) = self.dimension().filter(|w| *w != dim) {
            return Err(EmbedError::Fatal(format!(
                "embedding endpoint returned {dim} dimensions, expected {want}"
            )));
        }
        let _ = self.learned.set(dim);
        Ok(rows
            .into_iter()
            .map(|mut r| {
                normalize(&mut r.embedding);
                r.embedding
            })
            .collect())
    }
}

/// A static embedding model in model2vec's folder layout: `model.safetensors` (a
/// token-embedding table), `tokenizer.json`, optionally `config.json`. A text's
/// vector is the mean of its tokens' rows, L2-normalized — microseconds per text,
/// no network. Loaded on first use, so a Lambda's init stays short.
pub struct StaticEmbedder {
    dir: PathBuf,
    model: tokio::sync::OnceCell<Arc<model2vec_rs::model::StaticModel>>,
}

/// The files a static model folder must hold.
pub const STATIC_MODEL_FILES: [&str; 2] = ["model.safetensors", "tokenizer.json"];

impl StaticEmbedder {
    /// Checks that the folder holds the model's files (it reads them on first use).
    pub fn new(dir: &Path) -> Result<Self, String> {
        for file in STATIC_MODEL_FILES {
            if !dir.join(file).is_file() {
                return Err(format!("{} has no {file}", dir.display()));
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            model: tokio::sync::OnceCell::new(),
        })
    }

    async fn model(&self) -> Result<Arc<model2vec_rs::model::StaticModel>, EmbedError> {
        self.model
            .get_or_try_init(|| async {
                let dir = self.dir.clone();
                tokio::task::spawn_blocking(move || {
                    let read = |f: &str| {
                        std::fs::read(dir.join(f)).map_err(|e| {
                            EmbedError::Fatal(format!("{}: {e}", dir.join(f).display()))
                        })
                    };
                    let tokenizer = read("tokenizer.json")?;
                    let weights = read("model.safetensors")?;
                    let config = std::fs::read(dir.join("config.json"))
                        .unwrap_or_else(|_| br#"{"normalize": true}"#.to_vec());
                    model2vec_rs::model::StaticModel::from_bytes(
                        tokenizer,
                        weights,
                        config,
                        Some(true),
                    )
                    .map(Arc::new)
                    .map_err(|e| EmbedError::Fatal(format!("static model: {e}")))
                })
                .await
                .map_err(|e| EmbedError::Fatal(e.to_string()))?
            })
            .await
            .cloned()
    }
}

#[async_trait]
impl Embedder for StaticEmbedder {
    fn name(&self) -> String {
        let name = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("static:{name}")
    }

    fn dimension(&self) -> Option<usize> {
        self.model.get().map(|m| m.dim())
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model = self.model().await?;
        let encode = move |texts: Vec<String>| {
            let mut out = model.encode(&texts);
            for (v, text) in out.iter_mut().zip(&texts) {
                // A text of no known token averages to nothing: fall back to the
                // hashing embedder's vector of the same size, never a zero vector.
                if v.iter().all(|x| *x == 0.0 || !x.is_finite()) {
                    *v = hash_vector(text, v.len());
                }
            }
            out
        };
        let bytes: usize = texts.iter().map(String::len).sum();
        if bytes <= 4096 {
            Ok(encode(texts.to_vec()))
        } else {
            let texts = texts.to_vec();
            tokio::task::spawn_blocking(move || encode(texts))
                .await
                .map_err(|e| EmbedError::Fatal(e.to_string()))
        }
    }
}

/// The lexical hashing embedder: each word (folded like the keyword index's, stop
/// words left out) and each pair of neighbouring words adds ±1 at a position chosen
/// by a stable hash (the "hashing trick"). Cosine similarity then measures shared
/// words, not meaning: it finds memories that use the query's words, in any order,
/// and is the fallback when no model or endpoint is configured.
pub struct HashEmbedder {
    dimension: usize,
}

impl HashEmbedder {
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension: dimension.clamp(16, skiff_core::ports::vectors::MAX_DIMENSION),
        }
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn add_feature(v: &mut [f32], feature: &[u8], weight: f32) {
    let h = fnv1a(feature);
    let i = (h % v.len() as u64) as usize;
    v[i] += if h >> 63 == 0 { weight } else { -weight };
}

/// The hashing embedder's vector of a text (never all zeros).
pub fn hash_vector(text: &str, dimension: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; dimension.max(1)];
    let kept: Vec<String> = words(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    for w in &kept {
        add_feature(&mut v, w.as_bytes(), 1.0);
    }
    for pair in kept.windows(2) {
        add_feature(&mut v, format!("{} {}", pair[0], pair[1]).as_bytes(), 0.5);
    }
    if v.iter().all(|x| *x == 0.0) {
        add_feature(&mut v, text.as_bytes(), 1.0);
        if v.iter().all(|x| *x == 0.0) {
            v[0] = 1.0;
        }
    }
    normalize(&mut v);
    v
}

#[async_trait]
impl Embedder for HashEmbedder {
    fn name(&self) -> String {
        "hash".into()
    }

    fn dimension(&self) -> Option<usize> {
        Some(self.dimension)
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| hash_vector(t, self.dimension))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[tokio::test]
    async fn hashing_measures_shared_words() {
        let e = HashEmbedder::new(256);
        let v = e
            .embed(&[
                "PostgreSQL chosen for the user service".into(),
                "the user service runs on PostgreSQL".into(),
                "Quarterly revenue grew".into(),
            ])
            .await
            .unwrap();
        assert!(v.iter().all(|x| x.len() == 256));
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        assert!(cosine(&v[0], &v[1]) > 0.5);
        assert!(cosine(&v[0], &v[2]).abs() < 0.3);
        // Same input, same vector, whatever the build.
        assert_eq!(hash_vector("abc def", 64), hash_vector("abc def", 64));
    }

    #[test]
    fn a_text_without_words_still_has_a_direction() {
        let v = hash_vector("!!! ...", 32);
        assert!(v.iter().any(|x| *x != 0.0));
        let v = hash_vector("", 32);
        assert!(v.iter().any(|x| *x != 0.0));
    }

    #[test]
    fn a_static_model_folder_must_hold_its_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(StaticEmbedder::new(dir.path()).is_err());
    }
}
