//! The embeddings port: text in, dense vectors out. Memory embeds what it stores and
//! what it is asked, unless the client sends its own vectors.
//!
//! Adapters (`skiff_adapters::embeddings`): an OpenAI-compatible `/embeddings`
//! endpoint, a local static model (model2vec format: a token-embedding table
//! averaged over the text's tokens), and a lexical hashing embedder that needs no
//! model at all. The wiring picks one from configuration and hands it to memory's
//! settings.

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The provider did not answer in time; the caller may try again later.
    #[error("embedding provider timed out after {0} ms")]
    Timeout(u64),
    #[error("embedding provider unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something unusable (wrong count, wrong size).
    #[error("embedding provider failure: {0}")]
    Fatal(String),
}

#[async_trait]
pub trait Embedder: Send + Sync + 'static {
    /// What operators see (`openai:text-embedding-3-small`, `static:…`, `hash`).
    fn name(&self) -> String;

    /// The size of every vector this embedder makes, when known before the first
    /// call (an OpenAI-compatible endpoint without a configured size learns it from
    /// its first answer).
    fn dimension(&self) -> Option<usize>;

    /// One vector per text, in order, each of the same dimension, L2-normalized.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Scale a vector to unit length (left as is when it is all zeros).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
