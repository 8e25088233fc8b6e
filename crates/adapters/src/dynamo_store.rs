//! The AWS item store: one DynamoDB table (`pk`/`sk`, the overloaded index `gsi1`,
//! TTL on `ttl`), through the official SDK.
//!
//! Item layout: the key, index keys, `ttl` (N, unix seconds) and `v` (N, the
//! [`Version`]) as top-level attributes, then every user attribute as its own
//! top-level attribute (JSON numbers ↔ N, strings ↔ S, bools ↔ BOOL, null ↔ NULL,
//! arrays ↔ L, objects ↔ M).
//!
//! DynamoDB deletes expired items lazily (up to days later), so expiry is enforced
//! here: reads filter expired items, conditions treat them as absent, and a write
//! that would otherwise merge into an expired item (update, counter add) first
//! removes it. Transient failures (throttling, transaction conflicts, 5xx, timeouts,
//! dispatch errors) are retried by the shared loop ([`sdk_retry`]) with full-jitter
//! exponential backoff, the SDK's own retries being switched off so there is
//! exactly one retry layer.

use crate::aws::Lazy;
use crate::sdk_retry::{self, GaveUp, Policy};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    Select, TransactWriteItem, Update,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Number, Value};
use skiff_core::clock::SharedClock;
use skiff_core::ports::store::*;
use skiff_core::resources::table;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

type Attrs = HashMap<String, AttributeValue>;

/// Attempts (first try included) before a transient failure becomes `Unavailable`,
/// and the backoff between them.
const RETRY: Policy = Policy {
    attempts: 6,
    base: Duration::from_millis(25),
    cap: Duration::from_secs(1),
};
/// Rounds of "remove the expired item, then write again" before giving up; each
/// round only repeats when another writer raced us.
const EXPIRED_ROUNDS: usize = 8;

/// Error codes DynamoDB uses for faults that go away on their own.
const TRANSIENT_CODES: [&str; 8] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
    "LimitExceededException",
];
/// Cancellation reasons of a transaction that are worth another attempt.
const TRANSIENT_REASONS: [&str; 4] = [
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

/// The DynamoDB item store.
pub struct DynamoStore {
    client: Lazy<Client>,
    table: String,
    clock: SharedClock,
}

impl DynamoStore {
    /// Wrap a client for `table`; the clock decides expiry (DynamoDB TTL only deletes).
    /// Made on first use, like `client` itself.
    pub fn new(client: impl Into<Lazy<Client>>, table: String, clock: SharedClock) -> Self {
        let client = client.into();
        Self {
            // One retry layer (ours, which also knows transaction conflicts), not two.
            client: Lazy::new(move || {
                let conf = client
                    .config()
                    .to_builder()
                    .retry_config(RetryConfig::disabled())
                    .build();
                Client::from_conf(conf)
            }),
            table,
            clock,
        }
    }

    fn now(&self) -> i64 {
        self.clock.unix()
    }
}

// ---------------------------------------------------------------- values

fn json_to_av(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(json_to_av).collect()),
        Value::Object(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), json_to_av(v))).collect())
        }
    }
}

fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return i.into();
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn av_to_json(av: &AttributeValue) -> Value {
    match av {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(l) => Value::Array(l.iter().map(av_to_json).collect()),
        AttributeValue::M(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), av_to_json(v))).collect())
        }
        // Never written by this adapter; mapped as faithfully as JSON allows.
        AttributeValue::Ss(ss) => ss.iter().cloned().map(Value::String).collect(),
        AttributeValue::Ns(ns) => ns.iter().map(|n| number(n)).collect(),
        AttributeValue::B(b) => Value::String(URL_SAFE_NO_PAD.encode(b.as_ref())),
        AttributeValue::Bs(bs) => bs
            .iter()
            .map(|b| Value::String(URL_SAFE_NO_PAD.encode(b.as_ref())))
            .collect(),
        _ => Value::Null,
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A comparison in condition-expression syntax.
fn operator(cmp: Cmp) -> &'static str {
    match cmp {
        Cmp::Eq => "=",
        Cmp::Ne => "<>",
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
    }
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([
        (table::PARTITION_KEY.to_owned(), s(&key.pk)),
        (table::SORT_KEY.to_owned(), s(&key.sk)),
    ])
}

fn item_attrs(item: &NewItem, version: Version) -> Attrs {
    let key = item.key();
    let mut m = key_attrs(key);
    if let Some(g) = &item.gsi1 {
        m.insert(table::GSI1_PARTITION_KEY.into(), s(&g.pk));
        m.insert(table::GSI1_SORT_KEY.into(), s(&g.sk));
    }
    if let Some(t) = item.expires_at {
        m.insert(table::TTL_ATTRIBUTE.into(), n(t));
    }
    m.insert("v".into(), n(version.0));
    for (k, v) in &item.attrs {
        m.insert(k.clone(), json_to_av(v));
    }
    m
}

