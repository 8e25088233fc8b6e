//! The rows of a namespace's vector cache by metadata value, so that a filtered
//! query scores only the rows its filter can pass. A tag filter that one memory in
//! twenty-four passes would otherwise be evaluated on most of the namespace's rows
//! (the top-k heap fills slowly when few rows pass), at the cost of a map lookup
//! and string comparisons each.
//!
//! What [`MetadataFilter::matches`] compares by equality is indexed: strings,
//! booleans and numbers, and the elements of arrays. A number is keyed by its
//! value as an `f64`, the way `matches` compares numbers (`1` and `1.0` alike).
//! A filter the index cannot answer exactly (ranges, negations) yields a superset
//! of the rows it passes, or none at all; the caller checks those rows with
//! `matches`.

use serde_json::Value;
use skiff_core::ports::vectors::{Metadata, MetadataFilter};
use std::collections::HashMap;

/// Rows by metadata key and value.
#[derive(Debug, Default)]
pub struct MetadataIndex {
    keys: HashMap<Box<str>, Values>,
    /// Row numbers held, for the cache's memory estimate.
    entries: usize,
}

/// The rows holding each value of one key, in no particular order.
#[derive(Debug, Default)]
struct Values {
    strings: HashMap<Box<str>, Vec<u32>>,
    /// By the bits of the value as an `f64` (zero's sign dropped).
    numbers: HashMap<u64, Vec<u32>>,
    /// `[false, true]`.
    bools: [Vec<u32>; 2],
}

/// An indexed value.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    Num(u64),
    Bool(bool),
}

impl<'a> Scalar<'a> {
    fn of(v: &'a Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(Self::Str(s)),
            Value::Bool(b) => Some(Self::Bool(*b)),
            // `-0.0 == 0.0`: one key for both.
            Value::Number(n) => n.as_f64().map(|x| Self::Num((x + 0.0).to_bits())),
            _ => None,
        }
    }
}

/// Each indexed value of `metadata` with its key (an array's elements each).
fn each_value<'m>(metadata: &'m Metadata, mut f: impl FnMut(&'m str, Scalar<'m>)) {
    for (k, v) in metadata {
        match v {
            Value::Array(items) => items.iter().filter_map(Scalar::of).for_each(|s| f(k, s)),
            v => Scalar::of(v).into_iter().for_each(|s| f(k, s)),
        }
    }
}

impl Values {
    fn rows(&self, value: Scalar<'_>) -> Option<&Vec<u32>> {
        match value {
            Scalar::Str(s) => self.strings.get(s),
            Scalar::Num(n) => self.numbers.get(&n),
            Scalar::Bool(b) => Some(&self.bools[usize::from(b)]),
        }
    }

    fn rows_mut(&mut self, value: Scalar<'_>) -> Option<&mut Vec<u32>> {
        match value {
            Scalar::Str(s) => self.strings.get_mut(s),
            Scalar::Num(n) => self.numbers.get_mut(&n),
            Scalar::Bool(b) => Some(&mut self.bools[usize::from(b)]),
        }
    }
}

impl MetadataIndex {
    /// Roughly the heap bytes held.
    pub fn bytes(&self) -> usize {
        self.entries * 4
            + self
                .keys
                .values()
                .map(|v| v.strings.len() * 48 + v.numbers.len() * 32)
                .sum::<usize>()
    }

    /// Index `row`'s metadata.
    pub fn insert(&mut self, row: u32, metadata: &Metadata) {
        each_value(metadata, |k, value| {
            let values = match self.keys.get_mut(k) {
                Some(v) => v,
                None => self.keys.entry(k.into()).or_default(),
            };
            let rows = match value {
                Scalar::Str(s) => match values.strings.get_mut(s) {
                    Some(r) => r,
                    None => values.strings.entry(s.into()).or_default(),
                },
                Scalar::Num(n) => values.numbers.entry(n).or_default(),
                Scalar::Bool(b) => &mut values.bools[usize::from(b)],
            };
            // An array holding one value twice lists the row once.
            if rows.last() != Some(&row) {
                rows.push(row);
                self.entries += 1;
            }
        });
    }

