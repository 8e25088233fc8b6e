//! What a memory is, and how AutoMem's request fields parse into it: ids, types,
//! tags and their prefixes, timestamps, relation types. Messages are AutoMem's,
//! so a client that shows them reads what it is used to.

use crate::MemoryError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest memory content, in characters.
pub const CONTENT_HARD_LIMIT: usize = 2000;
/// Most tag prefixes (see [`tag_prefixes`]) one memory's tags may expand to: each
/// is an index entry written with the memory.
pub const MAX_TAG_PREFIXES: usize = 40;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 256;
/// Largest metadata object, as JSON.
pub const MAX_METADATA_BYTES: usize = 32 * 1024;

/// A memory's id: a UUID, as AutoMem's are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemoryId(uuid::Uuid);

impl MemoryId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// `memory_id must be a valid UUID` otherwise (AutoMem's 400).
    pub fn parse(raw: &str) -> Result<Self, MemoryError> {
        Self::parse_field(raw, "memory_id must be a valid UUID")
    }

    pub fn parse_field(raw: &str, message: &str) -> Result<Self, MemoryError> {
        uuid::Uuid::parse_str(raw.trim())
            .map(Self)
            .map_err(|_| MemoryError::invalid(message))
    }
}

impl Default for MemoryId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for MemoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// An instant, always rendered the same way (UTC, microseconds), so stored
/// timestamps sort as text in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn from_unix_nanos(nanos: i128) -> Self {
        Self(
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                .replace_nanosecond(0)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    }

    pub fn from_offset(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        let micros = t.microsecond();
        Self(t.replace_microsecond(micros).unwrap_or(t))
    }

    /// Parse an ISO 8601 timestamp as Python's `datetime.fromisoformat` reads
    /// AutoMem's: with or without offset (`Z` or `±HH:MM`; none means UTC), with `T`
    /// or a space, seconds and fractions optional, or a bare date.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Timestamp must be a non-empty ISO formatted string".into());
        }
        let mut s = s.replacen(' ', "T", 1);
        if s.len() == 10 {
            s.push_str("T00:00:00");
        }
        let t_at = s
            .find('T')
            .ok_or_else(|| "Invalid ISO timestamp".to_owned())?;
        // Split off the offset: `Z`, `±HH`, `±HHMM` or `±HH:MM`; none means UTC.
        let (body, offset) = if let Some(b) = s.strip_suffix(['Z', 'z']) {
            (b.to_owned(), "+00:00".to_owned())
        } else if let Some(i) = s[t_at..].rfind(['+', '-']).map(|i| i + t_at) {
            let digits: String = s[i + 1..].chars().filter(|c| *c != ':').collect();
            let offset = match digits.len() {
                2 => format!("{}{digits}:00", &s[i..=i]),
                4 => format!("{}{}:{}", &s[i..=i], &digits[..2], &digits[2..]),
                _ => return Err("Invalid ISO timestamp".into()),
            };
            (s[..i].to_owned(), offset)
        } else {
            (s.clone(), "+00:00".to_owned())
        };
        // Seconds are optional in ISO 8601, not in RFC 3339.
        let body = if body.len() == t_at + 6 {
            format!("{body}:00")
        } else {
            body
        };
        if let Ok(t) = OffsetDateTime::parse(&format!("{body}{offset}"), &Rfc3339) {
            return Self::bounded(t);
        }
        Err("Invalid ISO timestamp".into())
    }

    fn bounded(t: OffsetDateTime) -> Result<Self, String> {
        let t = t.to_offset(time::UtcOffset::UTC);
        if t.year() < 1 || t.year() > 9999 {
            return Err("Invalid ISO timestamp".into());
        }
        Ok(Self::from_offset(t))
    }

    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn unix_f64(&self) -> f64 {
        self.0.unix_timestamp_nanos() as f64 / 1e9
    }

    pub fn inner(&self) -> OffsetDateTime {
        self.0
    }

    /// `2026-01-31T12:00:00.000000+00:00`.
    pub fn render(&self) -> String {
        let t = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

/// Parse a stored or sent timestamp, `None` when absent or unreadable.
pub fn parse_time(raw: Option<&str>) -> Option<Timestamp> {
    raw.and_then(|r| Timestamp::parse(r).ok())
}

/// The seven memory types, and the aliases AutoMem maps onto them.
pub const MEMORY_TYPES: [&str; 7] = [
    "Decision",
    "Pattern",
    "Preference",
    "Style",
    "Habit",
    "Insight",
    "Context",
];

const TYPE_ALIASES: &[(&str, &str)] = &[
    ("decision", "Decision"),
    ("pattern", "Pattern"),
    ("preference", "Preference"),
    ("style", "Style"),
    ("habit", "Habit"),
    ("insight", "Insight"),
    ("context", "Context"),
    ("memory", "Context"),
    ("milestone", "Context"),
    ("analysis", "Insight"),
    ("observation", "Insight"),
    ("document", "Context"),
    ("meeting_notes", "Context"),
    ("template", "Pattern"),
    ("project", "Context"),
    ("issue", "Insight"),
    ("timeline", "Context"),
    ("organization", "Context"),
    ("person", "Context"),
    ("interests", "Preference"),
    ("personality", "Preference"),
    ("emotional_patterns", "Preference"),
    ("relationship_dynamics", "Preference"),
    ("personal_situation", "Context"),
    ("health_habits", "Habit"),
    ("practical_info", "Context"),
    ("communication", "Preference"),
    ("legal_analysis", "Insight"),
];

/// A canonical type for `raw`, or AutoMem's 400.
pub fn normalize_type(raw: &str) -> Result<String, MemoryError> {
    if MEMORY_TYPES.contains(&raw) {
        return Ok(raw.to_owned());
    }
    if let Some((_, canonical)) = TYPE_ALIASES.iter().find(|(alias, _)| *alias == raw) {
        return Ok((*canonical).to_owned());
    }
    let mut valid = MEMORY_TYPES.to_vec();
    valid.sort_unstable();
    let examples = TYPE_ALIASES[..5]
        .iter()
        .map(|(a, _)| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(MemoryError::invalid(format!(
        "Invalid memory type '{raw}'. Must be one of: {}, or aliases like {examples}...",
        valid.join(", ")
    )))
}

/// A relation between two memories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    RelatesTo,
    LeadsTo,
    OccurredBefore,
    PrefersOver,
    Exemplifies,
    Contradicts,
    Reinforces,
    InvalidatedBy,
    EvolvedInto,
    DerivedFrom,
    PartOf,
    SimilarTo,
    PrecededBy,
    Discovered,
}

impl Relation {
    pub const ALL: [Relation; 14] = [
        Relation::RelatesTo,
        Relation::LeadsTo,
        Relation::OccurredBefore,
        Relation::SimilarTo,
        Relation::PrecededBy,
        Relation::PrefersOver,
        Relation::Exemplifies,
        Relation::Contradicts,
        Relation::Reinforces,
        Relation::InvalidatedBy,
        Relation::EvolvedInto,
        Relation::DerivedFrom,
        Relation::PartOf,
        Relation::Discovered,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Relation::RelatesTo => "RELATES_TO",
            Relation::LeadsTo => "LEADS_TO",
            Relation::OccurredBefore => "OCCURRED_BEFORE",
            Relation::PrefersOver => "PREFERS_OVER",
            Relation::Exemplifies => "EXEMPLIFIES",
            Relation::Contradicts => "CONTRADICTS",
            Relation::Reinforces => "REINFORCES",
            Relation::InvalidatedBy => "INVALIDATED_BY",
            Relation::EvolvedInto => "EVOLVED_INTO",
            Relation::DerivedFrom => "DERIVED_FROM",
            Relation::PartOf => "PART_OF",
            Relation::SimilarTo => "SIMILAR_TO",
            Relation::PrecededBy => "PRECEDED_BY",
            Relation::Discovered => "DISCOVERED",
        }
    }

    /// Any known type (case-insensitive); AutoMem's legacy discovered kinds map to
    /// `DISCOVERED`.
    pub fn parse(raw: &str) -> Option<Relation> {
        let upper = raw.trim().to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "EXPLAINS" | "SHARES_THEME" | "PARALLEL_CONTEXT"
        ) {
            return Some(Relation::Discovered);
        }
        Relation::ALL.into_iter().find(|r| r.as_str() == upper)
    }

    /// Clients may create these eleven; the rest are the system's.
    pub fn authorable(&self) -> bool {
        !matches!(
            self,
            Relation::SimilarTo | Relation::PrecededBy | Relation::Discovered
        )
    }

    /// Followed by `related` and recall expansion unless asked otherwise.
    pub fn default_expand(&self) -> bool {
        self.authorable()
    }

    /// The properties an edge of this type keeps from the request, beside
    /// `strength` and `updated_at`.
    pub fn properties(&self) -> &'static [&'static str] {
        match self {
            Relation::SimilarTo => &["score", "updated_at"],
            Relation::PrecededBy => &["count", "updated_at"],
            Relation::PrefersOver => &["context", "strength", "reason"],
            Relation::Exemplifies => &["pattern_type", "confidence"],
            Relation::Contradicts => &["resolution", "reason"],
            Relation::Reinforces => &["strength", "observations"],
            Relation::InvalidatedBy => &["reason", "timestamp"],
            Relation::EvolvedInto => &["confidence", "reason"],
            Relation::DerivedFrom => &["transformation", "confidence"],
            Relation::PartOf => &["role", "context"],
            Relation::Discovered => &["kind", "confidence", "similarity", "updated_at", "origin"],
            Relation::RelatesTo | Relation::LeadsTo | Relation::OccurredBefore => &[],
        }
    }

    /// A superseding edge: the memory it leaves is no longer current state.
    pub fn supersedes(&self) -> bool {
        matches!(self, Relation::InvalidatedBy | Relation::EvolvedInto)
    }

    /// The sorted names of the authorable types, as AutoMem lists them in errors.
    pub fn authorable_names() -> Vec<&'static str> {
        let mut v: Vec<_> = Relation::ALL
            .iter()
            .filter(|r| r.authorable())
            .map(|r| r.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// AutoMem's message for a type clients may not create.
    pub fn not_authorable_message() -> String {
        let names = Relation::authorable_names()
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("Relation type must be one of [{names}]")
    }
}

