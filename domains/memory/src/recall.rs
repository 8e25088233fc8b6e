//! Recall (AutoMem's `GET /recall`): hybrid retrieval over an org's memories.
//!
//! Each query runs the vector channel (the query's embedding against the org's
//! vectors, tag and time filters pushed into the index) and the keyword channel
//! (the keyword index) together, over-fetching candidates; with no query, tags or a
//! time window choose memories by importance or time instead. Candidates are read
//! from the item store (so a stale index entry never surfaces), filtered, scored
//! with AutoMem's weighted sum ([`crate::scoring`]) and ranked; then relations are
//! expanded, superseded and expired memories are replaced by their current state,
//! and an adaptive floor trims a long tail.

use crate::embed::embed_within;
use crate::graph;
use crate::memories::{TagMatch, ids_by_tags, millis_since};
use crate::model::{Memory, MemoryId, Relation, Timestamp, parse_embedding, split_csv};
use crate::repo::{self, Direction};
use crate::scoring::{self, Components, ContextProfile, Evidence, MatchType, extract_keywords};
use crate::{MemoryError, MemoryResult, keys, namespace, stream};
use serde_json::{Map, Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{Query, SortKey};
use skiff_core::ports::vectors::{MAX_TOP_K, MetadataFilter, VectorError, VectorQuery};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Most results one recall returns.
pub const MAX_LIMIT: usize = 100;
/// Vector candidates fetched per result wanted.
const OVERFETCH: usize = 4;
/// Most candidates one channel contributes.
const FETCH_CAP: usize = 200;
/// Vector hits below this cosine similarity (about orthogonal to the query) are no
/// evidence of anything and are left out.
const MIN_SIMILARITY: f32 = 0.01;
/// Memory types recall never shows (AutoMem's internal cluster summaries).
const EXCLUDED_TYPES: &[&str] = &["MetaPattern"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Score,
    TimeDesc,
    TimeAsc,
    UpdatedDesc,
    UpdatedAsc,
}

impl Sort {
    fn as_str(&self) -> &'static str {
        match self {
            Sort::Score => "score",
            Sort::TimeDesc => "time_desc",
            Sort::TimeAsc => "time_asc",
            Sort::UpdatedDesc => "updated_desc",
            Sort::UpdatedAsc => "updated_asc",
        }
    }
}

/// A recall request, parsed from AutoMem's query parameters.
#[derive(Debug, Clone)]
pub struct RecallRequest {
    pub query: String,
    pub queries: Vec<String>,
    pub embedding: Option<Vec<f32>>,
    pub limit: usize,
    pub per_query_limit: usize,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub sort: Sort,
    pub tags: Vec<String>,
    pub tag_all: bool,
    pub tag_match: TagMatch,
    pub exclude_tags: Vec<String>,
    pub expand_relations: bool,
    pub expand_respect_tags: bool,
    pub relation_limit: usize,
    pub expansion_limit: usize,
    pub expand_min_importance: Option<f64>,
    pub expand_min_strength: Option<f64>,
    pub min_score: Option<f64>,
    pub adaptive_floor: bool,
    pub current_only: bool,
    pub state_debug: bool,
    pub recency_bias: String,
    pub context: ContextProfile,
}

/// Query parameters as given: each name with every value it had.
pub struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn first(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|n| self.get(n).filter(|v| !v.trim().is_empty()))
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn list(&self, name: &str) -> Vec<String> {
        split_csv(&self.all(name))
    }

    fn boolean(&self, names: &[&str], default: bool) -> bool {
        match self.first(names).map(|v| v.trim().to_lowercase()) {
            Some(v) if ["1", "true", "yes", "y", "on"].contains(&v.as_str()) => true,
            Some(v) if ["0", "false", "no", "off", "n"].contains(&v.as_str()) => false,
            _ => default,
        }
    }

    fn int(&self, names: &[&str], default: i64) -> i64 {
        self.first(names)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(default)
    }

    fn unit(&self, name: &str) -> Option<f64> {
        self.get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .map(|v| v.clamp(0.0, 1.0))
    }
}

const STYLE_TAGS: &[&str] = &[
    "coding-style",
    "style",
    "style-guide",
    "preferences",
    "preference:coding",
];
const STYLE_WORDS: &[&str] = &[
    "style",
    "styles",
    "guideline",
    "guidelines",
    "pep8",
    "formatting",
    "lint",
    "preference",
    "preferences",
];
const LANGUAGES: &[(&str, &[&str])] = &[
    ("python", &["python", "py"]),
    ("typescript", &["typescript", "ts", "tsx"]),
    ("javascript", &["javascript", "js", "jsx"]),
    ("go", &["go", "golang"]),
    ("rust", &["rust"]),
    ("java", &["java"]),
    ("csharp", &["csharp", "c#", "cs"]),
    ("cpp", &["c++", "cpp", "cc", "cxx"]),
    ("swift", &["swift"]),
];
const EXTENSIONS: &[(&str, &str)] = &[
    (".py", "python"),
    (".ts", "typescript"),
    (".tsx", "typescript"),
    (".js", "javascript"),
    (".jsx", "javascript"),
    (".go", "go"),
    (".rs", "rust"),
    (".java", "java"),
    (".cs", "csharp"),
    (".cpp", "cpp"),
    (".cc", "cpp"),
    (".cxx", "cpp"),
    (".swift", "swift"),
];

fn tokens_lower(text: &str) -> HashSet<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || "_-+#.".contains(c)))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn language_hint(explicit: &str, context: &str, query: &str, path: &str) -> Option<String> {
    let known = |c: &str| {
        let c = c.trim().to_lowercase();
        LANGUAGES
            .iter()
            .find(|(l, aliases)| *l == c || aliases.contains(&c.as_str()))
            .map(|(l, _)| (*l).to_owned())
    };
    if let Some(l) = known(explicit).or_else(|| known(context)) {
        return Some(l);
    }
    if let Some(ext) = path.rfind('.').map(|i| path[i..].to_lowercase())
        && let Some((_, l)) = EXTENSIONS.iter().find(|(e, _)| *e == ext)
    {
        return Some((*l).to_owned());
    }
    let tokens = tokens_lower(query);
    LANGUAGES
        .iter()
        .find(|(_, aliases)| aliases.iter().any(|a| tokens.contains(*a)))
        .map(|(l, _)| (*l).to_owned())
}

