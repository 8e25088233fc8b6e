//! The keyword index for the AWS backend: an inverted index kept in the item store
//! (DynamoDB), so a document is searchable the moment `upsert` returns and the index
//! scales with the table, with no search cluster to run.
//!
//! Items, all in the namespace's partitions:
//! * `KW#<ns>` / `D#<id>`: the document — each indexed stem and the sort key of its
//!   posting, and its length;
//! * `KW#<ns>` / `#STATS`: the number of documents;
//! * `KW#<ns>#<stem>` / `<impact>#<id>`: one posting per (stem, document). `impact`
//!   is the stem's BM25 weight in the document (term frequency saturated, length
//!   normalized against a fixed reference length), written inverted so a query of
//!   the partition reads the strongest postings first.
//!
//! A search reads the first postings of each query stem (at most [`POSTINGS_READ`]),
//! scores each document `Σ idf · impact` and keeps the best. A stem's document
//! frequency is exact when its list was read to the end; a longer list is a common
//! stem, counted as [`POSTINGS_READ`] (a lower bound), which keeps its weight low.
//! Reading a bounded prefix of each list keeps a query's cost independent of the
//! namespace's size; the candidates it misses are the weakest for that stem.
//!
//! Writes: new postings first, then the document (conditional on the version read,
//! retried on a race), then the postings it no longer has — so a search never
//! misses a stem the document holds once `upsert` returned, and a stale posting
//! (after a crash) only points at a document whose text the caller reads anyway.

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt, stream};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use skiff_core::ports::keywords::*;
use skiff_core::ports::store::{Condition, ItemStore, Key, NewItem, Query, StoreError};
use skiff_core::ports::vectors::Namespace;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Postings read per query stem.
pub const POSTINGS_READ: usize = 200;
/// BM25's term-frequency saturation and length normalization.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// The reference document length (in words) impacts are normalized against.
const REFERENCE_LENGTH: f64 = 40.0;
/// Impacts are stored as integers below this, inverted in the sort key.
const IMPACT_SCALE: f64 = 1_000_000.0;
/// Item-store writes in flight at once for one call.
const PARALLEL_WRITES: usize = 16;
/// Attempts at a document write that raced another writer of the same document.
const ATTEMPTS: usize = 8;
const STATS: &str = "#STATS";

/// The item-store keyword index.
pub struct StoreKeywords {
    store: Arc<dyn ItemStore>,
}

impl StoreKeywords {
    pub fn new(store: Arc<dyn ItemStore>) -> Self {
        Self { store }
    }
}

/// A document as stored: each stem's posting sort key, and the length.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Doc {
    postings: BTreeMap<String, String>,
    len: u32,
}

#[derive(Serialize, Deserialize)]
struct Posting {
    id: String,
    impact: f64,
}

fn store_error(e: StoreError) -> KeywordError {
    match e {
        StoreError::Unavailable(m) => KeywordError::Unavailable(m),
        StoreError::Invalid(m) => KeywordError::Invalid(m),
        other => KeywordError::Fatal(other.to_string()),
    }
}

fn partition(ns: &Namespace) -> String {
    format!("KW#{ns}")
}

fn doc_key(ns: &Namespace, id: &str) -> Key {
    Key::new(partition(ns), format!("D#{id}"))
}

fn stats_key(ns: &Namespace) -> Key {
    Key::new(partition(ns), STATS)
}

fn posting_partition(ns: &Namespace, stem: &str) -> String {
    format!("KW#{ns}#{stem}")
}

thread_local! {
    static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
}

pub(crate) fn stem(word: &str) -> String {
    STEMMER.with(|s| s.stem(word).into_owned())
}

/// The stems of a text with their counts, and the number of indexed words.
pub(crate) fn analyze(text: &str) -> (HashMap<String, u32>, u32) {
    let mut tf = HashMap::new();
    let mut len = 0;
    for w in words(text) {
        if is_indexed_word(&w) {
            *tf.entry(stem(&w)).or_insert(0) += 1;
            len += 1;
        }
    }
    (tf, len)
}

/// BM25's weight of a stem occurring `tf` times in a document of `len` words.
fn impact(tf: u32, len: u32) -> f64 {
    let tf = f64::from(tf);
    let norm = 1.0 - B + B * f64::from(len) / REFERENCE_LENGTH;
    tf * (K1 + 1.0) / (tf + K1 * norm)
}

