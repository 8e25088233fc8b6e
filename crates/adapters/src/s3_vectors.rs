//! The AWS vector index: Amazon S3 Vectors, an index per namespace.
//!
//! **Where a namespace lives.** A vector bucket holds at most 10,000 indexes, so a
//! deployment has several buckets (`SKIFF_VECTOR_BUCKETS`, in a fixed order) and a
//! namespace lives in bucket `u64(first 8 bytes of SHA-256(namespace)) mod count`.
//! The rule depends only on the namespace and the number of buckets: adding a
//! bucket later moves most namespaces, so the count is chosen when a deployment
//! is created (see `skiff_core::resources::vectors`). Inside its bucket the index is
//! named by [`index_name`]: a readable prefix of the namespace and 128 bits of its
//! SHA-256, so two namespaces never share an index, whatever their spelling.
//!
//! **Indexes** are created on a namespace's first upsert with its dimension, cosine
//! distance and `float32` data (all metadata filterable). Two writers may race to
//! create one: the loser's `ConflictException` means the index exists, and its
//! dimension is read back. Each container remembers the dimensions it has seen; a
//! call that finds the index gone (dropped elsewhere) forgets it and, for an upsert,
//! creates it again.
//!
//! **Scores**: S3 Vectors answers cosine *distance*; the port's score is
//! `1 - distance`. Metadata filters are translated to S3 Vectors' filter document
//! ([`filter_document`]), whose semantics [`MetadataFilter::matches`] states.
//!
//! Transient failures (throttling, 5xx, timeouts) are retried by the shared loop
//! ([`sdk_retry`]) and then surface as [`VectorError::Unavailable`].

use crate::aws::Lazy;
use crate::sdk_retry;
use aws_sdk_s3vectors::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3vectors::types::{DataType, DistanceMetric, PutInputVector, VectorData};
use aws_smithy_types::{Document, Number};
use serde_json::Value;
use sha2::{Digest, Sha256};
use skiff_core::ports::vectors::*;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The S3 Vectors index. Cheap to clone.
#[derive(Clone)]
pub struct S3Vectors {
    client: Lazy<aws_sdk_s3vectors::Client>,
    buckets: std::sync::Arc<Vec<String>>,
    /// Dimensions of the indexes this container has seen exist.
    known: std::sync::Arc<Mutex<HashMap<Namespace, usize>>>,
}

/// Where a namespace's vectors live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The vector bucket's name, or its ARN (what CloudFormation's `!Ref` gives).
    pub bucket: String,
    pub index: String,
}

impl Location {
    fn by_arn(&self) -> bool {
        self.bucket.starts_with("arn:")
    }

    /// `(vectorBucketName, indexName, indexArn)` as the index's calls take them.
    fn index_params(&self) -> (Option<String>, Option<String>, Option<String>) {
        if self.by_arn() {
            let arn = format!("{}/index/{}", self.bucket, self.index);
            (None, None, Some(arn))
        } else {
            (Some(self.bucket.clone()), Some(self.index.clone()), None)
        }
    }

    /// `(vectorBucketName, vectorBucketArn)` as the bucket's calls take them.
    fn bucket_params(&self) -> (Option<String>, Option<String>) {
        if self.by_arn() {
            (None, Some(self.bucket.clone()))
        } else {
            (Some(self.bucket.clone()), None)
        }
    }
}

/// The bucket a namespace lives in: `u64(SHA-256(ns)[..8]) mod buckets`.
pub fn bucket_of(ns: &Namespace, buckets: usize) -> usize {
    let digest = Sha256::digest(ns.as_str().as_bytes());
    let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (head % buckets as u64) as usize
}

/// A namespace's index name (3–63 of `[a-z0-9.-]`, starting and ending with a
/// letter or digit): up to 26 characters of the namespace (`_` as `-`, leading
/// punctuation dropped), `-`, and 32 hex digits of its SHA-256. The hash makes it
/// unique; the prefix only helps a person reading the console.
pub fn index_name(ns: &Namespace) -> String {
    let readable: String = ns
        .as_str()
        .chars()
        .map(|c| if c == '_' { '-' } else { c })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(26)
        .collect();
    let hash = hex::encode(&Sha256::digest(ns.as_str().as_bytes())[..16]);
    if readable.is_empty() {
        format!("ns-{hash}")
    } else {
        format!("{readable}-{hash}")
    }
}

/// How an SDK call failed, in the port's terms.
enum Failure {
    /// The index (or bucket) does not exist.
    NotFound,
    /// The index exists already (CreateIndex).
    Conflict,
    Other(VectorError),
}

