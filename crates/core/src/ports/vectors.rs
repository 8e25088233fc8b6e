//! The vector index port: dense vectors with a little filterable metadata, kept per
//! namespace and searched by cosine similarity. Storage keeps clients' embeddings in
//! it and memory its memories' embeddings.
//!
//! The port is shaped after Amazon S3 Vectors (an index per namespace, a fixed
//! dimension per index, top-k ≤ 100, batches of ≤ 500, small filterable metadata)
//! so the AWS adapter is a direct mapping; the embedded adapter keeps the vectors
//! in SQLite and scans them in process. Payloads (ciphertext, memory text) live in
//! the item store or the blob store, never here: metadata is for filtering.

use async_trait::async_trait;
use serde_json::{Map, Value};

/// Most dimensions a vector may have.
pub const MAX_DIMENSION: usize = 4096;
/// Most hits one query returns.
pub const MAX_TOP_K: usize = 100;
/// Most vectors one `upsert`, `get` or `delete` takes.
pub const MAX_BATCH: usize = 500;
/// Largest metadata object, as compact JSON.
pub const MAX_METADATA_BYTES: usize = 2048;

/// A namespace: `[a-z0-9._-]`, 1–128 bytes. A domain derives it from the
/// authenticated principal (an org, or an org's user, plus the domain's own word),
/// never from a request body; namespaces never see each other's vectors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(String);

impl Namespace {
    pub fn parse(raw: impl Into<String>) -> Result<Self, VectorError> {
        let raw = raw.into();
        let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b);
        if !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(ok) {
            Ok(Self(raw))
        } else {
            Err(VectorError::InvalidNamespace(raw))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A vector's id inside its namespace: 1–512 bytes of printable ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VectorId(String);

impl VectorId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, VectorError> {
        let raw = raw.into();
        if !raw.is_empty() && raw.len() <= 512 && raw.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            Ok(Self(raw))
        } else {
            Err(VectorError::InvalidId(raw))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for VectorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Filterable metadata: an object whose values are strings, numbers, booleans or
/// arrays of those (an array matches a condition when one of its elements does).
pub type Metadata = Map<String, Value>;

/// One vector with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRecord {
    pub id: VectorId,
    pub vector: Vec<f32>,
    pub metadata: Metadata,
}

impl VectorRecord {
    /// Checks what every adapter must refuse: an empty, over-long, non-finite or
    /// all-zero vector (cosine is undefined for it), and over-large or nested
    /// metadata.
    pub fn validate(&self) -> Result<(), VectorError> {
        validate_vector(&self.vector)?;
        let size = serde_json::to_vec(&self.metadata)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_METADATA_BYTES {
            return Err(VectorError::Invalid(format!(
                "metadata is {size} bytes, more than {MAX_METADATA_BYTES}"
            )));
        }
        for (key, value) in &self.metadata {
            let scalar =
                |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
            let ok =
                scalar(value) || matches!(value, Value::Array(items) if items.iter().all(scalar));
            if !ok {
                return Err(VectorError::Invalid(format!(
                    "metadata `{key}` must be a string, number, boolean or an array of those"
                )));
            }
        }
        Ok(())
    }
}

/// Refuses an empty, over-long, non-finite or all-zero vector.
pub fn validate_vector(vector: &[f32]) -> Result<(), VectorError> {
    if vector.is_empty() || vector.len() > MAX_DIMENSION {
        return Err(VectorError::Invalid(format!(
            "a vector has 1 to {MAX_DIMENSION} dimensions, not {}",
            vector.len()
        )));
    }
    if vector.iter().any(|x| !x.is_finite()) {
        return Err(VectorError::Invalid(
            "a vector's values must be finite".into(),
        ));
    }
    if vector.iter().all(|x| *x == 0.0) {
        return Err(VectorError::Invalid(
            "a vector must not be all zeros".into(),
        ));
    }
    Ok(())
}

/// A condition on metadata (the subset S3 Vectors and the embedded scan both
/// evaluate the same way). A missing key fails every condition but `Exists(false)`
/// and `Ne`/`NotIn`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataFilter {
    Eq(String, Value),
    Ne(String, Value),
    In(String, Vec<Value>),
    NotIn(String, Vec<Value>),
    /// Numeric comparisons.
    Gt(String, f64),
    Gte(String, f64),
    Lt(String, f64),
    Lte(String, f64),
    Exists(String, bool),
    And(Vec<MetadataFilter>),
    Or(Vec<MetadataFilter>),
}

/// A k-nearest-neighbour query.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    pub vector: Vec<f32>,
    /// 1 to [`MAX_TOP_K`].
    pub top_k: usize,
    pub filter: Option<MetadataFilter>,
}

