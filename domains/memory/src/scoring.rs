//! AutoMem's recall score: a weighted sum of evidence about the query (vector
//! similarity, keyword match, exact match, tag overlap, relation strength) and of
//! the memory's own worth (importance, confidence, recency), plus context bonuses.

use crate::model::{Memory, Timestamp, parse_time};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

pub const WEIGHT_VECTOR: f64 = 0.35;
pub const WEIGHT_KEYWORD: f64 = 0.35;
pub const WEIGHT_RELATION: f64 = 0.25;
pub const WEIGHT_TAG: f64 = 0.2;
pub const WEIGHT_EXACT: f64 = 0.2;
pub const WEIGHT_IMPORTANCE: f64 = 0.1;
pub const WEIGHT_RECENCY: f64 = 0.1;
pub const WEIGHT_CONFIDENCE: f64 = 0.05;
/// Recency decays linearly to zero over this many days.
pub const RECENCY_WINDOW_DAYS: f64 = 180.0;
/// The relative-recency re-rank's weight (`recency_bias`).
pub const WEIGHT_TEMPORAL: f64 = 0.1;

/// AutoMem's search stopwords (for query keywords; distinct from the keyword
/// index's).
const SEARCH_STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "that", "this", "from", "into", "using", "have", "will", "your",
    "about", "after", "before", "when", "then", "than", "also", "just", "very", "more", "less",
    "over", "under",
];

/// A query's keywords as AutoMem extracts them: `[A-Za-z0-9_-]+` runs, lowercased,
/// `-`/`_` trimmed, at least three characters, not stopwords, once each.
pub fn extract_keywords(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = vec![];
    for raw in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
        let w = raw.trim_matches(|c| c == '-' || c == '_');
        if w.chars().count() < 3 || SEARCH_STOPWORDS.contains(&w) || out.iter().any(|o| o == w) {
            continue;
        }
        out.push(w.to_owned());
    }
    out
}

/// How a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Vector,
    Keyword,
    Tag,
    Trending,
    Relation,
    PriorityId,
    StateReplacement,
}

impl MatchType {
    pub fn as_str(&self) -> &'static str {
        match self {
            MatchType::Vector => "vector",
            MatchType::Keyword => "keyword",
            MatchType::Tag => "tag",
            MatchType::Trending => "trending",
            MatchType::Relation => "relation",
            MatchType::PriorityId => "priority_id",
            MatchType::StateReplacement => "state_replacement",
        }
    }
}

/// What a context hint asks recall to favour (AutoMem's context profile).
#[derive(Debug, Clone, Default)]
pub struct ContextProfile {
    pub priority_tags: HashSet<String>,
    pub priority_types: HashSet<String>,
    pub priority_ids: Vec<String>,
    pub priority_keywords: HashSet<String>,
    pub language: Option<String>,
    pub context_label: String,
}

impl ContextProfile {
    pub fn is_empty(&self) -> bool {
        self.priority_tags.is_empty()
            && self.priority_types.is_empty()
            && self.priority_ids.is_empty()
            && self.priority_keywords.is_empty()
    }
}