/// Tags as AutoMem accepts them: absent, one string, or a list of strings.
pub fn parse_tags(value: Option<&Value>) -> Result<Vec<String>, MemoryError> {
    let tags = match value {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                MemoryError::invalid("'tags' must be a list of strings or a single string")
            })?,
        Some(_) => {
            return Err(MemoryError::invalid(
                "'tags' must be a list of strings or a single string",
            ));
        }
    };
    check_tags(&tags)?;
    Ok(tags)
}

/// Tags for filters and updates: a comma-separated string or a list (AutoMem's
/// `normalize_tag_list`: blanks dropped, each trimmed).
pub fn tag_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => split_csv(std::slice::from_ref(s)),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

/// Values given repeatedly or comma-separated, trimmed, blanks dropped.
pub fn split_csv(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Refuse tags that would not fit the index.
pub fn check_tags(tags: &[String]) -> Result<(), MemoryError> {
    if let Some(t) = tags.iter().find(|t| t.chars().count() > MAX_TAG_CHARS) {
        return Err(MemoryError::invalid(format!(
            "Tag '{}…' is longer than {MAX_TAG_CHARS} characters",
            t.chars().take(32).collect::<String>()
        )));
    }
    let n = index_tags(tags).len();
    if n > MAX_TAG_PREFIXES {
        return Err(MemoryError::invalid(format!(
            "Too many tags: a memory's tags may expand to at most {MAX_TAG_PREFIXES} tag prefixes ({n} given)"
        )));
    }
    Ok(())
}

/// Every prefix of every tag, lowercased, with `:` and `/` both read as `:`
/// (`project/skiff:api` → `project`, `project:skiff`, `project:skiff:api`), in
/// order, once each.
pub fn tag_prefixes(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for tag in tags {
        let t = tag.trim().to_lowercase();
        let mut acc: Vec<&str> = vec![];
        for part in t.split([':', '/']) {
            if part.is_empty() {
                continue;
            }
            acc.push(part);
            let p = acc.join(":");
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The tag index entries of a memory: each key (a prefix, or a whole lowercased
/// tag) with whether it matches as a prefix and as an exact tag.
pub fn index_tags(tags: &[String]) -> Vec<(String, bool, bool)> {
    let lowered: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let mut out: Vec<(String, bool, bool)> = tag_prefixes(tags)
        .into_iter()
        .map(|p| {
            let exact = lowered.contains(&p);
            (p, true, exact)
        })
        .collect();
    for t in lowered {
        if !out.iter().any(|(k, _, _)| *k == t) {
            out.push((t, false, true));
        }
    }
    out
}

/// `importance` (and `confidence`, `strength`): a number from 0 to 1, numeric
/// strings accepted as Python's `float()` accepts them.
pub fn unit_number(value: Option<&Value>, field: &str, default: f64) -> Result<f64, MemoryError> {
    let n = match value {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
        Some(_) => None,
    };
    let n = n
        .filter(|n| n.is_finite())
        .ok_or_else(|| MemoryError::invalid(format!("'{field}' must be a number")))?;
    if !(0.0..=1.0).contains(&n) {
        return Err(MemoryError::invalid(format!(
            "'{field}' must be between 0 and 1"
        )));
    }
    Ok(n)
}

/// A client's embedding: a list of numbers or a comma-separated string.
pub fn parse_embedding(value: Option<&Value>) -> Result<Option<Vec<f32>>, MemoryError> {
    let parts: Vec<Value> = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_owned()))
            .collect(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(MemoryError::invalid(
                "Embedding must be a list of floats or a comma-separated string",
            ));
        }
    };
    let numbers = parts
        .iter()
        .map(|p| match p {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse::<f64>().ok(),
            _ => None,
        })
        .map(|n| n.filter(|n| n.is_finite()).map(|n| n as f32))
        .collect::<Option<Vec<f32>>>()
        .ok_or_else(|| MemoryError::invalid("Embedding must contain numeric values"))?;
    if numbers.is_empty() {
        return Ok(None);
    }
    if numbers.len() > skiff_core::ports::vectors::MAX_DIMENSION {
        return Err(MemoryError::invalid(format!(
            "Embedding must contain at most {} values",
            skiff_core::ports::vectors::MAX_DIMENSION
        )));
    }
    if numbers.iter().all(|x| *x == 0.0) {
        return Err(MemoryError::invalid("Embedding must not be all zeros"));
    }
    Ok(Some(numbers))
}

/// Where a memory's vector stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorState {
    /// Indexed (the client's or the server's embedding).
    Ready,
    /// To be embedded by the outbox.
    Pending,
    /// No embedding (no provider, or the org's vectors are of another size).
    #[default]
    None,
}

/// A stored memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    pub id: MemoryId,
    pub content: String,
    pub tags: Vec<String>,
    pub tag_prefixes: Vec<String>,
    pub importance: f64,
    #[serde(rename = "type")]
    pub kind: String,
    pub confidence: f64,
    pub timestamp: String,
    #[serde(default)]
    pub t_valid: Option<String>,
    #[serde(default)]
    pub t_invalid: Option<String>,
    pub updated_at: String,
    pub last_accessed: String,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub vector: VectorState,
}