    /// Take `row` (holding `metadata`) out.
    pub fn remove(&mut self, row: u32, metadata: &Metadata) {
        each_value(metadata, |k, value| {
            let Some(values) = self.keys.get_mut(k) else {
                return;
            };
            let Some(rows) = values.rows_mut(value) else {
                return;
            };
            if let Some(i) = rows.iter().position(|r| *r == row) {
                rows.swap_remove(i);
                self.entries -= 1;
            }
            if rows.is_empty() {
                match value {
                    Scalar::Str(s) => drop(values.strings.remove(s)),
                    Scalar::Num(n) => drop(values.numbers.remove(&n)),
                    Scalar::Bool(_) => {}
                }
            }
        });
    }

    /// The row holding `metadata` moved from `from` to `to`.
    pub fn renumber(&mut self, from: u32, to: u32, metadata: &Metadata) {
        each_value(metadata, |k, value| {
            let rows = self.keys.get_mut(k).and_then(|v| v.rows_mut(value));
            if let Some(r) = rows.and_then(|rows| rows.iter_mut().find(|r| **r == from)) {
                *r = to;
            }
        });
    }

    /// The rows of `rows` in all that `filter` can pass, or `None` when the index
    /// cannot narrow it.
    pub fn candidates(&self, filter: &MetadataFilter, rows: usize) -> Option<Candidates> {
        let words = rows.div_ceil(64);
        let listed = |key: &str, values: &[Value]| -> Option<Candidates> {
            let scalars: Vec<Scalar<'_>> = values.iter().map(Scalar::of).collect::<Option<_>>()?;
            let mut bits = vec![0u64; words];
            if let Some(indexed) = self.keys.get(key) {
                for s in scalars {
                    for &r in indexed.rows(s).into_iter().flatten() {
                        bits[r as usize / 64] |= 1 << (r % 64);
                    }
                }
            }
            Some(Candidates { bits, exact: true })
        };
        match filter {
            MetadataFilter::Eq(k, v) => listed(k, std::slice::from_ref(v)),
            MetadataFilter::In(k, vs) => listed(k, vs),
            MetadataFilter::Or(fs) => {
                let mut all = Candidates {
                    bits: vec![0; words],
                    exact: true,
                };
                for f in fs {
                    let c = self.candidates(f, rows)?;
                    all.bits.iter_mut().zip(&c.bits).for_each(|(a, b)| *a |= b);
                    all.exact &= c.exact;
                }
                Some(all)
            }
            MetadataFilter::And(fs) => {
                let mut all: Option<Candidates> = None;
                let mut exact = true;
                for f in fs {
                    match (self.candidates(f, rows), all.as_mut()) {
                        (None, _) => exact = false,
                        (Some(c), None) => {
                            exact &= c.exact;
                            all = Some(c);
                        }
                        (Some(c), Some(a)) => {
                            exact &= c.exact;
                            a.bits.iter_mut().zip(&c.bits).for_each(|(a, b)| *a &= b);
                        }
                    }
                }
                all.map(|a| Candidates { exact, ..a })
            }
            _ => None,
        }
    }
}

/// A set of rows that holds every row a filter passes.
#[derive(Debug)]
pub struct Candidates {
    bits: Vec<u64>,
    /// Every row in the set passes the filter (else each must be checked).
    pub exact: bool,
}

