//! The item store port: DynamoDB's primitives, so that the DynamoDB adapter is a
//! direct mapping and the SQLite adapter a faithful equivalent.
//!
//! An item is a key (`pk`, `sk`), an optional entry in the one overloaded secondary
//! index (`gsi1`), an optional expiry (unix seconds; an expired item is invisible to
//! every read and counts as absent for every condition, whatever the physical
//! deletion lag), an opaque version that changes on every write, and a JSON object of
//! attributes. Attribute names `pk sk gsi1pk gsi1sk ttl v` are reserved.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Attribute names the adapters use for the item's own fields.
pub const RESERVED_ATTRIBUTES: [&str; 6] = ["pk", "sk", "gsi1pk", "gsi1sk", "ttl", "v"];

/// Largest item (key + index keys + attributes as JSON) either adapter accepts:
/// DynamoDB's limit, enforced by the embedded adapter too so both behave alike.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// Most writes in one transaction (DynamoDB's limit).
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// Most items one query page returns, whatever the caller asks.
pub const MAX_PAGE_SIZE: usize = 1000;
/// Most keys one `get_many` reads.
pub const MAX_BATCH_GET: usize = 1000;
/// Reads in flight at once in the default `get_many`.
const PARALLEL_GETS: usize = 32;

/// Primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// Key of an item in the overloaded secondary index `gsi1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

impl IndexKey {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// Opaque version token: a fresh value on every write. Used for optimistic
/// concurrency with [`Condition::VersionIs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version(pub u64);

impl Version {
    /// A fresh random version (63 bits so it round-trips through every number type).
    pub fn fresh() -> Self {
        Version(rand::random::<u64>() >> 1)
    }
}

/// An item as read from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    pub gsi1: Option<IndexKey>,
    /// Unix seconds after which the item no longer exists.
    pub expires_at: Option<i64>,
    pub version: Version,
    pub attrs: Map<String, Value>,
}

impl Item {
    /// A typed attribute, `None` when missing or of another type.
    pub fn get<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.attrs
            .get(name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Value::as_str)
    }

    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.attrs.get(name).and_then(Value::as_i64)
    }

    /// Deserialize all attributes into a record type, consuming the item (no copy).
    pub fn into_record<T: serde::de::DeserializeOwned>(self) -> Result<T, StoreError> {
        record_of(&self.key, self.attrs)
    }

    /// Deserialize all attributes into a record type.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        record_of(&self.key, self.attrs.clone())
    }
}

fn record_of<T: serde::de::DeserializeOwned>(
    key: &Key,
    attrs: Map<String, Value>,
) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(attrs)).map_err(|e| unparsable(key, &e))
}

fn unparsable(key: &Key, e: &serde_json::Error) -> StoreError {
    StoreError::Fatal(format!("item {}/{} does not parse: {e}", key.pk, key.sk))
}

/// An item as read, its attributes still their JSON text (an object): for a reader
/// that wants them as one record type, so they are parsed once, straight into it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemText {
    pub key: Key,
    pub version: Version,
    pub attrs: String,
}

impl ItemText {
    /// Deserialize the attributes into a record type.
    pub fn into_record<T: serde::de::DeserializeOwned>(self) -> Result<T, StoreError> {
        serde_json::from_str(&self.attrs).map_err(|e| unparsable(&self.key, &e))
    }
}

impl From<Item> for ItemText {
    fn from(item: Item) -> Self {
        Self {
            attrs: Value::Object(item.attrs).to_string(),
            key: item.key,
            version: item.version,
        }
    }
}

/// An item to write (the store assigns the version).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewItem {
    pub key: Option<Key>,
    pub gsi1: Option<IndexKey>,
    pub expires_at: Option<i64>,
    pub attrs: Map<String, Value>,
}

impl NewItem {
    pub fn new(key: Key) -> Self {
        Self {
            key: Some(key),
            ..Default::default()
        }
    }

