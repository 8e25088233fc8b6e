//! The keyword index port: full-text retrieval of short documents (memory contents),
//! kept per namespace. It answers *which* documents match a query's words, best
//! first; the caller scores the candidates itself, so both adapters may rank with
//! their own engine and still feed the same final ranking.
//!
//! Both adapters share one notion of a word ([`query_terms`]): runs of letters and
//! digits, lowercased, diacritics removed, at least two characters, not in
//! [`STOPWORDS`], and matched on its stem ("running" finds "runs"). A document
//! matches when it holds at least one of the query's words. The embedded adapter is
//! SQLite FTS5 (`porter unicode61 remove_diacritics 2`, BM25); the AWS adapter keeps
//! an inverted index in the item store (see `skiff_adapters::store_keywords`).

use crate::ports::vectors::Namespace;
use async_trait::async_trait;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Most documents one `upsert` or `delete` takes.
pub const MAX_BATCH: usize = 500;
/// Most hits one search returns.
pub const MAX_HITS: usize = 500;
/// Longest document text, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Most query words a search uses (the rest are ignored).
pub const MAX_QUERY_TERMS: usize = 16;

/// English words too common to find anything by; never matched.
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
    "her", "his", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on",
    "or", "our", "she", "so", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "to", "was", "we", "were", "will", "with", "you", "your",
];

/// A document's id inside its namespace: 1–128 bytes of printable ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId(String);

impl DocId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, KeywordError> {
        let raw = raw.into();
        if !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            Ok(Self(raw))
        } else {
            Err(KeywordError::Invalid(format!(
                "invalid document id `{raw}`"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One document to index.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordDoc {
    pub id: DocId,
    /// The searchable text (for memories: the content and the tags).
    pub text: String,
}

/// One match, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordHit {
    pub id: DocId,
    /// The adapter's relevance (higher is better); comparable within one answer only.
    pub score: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    #[error("{0}")]
    Invalid(String),
    #[error("keyword index unavailable: {0}")]
    Unavailable(String),
    #[error("keyword index failure: {0}")]
    Fatal(String),
}

#[async_trait]
pub trait KeywordIndex: Send + Sync + 'static {
    /// Index (or re-index) up to [`MAX_BATCH`] documents. When it returns, a search
    /// finds them by their new text and no longer by their old text.
    async fn upsert(&self, ns: &Namespace, docs: Vec<KeywordDoc>) -> Result<(), KeywordError>;

    /// Remove documents; absent ids are not an error.
    async fn delete(&self, ns: &Namespace, ids: &[DocId]) -> Result<(), KeywordError>;

    /// Up to `limit` (≤ [`MAX_HITS`]) documents holding at least one of the query's
    /// words, best first. A query without words answers nothing.
    async fn search(
        &self,
        ns: &Namespace,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KeywordHit>, KeywordError>;

    /// Number of documents in a namespace.
    async fn count(&self, ns: &Namespace) -> Result<u64, KeywordError>;

    /// Remove a namespace and everything in it (erasure); absent is not an error.
    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), KeywordError>;

    /// Readiness probe.
    async fn check(&self) -> Result<(), KeywordError>;
}

/// Refuse what every adapter must refuse: an empty batch or one over
/// [`MAX_BATCH`], duplicate ids, over-long text.
pub fn validate_docs(docs: &[KeywordDoc]) -> Result<(), KeywordError> {
    if docs.len() > MAX_BATCH {
        return Err(KeywordError::Invalid(format!(
            "a batch holds at most {MAX_BATCH} documents, not {}",
            docs.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for d in docs {
        if d.text.len() > MAX_TEXT_BYTES {
            return Err(KeywordError::Invalid(format!(
                "document {} is {} bytes, more than {MAX_TEXT_BYTES}",
                d.id,
                d.text.len()
            )));
        }
        if !seen.insert(&d.id) {
            return Err(KeywordError::Invalid(format!(
                "document {} appears twice in one batch",
                d.id
            )));
        }
    }
    Ok(())
}

/// The words of a text as both adapters see them before stemming: runs of letters
/// and digits, lowercased, with diacritics removed (`café` → `cafe`), in order,
/// repeats kept.
pub fn words(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current = String::new();
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a word is matched at all (two characters or more, not a stopword).
pub fn is_indexed_word(word: &str) -> bool {
    word.chars().count() >= 2 && !STOPWORDS.contains(&word)
}

/// The distinct words of a query that a search matches, in order, at most
/// [`MAX_QUERY_TERMS`].
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for w in words(query) {
        if is_indexed_word(&w) && !out.contains(&w) {
            out.push(w);
            if out.len() == MAX_QUERY_TERMS {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_lowercase_alphanumeric_runs() {
        assert_eq!(
            words("Café-crème, naïve RUST2024!"),
            ["cafe", "creme", "naive", "rust2024"]
        );
        assert_eq!(words("  "), Vec::<String>::new());
    }

    #[test]
    fn query_terms_drop_stopwords_short_words_and_repeats() {
        assert_eq!(
            query_terms("The database and the DATABASE: a b PostgreSQL"),
            ["database", "postgresql"]
        );
        assert!(query_terms("the of a").is_empty());
        let many = (0..40)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(query_terms(&many).len(), MAX_QUERY_TERMS);
    }

    #[test]
    fn batches_are_bounded_and_distinct() {
        let doc = |id: &str, text: &str| KeywordDoc {
            id: DocId::parse(id).unwrap(),
            text: text.into(),
        };
        assert!(validate_docs(&[doc("a", "x"), doc("b", "y")]).is_ok());
        assert!(validate_docs(&[doc("a", "x"), doc("a", "y")]).is_err());
        assert!(validate_docs(&[doc("a", &"x".repeat(MAX_TEXT_BYTES + 1))]).is_err());
        assert!(DocId::parse("").is_err());
        assert!(DocId::parse("has space").is_err());
    }
}