/// The posting's sort key: the impact inverted (strongest first), then the id.
fn posting_sort_key(impact: f64, id: &str) -> String {
    let scaled = (impact / (K1 + 1.0) * (IMPACT_SCALE - 1.0)).clamp(0.0, IMPACT_SCALE - 1.0);
    format!("{:07}#{id}", (IMPACT_SCALE - 1.0 - scaled) as u64)
}

impl StoreKeywords {
    async fn upsert_one(&self, ns: &Namespace, doc: &KeywordDoc) -> Result<(), KeywordError> {
        let (tf, len) = analyze(&doc.text);
        let id = doc.id.as_str();
        let mut wanted = Doc {
            postings: BTreeMap::new(),
            len,
        };
        let mut impacts = HashMap::new();
        for (stem, n) in &tf {
            let w = impact(*n, len);
            impacts.insert(stem.clone(), w);
            wanted
                .postings
                .insert(stem.clone(), posting_sort_key(w, id));
        }
        for _ in 0..ATTEMPTS {
            let current = self
                .store
                .get(&doc_key(ns, id))
                .await
                .map_err(store_error)?;
            let (old, condition) = match &current {
                Some(item) => (
                    item.parse::<Doc>().map_err(store_error)?,
                    Condition::VersionIs(item.version),
                ),
                None => (Doc::default(), Condition::Absent),
            };
            // New postings first: once the document names a stem, its posting exists.
            let new_postings = wanted
                .postings
                .iter()
                .filter(|(stem, sk)| old.postings.get(*stem) != Some(*sk))
                .map(|(stem, sk)| {
                    NewItem::from_record(
                        Key::new(posting_partition(ns, stem), sk.clone()),
                        &Posting {
                            id: id.to_owned(),
                            impact: impacts[stem],
                        },
                    )
                    .map_err(store_error)
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.put_items(new_postings).await?;
            let written = NewItem::from_record(doc_key(ns, id), &wanted).map_err(store_error)?;
            match self.store.put(written, Some(condition)).await {
                Ok(_) => {}
                Err(e) if e.is_condition_failed() => continue,
                Err(e) => return Err(store_error(e)),
            }
            if current.is_none() {
                self.store
                    .add(&stats_key(ns), "docs", 1, None, None)
                    .await
                    .map_err(store_error)?;
            }
            let stale: Vec<Key> = old
                .postings
                .iter()
                .filter(|(stem, sk)| wanted.postings.get(*stem) != Some(*sk))
                .map(|(stem, sk)| Key::new(posting_partition(ns, stem), sk.clone()))
                .collect();
            self.delete_keys(stale).await?;
            return Ok(());
        }
        Err(KeywordError::Unavailable(format!(
            "document {id} kept changing under this write"
        )))
    }

    async fn put_items(&self, items: Vec<NewItem>) -> Result<(), KeywordError> {
        let store = &self.store;
        stream::iter(items)
            .map(|item| async move { store.put(item, None).await.map_err(store_error) })
            .buffer_unordered(PARALLEL_WRITES)
            .try_collect::<Vec<_>>()
            .await
            .map(drop)
    }

    async fn delete_keys(&self, keys: Vec<Key>) -> Result<(), KeywordError> {
        let store = &self.store;
        stream::iter(keys)
            .map(|key| async move { store.delete(&key, None).await.map_err(store_error) })
            .buffer_unordered(PARALLEL_WRITES)
            .try_collect::<Vec<_>>()
            .await
            .map(drop)
    }

    async fn delete_one(&self, ns: &Namespace, id: &str) -> Result<(), KeywordError> {
        for _ in 0..ATTEMPTS {
            let Some(item) = self
                .store
                .get(&doc_key(ns, id))
                .await
                .map_err(store_error)?
            else {
                return Ok(());
            };
            let doc: Doc = item.parse().map_err(store_error)?;
            match self
                .store
                .delete(&doc_key(ns, id), Some(Condition::VersionIs(item.version)))
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_condition_failed() => continue,
                Err(e) => return Err(store_error(e)),
            }
            self.store
                .add(&stats_key(ns), "docs", -1, None, None)
                .await
                .map_err(store_error)?;
            let keys = doc
                .postings
                .iter()
                .map(|(stem, sk)| Key::new(posting_partition(ns, stem), sk.clone()))
                .collect();
            return self.delete_keys(keys).await;
        }
        Err(KeywordError::Unavailable(format!(
            "document {id} kept changing under this delete"
        )))
    }
}

#[async_trait]
impl KeywordIndex for StoreKeywords {
    async fn upsert(&self, ns: &Namespace, docs: Vec<KeywordDoc>) -> Result<(), KeywordError> {
        validate_docs(&docs)?;
        for doc in &docs {
            self.upsert_one(ns, doc).await?;
        }
        Ok(())
    }