fn context_profile(p: &Params, query: &str) -> ContextProfile {
    let label = p.get("context").unwrap_or_default().trim().to_lowercase();
    let path = p
        .first(&["active_path", "file_path", "focus_path"])
        .unwrap_or_default();
    let lang = p.first(&["language", "lang"]).unwrap_or_default();
    let mut profile = ContextProfile {
        priority_tags: p
            .list("context_tags")
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect(),
        priority_types: p
            .list("context_types")
            .iter()
            .map(|t| scoring::title_case(t))
            .collect(),
        priority_ids: {
            let mut ids: Vec<String> = vec![];
            for id in p.list("priority_ids") {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            ids
        },
        context_label: label.clone(),
        ..Default::default()
    };
    let mut style = false;
    if let Some(l) = language_hint(lang, &label, query, path) {
        profile
            .priority_tags
            .extend([l.clone(), format!("{l}-style"), format!("{l}:style")]);
        profile.priority_keywords.insert(l.clone());
        profile.language = Some(l);
        style = true;
    }
    if tokens_lower(&label)
        .iter()
        .any(|t| STYLE_WORDS.contains(&t.as_str()))
        || tokens_lower(query)
            .iter()
            .any(|t| STYLE_WORDS.contains(&t.as_str()))
    {
        style = true;
    }
    if style {
        profile
            .priority_tags
            .extend(STYLE_TAGS.iter().map(|s| (*s).to_owned()));
        profile
            .priority_types
            .extend(["Style".to_owned(), "Preference".to_owned()]);
    } else if !label.is_empty() {
        profile.priority_tags.insert(label);
    }
    profile
}

impl RecallRequest {
    /// Parse AutoMem's parameters; unknown values of enumerations fall back to the
    /// defaults as AutoMem's do, malformed times and `state_mode` are 400s.
    pub fn parse(pairs: &[(String, String)], now: Timestamp) -> MemoryResult<Self> {
        let p = Params(pairs);
        let query = p.get("query").unwrap_or_default().trim().to_owned();
        let queries = p.list("queries");
        let sort = match p
            .first(&["sort", "order_by"])
            .unwrap_or("score")
            .trim()
            .to_lowercase()
            .as_str()
        {
            "time_desc" => Sort::TimeDesc,
            "time_asc" => Sort::TimeAsc,
            "updated_desc" => Sort::UpdatedDesc,
            "updated_asc" => Sort::UpdatedAsc,
            _ => Sort::Score,
        };
        let limit = p.int(&["limit"], 5).clamp(1, MAX_LIMIT as i64) as usize;
        let per_query_limit = p
            .int(&["per_query_limit"], limit as i64)
            .clamp(1, MAX_LIMIT as i64) as usize;
        let embedding =
            parse_embedding(p.get("embedding").map(|e| Value::String(e.into())).as_ref())?;
        let (mut start, mut end) = p
            .first(&["time_query", "time"])
            .and_then(|q| crate::timeq::parse(q, now.inner()))
            .map_or((None, None), |(s, e)| (Some(s), Some(e)));
        if let Some(s) = p.get("start").filter(|s| !s.is_empty()) {
            start = Some(
                Timestamp::parse(s)
                    .map_err(|e| MemoryError::invalid(format!("Invalid start time: {e}")))?,
            );
        }
        if let Some(e) = p.get("end").filter(|s| !s.is_empty()) {
            end = Some(
                Timestamp::parse(e)
                    .map_err(|e| MemoryError::invalid(format!("Invalid end time: {e}")))?,
            );
        }
        // A window without a query is a chronological dump, newest first.
        let sort = if sort == Sort::Score
            && query.is_empty()
            && queries.is_empty()
            && embedding.is_none()
            && (start.is_some() || end.is_some())
        {
            Sort::TimeDesc
        } else {
            sort
        };
        let state_mode = p
            .get("state_mode")
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        if !state_mode.is_empty() && state_mode != "current" && state_mode != "history" {
            return Err(MemoryError::invalid(
                "'state_mode' must be 'current' or 'history'",
            ));
        }
        let current_only = match p.get("current_only") {
            Some(_) => p.boolean(&["current_only"], true),
            None => state_mode != "history",
        };
        let context = context_profile(&p, &query);
        Ok(Self {
            queries,
            embedding,
            limit,
            per_query_limit,
            start,
            end,
            sort,
            tags: p.list("tags"),
            tag_all: p.get("tag_mode").map(|m| m.trim().to_lowercase()) == Some("all".into()),
            tag_match: if p.get("tag_match").map(|m| m.trim().to_lowercase())
                == Some("exact".into())
            {
                TagMatch::Exact
            } else {
                TagMatch::Prefix
            },
            exclude_tags: p.list("exclude_tags"),
            expand_relations: p.boolean(
                &["expand_relations", "expand_associations", "expand"],
                false,
            ),
            expand_respect_tags: p.boolean(&["expand_respect_tags"], false),
            relation_limit: p.int(&["relation_limit"], 5).clamp(1, 200) as usize,
            expansion_limit: p
                .int(&["expansion_limit", "relation_expansion_limit"], 25)
                .clamp(1, 500) as usize,
            expand_min_importance: p.unit("expand_min_importance"),
            expand_min_strength: p.unit("expand_min_strength"),
            min_score: p.unit("min_score").filter(|s| *s > 0.0),
            adaptive_floor: p.boolean(&["adaptive_floor"], true),
            current_only,
            state_debug: p.boolean(&["state_debug"], false),
            recency_bias: p
                .get("recency_bias")
                .map(|r| r.trim().to_lowercase())
                .filter(|r| ["auto", "on", "off"].contains(&r.as_str()))
                .unwrap_or_else(|| "off".into()),
            context,
            query,
        })
    }

    fn state_mode(&self) -> &'static str {
        if self.current_only {
            "current"
        } else {
            "history"
        }
    }
}