fn str_attr<'a>(m: &'a Attrs, name: &str) -> Option<&'a str> {
    m.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn num_attr(m: &Attrs, name: &str) -> Option<i64> {
    m.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn to_item(m: &Attrs) -> Result<Item, StoreError> {
    let (Some(pk), Some(sk)) = (
        str_attr(m, table::PARTITION_KEY),
        str_attr(m, table::SORT_KEY),
    ) else {
        return Err(StoreError::Fatal("item without a string key".into()));
    };
    let gsi1 = str_attr(m, table::GSI1_PARTITION_KEY)
        .zip(str_attr(m, table::GSI1_SORT_KEY))
        .map(|(pk, sk)| IndexKey::new(pk, sk));
    let attrs = m
        .iter()
        .filter(|(k, _)| !RESERVED_ATTRIBUTES.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), av_to_json(v)))
        .collect();
    Ok(Item {
        key: Key::new(pk, sk),
        gsi1,
        expires_at: num_attr(m, table::TTL_ATTRIBUTE),
        version: Version(num_attr(m, "v").unwrap_or(0) as u64),
        attrs,
    })
}

fn is_expired(m: &Attrs, now: i64) -> bool {
    num_attr(m, table::TTL_ATTRIBUTE).is_some_and(|t| t <= now)
}