    async fn delete(&self, ns: &Namespace, ids: &[DocId]) -> Result<(), KeywordError> {
        if ids.len() > MAX_BATCH {
            return Err(KeywordError::Invalid(format!(
                "a batch holds at most {MAX_BATCH} documents"
            )));
        }
        for id in ids {
            self.delete_one(ns, id.as_str()).await?;
        }
        Ok(())
    }

    async fn search(
        &self,
        ns: &Namespace,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KeywordHit>, KeywordError> {
        let mut stems: Vec<String> = vec![];
        for w in query_terms(query) {
            let s = stem(&w);
            if !stems.contains(&s) {
                stems.push(s);
            }
        }
        if stems.is_empty() || limit == 0 {
            return Ok(vec![]);
        }
        let total = self
            .store
            .get(&stats_key(ns))
            .await
            .map_err(store_error)?
            .and_then(|i| i.get_i64("docs"))
            .unwrap_or(0)
            .max(1) as f64;
        let lists = stream::iter(stems)
            .map(|stem| async move {
                self.store
                    .query(Query::partition(posting_partition(ns, &stem)).limit(POSTINGS_READ))
                    .await
                    .map_err(store_error)
            })
            .buffered(PARALLEL_WRITES)
            .try_collect::<Vec<_>>()
            .await?;
        let mut scores: HashMap<String, f64> = HashMap::new();
        for page in lists {
            let df = page.items.len().max(1) as f64;
            let idf = (1.0 + (total - df + 0.5).max(0.0) / (df + 0.5)).ln();
            for item in &page.items {
                let posting: Posting = item.parse().map_err(store_error)?;
                *scores.entry(posting.id).or_insert(0.0) += idf * posting.impact;
            }
        }
        let mut hits: Vec<(String, f64)> = scores.into_iter().collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        hits.truncate(limit.min(MAX_HITS));
        hits.into_iter()
            .map(|(id, score)| {
                Ok(KeywordHit {
                    id: DocId::parse(id)?,
                    score,
                })
            })
            .collect()
    }

    async fn count(&self, ns: &Namespace) -> Result<u64, KeywordError> {
        Ok(self
            .store
            .get(&stats_key(ns))
            .await
            .map_err(store_error)?
            .and_then(|i| i.get_i64("docs"))
            .unwrap_or(0)
            .max(0) as u64)
    }

    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), KeywordError> {
        loop {
            let page = self
                .store
                .query(Query::partition(partition(ns)).prefix("D#").limit(100))
                .await
                .map_err(store_error)?;
            if page.items.is_empty() {
                break;
            }
            for item in &page.items {
                if let Some(id) = item.key.sk.strip_prefix("D#") {
                    self.delete_one(ns, id).await?;
                }
            }
        }
        self.store
            .delete(&stats_key(ns), None)
            .await
            .map_err(store_error)
            .map(drop)
    }

    async fn check(&self) -> Result<(), KeywordError> {
        self.store.check().await.map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stronger_postings_sort_first() {
        let (strong, weak) = (impact(3, 10), impact(1, 80));
        assert!(strong > weak);
        assert!(posting_sort_key(strong, "b") < posting_sort_key(weak, "a"));
    }

    #[test]
    fn analysis_stems_folds_and_skips_stopwords() {
        let (tf, len) = analyze("The runner was running; runs café");
        assert_eq!(len, 4);
        assert_eq!(tf.get("run"), Some(&2));
        assert_eq!(tf.get("runner"), Some(&1));
        assert_eq!(tf.get("cafe"), Some(&1));
        assert!(!tf.contains_key("the"));
    }
}