/// One recall result before it is rendered.
#[derive(Debug, Clone)]
struct Hit {
    memory: Memory,
    match_type: MatchType,
    /// AutoMem's `source`: `qdrant` for the vector channel, `graph` otherwise.
    source: &'static str,
    match_score: f64,
    evidence: Evidence,
    final_score: f64,
    original_score: f64,
    components: Components,
    relations: Vec<Value>,
    extra: Map<String, Value>,
}

impl Hit {
    fn new(
        memory: Memory,
        match_type: MatchType,
        source: &'static str,
        match_score: f64,
        evidence: Evidence,
    ) -> Self {
        Self {
            memory,
            match_type,
            source,
            match_score,
            evidence,
            final_score: 0.0,
            original_score: match_score,
            components: Components::default(),
            relations: vec![],
            extra: Map::new(),
        }
    }

    fn id(&self) -> MemoryId {
        self.memory.id
    }

    fn render(&self) -> Value {
        let mut v = json!({
            "id": self.id().to_string(),
            "score": self.final_score,
            "final_score": self.final_score,
            "original_score": self.original_score,
            "match_score": self.match_score,
            "match_type": self.match_type.as_str(),
            "source": self.source,
            "memory": self.memory.to_json(),
            "relations": self.relations,
            "score_components": self.components.to_json(),
        });
        for (k, x) in &self.extra {
            v[k] = x.clone();
        }
        v
    }
}

/// Whether a memory passes the time, tag and exclusion filters (AutoMem's
/// `result_passes_filters`).
fn passes(
    m: &Memory,
    req: &RecallRequest,
    tags: Option<&[String]>,
    tag_all: bool,
    tag_match: TagMatch,
) -> bool {
    if EXCLUDED_TYPES.contains(&m.kind.as_str()) {
        return false;
    }
    if req.start.is_some() || req.end.is_some() {
        let Some(t) = m.time() else { return false };
        if req.start.is_some_and(|s| t < s) || req.end.is_some_and(|e| t > e) {
            return false;
        }
    }
    let lowered: Vec<String> = m
        .tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(filters) = tags.filter(|t| !t.is_empty()) {
        let filters: Vec<String> = filters
            .iter()
            .map(|f| f.trim().to_lowercase())
            .filter(|f| !f.is_empty())
            .collect();
        if !filters.is_empty() {
            let hit = |f: &String| match tag_match {
                TagMatch::Exact => lowered.contains(f),
                TagMatch::Prefix => m.tag_prefixes.contains(f),
            };
            let ok = if tag_all {
                filters.iter().all(hit)
            } else {
                filters.iter().any(hit)
            };
            if !ok {
                return false;
            }
        }
    }
    if !req.exclude_tags.is_empty() {
        let excluded = req.exclude_tags.iter().map(|t| t.trim().to_lowercase());
        for x in excluded.filter(|x| !x.is_empty()) {
            if lowered.iter().any(|t| t.starts_with(&x)) {
                return false;
            }
        }
    }
    true
}

fn vector_filter(req: &RecallRequest) -> Option<MetadataFilter> {
    let mut all = vec![];
    let filters: Vec<String> = req
        .tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if !filters.is_empty() {
        let field = match req.tag_match {
            TagMatch::Exact => "tx",
            TagMatch::Prefix => "tp",
        };
        let tags = if req.tag_all {
            MetadataFilter::And(
                filters
                    .iter()
                    .map(|f| MetadataFilter::Eq(field.into(), f.clone().into()))
                    .collect(),
            )
        } else {
            MetadataFilter::In(
                field.into(),
                filters.iter().map(|f| f.clone().into()).collect(),
            )
        };
        all.push(MetadataFilter::Or(vec![
            tags,
            MetadataFilter::Eq("tags_overflow".into(), true.into()),
        ]));
    }
    if let Some(s) = req.start {
        all.push(MetadataFilter::Gte("ts".into(), s.unix_f64()));
    }
    if let Some(e) = req.end {
        all.push(MetadataFilter::Lte("ts".into(), e.unix_f64()));
    }
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(MetadataFilter::And(all)),
    }
}

/// What one query found, with whether its vector channel matched anything.
struct QueryRun {
    hits: Vec<Hit>,
    vector_matched: usize,
}