    /// Attributes from a serializable record (must serialize to a JSON object).
    pub fn from_record<T: Serialize>(key: Key, record: &T) -> Result<Self, StoreError> {
        match serde_json::to_value(record) {
            Ok(Value::Object(attrs)) => Ok(Self {
                key: Some(key),
                attrs,
                ..Default::default()
            }),
            Ok(_) => Err(StoreError::Invalid(
                "a record must serialize to a JSON object".into(),
            )),
            Err(e) => Err(StoreError::Invalid(e.to_string())),
        }
    }

    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attrs.insert(name.to_owned(), value.into());
        self
    }

    pub fn index(mut self, gsi1: IndexKey) -> Self {
        self.gsi1 = Some(gsi1);
        self
    }

    pub fn expires_at(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }

    pub fn key(&self) -> &Key {
        self.key.as_ref().expect("NewItem without a key")
    }
}

/// Comparison for attribute conditions. Numbers compare numerically, strings by
/// their UTF-8 bytes; values of different types never compare true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition on the current item, checked atomically with the write.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The item does not exist (or has expired).
    Absent,
    /// The item exists (and has not expired).
    Exists,
    /// The item exists with this version.
    VersionIs(Version),
    /// The item exists and `attr <cmp> value`.
    Attr {
        name: String,
        cmp: Cmp,
        value: Value,
    },
    /// The item exists, both attributes are numbers, and `name <cmp> other`: a limit
    /// kept on the item itself is checked without reading it first.
    AttrToAttr {
        name: String,
        cmp: Cmp,
        other: String,
    },
    /// The item exists and lacks this attribute, or the item is absent.
    AttrMissing(String),
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
}

impl Condition {
    pub fn attr(name: &str, cmp: Cmp, value: impl Into<Value>) -> Self {
        Condition::Attr {
            name: name.to_owned(),
            cmp,
            value: value.into(),
        }
    }

    pub fn attrs(name: &str, cmp: Cmp, other: &str) -> Self {
        Condition::AttrToAttr {
            name: name.to_owned(),
            cmp,
            other: other.to_owned(),
        }
    }

    /// Evaluate against the current (live) item. Shared by the embedded adapter and
    /// by tests, so the semantics are written down once.
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Condition::Absent => current.is_none(),
            Condition::Exists => current.is_some(),
            Condition::VersionIs(v) => current.is_some_and(|i| i.version == *v),
            Condition::Attr { name, cmp, value } => current
                .and_then(|i| i.attrs.get(name))
                .is_some_and(|actual| compare(actual, *cmp, value)),
            Condition::AttrToAttr { name, cmp, other } => current
                .and_then(|i| i.attrs.get(name).zip(i.attrs.get(other)))
                .is_some_and(|(a, b)| a.is_number() && b.is_number() && compare(a, *cmp, b)),
            Condition::AttrMissing(name) => current.is_none_or(|i| !i.attrs.contains_key(name)),
            Condition::All(cs) => cs.iter().all(|c| c.holds(current)),
            Condition::Any(cs) => cs.iter().any(|c| c.holds(current)),
        }
    }
}

/// `actual <cmp> expected` with DynamoDB's typing rules.
pub fn compare(actual: &Value, cmp: Cmp, expected: &Value) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
        },
        (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (a, b) if matches!(cmp, Cmp::Eq | Cmp::Ne) => {
            return (a == b) == matches!(cmp, Cmp::Eq);
        }
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match cmp {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    }
}

/// One change of an update. An update of an absent item creates it (unless its
/// condition says otherwise), as DynamoDB's `UpdateItem` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Set(String, Value),
    Remove(String),
    /// Add to a numeric attribute (a missing attribute counts as 0).
    Add(String, i64),
    SetIndex(Option<IndexKey>),
    SetExpiry(Option<i64>),
}

impl Change {
    pub fn set(name: &str, value: impl Into<Value>) -> Self {
        Change::Set(name.to_owned(), value.into())
    }
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        item: NewItem,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        changes: Vec<Change>,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Only a condition; writes nothing.
    Check { key: Key, condition: Condition },
}