/// The metadata's short string values and their words (AutoMem's metadata terms).
fn metadata_terms(metadata: &Map<String, Value>) -> HashSet<String> {
    fn visit(v: &Value, out: &mut HashSet<String>, key: Option<&str>) {
        match v {
            Value::String(s) => {
                let t = s.trim();
                if !t.is_empty() && t.chars().count() <= 256 {
                    let lower = t.to_lowercase();
                    for token in lower
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                        .filter(|w| !w.is_empty())
                    {
                        out.insert(token.to_owned());
                    }
                    out.insert(lower);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| visit(i, out, None)),
            Value::Object(m) => {
                for (k, sub) in m {
                    if k != "entities" || key.is_some() {
                        visit(sub, out, Some(k));
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = HashSet::new();
    for (k, v) in metadata {
        if k != "entities" {
            visit(v, &mut out, Some(k));
        }
    }
    out
}

/// 1 for now (or the future), falling linearly to 0 at [`RECENCY_WINDOW_DAYS`].
pub fn recency(timestamp: Option<Timestamp>, now: Timestamp) -> f64 {
    let Some(t) = timestamp else { return 0.0 };
    let age_days = (now.unix_f64() - t.unix_f64()).max(0.0) / 86_400.0;
    (1.0 - age_days / RECENCY_WINDOW_DAYS).max(0.0)
}

fn context_tag_hit(tags: &HashSet<String>, priority: &HashSet<String>) -> bool {
    let canon = |s: &str| {
        let mut out = String::new();
        let mut last_sep = false;
        for c in s.chars() {
            if c == ':' || c == '/' {
                if !last_sep {
                    out.push(':');
                }
                last_sep = true;
            } else {
                out.push(c);
                last_sep = false;
            }
        }
        out
    };
    let priorities: Vec<String> = priority.iter().map(|p| canon(p)).collect();
    tags.iter().any(|t| {
        let t = canon(t);
        priorities
            .iter()
            .any(|p| t == *p || t.starts_with(p.as_str()) || t.contains(p.as_str()))
    })
}

/// AutoMem's keyword-search score of a memory's content and tags: per query
/// keyword 2 when the content holds it and 1 when a tag does; the whole query
/// adds 2 and 1 the same way; over the most it could be.
pub fn contains_score(memory: &Memory, query: &str, keywords: &[String]) -> f64 {
    let content = memory.content.to_lowercase();
    let tags: Vec<String> = memory.tags.iter().map(|t| t.to_lowercase()).collect();
    let phrase = query.trim().to_lowercase();
    let phrase = (phrase.chars().count() >= 3).then_some(phrase);
    let mut score = 0.0;
    for kw in keywords {
        if content.contains(kw.as_str()) {
            score += 2.0;
        }
        if tags.iter().any(|t| t.contains(kw.as_str())) {
            score += 1.0;
        }
    }
    if let Some(p) = &phrase {
        if content.contains(p.as_str()) {
            score += 2.0;
        }
        if tags.iter().any(|t| t.contains(p.as_str())) {
            score += 1.0;
        }
    }
    let max = 3.0 * keywords.len() as f64 + if phrase.is_some() { 3.0 } else { 0.0 };
    if max > 0.0 {
        (score / max).min(1.0)
    } else {
        0.0
    }
}

/// The evidence a candidate was found with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence {
    /// Cosine similarity, for vector matches.
    pub vector: Option<f64>,
    /// The keyword channel's score (0–1), for keyword matches.
    pub keyword: Option<f64>,
    /// The relation's score, for graph expansions.
    pub relation: Option<f64>,
}

/// The final score and its components.
pub fn score(
    memory: &Memory,
    evidence: Evidence,
    query: &str,
    tokens: &[String],
    context: Option<&ContextProfile>,
    now: Timestamp,
) -> (f64, Components) {
    let meta_terms = metadata_terms(&memory.metadata);
    let tag_terms: HashSet<String> = memory.tags.iter().map(|t| t.to_lowercase()).collect();
    let token_hits = tokens
        .iter()
        .filter(|t| tag_terms.contains(*t) || meta_terms.contains(*t))
        .count();
    let normalized = query.trim().to_lowercase();
    let exact = if !normalized.is_empty() && meta_terms.contains(&normalized) {
        1.0
    } else {
        0.0
    };
    let importance = memory.importance;
    let confidence = memory.confidence;
    let recency = recency(memory.time(), now);
    let tag = if tokens.is_empty() {
        0.0
    } else {
        (token_hits as f64 / tokens.len() as f64).min(1.0)
    };
    let vector = evidence.vector.unwrap_or(0.0);
    let keyword = match evidence.keyword {
        Some(k) => k.min(1.0),
        None if !tokens.is_empty() => {
            let content = memory.content.to_lowercase();
            // A query has a few tokens: scanning the words for each beats hashing
            // every word of every candidate.
            let words = content.split(|c: char| !c.is_ascii_alphanumeric());
            tokens
                .iter()
                .filter(|t| words.clone().any(|w| w == t.as_str()))
                .count() as f64
                / tokens.len() as f64
        }
        None => 0.0,
    };
    let relation = evidence.relation.unwrap_or(0.0);
    let context_bonus = context.map_or(0.0, |p| {
        let mut bonus = 0.0;
        if !p.priority_tags.is_empty() && context_tag_hit(&tag_terms, &p.priority_tags) {
            bonus += 0.45;
        }
        if p.priority_types.contains(&title_case(&memory.kind)) {
            bonus += 0.25;
        }
        if p.priority_keywords.iter().any(|k| meta_terms.contains(k)) {
            bonus += 0.2;
        }
        if p.priority_ids.iter().any(|id| *id == memory.id.to_string()) {
            bonus += 0.9;
        }
        bonus
    });
    let evidence_max = vector.max(keyword).max(exact);
    let total = WEIGHT_VECTOR * vector
        + WEIGHT_KEYWORD * keyword
        + WEIGHT_RELATION * relation
        + WEIGHT_TAG * tag
        + WEIGHT_IMPORTANCE * importance
        + WEIGHT_CONFIDENCE * confidence
        + WEIGHT_RECENCY * recency
        + WEIGHT_EXACT * exact
        + context_bonus;
    let components = Components {
        vector,
        keyword,
        relation,
        tag,
        importance,
        confidence,
        recency,
        exact,
        context: context_bonus,
        evidence: evidence_max,
        temporal: None,
    };
    (total, components)
}

/// A score's parts, as AutoMem reports them in `score_components`. A struct, not
/// a JSON map: recall scores every candidate but renders only the results.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Components {
    pub vector: f64,
    pub keyword: f64,
    pub relation: f64,
    pub tag: f64,
    pub importance: f64,
    pub confidence: f64,
    pub recency: f64,
    pub exact: f64,
    pub context: f64,
    pub evidence: f64,
    /// The relative-recency re-rank's part, when it ran.
    pub temporal: Option<f64>,
}

impl Components {
    /// AutoMem's `score_components` object (its always-zero parts included).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "vector": self.vector,
            "keyword": self.keyword,
            "metadata": 0.0,
            "relation": self.relation,
            "tag": self.tag,
            "importance": self.importance,
            "confidence": self.confidence,
            "recency": self.recency,
            "exact": self.exact,
            "relevance": 0.0,
            "context": self.context,
            "evidence": self.evidence,
            "relevance_gated": false,
        });
        if let Some(t) = self.temporal {
            v["temporal"] = json!(t);
        }
        v
    }
}

/// `decision` → `Decision` (Python's `str.title` for one word).
pub fn title_case(s: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in s.trim().chars() {
        if c.is_alphabetic() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = false;
        } else {
            out.push(c);
            start = true;
        }
    }
    out
}

