//! One namespace's keyword index held in memory: posting lists of stems with their
//! counts, document lengths, and BM25 over them. The embedded keyword index answers
//! searches from it (`crate::sqlite_keywords`): a query then costs the postings of
//! its own stems in its own namespace, where FTS5's `bm25()` walks the whole
//! table's posting list of every query word to count document frequencies.
//!
//! Words are analyzed as the item-store index analyzes them
//! ([`crate::store_keywords::analyze`]): folded, stopwords and one-letter words
//! dropped, English (Porter 2) stems.

use crate::store_keywords::{analyze, stem};
use skiff_core::ports::keywords::{DocId, KeywordHit, query_terms};
use std::cmp::Ordering;
use std::collections::HashMap;

/// BM25's term-frequency saturation and length normalization (FTS5's values).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A document in its slot.
#[derive(Debug, Clone)]
struct Doc {
    id: DocId,
    /// Its distinct stems (their numbers), to take its postings back out.
    stems: Box<[u32]>,
}

/// The in-memory index of one namespace.
#[derive(Debug, Default)]
pub struct Postings {
    /// Slot → document (`None`: a free slot).
    docs: Vec<Option<Doc>>,
    /// Slot → length in indexed words (0 for a free slot).
    lens: Vec<u32>,
    free: Vec<u32>,
    slots: HashMap<DocId, u32>,
    /// Stem → its number; numbers index `lists`.
    stems: HashMap<Box<str>, u32>,
    /// Stem number → (slot, occurrences), in no particular order.
    lists: Vec<Vec<(u32, u32)>>,
    total_len: u64,
    /// Postings held, for the memory estimate.
    entries: usize,
}

impl Postings {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Roughly the heap bytes held, for the cache's budget.
    pub fn bytes(&self) -> usize {
        self.docs.len() * 64 + self.entries * 16 + self.stems.len() * 64
    }

    /// Index a document, replacing its previous text.
    pub fn put(&mut self, id: DocId, text: &str) {
        self.remove(&id);
        let (tf, len) = analyze(text);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.docs.push(None);
                self.lens.push(0);
                (self.docs.len() - 1) as u32
            }
        };
        let mut stems = Vec::with_capacity(tf.len());
        for (s, n) in tf {
            let next = self.lists.len() as u32;
            let number = *self.stems.entry(s.into()).or_insert(next);
            if number == next {
                self.lists.push(vec![]);
            }
            self.lists[number as usize].push((slot, n));
            stems.push(number);
        }
        self.entries += stems.len();
        self.total_len += u64::from(len);
        self.lens[slot as usize] = len;
        self.docs[slot as usize] = Some(Doc {
            id: id.clone(),
            stems: stems.into_boxed_slice(),
        });
        self.slots.insert(id, slot);
    }

    /// Take a document out; absent is not an error.
    pub fn remove(&mut self, id: &DocId) {
        let Some(slot) = self.slots.remove(id) else {
            return;
        };
        let Some(doc) = self.docs[slot as usize].take() else {
            return;
        };
        for s in doc.stems.iter() {
            let list = &mut self.lists[*s as usize];
            if let Some(i) = list.iter().position(|(d, _)| *d == slot) {
                list.swap_remove(i);
            }
        }
        self.entries -= doc.stems.len();
        self.total_len -= u64::from(self.lens[slot as usize]);
        self.lens[slot as usize] = 0;
        self.free.push(slot);
    }

    /// Up to `limit` documents holding at least one of the query's words, by BM25
    /// (best first, ties by id).
    pub fn search(&self, query: &str, limit: usize) -> Vec<KeywordHit> {
        let mut stems: Vec<String> = query_terms(query).iter().map(|w| stem(w)).collect();
        stems.sort();
        stems.dedup();
        if stems.is_empty() || limit == 0 || self.is_empty() {
            return vec![];
        }
        let n = self.len() as f64;
        let avg = (self.total_len as f64 / n).max(1.0);
        let mut scores = vec![0.0f64; self.docs.len()];
        let mut touched: Vec<u32> = vec![];
        for s in &stems {
            let Some(list) = self.stems.get(s.as_str()).map(|n| &self.lists[*n as usize]) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(slot, tf) in list {
                let score = &mut scores[slot as usize];
                if *score == 0.0 {
                    touched.push(slot);
                }
                let tf = f64::from(tf);
                let norm = 1.0 - B + B * f64::from(self.lens[slot as usize]) / avg;
                // Never exactly 0, so a document is counted once as touched.
                *score += (idf * tf * (K1 + 1.0) / (tf + K1 * norm)).max(f64::MIN_POSITIVE);
            }
        }
        let id = |slot: u32| &self.docs[slot as usize].as_ref().expect("a live slot").id;
        let best = top_k(touched, limit, |a, b| {
            scores[*b as usize]
                .total_cmp(&scores[*a as usize])
                .then_with(|| id(*a).cmp(id(*b)))
        });
        best.into_iter()
            .map(|slot| KeywordHit {
                id: id(slot).clone(),
                score: scores[slot as usize],
            })
            .collect()
    }
}