impl Memory {
    /// The memory as AutoMem's API shows a node.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "content": self.content,
            "tags": self.tags,
            "tag_prefixes": self.tag_prefixes,
            "importance": self.importance,
            "type": self.kind,
            "confidence": self.confidence,
            "timestamp": self.timestamp,
            "t_valid": self.t_valid,
            "t_invalid": self.t_invalid,
            "updated_at": self.updated_at,
            "last_accessed": self.last_accessed,
            "metadata": self.metadata,
        });
        if self.archived {
            v["archived"] = true.into();
        }
        v
    }

    /// AutoMem's short form for relation lists: id, type, timestamp, importance,
    /// confidence, content up to 160 characters, five tags.
    pub fn summary(&self) -> Value {
        let content = self.content.trim();
        let snippet = if content.chars().count() > 160 {
            let cut: String = content.chars().take(157).collect();
            let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
            format!("{cut}…")
        } else {
            content.to_owned()
        };
        let mut v = json!({
            "id": self.id.to_string(),
            "type": self.kind,
            "timestamp": self.timestamp,
            "importance": self.importance,
            "confidence": self.confidence,
            "content": snippet,
        });
        if !self.tags.is_empty() {
            v["tags"] = json!(self.tags.iter().take(5).collect::<Vec<_>>());
        }
        v
    }

    pub fn time(&self) -> Option<Timestamp> {
        parse_time(Some(&self.timestamp))
    }

    /// Why this memory is not current state at `now`, if it is not.
    pub fn state_reason(&self, now: Timestamp) -> Option<&'static str> {
        if self.archived {
            return Some("archived");
        }
        if parse_time(self.t_valid.as_deref()).is_some_and(|t| t > now) {
            return Some("not_yet_valid");
        }
        if parse_time(self.t_invalid.as_deref()).is_some_and(|t| t <= now) {
            return Some("expired");
        }
        None
    }

    /// The text the keyword index holds: the content and the tags.
    pub fn keyword_text(&self) -> String {
        let mut text = self.content.clone();
        for t in &self.tags {
            text.push('\n');
            text.push_str(t);
        }
        text
    }
}

