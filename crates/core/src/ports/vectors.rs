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
/// Most vectors one `list` page holds.
pub const MAX_LIST_PAGE: usize = 500;

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
/// and `Ne`/`NotIn`. Against an array value, `Eq`, `In` and the comparisons hold
/// when one element does, and `Ne`/`NotIn` when `Eq`/`In` do not. Numbers compare
/// as numbers (`1` equals `1.0`); values of different types are never equal.
/// [`MetadataFilter::matches`] is the one evaluation every adapter and test
/// emulator agrees with.
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

impl MetadataFilter {
    /// Refuses what S3 Vectors refuses: an empty `And`/`Or`/`In`/`NotIn`, a value
    /// that is not a string, number or boolean, a non-finite bound, an empty key.
    pub fn validate(&self) -> Result<(), VectorError> {
        let invalid = |why: String| Err(VectorError::Invalid(format!("filter: {why}")));
        let key_ok = |key: &str| {
            if key.is_empty() {
                invalid("a metadata key is empty".into())
            } else {
                Ok(())
            }
        };
        let scalar_ok = |key: &str, v: &Value| match v {
            Value::String(_) | Value::Bool(_) | Value::Number(_) => Ok(()),
            _ => invalid(format!(
                "`{key}` must be compared with a string, number or boolean"
            )),
        };
        match self {
            Self::Eq(k, v) | Self::Ne(k, v) => {
                key_ok(k)?;
                scalar_ok(k, v)
            }
            Self::In(k, vs) | Self::NotIn(k, vs) => {
                key_ok(k)?;
                if vs.is_empty() {
                    return invalid(format!("the list of values for `{k}` is empty"));
                }
                vs.iter().try_for_each(|v| scalar_ok(k, v))
            }
            Self::Gt(k, x) | Self::Gte(k, x) | Self::Lt(k, x) | Self::Lte(k, x) => {
                key_ok(k)?;
                if x.is_finite() {
                    Ok(())
                } else {
                    invalid(format!("the bound for `{k}` must be a finite number"))
                }
            }
            Self::Exists(k, _) => key_ok(k),
            Self::And(fs) | Self::Or(fs) => {
                if fs.is_empty() {
                    return invalid("`and`/`or` needs at least one condition".into());
                }
                fs.iter().try_for_each(MetadataFilter::validate)
            }
        }
    }

    /// Whether `metadata` passes the filter.
    pub fn matches(&self, metadata: &Metadata) -> bool {
        match self {
            Self::Eq(k, v) => any_element(metadata.get(k), |x| same_value(x, v)),
            Self::Ne(k, v) => !any_element(metadata.get(k), |x| same_value(x, v)),
            Self::In(k, vs) => {
                any_element(metadata.get(k), |x| vs.iter().any(|v| same_value(x, v)))
            }
            Self::NotIn(k, vs) => {
                !any_element(metadata.get(k), |x| vs.iter().any(|v| same_value(x, v)))
            }
            Self::Gt(k, b) => any_number(metadata.get(k), |x| x > *b),
            Self::Gte(k, b) => any_number(metadata.get(k), |x| x >= *b),
            Self::Lt(k, b) => any_number(metadata.get(k), |x| x < *b),
            Self::Lte(k, b) => any_number(metadata.get(k), |x| x <= *b),
            Self::Exists(k, present) => metadata.contains_key(k) == *present,
            Self::And(fs) => fs.iter().all(|f| f.matches(metadata)),
            Self::Or(fs) => fs.iter().any(|f| f.matches(metadata)),
        }
    }
}

/// Whether a stored value (or, for an array, one of its elements) passes `test`;
/// false for a missing key.
fn any_element(value: Option<&Value>, test: impl Fn(&Value) -> bool) -> bool {
    match value {
        None => false,
        Some(Value::Array(items)) => items.iter().any(test),
        Some(v) => test(v),
    }
}

fn any_number(value: Option<&Value>, test: impl Fn(f64) -> bool) -> bool {
    any_element(value, |v| v.as_f64().is_some_and(&test))
}

/// Equality of two scalars, numbers by value.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

impl VectorQuery {
    /// Refuses a `top_k` outside 1 to [`MAX_TOP_K`], an invalid vector or filter.
    pub fn validate(&self) -> Result<(), VectorError> {
        if !(1..=MAX_TOP_K).contains(&self.top_k) {
            return Err(VectorError::Invalid(format!(
                "top_k must be 1 to {MAX_TOP_K}, not {}",
                self.top_k
            )));
        }
        validate_vector(&self.vector)?;
        self.filter
            .as_ref()
            .map_or(Ok(()), MetadataFilter::validate)
    }
}

/// Refuses a batch of more than [`MAX_BATCH`] ids or records.
pub fn validate_batch(len: usize) -> Result<(), VectorError> {
    if len > MAX_BATCH {
        return Err(VectorError::Invalid(format!(
            "a batch holds at most {MAX_BATCH} vectors, not {len}"
        )));
    }
    Ok(())
}

/// Refuses a list page size outside 1 to [`MAX_LIST_PAGE`].
pub fn validate_page_size(limit: usize) -> Result<(), VectorError> {
    if !(1..=MAX_LIST_PAGE).contains(&limit) {
        return Err(VectorError::Invalid(format!(
            "a page holds 1 to {MAX_LIST_PAGE} vectors, not {limit}"
        )));
    }
    Ok(())
}