/// The item if it is live.
fn live_item(m: Option<&Attrs>, now: i64) -> Result<Option<Item>, StoreError> {
    match m {
        Some(m) if !m.is_empty() && !is_expired(m, now) => to_item(m).map(Some),
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------- expressions

/// A condition after constant folding: DynamoDB has no literal true/false.
enum Cond {
    True,
    False,
    Expr(String),
}

/// Placeholder names (`#…`) and values (`:…`) of one request, registered only when
/// used (DynamoDB rejects unused placeholders).
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    next_name: usize,
    now: i64,
}

impl Expr {
    fn new(now: i64) -> Self {
        Self {
            now,
            ..Default::default()
        }
    }

    /// `#pk`, `#ttl`… for the store's own attributes (user attributes cannot take
    /// those names), `#aN` for user attributes.
    fn name(&mut self, attr: &str) -> String {
        if let Some((p, _)) = self.names.iter().find(|(_, a)| *a == attr) {
            return p.clone();
        }
        let p = if RESERVED_ATTRIBUTES.contains(&attr) {
            format!("#{attr}")
        } else {
            self.next_name += 1;
            format!("#a{}", self.next_name)
        };
        self.names.insert(p.clone(), attr.to_owned());
        p
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), v);
        p
    }

    fn named_value(&mut self, name: &str, v: AttributeValue) -> String {
        let p = format!(":{name}");
        self.values.insert(p.clone(), v);
        p
    }

    /// Placeholder of the DynamoDB type name of a JSON value, for `attribute_type`.
    fn type_of(&mut self, v: &Value) -> String {
        let t = match v {
            Value::Null => "NULL",
            Value::Bool(_) => "BOOL",
            Value::Number(_) => "N",
            Value::String(_) => "S",
            Value::Array(_) => "L",
            Value::Object(_) => "M",
        };
        self.named_value(&format!("t{t}"), s(t))
    }

    fn now(&mut self) -> String {
        let now = n(self.now);
        self.named_value("now", now)
    }

    /// The item (if any) has not expired.
    fn unexpired(&mut self) -> String {
        let ttl = self.name(table::TTL_ATTRIBUTE);
        let now = self.now();
        format!("(attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// The item exists and has not expired.
    fn live(&mut self) -> String {
        let pk = self.name(table::PARTITION_KEY);
        let unexpired = self.unexpired();
        format!("(attribute_exists({pk}) AND {unexpired})")
    }

    /// No item, or an expired one.
    fn absent(&mut self) -> String {
        let pk = self.name(table::PARTITION_KEY);
        let ttl = self.name(table::TTL_ATTRIBUTE);
        let now = self.now();
        format!("(attribute_not_exists({pk}) OR {ttl} <= {now})")
    }

    fn cond(&mut self, c: &Condition) -> Cond {
        match c {
            Condition::Absent => Cond::Expr(self.absent()),
            Condition::Exists => Cond::Expr(self.live()),
            Condition::VersionIs(version) => {
                let v = self.name("v");
                let val = self.value(n(version.0));
                let unexpired = self.unexpired();
                Cond::Expr(format!("({v} = {val} AND {unexpired})"))
            }
            Condition::Attr { name, cmp, value } => {
                let op = operator(*cmp);
                // Only numbers and strings are ordered ([`compare`]).
                if !matches!(cmp, Cmp::Eq | Cmp::Ne)
                    && !matches!(value, Value::Number(_) | Value::String(_))
                {
                    return Cond::False;
                }
                let a = self.name(name);
                let t = self.type_of(value);
                let val = self.value(json_to_av(value));
                let unexpired = self.unexpired();
                // Values of different types never compare equal or ordered; say so
                // explicitly rather than rely on the backend's coercions. A missing
                // attribute satisfies nothing, not even `<>`.
                Cond::Expr(match cmp {
                    Cmp::Ne => format!(
                        "(attribute_exists({a}) AND (NOT attribute_type({a}, {t}) OR {a} {op} {val}) AND {unexpired})"
                    ),
                    _ => format!("(attribute_type({a}, {t}) AND {a} {op} {val} AND {unexpired})"),
                })
            }
            Condition::AttrToAttr { name, cmp, other } => {
                let (a, b) = (self.name(name), self.name(other));
                let t = self.type_of(&Value::from(0));
                let unexpired = self.unexpired();
                Cond::Expr(format!(
                    "(attribute_type({a}, {t}) AND attribute_type({b}, {t}) AND {a} {} {b} AND {unexpired})",
                    operator(*cmp)
                ))
            }
            Condition::AttrMissing(name) => {
                let a = self.name(name);
                let ttl = self.name(table::TTL_ATTRIBUTE);
                let now = self.now();
                Cond::Expr(format!("(attribute_not_exists({a}) OR {ttl} <= {now})"))
            }
            Condition::All(cs) => {
                let mut parts = Vec::new();
                for c in cs {
                    match self.cond(c) {
                        Cond::True => {}
                        Cond::False => return Cond::False,
                        Cond::Expr(e) => parts.push(e),
                    }
                }
                match parts.len() {
                    0 => Cond::True,
                    1 => Cond::Expr(parts.remove(0)),
                    _ => Cond::Expr(format!("({})", parts.join(" AND "))),
                }
            }
            Condition::Any(cs) => {
                let mut parts = Vec::new();
                for c in cs {
                    match self.cond(c) {
                        Cond::True => return Cond::True,
                        Cond::False => {}
                        Cond::Expr(e) => parts.push(e),
                    }
                }
                match parts.len() {
                    0 => Cond::False,
                    1 => Cond::Expr(parts.remove(0)),
                    _ => Cond::Expr(format!("({})", parts.join(" OR "))),
                }
            }
        }
    }

    /// The condition expression to send, if any.
    fn condition(&mut self, c: Option<&Condition>) -> Option<String> {
        match c.map(|c| self.cond(c)) {
            None | Some(Cond::True) => None,
            Some(Cond::Expr(e)) => Some(e),
            Some(Cond::False) => {
                let pk = self.name(table::PARTITION_KEY);
                Some(format!(
                    "(attribute_exists({pk}) AND attribute_not_exists({pk}))"
                ))
            }
        }
    }

    /// `SET … REMOVE … ADD …` for an update, always stamping a fresh version.
    fn update(&mut self, changes: &[Change], version: Version) -> String {
        let (mut set, mut remove, mut add) = (Vec::new(), Vec::new(), Vec::new());
        for c in changes {
            match c {
                Change::Set(name, value) => {
                    let a = self.name(name);
                    let v = self.value(json_to_av(value));
                    set.push(format!("{a} = {v}"));
                }
                Change::Remove(name) => remove.push(self.name(name)),
                Change::Add(name, delta) => {
                    let a = self.name(name);
                    let v = self.value(n(delta));
                    add.push(format!("{a} {v}"));
                }
                Change::SetIndex(Some(g)) => {
                    let (gpk, gsk) = (
                        self.name(table::GSI1_PARTITION_KEY),
                        self.name(table::GSI1_SORT_KEY),
                    );
                    let (vpk, vsk) = (self.value(s(&g.pk)), self.value(s(&g.sk)));
                    set.push(format!("{gpk} = {vpk}"));
                    set.push(format!("{gsk} = {vsk}"));
                }
                Change::SetIndex(None) => {
                    remove.push(self.name(table::GSI1_PARTITION_KEY));
                    remove.push(self.name(table::GSI1_SORT_KEY));
                }
                Change::SetExpiry(Some(t)) => {
                    let a = self.name(table::TTL_ATTRIBUTE);
                    let v = self.value(n(t));
                    set.push(format!("{a} = {v}"));
                }
                Change::SetExpiry(None) => remove.push(self.name(table::TTL_ATTRIBUTE)),
            }
        }
        let v = self.name("v");
        let fresh = self.named_value("fresh", n(version.0));
        set.push(format!("{v} = {fresh}"));
        let mut out = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            out.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        if !add.is_empty() {
            out.push_str(&format!(" ADD {}", add.join(", ")));
        }
        out
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// `cond AND guard`, where the guard keeps an update from merging into an expired item.
fn and_guard(cond: Option<String>, guard: String) -> String {
    match cond {
        Some(c) => format!("{c} AND {guard}"),
        None => guard,
    }
}

// ---------------------------------------------------------------- errors & retries

/// A call that failed for good.
enum CallError<E> {
    /// Transient, and still failing after every attempt.
    Exhausted(String),
    /// Not worth retrying: the caller interprets it.
    Failed(Box<SdkError<E, HttpResponse>>),
}

impl<E> CallError<E> {
    /// The operation's modeled error, if the service answered with one.
    fn service(&self) -> Option<&E> {
        match self {
            CallError::Failed(e) => e.as_service_error(),
            CallError::Exhausted(_) => None,
        }
    }
}

fn sdk_text<E: std::error::Error + 'static>(e: &SdkError<E, HttpResponse>) -> String {
    DisplayErrorContext(e).to_string()
}

fn is_transient<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    sdk_retry::is_transient_with(e, &TRANSIENT_CODES)
}

/// A transaction cancelled only for conflicts or throttling (no failed condition).
fn is_transient_cancellation(e: &SdkError<TransactWriteItemsError, HttpResponse>) -> bool {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => {
            let codes: Vec<&str> = tc
                .cancellation_reasons()
                .iter()
                .filter_map(|r| r.code())
                .collect();
            !codes.contains(&"ConditionalCheckFailed")
                && codes.iter().any(|c| TRANSIENT_REASONS.contains(c))
        }
        _ => is_transient(e),
    }
}