impl Candidates {
    /// The rows, ascending.
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    w * 64 + bit
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: Value) -> Metadata {
        v.as_object().unwrap().clone()
    }

    fn rows_table() -> Vec<Metadata> {
        vec![
            meta(json!({"tx": ["rust", "db"], "type": "Decision", "imp": 0.5})),
            meta(json!({"tx": ["go"], "type": "Pattern", "flag": true})),
            meta(json!({"tx": ["rust", "rust"], "n": 1})),
            meta(json!({"tags_overflow": true, "type": "Decision", "n": 1.0})),
            meta(json!({"tx": [], "nested": {"tx": "rust"}, "z": -0.0})),
        ]
    }

    fn filters() -> Vec<MetadataFilter> {
        use MetadataFilter::*;
        let s = |x: &str| Value::from(x);
        vec![
            Eq("tx".into(), s("rust")),
            Eq("type".into(), s("Decision")),
            Eq("flag".into(), true.into()),
            Eq("flag".into(), false.into()),
            Eq("absent".into(), s("x")),
            Eq("n".into(), 1.into()),
            Eq("n".into(), 1.5.into()),
            Eq("z".into(), 0.into()),
            In("tx".into(), vec![s("go"), s("db")]),
            In("tx".into(), vec![s("go"), 1.into()]),
            Or(vec![
                In("tx".into(), vec![s("rust")]),
                Eq("tags_overflow".into(), true.into()),
            ]),
            Or(vec![Eq("tx".into(), s("go")), Gte("imp".into(), 0.1)]),
            And(vec![
                Eq("type".into(), s("Decision")),
                Gte("imp".into(), 0.1),
            ]),
            And(vec![
                Eq("tx".into(), s("rust")),
                Eq("type".into(), s("Decision")),
            ]),
            And(vec![Gte("imp".into(), 0.0)]),
            Ne("tx".into(), s("rust")),
        ]
    }

    /// Each filter's candidates hold every row it passes, and only those when exact.
    fn check(index: &MetadataIndex, table: &[Metadata]) {
        for f in filters() {
            let passing: Vec<usize> = (0..table.len()).filter(|i| f.matches(&table[*i])).collect();
            match index.candidates(&f, table.len()) {
                None => {}
                Some(c) => {
                    let got: Vec<usize> = c.rows().collect();
                    if c.exact {
                        assert_eq!(got, passing, "{f:?}");
                    } else {
                        assert!(passing.iter().all(|p| got.contains(p)), "{f:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn candidates_agree_with_the_filter() {
        let table = rows_table();
        let mut index = MetadataIndex::default();
        for (i, m) in table.iter().enumerate() {
            index.insert(i as u32, m);
        }
        check(&index, &table);
        use MetadataFilter::*;
        let exact = |f: MetadataFilter| index.candidates(&f, table.len()).map(|c| c.exact);
        assert_eq!(exact(Eq("tx".into(), "rust".into())), Some(true));
        assert_eq!(exact(Eq("n".into(), 1.into())), Some(true));
        assert_eq!(exact(Gte("n".into(), 1.0)), None);
        assert_eq!(
            exact(And(vec![
                Eq("type".into(), "Decision".into()),
                Gte("imp".into(), 0.1)
            ])),
            Some(false)
        );
        assert_eq!(
            exact(Or(vec![
                Eq("tx".into(), "go".into()),
                Gte("imp".into(), 0.1)
            ])),
            None
        );
    }

    #[test]
    fn removing_and_moving_rows_keeps_the_index_true() {
        let mut table = rows_table();
        let mut index = MetadataIndex::default();
        for (i, m) in table.iter().enumerate() {
            index.insert(i as u32, m);
        }
        // Remove row 0 the way the cache does: the last row moves into its place.
        let last = table.len() - 1;
        index.remove(0, &table[0]);
        index.renumber(last as u32, 0, &table[last]);
        table.swap_remove(0);
        check(&index, &table);
        // Replace a row's metadata.
        index.remove(1, &table[1]);
        table[1] = meta(json!({"tx": ["db"], "flag": false}));
        index.insert(1, &table[1]);
        check(&index, &table);
        for (i, m) in table.iter().enumerate().rev() {
            index.remove(i as u32, m);
        }
        assert_eq!(index.entries, 0);
        assert!(
            index
                .keys
                .values()
                .all(|v| v.strings.is_empty() && v.numbers.is_empty())
        );
    }

    #[test]
    fn rows_come_out_ascending_across_words() {
        let c = Candidates {
            bits: vec![1 | 1 << 63, 0, 1 << 5],
            exact: true,
        };
        assert_eq!(c.rows().collect::<Vec<_>>(), [0, 63, 133]);
    }
}