impl Write {
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => item.key(),
            Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => key,
        }
    }
}

/// Which key a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Index {
    #[default]
    Primary,
    Gsi1,
}

/// Sort-key condition of a query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Any,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

/// A query of one partition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sort: SortKey,
    pub limit: Option<usize>,
    /// Newest (highest sort key) first.
    pub descending: bool,
    /// Cursor returned by the previous page.
    pub cursor: Option<String>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            ..Default::default()
        }
    }

    pub fn gsi1(pk: impl Into<String>) -> Self {
        Self {
            index: Index::Gsi1,
            pk: pk.into(),
            ..Default::default()
        }
    }

    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.sort = SortKey::Prefix(prefix.into());
        self
    }

    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of a query. `next` is `Some` when more items may follow; a page may be
/// shorter than the limit (expired items are filtered after the read, as DynamoDB's
/// filter expressions are).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

/// Most store queries one page of a filtered list may cost: a filter that matches
/// little answers a short page with a cursor rather than reading a whole partition.
pub const MAX_QUERIES_PER_PAGE: usize = 4;

/// Up to `limit` items of `query` that `keep` accepts, reading at most
/// [`MAX_QUERIES_PER_PAGE`] store pages of at most `limit` items each. Each store
/// page is consumed whole, so `next` resumes exactly after the last item read.
pub async fn filtered_page<T>(
    store: &dyn ItemStore,
    query: Query,
    limit: usize,
    mut keep: impl FnMut(&Item) -> Result<Option<T>, StoreError>,
) -> Result<(Vec<T>, Option<String>), StoreError> {
    let limit = limit.max(1);
    let mut out = vec![];
    let mut cursor = query.cursor.clone();
    for _ in 0..MAX_QUERIES_PER_PAGE {
        let page = store
            .query(Query {
                limit: Some(limit - out.len()),
                cursor,
                ..query.clone()
            })
            .await?;
        for item in &page.items {
            if let Some(v) = keep(item)? {
                out.push(v);
            }
        }
        cursor = page.next;
        if out.len() >= limit || cursor.is_none() {
            break;
        }
    }
    Ok((out, cursor))
}

/// What can go wrong with the store. A failed condition is an expected outcome,
/// distinct from a transient fault (already retried inside the adapter) and from a
/// fatal one.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StoreError {
    /// The write's condition did not hold; nothing was written. For a transaction,
    /// `index` names the first write whose condition failed.
    #[error("condition failed")]
    ConditionFailed { index: Option<usize> },
    /// The request itself is wrong (reserved attribute, item too large, duplicate key
    /// in a transaction, bad cursor...).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// Still failing after the adapter's retries (throttling, conflicts, timeouts).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Fatal(String),
}

impl StoreError {
    pub const CONDITION_FAILED: StoreError = StoreError::ConditionFailed { index: None };

    pub fn is_condition_failed(&self) -> bool {
        matches!(self, StoreError::ConditionFailed { .. })
    }
}

/// Outcome of a bounded atomic add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub value: i64,
}