/// A query's answer: nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: VectorId,
    /// Cosine similarity, -1 to 1 (1 = same direction).
    pub score: f32,
    pub metadata: Metadata,
}

/// A page of a namespace's vectors, in an order the adapter chooses (S3 Vectors
/// lists in no documented order): each vector present throughout the listing
/// appears exactly once.
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
    /// vector of a namespace fixes its dimension. Of two records with one id in a
    /// batch, the later wins.
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

    /// Every vector of a namespace, page by page (exports): up to `limit` (1 to
    /// [`MAX_LIST_PAGE`]) per page.
    async fn list(
        &self,
        ns: &Namespace,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<VectorPage, VectorError>;

    /// The namespace's dimension: `None` before its first vector and after
    /// `drop_namespace`. Deleting every vector keeps it (an S3 Vectors index keeps
    /// the dimension it was created with).
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

    fn meta(v: Value) -> Metadata {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn filters_follow_s3_vectors_semantics() {
        use MetadataFilter::*;
        use serde_json::json;
        let m = meta(json!({"kind": "note", "tags": ["a", "b"], "n": 3, "ok": true, "xs": [1, 5]}));
        let s = |v: &str| Value::from(v);
        assert!(Eq("kind".into(), s("note")).matches(&m));
        assert!(!Eq("kind".into(), s("Note")).matches(&m));
        assert!(
            Eq("tags".into(), s("b")).matches(&m),
            "an array holds the value"
        );
        assert!(
            Eq("n".into(), json!(3.0)).matches(&m),
            "numbers compare by value"
        );
        assert!(
            !Eq("n".into(), s("3")).matches(&m),
            "no coercion between types"
        );
        assert!(Eq("ok".into(), json!(true)).matches(&m));
        assert!(!Eq("missing".into(), s("x")).matches(&m));
        assert!(Ne("kind".into(), s("task")).matches(&m));
        assert!(
            !Ne("tags".into(), s("a")).matches(&m),
            "no element may equal"
        );
        assert!(Ne("missing".into(), s("x")).matches(&m));
        assert!(In("kind".into(), vec![s("task"), s("note")]).matches(&m));
        assert!(In("tags".into(), vec![s("z"), s("a")]).matches(&m));
        assert!(!In("missing".into(), vec![s("x")]).matches(&m));
        assert!(NotIn("kind".into(), vec![s("task")]).matches(&m));
        assert!(!NotIn("tags".into(), vec![s("b")]).matches(&m));
        assert!(NotIn("missing".into(), vec![s("x")]).matches(&m));
        assert!(Gt("n".into(), 2.5).matches(&m) && !Gt("n".into(), 3.0).matches(&m));
        assert!(Gte("n".into(), 3.0).matches(&m) && !Gte("n".into(), 3.1).matches(&m));
        assert!(Lt("n".into(), 4.0).matches(&m) && !Lt("n".into(), 3.0).matches(&m));
        assert!(Lte("n".into(), 3.0).matches(&m) && !Lte("n".into(), 2.0).matches(&m));
        assert!(Gt("xs".into(), 4.0).matches(&m), "one element is enough");
        assert!(!Gt("kind".into(), 0.0).matches(&m), "a string is no number");
        assert!(!Lt("missing".into(), 1e9).matches(&m));
        assert!(Exists("kind".into(), true).matches(&m));
        assert!(Exists("missing".into(), false).matches(&m));
        assert!(!Exists("kind".into(), false).matches(&m));
        let both = And(vec![Eq("kind".into(), s("note")), Gt("n".into(), 1.0)]);
        assert!(both.matches(&m));
        assert!(!And(vec![both.clone(), Exists("missing".into(), true)]).matches(&m));
        assert!(Or(vec![Exists("missing".into(), true), both]).matches(&m));
    }

    #[test]
    fn malformed_filters_and_queries_are_refused() {
        use MetadataFilter::*;
        use serde_json::json;
        assert!(And(vec![]).validate().is_err());
        assert!(Or(vec![]).validate().is_err());
        assert!(In("k".into(), vec![]).validate().is_err());
        assert!(Eq("k".into(), json!({"a": 1})).validate().is_err());
        assert!(Eq("k".into(), json!(["a"])).validate().is_err());
        assert!(Eq("".into(), json!("a")).validate().is_err());
        assert!(Gt("k".into(), f64::NAN).validate().is_err());
        assert!(
            And(vec![Or(vec![NotIn("k".into(), vec![json!(null)])])])
                .validate()
                .is_err()
        );
        assert!(
            And(vec![Eq("k".into(), json!(1)), Exists("j".into(), false)])
                .validate()
                .is_ok()
        );
        let query = |top_k| VectorQuery {
            vector: vec![1.0],
            top_k,
            filter: None,
        };
        assert!(query(0).validate().is_err());
        assert!(query(MAX_TOP_K + 1).validate().is_err());
        assert!(query(MAX_TOP_K).validate().is_ok());
        assert!(validate_batch(MAX_BATCH).is_ok() && validate_batch(MAX_BATCH + 1).is_err());
        assert!(validate_page_size(0).is_err() && validate_page_size(MAX_LIST_PAGE).is_ok());
    }
}