/// Call `f` until it succeeds, fails for good, or runs out of [`RETRY`] attempts.
async fn retry<T, E, F, Fut>(
    transient: impl Fn(&SdkError<E, HttpResponse>) -> bool,
    f: F,
) -> Result<T, CallError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    sdk_retry::retry_with(RETRY, "DynamoDB", transient, sdk_text, f)
        .await
        .map_err(|gave_up| match gave_up {
            GaveUp::Exhausted(e) => CallError::Exhausted(sdk_text(&e)),
            GaveUp::Final(e) => CallError::Failed(Box::new(e)),
        })
}

/// Interpretation of an error no operation handles specially.
fn other<E: ProvideErrorMetadata + std::error::Error + 'static>(e: CallError<E>) -> StoreError {
    match e {
        CallError::Exhausted(text) => StoreError::Unavailable(text),
        CallError::Failed(e) => match e.code() {
            Some("ValidationException") => {
                StoreError::Invalid(e.message().unwrap_or("validation failed").to_owned())
            }
            Some("ConditionalCheckFailedException") => StoreError::CONDITION_FAILED,
            _ => StoreError::Fatal(sdk_text(&*e)),
        },
    }
}

/// Whether the call failed only because its condition did not hold.
fn condition_failed<E: ProvideErrorMetadata>(e: &CallError<E>) -> bool {
    e.service()
        .is_some_and(|se| se.code() == Some("ConditionalCheckFailedException"))
}

/// For an UpdateItem whose condition failed, the item as it was (if any); `None`
/// when it failed otherwise.
fn failed_update_item(e: &CallError<UpdateItemError>) -> Option<Option<Attrs>> {
    match e.service()? {
        UpdateItemError::ConditionalCheckFailedException(c) => {
            Some(c.item().filter(|m| !m.is_empty()).cloned())
        }
        _ => None,
    }
}

// ---------------------------------------------------------------- cursors

fn encode_cursor(key: &Attrs) -> String {
    let m: Map<String, Value> = key
        .iter()
        .map(|(k, v)| (k.clone(), av_to_json(v)))
        .collect();
    URL_SAFE_NO_PAD.encode(Value::Object(m).to_string())
}

fn decode_cursor(cursor: &str, index: Index) -> Result<Attrs, StoreError> {
    let bad = || StoreError::Invalid("malformed query cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let m: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let needed: &[&str] = match index {
        Index::Primary => &["pk", "sk"],
        Index::Gsi1 => &["pk", "sk", "gsi1pk", "gsi1sk"],
    };
    needed
        .iter()
        .map(|name| match m.get(*name) {
            Some(Value::String(v)) => Ok(((*name).to_owned(), s(v))),
            _ => Err(bad()),
        })
        .collect()
}