/// The item store: the operations both adapters implement with the same semantics.
#[async_trait]
pub trait ItemStore: Send + Sync + 'static {
    /// The live item, or `None` if it is absent or expired. Strongly consistent.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The live items at `keys` (at most [`MAX_BATCH_GET`]), each `None` if absent
    /// or expired, in the order asked. Each is strongly consistent; the set is not
    /// one snapshot. By default one `get` per key, a few at a time; an adapter that
    /// can read many in one call does.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        validate_batch_get(keys)?;
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(PARALLEL_GETS) {
            let reads: Vec<_> = chunk.iter().map(|key| self.get(key)).collect();
            out.extend(futures::future::try_join_all(reads).await?);
        }
        Ok(out)
    }

    /// [`Self::get_many`], each item's attributes left as JSON text. The embedded
    /// store keeps them as that text; by default they are rendered from the items.
    async fn get_many_text(&self, keys: &[Key]) -> Result<Vec<Option<ItemText>>, StoreError> {
        let items = self.get_many(keys).await?;
        Ok(items.into_iter().map(|i| i.map(ItemText::from)).collect())
    }

    /// Replace (or create) the whole item if the condition holds.
    async fn put(&self, item: NewItem, condition: Option<Condition>) -> Result<Item, StoreError>;

    /// Apply changes (creating the item if absent) if the condition holds; returns the
    /// item after the update.
    async fn update(
        &self,
        key: &Key,
        changes: Vec<Change>,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError>;

    /// Delete the item if the condition holds; returns the deleted live item, if any.
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError>;

    /// Atomically add `delta` to the numeric attribute `name` (missing counts as 0;
    /// an absent or expired item is created with `expires_at`), only if the result
    /// stays within `max` (when given) and `>= 0` for negative deltas with `max`.
    /// Fails with `ConditionFailed` when the bound would be crossed.
    async fn add(
        &self,
        key: &Key,
        name: &str,
        delta: i64,
        max: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<Counter, StoreError>;

    /// All writes or none. At most [`MAX_TRANSACTION_WRITES`], each key at most once.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// One page of a partition, in sort-key order.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// The first page of each query (at most [`MAX_BATCH_GET`]), in the order
    /// asked: what `query` answers for each. By default a few at a time; an adapter
    /// that can run many in one call does.
    async fn query_many(&self, queries: Vec<Query>) -> Result<Vec<Page>, StoreError> {
        validate_batch_query(&queries)?;
        let mut out = Vec::with_capacity(queries.len());
        let mut queries = queries.into_iter().peekable();
        while queries.peek().is_some() {
            let pages: Vec<_> = queries
                .by_ref()
                .take(PARALLEL_GETS)
                .map(|q| self.query(q))
                .collect();
            out.extend(futures::future::try_join_all(pages).await?);
        }
        Ok(out)
    }

    /// How many live items the query matches over all its pages (its `limit`,
    /// `cursor` and order are ignored), without reading them out: a figure over a
    /// large partition costs a count, not a parse of every item.
    async fn count(&self, query: Query) -> Result<u64, StoreError>;

    /// Physically delete expired items (the embedded adapter); a no-op where the
    /// backend expires items itself (DynamoDB TTL). Returns how many were deleted.
    async fn purge_expired(&self, max: usize) -> Result<usize, StoreError>;

    /// Readiness probe.
    async fn check(&self) -> Result<(), StoreError>;
}

/// Refuse a `get_many` over [`MAX_BATCH_GET`] keys or with an invalid key.
pub fn validate_batch_get(keys: &[Key]) -> Result<(), StoreError> {
    validate_batch(keys, "keys", validate_key)
}

/// Refuse a `query_many` over [`MAX_BATCH_GET`] queries or with an invalid one.
pub fn validate_batch_query(queries: &[Query]) -> Result<(), StoreError> {
    validate_batch(queries, "queries", validate_query)
}

/// Refuse a batch read of more than [`MAX_BATCH_GET`] parts, or with an invalid one.
fn validate_batch<T>(
    parts: &[T],
    what: &str,
    validate: impl Fn(&T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if parts.len() > MAX_BATCH_GET {
        return Err(StoreError::Invalid(format!(
            "a batch read takes at most {MAX_BATCH_GET} {what}, not {}",
            parts.len()
        )));
    }
    parts.iter().try_for_each(validate)
}

/// Check a write before it reaches a backend: reserved names, size.
pub fn validate_new_item(item: &NewItem) -> Result<(), StoreError> {
    encode_new_item(item).map(drop)
}

/// Validate `item` and return its attributes as the JSON object its size was
/// measured on (an adapter that stores JSON keeps it rather than encode twice).
pub fn encode_new_item(item: &NewItem) -> Result<String, StoreError> {
    let key = item
        .key
        .as_ref()
        .ok_or_else(|| StoreError::Invalid("item without a key".into()))?;
    validate_key(key)?;
    for name in item.attrs.keys() {
        validate_attr_name(name)?;
    }
    let json = encode_attrs(&item.attrs)?;
    let size = key.pk.len()
        + key.sk.len()
        + item.gsi1.as_ref().map_or(0, |g| g.pk.len() + g.sk.len())
        + json.len();
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!(
            "item of {size} bytes exceeds the {MAX_ITEM_BYTES}-byte limit"
        )));
    }
    Ok(json)
}