/// AutoMem's content checks: required, at most [`CONTENT_HARD_LIMIT`] characters.
pub fn check_content(content: &str) -> Result<(), MemoryError> {
    if content.is_empty() {
        return Err(MemoryError::invalid("'content' is required"));
    }
    let n = content.chars().count();
    if n > CONTENT_HARD_LIMIT {
        return Err(MemoryError::invalid(format!(
            "Content exceeds maximum length of {CONTENT_HARD_LIMIT} characters ({n} provided). \
             Please split into smaller memories or summarize."
        )));
    }
    Ok(())
}

/// Metadata: absent → empty; an object within [`MAX_METADATA_BYTES`].
pub fn parse_metadata(value: Option<&Value>) -> Result<Map<String, Value>, MemoryError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => {
            let size = serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX);
            if size > MAX_METADATA_BYTES {
                return Err(MemoryError::invalid(format!(
                    "'metadata' is too large ({size} bytes; at most {MAX_METADATA_BYTES})"
                )));
            }
            Ok(m.clone())
        }
        Some(_) => Err(MemoryError::invalid("'metadata' must be an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_as_python_reads_them() {
        let t = Timestamp::parse("2024-03-01T10:20:30Z").unwrap();
        assert_eq!(t.render(), "2024-03-01T10:20:30.000000+00:00");
        assert_eq!(
            Timestamp::parse("2024-03-01T12:20:30.5+02:00")
                .unwrap()
                .render(),
            "2024-03-01T10:20:30.500000+00:00"
        );
        assert_eq!(
            Timestamp::parse("2024-03-01 10:20").unwrap().render(),
            "2024-03-01T10:20:00.000000+00:00"
        );
        assert_eq!(
            Timestamp::parse("2024-03-01").unwrap().render(),
            "2024-03-01T00:00:00.000000+00:00"
        );
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("").is_err());
        // Rendered timestamps sort as text in time order.
        let a = Timestamp::parse("2023-12-31T23:59:59Z").unwrap().render();
        let b = Timestamp::parse("2024-01-01T00:00:00Z").unwrap().render();
        assert!(a < b);
    }

    #[test]
    fn tag_prefixes_split_on_colons_and_slashes() {
        let tags = vec!["Project/Skiff:API".to_owned(), "bug".to_owned()];
        assert_eq!(
            tag_prefixes(&tags),
            ["project", "project:skiff", "project:skiff:api", "bug"]
        );
        let entries = index_tags(&tags);
        assert!(entries.contains(&("bug".into(), true, true)));
        assert!(entries.contains(&("project/skiff:api".into(), false, true)));
        assert!(entries.contains(&("project".into(), true, false)));
    }

    #[test]
    fn types_normalize_through_aliases() {
        assert_eq!(normalize_type("Decision").unwrap(), "Decision");
        assert_eq!(normalize_type("analysis").unwrap(), "Insight");
        let e = normalize_type("Nonsense").unwrap_err().to_string();
        assert!(e.starts_with("Invalid memory type 'Nonsense'. Must be one of: Context, Decision"));
    }

    #[test]
    fn relations_know_who_may_author_them() {
        assert_eq!(Relation::authorable_names().len(), 11);
        assert_eq!(Relation::parse("relates_to"), Some(Relation::RelatesTo));
        assert_eq!(Relation::parse("EXPLAINS"), Some(Relation::Discovered));
        assert!(!Relation::SimilarTo.authorable());
        assert!(
            Relation::not_authorable_message()
                .starts_with("Relation type must be one of ['CONTRADICTS'")
        );
    }

    #[test]
    fn numbers_and_embeddings_parse_like_automem() {
        assert_eq!(unit_number(None, "importance", 0.5).unwrap(), 0.5);
        assert_eq!(
            unit_number(Some(&json!("0.7")), "importance", 0.5).unwrap(),
            0.7
        );
        assert_eq!(
            unit_number(Some(&json!(2)), "importance", 0.5)
                .unwrap_err()
                .to_string(),
            "'importance' must be between 0 and 1"
        );
        assert_eq!(
            parse_embedding(Some(&json!("0.1, 0.2,0.3"))).unwrap(),
            Some(vec![0.1, 0.2, 0.3])
        );
        assert!(parse_embedding(Some(&json!(["x"]))).is_err());
        assert!(parse_embedding(Some(&json!([0, 0]))).is_err());
    }

    #[test]
    fn content_is_bounded_in_characters() {
        assert!(check_content(&"é".repeat(2000)).is_ok());
        let e = check_content(&"é".repeat(2001)).unwrap_err().to_string();
        assert!(e.contains("(2001 provided)"), "{e}");
    }
}