/// A query's answer: nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: VectorId,
    /// Cosine similarity, -1 to 1 (1 = same direction).
    pub score: f32,
    pub metadata: Metadata,
}

/// A page of a namespace's vectors, in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPage {
    pub records: Vec<VectorRecord>,
    /// Opaque; pass it back for the next page. `None` at the end.
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("invalid vector namespace `{0}`")]
    InvalidNamespace(String),
    #[error("invalid vector id")]
    InvalidId(String),
    #[error("{0}")]
    Invalid(String),
    /// A namespace's dimension is fixed by its first vector.
    #[error("this namespace holds vectors of {expected} dimensions, not {got}")]
    DimensionMismatch { expected: usize, got: usize },
    #[error("vector index unavailable: {0}")]
    Unavailable(String),
    #[error("vector index failure: {0}")]
    Fatal(String),
}

#[async_trait]
pub trait VectorIndex: Send + Sync + 'static {
    /// Insert or replace up to [`MAX_BATCH`] vectors, all or an error. The first
    /// vector of a namespace fixes its dimension.
    async fn upsert(&self, ns: &Namespace, records: Vec<VectorRecord>) -> Result<(), VectorError>;

    /// The vectors among `ids` that exist (any order).
    async fn get(&self, ns: &Namespace, ids: &[VectorId])
    -> Result<Vec<VectorRecord>, VectorError>;

    /// Delete; absent ids are not an error.
    async fn delete(&self, ns: &Namespace, ids: &[VectorId]) -> Result<(), VectorError>;

    /// The `top_k` nearest vectors by cosine similarity that pass the filter. An
    /// empty or unknown namespace answers no hits; a query of another dimension
    /// than the namespace's is `DimensionMismatch`.
    async fn query(&self, ns: &Namespace, query: &VectorQuery) -> Result<Vec<Hit>, VectorError>;

    /// Every vector of a namespace, page by page (exports).
    async fn list(
        &self,
        ns: &Namespace,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<VectorPage, VectorError>;

    /// The namespace's dimension, `None` while it holds nothing.
    async fn dimension(&self, ns: &Namespace) -> Result<Option<usize>, VectorError>;

    /// Number of vectors in a namespace.
    async fn count(&self, ns: &Namespace) -> Result<u64, VectorError>;

    /// Remove a namespace and every vector in it (erasure); absent is not an error.
    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), VectorError>;

    /// Readiness probe.
    async fn check(&self) -> Result<(), VectorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_lowercase_words() {
        assert!(Namespace::parse("org_0190abcd.mem").is_ok());
        assert!(Namespace::parse("").is_err());
        assert!(Namespace::parse("Org").is_err());
        assert!(Namespace::parse("a/b").is_err());
        assert!(Namespace::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn vectors_must_be_finite_nonzero_and_bounded() {
        assert!(validate_vector(&[0.1, 0.2]).is_ok());
        assert!(validate_vector(&[]).is_err());
        assert!(validate_vector(&[0.0, 0.0]).is_err());
        assert!(validate_vector(&[f32::NAN]).is_err());
        assert!(validate_vector(&vec![1.0; MAX_DIMENSION + 1]).is_err());
    }

    #[test]
    fn metadata_is_flat_and_small() {
        let record = |metadata: Value| VectorRecord {
            id: VectorId::parse("a").unwrap(),
            vector: vec![1.0],
            metadata: metadata.as_object().unwrap().clone(),
        };
        assert!(
            record(serde_json::json!({"tags": ["a", "b"], "t": 3, "ok": true}))
                .validate()
                .is_ok()
        );
        assert!(
            record(serde_json::json!({"nested": {"a": 1}}))
                .validate()
                .is_err()
        );
        assert!(
            record(serde_json::json!({"big": "x".repeat(MAX_METADATA_BYTES)}))
                .validate()
                .is_err()
        );
    }
}