// ---------------------------------------------------------------- operations

impl DynamoStore {
    /// The `Query` request both reads and counts send: `query`'s partition and
    /// sort-key range, live items only, on its index (strongly consistent on the
    /// table; a global secondary index never is).
    fn query_request(&self, query: &Query) -> QueryFluentBuilder {
        let mut e = Expr::new(self.now());
        let key_cond = key_condition(&mut e, query);
        let req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_cond)
            .filter_expression(e.unexpired())
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        match query.index {
            Index::Primary => req.consistent_read(true),
            Index::Gsi1 => req.index_name(table::GSI1),
        }
    }

    /// Remove `item` if it is still the same expired item; a race is harmless (the
    /// caller writes again and re-checks).
    async fn remove_expired(&self, item: &Attrs) -> Result<(), StoreError> {
        let Ok(found) = to_item(item) else {
            return Ok(());
        };
        let mut e = Expr::new(self.now());
        let v = e.name("v");
        let val = e.value(n(found.version.0));
        let ttl = e.name(table::TTL_ATTRIBUTE);
        let now = e.now();
        let cond = format!("{v} = {val} AND {ttl} <= {now}");
        let result = retry(is_transient, || {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(&found.key)))
                .condition_expression(&cond)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(other(e)),
        }
    }

    /// Create a fresh counter item, replacing `old` (an expired item) or nothing.
    /// `Ok(false)` when another writer got there first.
    async fn put_counter(
        &self,
        key: &Key,
        name: &str,
        value: i64,
        expires_at: Option<i64>,
        old: Option<&Attrs>,
    ) -> Result<bool, StoreError> {
        let mut item = NewItem::new(key.clone()).attr(name, value);
        item.expires_at = expires_at;
        let mut e = Expr::new(self.now());
        let cond = match old.and_then(|m| num_attr(m, "v")) {
            Some(old_v) => {
                let v = e.name("v");
                let val = e.value(n(old_v));
                format!("{v} = {val}")
            }
            None => {
                let pk = e.name(table::PARTITION_KEY);
                format!("attribute_not_exists({pk})")
            }
        };
        let attrs = item_attrs(&item, Version::fresh());
        let result = retry(is_transient, || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(attrs.clone()))
                .condition_expression(&cond)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(other(e)),
        }
    }

    /// UpdateItem under `cond`, returning the new item; on a failed condition
    /// DynamoDB returns the old one ([`failed_update_item`]).
    async fn update_item(
        &self,
        key: &Key,
        update_expr: &str,
        cond: &str,
        e: &Expr,
    ) -> Result<UpdateItemOutput, CallError<UpdateItemError>> {
        retry(is_transient, || {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key)))
                .update_expression(update_expr)
                .condition_expression(cond)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
        })
        .await
    }

    fn transact_item(&self, write: &Write, now: i64) -> TransactWriteItem {
        let mut e = Expr::new(now);
        let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
        match write {
            Write::Put { item, condition } => {
                let cond = e.condition(condition.as_ref());
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item_attrs(item, Version::fresh())))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_values_on_condition_check_failure(all_old)
                    .build()
                    .expect("table and item are set");
                TransactWriteItem::builder().put(put).build()
            }
            Write::Update {
                key,
                changes,
                condition,
            } => {
                let cond = e.condition(condition.as_ref());
                let guard = e.unexpired();
                let cond = and_guard(cond, guard);
                let update_expr = e.update(changes, Version::fresh());
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .update_expression(update_expr)
                    .condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_values_on_condition_check_failure(all_old)
                    .build()
                    .expect("table, key and expression are set");
                TransactWriteItem::builder().update(update).build()
            }
            Write::Delete { key, condition } => {
                let cond = e.condition(condition.as_ref());
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_values_on_condition_check_failure(all_old)
                    .build()
                    .expect("table and key are set");
                TransactWriteItem::builder().delete(delete).build()
            }
            Write::Check { key, condition } => {
                let cond = e
                    .condition(Some(condition))
                    // An always-true check still needs an expression.
                    .unwrap_or_else(|| {
                        let pk = e.name(table::PARTITION_KEY);
                        format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
                    });
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_values_on_condition_check_failure(all_old)
                    .build()
                    .expect("table, key and condition are set");
                TransactWriteItem::builder().condition_check(check).build()
            }
        }
    }
}