/// An item's attributes as the JSON object an adapter stores.
pub fn encode_attrs(attrs: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(attrs)
        .map_err(|e| StoreError::Invalid(format!("attributes do not serialize: {e}")))
}

pub fn validate_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid("pk and sk must not be empty".into()));
    }
    if key.pk.len() > 2048 || key.sk.len() > 1024 {
        return Err(StoreError::Invalid("key too long".into()));
    }
    Ok(())
}

pub fn validate_attr_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::Invalid("empty attribute name".into()));
    }
    if RESERVED_ATTRIBUTES.contains(&name) {
        return Err(StoreError::Invalid(format!(
            "attribute name `{name}` is reserved"
        )));
    }
    Ok(())
}

/// Check the shape of a transaction: size and distinct keys.
pub fn validate_transaction(writes: &[Write]) -> Result<(), StoreError> {
    validate_transaction_keys(writes)?;
    writes.iter().try_for_each(validate_write)
}

/// The transaction's size and that no key appears twice; each write is checked on
/// its own by [`validate_write`].
pub fn validate_transaction_keys(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
        return Err(StoreError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACTION_WRITES} writes, not {}",
            writes.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for w in writes {
        if !seen.insert(w.key()) {
            return Err(StoreError::Invalid(format!(
                "key {}/{} appears twice in one transaction",
                w.key().pk,
                w.key().sk
            )));
        }
    }
    Ok(())
}

/// One write's own checks: its key, and its item or changes.
pub fn validate_write(write: &Write) -> Result<(), StoreError> {
    match write {
        Write::Put { item, .. } => validate_new_item(item),
        Write::Update { key, changes, .. } => {
            validate_key(key)?;
            validate_changes(changes)
        }
        Write::Delete { key, .. } | Write::Check { key, .. } => validate_key(key),
    }
}

pub fn validate_changes(changes: &[Change]) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for c in changes {
        let name = match c {
            Change::Set(n, _) | Change::Remove(n) | Change::Add(n, _) => {
                validate_attr_name(n)?;
                n.as_str()
            }
            Change::SetIndex(_) => "gsi1",
            Change::SetExpiry(_) => "ttl",
        };
        if !seen.insert(name.to_owned()) {
            return Err(StoreError::Invalid(format!(
                "attribute `{name}` changed twice in one update"
            )));
        }
    }
    Ok(())
}

/// Check a query before it reaches a backend: a partition, a page of at least one
/// item, non-empty sort-key operands (DynamoDB rejects empty key values; an empty
/// prefix means "any") and an ordered `Between`.
pub fn validate_query(query: &Query) -> Result<(), StoreError> {
    if query.pk.is_empty() {
        return Err(StoreError::Invalid("a query needs a partition key".into()));
    }
    if query.limit == Some(0) {
        return Err(StoreError::Invalid(
            "a query limit must be at least 1".into(),
        ));
    }
    let empty = || StoreError::Invalid("sort-key condition on an empty string".into());
    match &query.sort {
        SortKey::Any | SortKey::Prefix(_) => {}
        SortKey::Between(a, b) => {
            if a.is_empty() || b.is_empty() {
                return Err(empty());
            }
            if a.as_bytes() > b.as_bytes() {
                return Err(StoreError::Invalid(format!(
                    "sort-key range `{a}`..=`{b}` is reversed"
                )));
            }
        }
        SortKey::Lt(s) | SortKey::Le(s) | SortKey::Gt(s) | SortKey::Ge(s) => {
            if s.is_empty() {
                return Err(empty());
            }
        }
    }
    Ok(())
}