/// The `k` first items in `cmp`'s order, in that order: a linear selection then a
/// sort of the `k` kept, so the cost follows the candidates, not `k log n`.
pub fn top_k<T>(mut items: Vec<T>, k: usize, mut cmp: impl FnMut(&T, &T) -> Ordering) -> Vec<T> {
    if k == 0 {
        return vec![];
    }
    if items.len() > k {
        items.select_nth_unstable_by(k - 1, &mut cmp);
        items.truncate(k);
    }
    items.sort_by(cmp);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> DocId {
        DocId::parse(s).unwrap()
    }

    fn found(p: &Postings, query: &str, limit: usize) -> Vec<String> {
        p.search(query, limit)
            .into_iter()
            .map(|h| h.id.as_str().to_owned())
            .collect()
    }

    #[test]
    fn top_k_equals_the_head_of_a_full_sort() {
        let mut seed = 7u64;
        for n in [0usize, 1, 2, 5, 17, 100] {
            let items: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 33) % 13
                })
                .collect();
            for k in [0usize, 1, 3, 10, 200] {
                let mut sorted = items.clone();
                sorted.sort_by(|a, b| b.cmp(a));
                sorted.truncate(k);
                assert_eq!(
                    top_k(items.clone(), k, |a, b| b.cmp(a)),
                    sorted,
                    "n={n} k={k}"
                );
            }
        }
    }

    #[test]
    fn finds_any_query_word_by_stem_and_ranks_more_words_first() {
        let mut p = Postings::default();
        p.put(id("one"), "database migration notes");
        p.put(id("both"), "database index tuning: the index was rebuilt");
        p.put(id("runs"), "The job runs nightly");
        for i in 0..20 {
            p.put(id(&format!("f{i}")), "unrelated filler");
        }
        assert_eq!(found(&p, "database index", 10), ["both", "one"]);
        assert_eq!(found(&p, "running", 10), ["runs"]);
        assert!(found(&p, "the of", 10).is_empty());
        assert!(found(&p, "kubernetes", 10).is_empty());
        assert_eq!(found(&p, "filler", 5).len(), 5);
    }

    #[test]
    fn ties_go_by_id() {
        let mut p = Postings::default();
        for name in ["c", "a", "b"] {
            p.put(id(name), "same words here");
        }
        assert_eq!(found(&p, "words", 2), ["a", "b"]);
    }

    #[test]
    fn replacing_and_removing_take_the_old_postings_out() {
        let mut p = Postings::default();
        p.put(id("m"), "deploys go through staging");
        p.put(id("m"), "releases skip staging now");
        assert!(found(&p, "deploys", 10).is_empty());
        assert_eq!(found(&p, "releases", 10), ["m"]);
        assert_eq!(p.len(), 1);
        p.put(id("n"), "staging again");
        p.remove(&id("m"));
        p.remove(&id("absent"));
        assert_eq!(found(&p, "staging", 10), ["n"]);
        assert!(found(&p, "releases", 10).is_empty());
        // The freed slot is reused.
        p.put(id("o"), "staging third");
        assert_eq!(p.docs.len(), 2);
        assert_eq!(found(&p, "staging", 10).len(), 2);
        p.remove(&id("n"));
        p.remove(&id("o"));
        assert!(p.is_empty() && p.entries == 0 && p.total_len == 0);
        assert!(p.lists.iter().all(Vec::is_empty));
    }
}