/// The key condition of a query (partition and sort-key range) in `e`'s names.
fn key_condition(e: &mut Expr, query: &Query) -> String {
    let (pk_attr, sk_attr) = match query.index {
        Index::Primary => (table::PARTITION_KEY, table::SORT_KEY),
        Index::Gsi1 => (table::GSI1_PARTITION_KEY, table::GSI1_SORT_KEY),
    };
    let pk = e.name(pk_attr);
    let pv = e.value(s(&query.pk));
    let mut key_cond = format!("{pk} = {pv}");
    let sort = match &query.sort {
        SortKey::Any => None,
        SortKey::Prefix(p) if p.is_empty() => None,
        sort => Some(sort),
    };
    if let Some(sort) = sort {
        let sk = e.name(sk_attr);
        let cond = match sort {
            SortKey::Prefix(p) => format!("begins_with({sk}, {})", e.value(s(p))),
            SortKey::Between(a, b) => {
                let (va, vb) = (e.value(s(a)), e.value(s(b)));
                format!("{sk} BETWEEN {va} AND {vb}")
            }
            SortKey::Lt(v) => format!("{sk} < {}", e.value(s(v))),
            SortKey::Le(v) => format!("{sk} <= {}", e.value(s(v))),
            SortKey::Gt(v) => format!("{sk} > {}", e.value(s(v))),
            SortKey::Ge(v) => format!("{sk} >= {}", e.value(s(v))),
            SortKey::Any => unreachable!("filtered above"),
        };
        key_cond.push_str(&format!(" AND {cond}"));
    }
    key_cond
}

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate_key(key)?;
        let out = retry(is_transient, || {
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key)))
                .consistent_read(true)
                .send()
        })
        .await
        .map_err(other)?;
        live_item(out.item(), self.now())
    }

    async fn put(&self, item: NewItem, condition: Option<Condition>) -> Result<Item, StoreError> {
        validate_new_item(&item)?;
        let version = Version::fresh();
        let attrs = item_attrs(&item, version);
        let mut e = Expr::new(self.now());
        let cond = e.condition(condition.as_ref());
        retry(is_transient, || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(attrs.clone()))
                .set_condition_expression(cond.clone())
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .send()
        })
        .await
        .map_err(other)?;
        Ok(Item {
            key: item.key.expect("validated: the item has a key"),
            gsi1: item.gsi1,
            expires_at: item.expires_at,
            version,
            attrs: item.attrs,
        })
    }

    async fn update(
        &self,
        key: &Key,
        changes: Vec<Change>,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        validate_key(key)?;
        validate_changes(&changes)?;
        for _ in 0..EXPIRED_ROUNDS {
            let mut e = Expr::new(self.now());
            let cond = e.condition(condition.as_ref());
            let guard = e.unexpired();
            let cond = and_guard(cond, guard);
            let update_expr = e.update(&changes, Version::fresh());
            let result = self.update_item(key, &update_expr, &cond, &e).await;
            match result {
                Ok(out) => {
                    return to_item(out.attributes().unwrap_or(&HashMap::new()));
                }
                Err(err) => {
                    match failed_update_item(&err) {
                        // The guard (or the condition) met an expired item: an update
                        // must not merge into it, so remove it and try again.
                        Some(Some(old)) if is_expired(&old, self.now()) => {
                            self.remove_expired(&old).await?;
                        }
                        Some(_) => return Err(StoreError::CONDITION_FAILED),
                        None => return Err(other(err)),
                    }
                }
            }
        }
        Err(StoreError::Unavailable(
            "update kept meeting an expired item".into(),
        ))
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        validate_key(key)?;
        let mut e = Expr::new(self.now());
        let cond = e.condition(condition.as_ref());
        let out = retry(is_transient, || {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key)))
                .set_condition_expression(cond.clone())
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .return_values(ReturnValue::AllOld)
                .send()
        })
        .await
        .map_err(other)?;
        live_item(out.attributes(), e.now)
    }

    async fn add(
        &self,
        key: &Key,
        name: &str,
        delta: i64,
        max: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<Counter, StoreError> {
        validate_key(key)?;
        validate_attr_name(name)?;
        // Could a fresh counter (value = delta) take this add?
        let fresh_ok = max.is_none_or(|m| delta <= m && delta >= 0);
        for _ in 0..EXPIRED_ROUNDS {
            let mut e = Expr::new(self.now());
            let a = e.name(name);
            let live = e.live();
            // The bound on the current value: value + delta within [0 (if delta < 0), max].
            let mut bound = Vec::new();
            if let Some(m) = max {
                let limit = m.checked_sub(delta).ok_or(StoreError::CONDITION_FAILED)?;
                let lv = e.value(n(limit));
                bound.push(format!("{a} <= {lv}"));
                if delta < 0 {
                    let lo = e.value(n(-(delta as i128)));
                    bound.push(format!("{a} >= {lo}"));
                }
            }
            // Each branch is one parenthesized term: DynamoDB rejects `((…))`.
            let on_live = match (bound.is_empty(), fresh_ok) {
                (true, _) => live,
                (false, true) => format!(
                    "({live} AND (attribute_not_exists({a}) OR {}))",
                    bound.join(" AND ")
                ),
                (false, false) => format!("({live} AND {})", bound.join(" AND ")),
            };
            // An absent item may be created by the update itself only when no expiry
            // is to be set (the update cannot tell "created" from "existing").
            let cond = if fresh_ok && expires_at.is_none() {
                let pk = e.name(table::PARTITION_KEY);
                format!("(attribute_not_exists({pk}) OR {on_live})")
            } else {
                on_live
            };
            let dv = e.value(n(delta));
            let v = e.name("v");
            let fresh = e.named_value("fresh", n(Version::fresh().0));
            let update_expr = format!("ADD {a} {dv} SET {v} = {fresh}");
            let result = self.update_item(key, &update_expr, &cond, &e).await;
            let err = match result {
                Ok(out) => {
                    let value = out
                        .attributes()
                        .and_then(|m| m.get(name))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<i64>().ok())
                        .ok_or_else(|| {
                            StoreError::Invalid(format!("attribute `{name}` is not an integer"))
                        })?;
                    return Ok(Counter { value });
                }
                Err(err) => err,
            };
            let old = match failed_update_item(&err) {
                None => return Err(other(err)),
                Some(old) => old,
            };
            match old {
                Some(old) if !is_expired(&old, self.now()) => {
                    return Err(StoreError::CONDITION_FAILED);
                }
                // Absent or expired: a fresh counter, if the bound allows one.
                _ if !fresh_ok => return Err(StoreError::CONDITION_FAILED),
                old => {
                    if self
                        .put_counter(key, name, delta, expires_at, old.as_ref())
                        .await?
                    {
                        return Ok(Counter { value: delta });
                    }
                    // Another writer created it meanwhile: add to theirs.
                }
            }
        }
        Err(StoreError::Unavailable(
            "counter kept changing under contention".into(),
        ))
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        for _ in 0..EXPIRED_ROUNDS {
            let now = self.now();
            let items: Vec<TransactWriteItem> =
                writes.iter().map(|w| self.transact_item(w, now)).collect();
            let result = retry(is_transient_cancellation, || {
                self.client
                    .transact_write_items()
                    .set_transact_items(Some(items.clone()))
                    .send()
            })
            .await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let reasons = match &err {
                CallError::Failed(e) => match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(tc)) => {
                        tc.cancellation_reasons().to_vec()
                    }
                    _ => return Err(other(err)),
                },
                CallError::Exhausted(_) => return Err(other(err)),
            };
            let failed: Vec<(usize, Option<&Attrs>)> = reasons
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, r)| (i, r.item().filter(|m| !m.is_empty())))
                .collect();
            if failed.is_empty() {
                let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
                return Err(StoreError::Fatal(format!(
                    "transaction cancelled: {}",
                    codes.join(", ")
                )));
            }
            // Updates that met an expired item must not merge into it: remove those
            // items and run the transaction again; otherwise a condition failed.
            let expired: Vec<&Attrs> = failed
                .iter()
                .filter(|(i, _)| matches!(writes[*i], Write::Update { .. }))
                .filter_map(|(_, item)| item.filter(|m| is_expired(m, now)))
                .collect();
            if expired.is_empty() {
                return Err(StoreError::ConditionFailed {
                    index: Some(failed[0].0),
                });
            }
            for item in expired {
                self.remove_expired(item).await?;
            }
        }
        Err(StoreError::Unavailable(
            "transaction kept meeting expired items".into(),
        ))
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        validate_query(&query)?;
        let base = self.query_request(&query);
        let start = query
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, query.index))
            .transpose()?;
        let limit = query.limit.unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE) as i32;
        let out = retry(is_transient, || {
            base.clone()
                .scan_index_forward(!query.descending)
                .limit(limit)
                .set_exclusive_start_key(start.clone())
                .send()
        })
        .await
        .map_err(other)?;
        let items = out
            .items()
            .iter()
            .map(to_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next: out.last_evaluated_key().map(encode_cursor),
        })
    }

    async fn count(&self, query: Query) -> Result<u64, StoreError> {
        validate_query(&query)?;
        let base = self.query_request(&query).select(Select::Count);
        let mut total = 0u64;
        let mut start = None;
        // `Select::Count` returns no items, only how many each 1 MB page matched.
        loop {
            let out = retry(is_transient, || {
                base.clone().set_exclusive_start_key(start.clone()).send()
            })
            .await
            .map_err(other)?;
            total += out.count().max(0) as u64;
            match out.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(total),
            }
        }
    }

    async fn purge_expired(&self, _max: usize) -> Result<usize, StoreError> {
        // DynamoDB TTL deletes expired items itself; reads already hide them.
        Ok(0)
    }

    async fn check(&self) -> Result<(), StoreError> {
        retry(is_transient, || {
            self.client.describe_table().table_name(&self.table).send()
        })
        .await
        .map(|_| ())
        .map_err(|e| match e {
            CallError::Failed(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                StoreError::Fatal(format!("table `{}` does not exist", self.table))
            }
            e => other(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_through_attribute_values() {
        let v = serde_json::json!({
            "s": "x", "i": -3, "f": 1.5, "b": true, "n": null,
            "l": [1, "two", [3.25]], "m": {"k": {"deep": false}}
        });
        assert_eq!(av_to_json(&json_to_av(&v)), v);
    }

    #[test]
    fn folding_removes_constant_branches() {
        let mut e = Expr::new(0);
        assert!(matches!(e.cond(&Condition::All(vec![])), Cond::True));
        assert!(matches!(e.cond(&Condition::Any(vec![])), Cond::False));
        let ordered_bool = Condition::attr("b", Cmp::Lt, true);
        assert!(matches!(e.cond(&ordered_bool), Cond::False));
        let any = Condition::Any(vec![ordered_bool, Condition::Exists]);
        assert!(matches!(e.cond(&any), Cond::Expr(_)));
    }

    fn service_error<E>(err: E, status: u16) -> SdkError<E, HttpResponse> {
        let raw = HttpResponse::new(
            status.try_into().expect("status"),
            aws_smithy_types::body::SdkBody::empty(),
        );
        SdkError::service_error(err, raw)
    }

    fn coded(code: &str) -> UpdateItemError {
        UpdateItemError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code(code)
                .build(),
        )
    }

    fn cancelled(reasons: &[&str]) -> SdkError<TransactWriteItemsError, HttpResponse> {
        let mut tc = aws_sdk_dynamodb::types::error::TransactionCanceledException::builder();
        for r in reasons {
            tc = tc.cancellation_reasons(
                aws_sdk_dynamodb::types::CancellationReason::builder()
                    .code(*r)
                    .build(),
            );
        }
        service_error(
            TransactWriteItemsError::TransactionCanceledException(tc.build()),
            400,
        )
    }

    #[test]
    fn transient_errors_are_told_apart() {
        assert!(is_transient(&service_error(
            coded("ThrottlingException"),
            400
        )));
        assert!(is_transient(&service_error(
            coded("ProvisionedThroughputExceededException"),
            400
        )));
        assert!(is_transient(&service_error(coded("Whatever"), 503)));
        assert!(is_transient(&service_error(coded("Whatever"), 429)));
        assert!(!is_transient(&service_error(
            coded("ValidationException"),
            400
        )));
        assert!(!is_transient(&service_error(
            coded("ConditionalCheckFailedException"),
            400
        )));
        assert!(is_transient_cancellation(&cancelled(&[
            "None",
            "TransactionConflict"
        ])));
        assert!(is_transient_cancellation(&cancelled(&["ThrottlingError"])));
        assert!(!is_transient_cancellation(&cancelled(&[
            "ConditionalCheckFailed",
            "TransactionConflict"
        ])));
        assert!(!is_transient_cancellation(&cancelled(&["ValidationError"])));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_recovers_from_transient_errors() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let out = retry(is_transient, || async {
            match calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 | 1 => Err(service_error(coded("ThrottlingException"), 400)),
                _ => Ok(7),
            }
        })
        .await;
        assert!(matches!(out, Ok(7)));
        assert_eq!(calls.into_inner(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_gives_up_as_unavailable() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let out: Result<(), _> = retry(is_transient_cancellation, || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(cancelled(&["TransactionConflict"]))
        })
        .await;
        assert_eq!(calls.into_inner(), RETRY.attempts);
        assert!(matches!(
            other(out.unwrap_err()),
            StoreError::Unavailable(_)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_never_repeats_a_failed_condition() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let out: Result<(), _> = retry(is_transient, || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(service_error(coded("ConditionalCheckFailedException"), 400))
        })
        .await;
        assert_eq!(calls.into_inner(), 1);
        assert_eq!(other(out.unwrap_err()), StoreError::CONDITION_FAILED);
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        for attempt in 0..40 {
            assert!(RETRY.delay(attempt) <= RETRY.cap);
        }
    }
}