fn classify<E>(
    what: &str,
    e: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match e.code() {
        Some("NotFoundException") => return Failure::NotFound,
        Some("ConflictException") => return Failure::Conflict,
        _ => {}
    }
    let text = format!("{what}: {}", sdk_retry::describe(&e));
    if sdk_retry::is_transient(&e) {
        Failure::Other(VectorError::Unavailable(text))
    } else if e.code() == Some("ValidationException") {
        Failure::Other(VectorError::Invalid(text))
    } else {
        Failure::Other(VectorError::Fatal(text))
    }
}

impl From<Failure> for VectorError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::NotFound => VectorError::Fatal("vector bucket or index not found".into()),
            Failure::Conflict => VectorError::Fatal("vector index conflict".into()),
            Failure::Other(e) => e,
        }
    }
}

/// A JSON value as a smithy document (metadata and filters).
fn document(v: &Value) -> Document {
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(0.0))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(document).collect()),
        Value::Object(map) => {
            Document::Object(map.iter().map(|(k, v)| (k.clone(), document(v))).collect())
        }
    }
}

fn json_of(d: &Document) -> Value {
    match d {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        Document::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}

fn metadata_of(d: Option<&Document>) -> Metadata {
    match d.map(json_of) {
        Some(Value::Object(map)) => map,
        _ => Metadata::new(),
    }
}

/// The filter as S3 Vectors' filter document (`{"key": {"$op": value}}`,
/// `{"$and": [...]}`, `{"$or": [...]}`).
pub fn filter_document(filter: &MetadataFilter) -> Value {
    use MetadataFilter::*;
    let cond = |key: &str, op: &str, value: Value| serde_json::json!({ key: { op: value } });
    match filter {
        Eq(k, v) => cond(k, "$eq", v.clone()),
        Ne(k, v) => cond(k, "$ne", v.clone()),
        In(k, vs) => cond(k, "$in", Value::Array(vs.clone())),
        NotIn(k, vs) => cond(k, "$nin", Value::Array(vs.clone())),
        Gt(k, x) => cond(k, "$gt", (*x).into()),
        Gte(k, x) => cond(k, "$gte", (*x).into()),
        Lt(k, x) => cond(k, "$lt", (*x).into()),
        Lte(k, x) => cond(k, "$lte", (*x).into()),
        Exists(k, present) => cond(k, "$exists", (*present).into()),
        And(fs) => {
            serde_json::json!({ "$and": fs.iter().map(filter_document).collect::<Vec<_>>() })
        }
        Or(fs) => serde_json::json!({ "$or": fs.iter().map(filter_document).collect::<Vec<_>>() }),
    }
}

fn floats(data: Option<&VectorData>) -> Vec<f32> {
    match data {
        Some(VectorData::Float32(v)) => v.clone(),
        _ => vec![],
    }
}

fn parse_id(key: &str) -> Result<VectorId, VectorError> {
    VectorId::parse(key)
        .map_err(|_| VectorError::Fatal(format!("S3 Vectors returned a malformed key `{key}`")))
}

/// The ids as keys, each once.
fn distinct_keys(ids: &[VectorId]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(*id))
        .map(|id| id.as_str().to_owned())
        .collect()
}

/// The records of a batch, the later of two with one id winning.
fn last_of_each(records: Vec<VectorRecord>) -> Vec<VectorRecord> {
    let mut position: HashMap<VectorId, usize> = HashMap::new();
    let mut out: Vec<VectorRecord> = Vec::with_capacity(records.len());
    for record in records {
        match position.get(&record.id) {
            Some(&i) => out[i] = record,
            None => {
                position.insert(record.id.clone(), out.len());
                out.push(record);
            }
        }
    }
    out
}

impl S3Vectors {
    /// Namespaces spread over `buckets` (in their fixed order, at least one).
    pub fn new(client: impl Into<Lazy<aws_sdk_s3vectors::Client>>, buckets: Vec<String>) -> Self {
        assert!(
            !buckets.is_empty(),
            "S3Vectors needs at least one vector bucket"
        );
        Self {
            client: client.into(),
            buckets: std::sync::Arc::new(buckets),
            known: Default::default(),
        }
    }

    /// Where `ns` lives.
    pub fn location(&self, ns: &Namespace) -> Location {
        Location {
            bucket: self.buckets[bucket_of(ns, self.buckets.len())].clone(),
            index: index_name(ns),
        }
    }