/// A stored timestamp as the scorer reads it.
pub fn time_of(raw: Option<&str>) -> Option<Timestamp> {
    parse_time(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MemoryId, VectorState};

    fn memory(content: &str, tags: &[&str], importance: f64, ts: &str) -> Memory {
        Memory {
            id: MemoryId::new(),
            content: content.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            tag_prefixes: vec![],
            importance,
            kind: "Decision".into(),
            confidence: 0.9,
            timestamp: Timestamp::parse(ts).unwrap().render(),
            t_valid: None,
            t_invalid: None,
            updated_at: ts.into(),
            last_accessed: ts.into(),
            metadata: Map::new(),
            archived: false,
            vector: VectorState::None,
        }
    }

    #[test]
    fn keywords_follow_automem() {
        assert_eq!(
            extract_keywords("The PostgreSQL database, and the -user_service- db"),
            ["postgresql", "database", "user_service"]
        );
    }

    #[test]
    fn the_weighted_sum_adds_up() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let m = memory(
            "Chose PostgreSQL for users",
            &["database"],
            0.8,
            "2026-01-01T00:00:00Z",
        );
        let tokens = extract_keywords("postgresql database");
        let (total, c) = score(
            &m,
            Evidence {
                vector: Some(0.5),
                keyword: None,
                relation: None,
            },
            "postgresql database",
            &tokens,
            None,
            now,
        );
        // vector .35*.5 + keyword .35*.5 (1 of 2 words in content) + tag .2*.5
        // + importance .1*.8 + confidence .05*.9 + recency .1*1.
        let expected = 0.175 + 0.175 + 0.1 + 0.08 + 0.045 + 0.1;
        assert!(
            (total - expected).abs() < 1e-9,
            "{total} vs {expected}: {c:?}"
        );
    }

    #[test]
    fn recency_fades_over_180_days() {
        let now = Timestamp::parse("2026-07-01T00:00:00Z").unwrap();
        let t = |s: &str| Some(Timestamp::parse(s).unwrap());
        assert_eq!(recency(t("2026-07-01T00:00:00Z"), now), 1.0);
        assert!((recency(t("2026-04-02T00:00:00Z"), now) - 0.5).abs() < 0.01);
        assert_eq!(recency(t("2025-01-01T00:00:00Z"), now), 0.0);
        assert_eq!(recency(t("2027-01-01T00:00:00Z"), now), 1.0);
    }

    #[test]
    fn contains_score_is_automems_keyword_score() {
        let m = memory("redis caches sessions", &["infra:redis"], 0.5, "2026-01-01");
        let kws = extract_keywords("redis");
        // content 2 + tag 1 + phrase in content 2 + phrase in tag 1 over 3 + 3.
        assert_eq!(contains_score(&m, "redis", &kws), 1.0);
        assert_eq!(contains_score(&m, "kafka", &extract_keywords("kafka")), 0.0);
    }
}