async fn run_query(
    services: &Services,
    org: &OrgId,
    req: &RecallRequest,
    q: &str,
    query_vector: Option<&[f32]>,
    limit: usize,
    now: Timestamp,
) -> MemoryResult<QueryRun> {
    let ns = namespace(org);
    let store = services.store.as_ref();
    let searchable = !q.is_empty() && q != "*";
    let mut order: Vec<(MemoryId, MatchType, &'static str, f64, Evidence)> = vec![];
    let mut seen: HashSet<MemoryId> = HashSet::new();
    let mut vector_matched = 0;

    let mut fetch = limit.max((limit * OVERFETCH).min(FETCH_CAP));
    if !req.tags.is_empty() || !req.context.priority_tags.is_empty() {
        fetch = limit.max(fetch.clamp(MAX_LIMIT, FETCH_CAP));
    }
    let top_k = fetch.min(MAX_TOP_K);

    if let Some(vector) = query_vector {
        let query = VectorQuery {
            vector: vector.to_vec(),
            top_k,
            filter: vector_filter(req),
        };
        match services.vectors.query(&ns, &query).await {
            Ok(hits) => {
                for h in hits.into_iter().filter(|h| h.score >= MIN_SIMILARITY) {
                    let Ok(id) = MemoryId::parse(h.id.as_str()) else {
                        continue;
                    };
                    if seen.insert(id) {
                        vector_matched += 1;
                        let score = f64::from(h.score);
                        order.push((
                            id,
                            MatchType::Vector,
                            "qdrant",
                            score,
                            Evidence {
                                vector: Some(score),
                                ..Default::default()
                            },
                        ));
                    }
                }
            }
            // Vectors of another size than this org's: the vector channel is silent.
            Err(VectorError::DimensionMismatch { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let keywords = extract_keywords(q);
    let mut keyword_best = 0.0f64;
    let mut keyword_scores: HashMap<MemoryId, f64> = HashMap::new();
    if searchable {
        for h in services.keywords.search(&ns, q, fetch).await? {
            let Ok(id) = MemoryId::parse(h.id.as_str()) else {
                continue;
            };
            keyword_best = keyword_best.max(h.score);
            keyword_scores.insert(id, h.score);
            if seen.insert(id) {
                order.push((
                    id,
                    MatchType::Keyword,
                    "graph",
                    h.score,
                    Evidence::default(),
                ));
            }
        }
    } else if req.embedding.is_none() {
        // No query: the most important memories under the tags, or in the window.
        let ids = if !req.tags.is_empty() {
            ids_by_tags(services, org, &req.tags, req.tag_match, 0, fetch)
                .await?
                .0
        } else {
            trending(services, org, req, fetch).await?
        };
        for id in ids {
            if seen.insert(id) {
                order.push((id, MatchType::Trending, "graph", 0.0, Evidence::default()));
            }
        }
    }

    let ids: Vec<MemoryId> = order.iter().map(|o| o.0).collect();
    let mut memories: HashMap<MemoryId, Memory> = repo::get_many(store, org, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut hits = vec![];
    for (id, match_type, source, mut match_score, mut evidence) in order {
        // Each id is in `order` once, so its memory can move into the hit.
        let Some(m) = memories.remove(&id) else {
            continue;
        };
        if !passes(&m, req, Some(&req.tags), req.tag_all, req.tag_match) {
            continue;
        }
        match match_type {
            MatchType::Keyword => {
                // AutoMem's keyword score; a match only through stems or folding
                // (which it does not see) counts by its relative BM25, halved.
                let contains = scoring::contains_score(&m, q, &keywords);
                let relative = keyword_scores
                    .get(&id)
                    .map_or(0.0, |s| s / keyword_best.max(f64::MIN_POSITIVE));
                match_score = if contains > 0.0 {
                    contains
                } else {
                    0.5 * relative
                };
                evidence.keyword = Some(match_score);
            }
            MatchType::Trending => match_score = m.importance,
            _ => {}
        }
        hits.push(Hit::new(m, match_type, source, match_score, evidence));
    }
    let context = (!req.context.is_empty()).then_some(&req.context);
    rank(&mut hits, q, &keywords, context, req, now);
    if let Some(context) = context {
        inject_priority(
            services, org, req, context, &mut hits, limit, q, &keywords, now,
        )
        .await?;
    }
    let hits = guarantee(hits, &req.context, limit);
    Ok(QueryRun {
        hits,
        vector_matched,
    })
}

/// The most important memories (or, sorted by time, the newest or oldest) in the
/// request's window.
async fn trending(
    services: &Services,
    org: &OrgId,
    req: &RecallRequest,
    limit: usize,
) -> MemoryResult<Vec<MemoryId>> {
    let store = services.store.as_ref();
    let by_time = matches!(
        req.sort,
        Sort::TimeAsc | Sort::TimeDesc | Sort::UpdatedAsc | Sort::UpdatedDesc
    ) || req.start.is_some()
        || req.end.is_some();
    if by_time {
        let lower = req.start.map_or_else(|| "0".to_owned(), |s| s.render());
        let upper = req.end.map_or_else(
            || "9999-12-31T23:59:59.999999+00:00~".to_owned(),
            |e| format!("{}~", e.render()),
        );
        let mut query = Query::gsi1(keys::time_partition(org)).limit(limit);
        query.sort = SortKey::Between(lower, upper);
        if !matches!(req.sort, Sort::TimeAsc | Sort::UpdatedAsc) {
            query = query.descending();
        }
        let page = store.query(query).await?;
        return page
            .items
            .iter()
            .map(|i| i.parse::<Memory>().map(|m| m.id))
            .collect::<Result<_, _>>()
            .map_err(Into::into);
    }
    let (entries, _) = repo::rank_page(store, keys::all_partition(org), limit, None).await?;
    Ok(entries.into_iter().map(|e| e.id).collect())
}

fn score_hit(
    h: &mut Hit,
    q: &str,
    tokens: &[String],
    context: Option<&ContextProfile>,
    now: Timestamp,
) {
    let (score, components) = scoring::score(&h.memory, h.evidence, q, tokens, context, now);
    h.final_score = score;
    h.components = Components {
        temporal: h.components.temporal,
        ..components
    };
}

fn sort_hits(hits: &mut [Hit], sort: Sort) {
    match sort {
        Sort::Score => hits.sort_by(|a, b| {
            b.final_score
                .total_cmp(&a.final_score)
                .then_with(|| (a.source != "qdrant").cmp(&(b.source != "qdrant")))
                .then_with(|| b.original_score.total_cmp(&a.original_score))
                .then_with(|| b.memory.importance.total_cmp(&a.memory.importance))
                .then_with(|| b.memory.timestamp.cmp(&a.memory.timestamp))
        }),
        _ => {
            let key = |h: &Hit| {
                (
                    h.memory.updated_at.clone(),
                    h.memory.timestamp.clone(),
                    h.id().to_string(),
                )
            };
            hits.sort_by_key(key);
            if matches!(sort, Sort::TimeDesc | Sort::UpdatedDesc) {
                hits.reverse();
            }
        }
    }
}

/// Content reduced to its words, for spotting the same text under two ids: folded
/// to lower case, runs of anything but `[a-z0-9_]` as one space, trimmed, the first
/// 320 characters. One pass, no intermediate strings: recall takes the
/// fingerprint of every candidate.
fn fingerprint(content: &str) -> Option<String> {
    const MAX: usize = 320;
    let mut out = String::with_capacity(content.len().min(MAX));
    let mut gap = false;
    // Adds one lower-case character; false once the fingerprint is full.
    let mut add = |c: char| {
        if !(c.is_ascii_alphanumeric() || c == '_') {
            gap = true;
            return true;
        }
        if gap && !out.is_empty() {
            if out.len() == MAX {
                return false;
            }
            out.push(' ');
        }
        gap = false;
        if out.len() == MAX {
            return false;
        }
        out.push(c);
        true
    };
    for c in content.chars() {
        // Unicode's lower case only off ASCII, where it can still yield a kept
        // letter (the Kelvin sign's is `k`).
        let more = if c.is_ascii() {
            add(c.to_ascii_lowercase())
        } else {
            c.to_lowercase().all(&mut add)
        };
        if !more {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A hit's identity for [`dedupe`]: its id, or its content's fingerprint.
#[derive(PartialEq, Eq, Hash)]
enum DedupeKey {
    Id(MemoryId),
    Content(String),
}

/// Drop repeats (same id, or same content under another id), keeping the best.
fn dedupe(hits: Vec<Hit>) -> (Vec<Hit>, usize) {
    let mut out: Vec<Hit> = vec![];
    let mut by_key: HashMap<DedupeKey, usize> = HashMap::new();
    let mut removed = 0;
    for h in hits {
        let id_key = DedupeKey::Id(h.id());
        let fp = fingerprint(&h.memory.content).map(DedupeKey::Content);
        let existing = by_key
            .get(&id_key)
            .or_else(|| fp.as_ref().and_then(|f| by_key.get(f)))
            .copied();
        match existing {
            Some(i) => {
                removed += 1;
                let better = h.final_score > out[i].final_score
                    || (h.final_score == out[i].final_score
                        && h.memory.timestamp > out[i].memory.timestamp);
                let mut sources: Vec<Value> = out[i]
                    .extra
                    .get("deduped_from")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_else(|| vec![out[i].id().to_string().into()]);
                sources.push(h.id().to_string().into());
                if better {
                    out[i] = h;
                }
                let mut unique: Vec<String> = sources
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                unique.sort();
                unique.dedup();
                if unique.len() > 1 {
                    out[i].extra.insert("deduped_from".into(), json!(unique));
                }
            }
            None => {
                by_key.insert(id_key, out.len());
                if let Some(f) = fp {
                    by_key.insert(f, out.len());
                }
                out.push(h);
            }
        }
    }
    (out, removed)
}

fn rank(
    hits: &mut Vec<Hit>,
    q: &str,
    tokens: &[String],
    context: Option<&ContextProfile>,
    req: &RecallRequest,
    now: Timestamp,
) {
    for h in hits.iter_mut() {
        score_hit(h, q, tokens, context, now);
    }
    if let Some(min) = req.min_score {
        hits.retain(|h| h.final_score >= min);
    }
    let (deduped, _) = dedupe(std::mem::take(hits));
    *hits = deduped;
    sort_hits(hits, req.sort);
}

/// Put the requested priority ids first, then the rest, up to `limit`.
fn guarantee(hits: Vec<Hit>, context: &ContextProfile, limit: usize) -> Vec<Hit> {
    if context.priority_ids.is_empty() {
        return hits.into_iter().take(limit).collect();
    }
    let (mut first, rest): (Vec<Hit>, Vec<Hit>) = hits
        .into_iter()
        .partition(|h| context.priority_ids.contains(&h.id().to_string()));
    first.sort_by_key(|h| {
        context
            .priority_ids
            .iter()
            .position(|p| *p == h.id().to_string())
    });
    first.extend(rest);
    first.truncate(limit);
    first
}

fn matches_context(h: &Hit, context: &ContextProfile) -> bool {
    if context.priority_ids.contains(&h.id().to_string()) {
        return true;
    }
    let tags: Vec<String> = h
        .memory
        .tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .collect();
    if tags.iter().any(|t| {
        context
            .priority_tags
            .iter()
            .any(|p| t == p || t.starts_with(p.as_str()) || t.contains(p.as_str()))
    }) {
        return true;
    }
    context
        .priority_types
        .contains(&scoring::title_case(&h.memory.kind))
}

/// Fetch the priority ids and a few priority-tagged memories missing from the
/// results (AutoMem's context injection).
#[allow(clippy::too_many_arguments)]
async fn inject_priority(
    services: &Services,
    org: &OrgId,
    req: &RecallRequest,
    context: &ContextProfile,
    hits: &mut Vec<Hit>,
    limit: usize,
    q: &str,
    tokens: &[String],
    now: Timestamp,
) -> MemoryResult<()> {
    let shown: Vec<Hit> = guarantee(hits.clone(), context, limit);
    let missing_ids = context
        .priority_ids
        .iter()
        .any(|id| !shown.iter().any(|h| h.id().to_string() == *id));
    let needs_tags =
        !context.priority_tags.is_empty() && !shown.iter().any(|h| matches_context(h, context));
    if !missing_ids && !needs_tags {
        return Ok(());
    }
    let mut present: HashSet<MemoryId> = hits.iter().map(Hit::id).collect();
    let mut added = false;
    let wanted: Vec<MemoryId> = context
        .priority_ids
        .iter()
        .filter_map(|id| MemoryId::parse(id).ok())
        .filter(|id| !present.contains(id))
        .collect();
    for m in repo::get_many(services.store.as_ref(), org, &wanted).await? {
        present.insert(m.id);
        hits.push(Hit::new(
            m,
            MatchType::PriorityId,
            "graph",
            0.0,
            Evidence::default(),
        ));
        added = true;
    }
    if needs_tags {
        let tags: Vec<String> = context.priority_tags.iter().cloned().collect();
        let (ids, _) =
            ids_by_tags(services, org, &tags, req.tag_match, 0, limit.clamp(1, 3)).await?;
        for m in repo::get_many(services.store.as_ref(), org, &ids).await? {
            if present.insert(m.id) && passes(&m, req, Some(&tags), false, req.tag_match) {
                hits.push(Hit::new(
                    m,
                    MatchType::Trending,
                    "graph",
                    0.0,
                    Evidence::default(),
                ));
                added = true;
            }
        }
    }
    if added {
        rank(hits, q, tokens, Some(context), req, now);
    }
    Ok(())
}

/// Follow the seeds' edges to related memories (AutoMem's relation expansion).
async fn expand(
    services: &Services,
    org: &OrgId,
    req: &RecallRequest,
    seeds: &[Hit],
    tokens: &[String],
    now: Timestamp,
) -> MemoryResult<Vec<Hit>> {
    let mut seen: HashSet<MemoryId> = seeds.iter().map(Hit::id).collect();
    let mut expansions: Vec<Hit> = vec![];
    let mut index: HashMap<MemoryId, usize> = HashMap::new();
    for (rank, seed) in seeds.iter().enumerate() {
        if expansions.len() >= req.expansion_limit {
            break;
        }
        let edges = repo::edges(
            services.store.as_ref(),
            org,
            &seed.id(),
            Direction::Both,
            req.relation_limit,
        )
        .await?;
        for (_, edge) in edges {
            if expansions.len() >= req.expansion_limit {
                break;
            }
            let Some(rel) = edge.relation().filter(Relation::default_expand) else {
                continue;
            };
            if req.expand_min_strength.is_some_and(|m| edge.strength < m) {
                continue;
            }
            let info = json!({
                "type": rel.as_str(),
                "strength": edge.strength,
                "from": seed.id().to_string(),
                "seed_rank": rank,
                "seed_score": seed.final_score,
            });
            let score = edge.strength + seed.final_score.max(0.0) * 0.25;
            if let Some(i) = index.get(&edge.other) {
                let h = &mut expansions[*i];
                h.evidence.relation = Some(h.evidence.relation.unwrap_or(0.0).max(score));
                h.relations.push(info.clone());
                if let Some(Value::Array(r)) = h.extra.get_mut("related_to") {
                    r.push(info);
                }
                continue;
            }
            if seen.contains(&edge.other) {
                continue;
            }
            let Some((m, _)) = repo::get(services.store.as_ref(), org, &edge.other).await? else {
                continue;
            };
            if req
                .expand_min_importance
                .is_some_and(|min| m.importance < min)
            {
                continue;
            }
            let tag_filter = req.expand_respect_tags.then_some(req.tags.as_slice());
            let tag_match = if req.expand_respect_tags {
                req.tag_match
            } else {
                TagMatch::Exact
            };
            if !passes(
                &m,
                req,
                tag_filter,
                req.expand_respect_tags && req.tag_all,
                tag_match,
            ) {
                continue;
            }
            seen.insert(m.id);
            let mut hit = Hit::new(
                m,
                MatchType::Relation,
                "graph",
                score,
                Evidence {
                    relation: Some(score),
                    ..Default::default()
                },
            );
            hit.relations.push(info.clone());
            hit.extra.insert("related_to".into(), json!([info]));
            hit.extra.insert("relation_score".into(), json!(score));
            index.insert(hit.id(), expansions.len());
            expansions.push(hit);
        }
    }
    let context = (!req.context.is_empty()).then_some(&req.context);
    for h in expansions.iter_mut() {
        score_hit(h, &req.query, tokens, context, now);
        h.components.relation = h.evidence.relation.unwrap_or(0.0);
    }
    expansions.sort_by(|a, b| b.final_score.total_cmp(&a.final_score));
    Ok(expansions)
}

/// The outgoing edges of the memories one recall looked at, read once each (the
/// current-state filter and the relations listed both need them).
#[derive(Default)]
struct OutEdges(HashMap<MemoryId, Vec<(Direction, repo::Edge)>>);

impl OutEdges {
    /// Read the edges of those of `ids` not read yet, together.
    async fn prefetch(
        &mut self,
        services: &Services,
        org: &OrgId,
        ids: impl Iterator<Item = MemoryId>,
    ) -> MemoryResult<()> {
        let mut missing: Vec<MemoryId> = ids.filter(|id| !self.0.contains_key(id)).collect();
        missing.sort_unstable();
        missing.dedup();
        let edges = repo::out_edges_of_many(services.store.as_ref(), org, &missing).await?;
        self.0.extend(missing.into_iter().zip(edges));
        Ok(())
    }

    async fn of(
        &mut self,
        services: &Services,
        org: &OrgId,
        id: &MemoryId,
    ) -> MemoryResult<&[(Direction, repo::Edge)]> {
        if !self.0.contains_key(id) {
            let edges = repo::edges(services.store.as_ref(), org, id, Direction::Out, 0).await?;
            self.0.insert(*id, edges);
        }
        Ok(&self.0[id])
    }
}

/// Hide what is not current state, putting the head of a superseding chain in its
/// place (AutoMem's current-state filter).
async fn current_state(
    services: &Services,
    org: &OrgId,
    req: &RecallRequest,
    hits: Vec<Hit>,
    now: Timestamp,
    out_edges: &mut OutEdges,
) -> MemoryResult<(Vec<Hit>, Value)> {
    let mut seen: HashSet<MemoryId> = hits.iter().map(Hit::id).collect();
    let mut out = vec![];
    let (mut suppressed, mut replaced) = (0, 0);
    let (mut suppressed_debug, mut replaced_debug) = (vec![], vec![]);
    for h in hits {
        let mut reason = h.memory.state_reason(now);
        let edges = out_edges.of(services, org, &h.id()).await?;
        let replacement = graph::replacement_among(services, org, &h.id(), edges, now).await?;
        if replacement.is_some() && reason.is_none() {
            reason = Some("superseded");
        }
        let Some(reason) = reason else {
            out.push(h);
            continue;
        };
        suppressed += 1;
        let mut debug = json!({"id": h.id().to_string(), "reason": reason});
        if let Some((head, edge)) = replacement {
            debug["replacement_id"] = head.id.to_string().into();
            debug["relation_type"] = edge.relation.clone().into();
            if !seen.contains(&head.id)
                && passes(&head, req, Some(&req.tags), req.tag_all, req.tag_match)
            {
                seen.insert(head.id);
                replaced += 1;
                replaced_debug.push(json!({"id": head.id.to_string(), "replaces_id": h.id().to_string(), "relation_type": edge.relation}));
                let mut r = Hit::new(
                    head,
                    MatchType::StateReplacement,
                    "graph",
                    h.match_score,
                    h.evidence,
                );
                r.final_score = h.final_score;
                r.original_score = h.original_score;
                r.components = h.components;
                r.relations = vec![
                    json!({"type": edge.relation, "strength": edge.strength, "from": h.id().to_string()}),
                ];
                r.extra
                    .insert("state_replaces".into(), h.id().to_string().into());
                out.push(r);
            }
        }
        suppressed_debug.push(debug);
    }
    let mut info = json!({
        "current_only": true,
        "suppressed_count": suppressed,
        "replacement_count": replaced,
    });
    if req.state_debug {
        info["suppressed"] = json!(suppressed_debug);
        info["replacements"] = json!(replaced_debug);
    }
    Ok((out, info))
}

/// Run a recall; answers AutoMem's body.
pub async fn recall(services: &Services, org: &OrgId, req: RecallRequest) -> MemoryResult<Value> {
    let start = Instant::now();
    let now = Timestamp::from_offset(services.clock.now());
    if let Some(v) = &req.embedding {
        crate::memories::check_dimension(services, org, v).await?;
    }
    let is_multi = !req.queries.is_empty();
    let queries: Vec<String> = if is_multi {
        req.queries.clone()
    } else {
        vec![req.query.clone()]
    };
    // The queries' embeddings, in one call to the provider.
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; queries.len()];
    if let Some(v) = &req.embedding {
        vectors = vec![Some(v.clone()); queries.len()];
    } else {
        let texts: Vec<(usize, String)> = queries
            .iter()
            .enumerate()
            .filter(|(_, q)| !q.is_empty() && q.as_str() != "*")
            .map(|(i, q)| (i, q.clone()))
            .collect();
        if !texts.is_empty() {
            let only: Vec<String> = texts.iter().map(|(_, q)| q.clone()).collect();
            match embed_within(services, &only, crate::settings(services).embed_timeout).await {
                Ok(Some(vs)) => {
                    for ((i, _), v) in texts.iter().zip(vs) {
                        vectors[*i] = Some(v);
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "recall without the vector channel"),
            }
        }
    }
    let vector_enabled = vectors.iter().any(Option::is_some);

    let mut all = vec![];
    let mut vector_matches = 0;
    for (q, v) in queries.iter().zip(&vectors) {
        let run = run_query(
            services,
            org,
            &req,
            q,
            v.as_deref(),
            req.per_query_limit,
            now,
        )
        .await?;
        vector_matches += run.vector_matched;
        for mut h in run.hits {
            h.extra.insert("_query".into(), q.clone().into());
            all.push(h);
        }
    }
    let (mut seeds, dedup_removed) = dedupe(all);
    sort_hits(&mut seeds, req.sort);
    let seeds = guarantee(seeds, &req.context, req.limit);

    let tokens = extract_keywords(&req.query);
    let mut results = seeds.clone();
    let mut expansion = None;
    if req.expand_relations {
        let expanded = expand(services, org, &req, &seeds, &tokens, now).await?;
        expansion = Some(json!({
            "enabled": true,
            "seed_count": seeds.len(),
            "expanded_count": expanded.len(),
            "relation_limit": req.relation_limit,
            "expansion_limit": req.expansion_limit,
            "respect_tags": req.expand_respect_tags,
        }));
        results.extend(expanded);
    }
    let mut state_filter = None;
    let mut out_edges = OutEdges::default();
    // Every result's edges are needed below (the state filter, the relations).
    out_edges
        .prefetch(services, org, results.iter().map(Hit::id))
        .await?;
    if req.current_only {
        let (kept, info) = current_state(services, org, &req, results, now, &mut out_edges).await?;
        results = kept;
        state_filter = Some(info);
    }
    let recency_active = match req.recency_bias.as_str() {
        "on" => true,
        "auto" => queries.iter().any(|q| crate::timeq::has_temporal_intent(q)),
        _ => false,
    } && req.sort == Sort::Score
        && !results.is_empty();
    if recency_active {
        let epochs: Vec<Option<f64>> = results
            .iter()
            .map(|h| h.memory.time().map(|t| t.unix_f64()))
            .collect();
        let valid: Vec<f64> = epochs.iter().flatten().copied().collect();
        let (lo, hi) = valid
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        if hi > lo {
            for (h, e) in results.iter_mut().zip(epochs) {
                if let Some(e) = e {
                    let rel = (e - lo) / (hi - lo);
                    h.final_score += scoring::WEIGHT_TEMPORAL * rel;
                    h.components.temporal = Some(rel);
                }
            }
            sort_hits(&mut results, Sort::Score);
        }
    }
    let pre_filter = results.len();
    let mut floor = None;
    if req.sort == Sort::Score && req.adaptive_floor && results.len() > 3 {
        let mut scores: Vec<f64> = results.iter().map(|h| h.final_score).collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        let halfway = 3.max(scores.len() / 2);
        let (mut max_gap, mut gap_at) = (0.0, 0);
        for i in 1..halfway.min(scores.len()) {
            let gap = scores[i - 1] - scores[i];
            if gap > max_gap {
                max_gap = gap;
                gap_at = i;
            }
        }
        if max_gap > 0.25 * scores[0] && gap_at > 0 {
            let candidate = scores[gap_at];
            let kept = results
                .iter()
                .filter(|h| h.final_score >= candidate)
                .count();
            if kept >= results.len().div_ceil(2) {
                results.retain(|h| h.final_score >= candidate);
                floor = Some(candidate);
            }
        }
    }
    if let Some(min) = req.min_score {
        results.retain(|h| h.final_score >= min);
    }
    let filtered = pre_filter - results.len();
    for h in results.iter_mut() {
        if h.relations.is_empty() {
            let edges = out_edges.of(services, org, &h.id()).await?;
            h.relations = graph::relations_among(services, org, edges, req.relation_limit).await?;
        }
    }

    let rendered: Vec<Value> = results.iter().map(Hit::render).collect();
    let mut body = json!({
        "status": "success",
        "query": req.query,
        "results": rendered,
        "count": results.len(),
        "dedup_removed": dedup_removed,
        "sort": req.sort.as_str(),
        "state_mode": req.state_mode(),
        "vector_search": {"enabled": vector_enabled, "matched": vector_matches > 0},
        "tag_mode": if req.tag_all { "all" } else { "any" },
        "tag_match": match req.tag_match { TagMatch::Exact => "exact", TagMatch::Prefix => "prefix" },
    });
    if let Some(e) = expansion {
        body["expansion"] = e;
    }
    if is_multi {
        body["queries"] = json!(queries);
    } else if !req.query.is_empty() {
        body["keywords"] = json!(tokens);
    }
    if req.start.is_some() || req.end.is_some() {
        body["time_window"] = json!({
            "start": req.start.map(|t| t.render()),
            "end": req.end.map(|t| t.render()),
        });
    }
    if !req.tags.is_empty() {
        body["tags"] = json!(req.tags);
        body["tag_scope"] = json!({
            "filtered": true,
            "pool_size_hint": if vector_enabled { Some(vector_matches) } else { None },
            "gated_low_evidence": 0,
        });
    }
    if !req.exclude_tags.is_empty() {
        body["exclude_tags"] = json!(req.exclude_tags);
    }
    if let Some(s) = state_filter {
        body["state_filter"] = s;
    }
    if recency_active {
        body["recency_bias"] = "on".into();
    }
    if req.min_score.is_some() || floor.is_some() {
        body["score_filter"] = json!({
            "min_score": req.min_score,
            "adaptive_floor": floor,
            "filtered_count": filtered,
        });
    }
    if !req.context.is_empty() {
        let mut tags: Vec<&String> = req.context.priority_tags.iter().collect();
        tags.sort();
        let mut types: Vec<&String> = req.context.priority_types.iter().collect();
        types.sort();
        body["context_priority"] = json!({
            "language": req.context.language,
            "context": req.context.context_label,
            "priority_tags": tags.into_iter().take(10).collect::<Vec<_>>(),
            "priority_types": types,
            "injected": results.iter().any(|h| h.match_type == MatchType::PriorityId),
        });
    }
    let elapsed = millis_since(start);
    body["query_time_ms"] = json!(elapsed);
    stream::publish(
        services,
        org,
        "memory.recall",
        json!({
            "query": if req.query.is_empty() { "(no query)".to_owned() } else { req.query.chars().take(50).collect() },
            "limit": req.limit,
            "result_count": results.len(),
            "elapsed_ms": elapsed as i64,
            "tags": req.tags.iter().take(3).collect::<Vec<_>>(),
        }),
    );
    Ok(body)
}

/// `GET /startup-recall`: the critical lessons and system rules an agent reads
/// when it starts.
pub async fn startup(services: &Services, org: &OrgId) -> MemoryResult<Value> {
    let store = services.store.as_ref();
    let lesson_tags = ["critical", "lesson", "ai-assistant"].map(String::from);
    let (ids, _) = ids_by_tags(services, org, &lesson_tags, TagMatch::Exact, 0, 10).await?;
    let lessons: Vec<Value> = repo::get_many(store, org, &ids)
        .await?
        .iter()
        .map(|m| {
            json!({
                "id": m.id.to_string(), "content": m.content, "tags": m.tags,
                "importance": m.importance, "type": m.kind, "metadata": m.metadata,
            })
        })
        .collect();
    let rule_tags = ["system", "memory-recall"].map(String::from);
    let (ids, _) = ids_by_tags(services, org, &rule_tags, TagMatch::Exact, 0, 5).await?;
    let rules: Vec<Value> = repo::get_many(store, org, &ids)
        .await?
        .iter()
        .map(|m| json!({"id": m.id.to_string(), "content": m.content, "tags": m.tags}))
        .collect();
    let has_critical = lessons
        .iter()
        .any(|l| l["importance"].as_f64().unwrap_or(0.0) >= 0.9);
    Ok(json!({
        "status": "success",
        "critical_lessons": lessons,
        "system_rules": rules,
        "lesson_count": lessons.len(),
        "has_critical": has_critical,
        "summary": format!("Recalled {} lesson(s) and {} system rule(s)", lessons.len(), rules.len()),
    }))
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    /// The fingerprint spelled out step by step.
    fn plainly(content: &str) -> Option<String> {
        let cleaned: String = content
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        (!joined.is_empty()).then(|| joined.chars().take(320).collect())
    }

    #[test]
    fn the_one_pass_fingerprint_equals_the_plain_one() {
        let long_word = "x".repeat(330);
        let at_the_edge = format!("{} tail", "a".repeat(320));
        let space_at_the_edge = format!("{} tail", "a".repeat(319));
        let samples = [
            "",
            "   ",
            "We decided: use Postgres!",
            "  leading and trailing  ",
            "snake_case and CamelCase, ÄÖÜ straße \u{212A}elvin İstanbul",
            "σίσυφος ΣΊΣΥΦΟΣ",
            "tabs\tand\nnewlines",
            long_word.as_str(),
            at_the_edge.as_str(),
            space_at_the_edge.as_str(),
        ];
        for s in samples {
            assert_eq!(fingerprint(s), plainly(s), "{s:?}");
        }
        let words = "deploy cache rollback incident ".repeat(20);
        assert_eq!(fingerprint(&words), plainly(&words));
        assert_eq!(fingerprint(&words).unwrap().len(), 320);
    }
}