    fn remembered(&self, ns: &Namespace) -> Option<usize> {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(ns)
            .copied()
    }

    fn remember(&self, ns: &Namespace, dim: Option<usize>) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        match dim {
            Some(d) => known.insert(ns.clone(), d),
            None => known.remove(ns),
        };
    }

    /// The index's dimension, `None` when it does not exist.
    async fn index_dimension(
        &self,
        ns: &Namespace,
        at: &Location,
    ) -> Result<Option<usize>, VectorError> {
        if let Some(d) = self.remembered(ns) {
            return Ok(Some(d));
        }
        let (b, i, a) = at.index_params();
        let out = sdk_retry::retry("GetIndex", || {
            self.client
                .get_index()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .send()
        })
        .await;
        let dim = match out {
            Ok(out) => out.index().map(|i| i.dimension() as usize),
            Err(e) => match classify("GetIndex", e) {
                Failure::NotFound => None,
                f => return Err(f.into()),
            },
        };
        self.remember(ns, dim);
        Ok(dim)
    }

    /// The index's dimension, creating the index with `dim` if it does not exist.
    async fn ensure_index(
        &self,
        ns: &Namespace,
        at: &Location,
        dim: usize,
    ) -> Result<usize, VectorError> {
        if let Some(existing) = self.index_dimension(ns, at).await? {
            return Ok(existing);
        }
        let (name, arn) = at.bucket_params();
        let created = sdk_retry::retry("CreateIndex", || {
            self.client
                .create_index()
                .set_vector_bucket_name(name.clone())
                .set_vector_bucket_arn(arn.clone())
                .index_name(&at.index)
                .data_type(DataType::Float32)
                .dimension(dim as i32)
                .distance_metric(DistanceMetric::Cosine)
                .send()
        })
        .await;
        match created {
            Ok(_) => {
                self.remember(ns, Some(dim));
                Ok(dim)
            }
            // Another writer created it first: its dimension holds.
            Err(e) => match classify("CreateIndex", e) {
                Failure::Conflict => self.index_dimension(ns, at).await?.ok_or_else(|| {
                    VectorError::Unavailable(format!("index {} is being replaced", at.index))
                }),
                f => Err(f.into()),
            },
        }
    }

    async fn put(&self, at: &Location, records: &[VectorRecord]) -> Result<(), Failure> {
        let vectors: Vec<PutInputVector> = records
            .iter()
            .map(|r| {
                PutInputVector::builder()
                    .key(r.id.as_str())
                    .data(VectorData::Float32(r.vector.clone()))
                    .metadata(document(&Value::Object(r.metadata.clone())))
                    .build()
                    .map_err(|e| Failure::Other(VectorError::Fatal(format!("PutVectors: {e}"))))
            })
            .collect::<Result<_, _>>()?;
        let (b, i, a) = at.index_params();
        sdk_retry::retry("PutVectors", || {
            self.client
                .put_vectors()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .set_vectors(Some(vectors.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| classify("PutVectors", e))
    }

    /// One page of ListVectors.
    async fn list_page(
        &self,
        at: &Location,
        token: Option<&str>,
        limit: usize,
        with_data: bool,
    ) -> Result<Option<(Vec<VectorRecord>, Option<String>)>, VectorError> {
        let (b, i, a) = at.index_params();
        let out = sdk_retry::retry("ListVectors", || {
            self.client
                .list_vectors()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .max_results(limit as i32)
                .set_next_token(token.map(str::to_owned))
                .return_data(with_data)
                .return_metadata(with_data)
                .send()
        })
        .await;
        match out {
            Ok(out) => {
                let records = out
                    .vectors()
                    .iter()
                    .map(|v| {
                        Ok(VectorRecord {
                            id: parse_id(v.key())?,
                            vector: floats(v.data()),
                            metadata: metadata_of(v.metadata()),
                        })
                    })
                    .collect::<Result<Vec<_>, VectorError>>()?;
                let next = out
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned);
                Ok(Some((records, next)))
            }
            Err(e) => match classify("ListVectors", e) {
                Failure::NotFound => Ok(None),
                f => Err(f.into()),
            },
        }
    }
}

#[async_trait::async_trait]
impl VectorIndex for S3Vectors {
    async fn upsert(&self, ns: &Namespace, records: Vec<VectorRecord>) -> Result<(), VectorError> {
        validate_batch(records.len())?;
        records.iter().try_for_each(VectorRecord::validate)?;
        let Some(first) = records.first() else {
            return Ok(());
        };
        let records = last_of_each(records.clone());
        let at = self.location(ns);
        let dim = self.ensure_index(ns, &at, first.vector.len()).await?;
        if let Some(r) = records.iter().find(|r| r.vector.len() != dim) {
            return Err(VectorError::DimensionMismatch {
                expected: dim,
                got: r.vector.len(),
            });
        }
        match self.put(&at, &records).await {
            Ok(()) => Ok(()),
            // Dropped since this container saw it: start the namespace again.
            Err(Failure::NotFound) => {
                self.remember(ns, None);
                let dim = self.ensure_index(ns, &at, first.vector.len()).await?;
                if let Some(r) = records.iter().find(|r| r.vector.len() != dim) {
                    return Err(VectorError::DimensionMismatch {
                        expected: dim,
                        got: r.vector.len(),
                    });
                }
                self.put(&at, &records).await.map_err(VectorError::from)
            }
            Err(f) => Err(f.into()),
        }
    }

    async fn get(
        &self,
        ns: &Namespace,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorError> {
        validate_batch(ids.len())?;
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let at = self.location(ns);
        let keys = distinct_keys(ids);
        let (b, i, a) = at.index_params();
        let out = sdk_retry::retry("GetVectors", || {
            self.client
                .get_vectors()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .set_keys(Some(keys.clone()))
                .return_data(true)
                .return_metadata(true)
                .send()
        })
        .await;
        match out {
            Ok(out) => out
                .vectors()
                .iter()
                .map(|v| {
                    Ok(VectorRecord {
                        id: parse_id(v.key())?,
                        vector: floats(v.data()),
                        metadata: metadata_of(v.metadata()),
                    })
                })
                .collect(),
            Err(e) => match classify("GetVectors", e) {
                Failure::NotFound => Ok(vec![]),
                f => Err(f.into()),
            },
        }
    }

    async fn delete(&self, ns: &Namespace, ids: &[VectorId]) -> Result<(), VectorError> {
        validate_batch(ids.len())?;
        if ids.is_empty() {
            return Ok(());
        }
        let at = self.location(ns);
        let keys = distinct_keys(ids);
        let (b, i, a) = at.index_params();
        let out = sdk_retry::retry("DeleteVectors", || {
            self.client
                .delete_vectors()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .set_keys(Some(keys.clone()))
                .send()
        })
        .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) => match classify("DeleteVectors", e) {
                Failure::NotFound => {
                    self.remember(ns, None);
                    Ok(())
                }
                f => Err(f.into()),
            },
        }
    }

    async fn query(&self, ns: &Namespace, query: &VectorQuery) -> Result<Vec<Hit>, VectorError> {
        query.validate()?;
        let at = self.location(ns);
        let Some(dim) = self.index_dimension(ns, &at).await? else {
            return Ok(vec![]);
        };
        if dim != query.vector.len() {
            return Err(VectorError::DimensionMismatch {
                expected: dim,
                got: query.vector.len(),
            });
        }
        let filter = query.filter.as_ref().map(|f| document(&filter_document(f)));
        let (b, i, a) = at.index_params();
        let out = sdk_retry::retry("QueryVectors", || {
            self.client
                .query_vectors()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .top_k(query.top_k as i32)
                .query_vector(VectorData::Float32(query.vector.clone()))
                .set_filter(filter.clone())
                .return_metadata(true)
                .return_distance(true)
                .send()
        })
        .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                return match classify("QueryVectors", e) {
                    Failure::NotFound => {
                        self.remember(ns, None);
                        Ok(vec![])
                    }
                    f => Err(f.into()),
                };
            }
        };
        let mut hits = out
            .vectors()
            .iter()
            .map(|v| {
                Ok(Hit {
                    id: parse_id(v.key())?,
                    score: (1.0 - v.distance().unwrap_or(1.0)).clamp(-1.0, 1.0),
                    metadata: metadata_of(v.metadata()),
                })
            })
            .collect::<Result<Vec<_>, VectorError>>()?;
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(query.top_k);
        Ok(hits)
    }

    async fn list(
        &self,
        ns: &Namespace,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<VectorPage, VectorError> {
        validate_page_size(limit)?;
        let at = self.location(ns);
        match self.list_page(&at, cursor, limit, true).await? {
            Some((records, next)) => Ok(VectorPage { records, next }),
            None => Ok(VectorPage {
                records: vec![],
                next: None,
            }),
        }
    }

    async fn dimension(&self, ns: &Namespace) -> Result<Option<usize>, VectorError> {
        // Asked afresh: another container may have dropped or created the index.
        self.remember(ns, None);
        self.index_dimension(ns, &self.location(ns)).await
    }

    async fn count(&self, ns: &Namespace) -> Result<u64, VectorError> {
        let at = self.location(ns);
        let mut count = 0u64;
        let mut token: Option<String> = None;
        loop {
            let Some((records, next)) = self.list_page(&at, token.as_deref(), 1000, false).await?
            else {
                return Ok(count);
            };
            count += records.len() as u64;
            match next {
                Some(next) => token = Some(next),
                None => return Ok(count),
            }
        }
    }

    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), VectorError> {
        let at = self.location(ns);
        self.remember(ns, None);
        let (b, i, a) = at.index_params();
        let out = sdk_retry::retry("DeleteIndex", || {
            self.client
                .delete_index()
                .set_vector_bucket_name(b.clone())
                .set_index_name(i.clone())
                .set_index_arn(a.clone())
                .send()
        })
        .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) => match classify("DeleteIndex", e) {
                Failure::NotFound => Ok(()),
                f => Err(f.into()),
            },
        }
    }

    /// Every vector bucket answers GetVectorBucket.
    async fn check(&self) -> Result<(), VectorError> {
        let probes = self.buckets.iter().map(|bucket| async move {
            let at = Location {
                bucket: bucket.clone(),
                index: String::new(),
            };
            let (name, arn) = at.bucket_params();
            sdk_retry::retry("GetVectorBucket", || {
                self.client
                    .get_vector_bucket()
                    .set_vector_bucket_name(name.clone())
                    .set_vector_bucket_arn(arn.clone())
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| match classify("GetVectorBucket", e) {
                Failure::NotFound => {
                    VectorError::Fatal(format!("vector bucket `{bucket}` not found"))
                }
                f => f.into(),
            })
        });
        futures::future::try_join_all(probes).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn index_names_are_valid_and_distinct_for_alike_namespaces() {
        let valid = |name: &str| {
            (3..=63).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && name.as_bytes()[0].is_ascii_alphanumeric()
                && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
        };
        let names = [
            "org_1.vec",
            "org-1.vec",
            "_.x",
            "a",
            "...",
            &"z".repeat(128),
            "org_0190abcd.mem",
        ];
        let mut seen = std::collections::HashSet::new();
        for raw in names {
            let name = index_name(&Namespace::parse(raw).unwrap());
            assert!(valid(&name), "{raw} → {name}");
            assert!(seen.insert(name.clone()), "{raw} shares {name}");
        }
        assert!(index_name(&Namespace::parse("org_1.vec").unwrap()).starts_with("org-1.vec-"));
    }

    #[test]
    fn namespaces_spread_over_the_buckets_by_their_hash() {
        let mut per_bucket = [0usize; 4];
        for i in 0..4000 {
            let ns = Namespace::parse(format!("org_{i}.vec")).unwrap();
            let b = bucket_of(&ns, 4);
            assert_eq!(b, bucket_of(&ns, 4), "stable");
            per_bucket[b] += 1;
        }
        assert!(
            per_bucket.iter().all(|n| (800..1200).contains(n)),
            "{per_bucket:?}"
        );
        assert_eq!(bucket_of(&Namespace::parse("x").unwrap(), 1), 0);
    }

    #[test]
    fn filters_become_s3_vectors_filter_documents() {
        use MetadataFilter::*;
        let f = And(vec![
            Eq("kind".into(), json!("note")),
            Or(vec![
                In("tags".into(), vec![json!("a")]),
                Exists("x".into(), false),
            ]),
            NotIn("k".into(), vec![json!(1), json!(true)]),
            Gte("year".into(), 2020.0),
            Ne("n".into(), json!(2)),
            Lt("s".into(), 1.5),
        ]);
        assert_eq!(
            filter_document(&f),
            json!({"$and": [
                {"kind": {"$eq": "note"}},
                {"$or": [{"tags": {"$in": ["a"]}}, {"x": {"$exists": false}}]},
                {"k": {"$nin": [1, true]}},
                {"year": {"$gte": 2020.0}},
                {"n": {"$ne": 2}},
                {"s": {"$lt": 1.5}},
            ]})
        );
    }

    #[test]
    fn metadata_survives_the_document_round_trip() {
        let m = json!({"s": "x", "n": 3, "neg": -4, "f": 2.5, "b": true, "a": ["x", 1]});
        assert_eq!(json_of(&document(&m)), m);
    }
}
