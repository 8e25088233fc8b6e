//! The documents' filter DSL: `{ "field.path": value }` (equality), operators
//! `$eq $ne $gt $gte $lt $lte $in $nin $exists` on a field, `$and` / `$or` of
//! filters, and at the top level `$sort` (`{field: 1 | -1}`, stable, ties broken by
//! document id), `$limit` (clamped) and `$cursor` (from the previous page). An
//! unknown operator is an error naming it.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Field(String, Test),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Exists(bool),
}

/// A whole `find` request.
#[derive(Debug, Clone, PartialEq)]
pub struct FindRequest {
    pub filter: Filter,
    pub sort: Vec<(String, bool)>,
    pub limit: usize,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

impl FindRequest {
    pub fn parse(raw: &Value) -> Result<Self, String> {
        let map = raw
            .as_object()
            .ok_or("a filter is a map, e.g. #{ status: \"paid\" }")?;
        let mut sort = vec![];
        let mut limit = DEFAULT_LIMIT;
        let mut cursor = None;
        let mut rest = Map::new();
        for (k, v) in map {
            match k.as_str() {
                "$sort" => sort = parse_sort(v)?,
                "$limit" => {
                    limit = v
                        .as_i64()
                        .ok_or("`$limit` is a number")?
                        .clamp(1, MAX_LIMIT as i64) as usize
                }
                "$cursor" => {
                    cursor = match v {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        _ => return Err("`$cursor` is the string a previous page returned".into()),
                    }
                }
                _ => {
                    rest.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(Self {
            filter: parse_filter(&rest)?,
            sort,
            limit,
            cursor,
        })
    }
}

fn parse_sort(v: &Value) -> Result<Vec<(String, bool)>, String> {
    let map = v
        .as_object()
        .ok_or("`$sort` is a map of field to 1 (ascending) or -1 (descending)")?;
    map.iter()
        .map(|(field, dir)| match dir.as_i64() {
            Some(1) => Ok((field.clone(), true)),
            Some(-1) => Ok((field.clone(), false)),
            _ => Err(format!("`$sort.{field}` is 1 or -1")),
        })
        .collect()
}

fn parse_filter(map: &Map<String, Value>) -> Result<Filter, String> {
    let mut all = vec![];
    for (k, v) in map {
        match k.as_str() {
            "$and" | "$or" => {
                let list = v
                    .as_array()
                    .ok_or_else(|| format!("`{k}` takes an array of filters"))?;
                let parts = list
                    .iter()
                    .map(|f| {
                        f.as_object()
                            .ok_or_else(|| format!("`{k}` takes an array of filters"))
                            .and_then(parse_filter)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                all.push(if k == "$and" {
                    Filter::All(parts)
                } else {
                    Filter::Any(parts)
                });
            }
            op if op.starts_with('$') => return Err(format!("unknown operator `{op}`")),
            field => {
                if field.is_empty() || field.split('.').any(str::is_empty) {
                    return Err(format!("`{field}` is not a field path"));
                }
                match v {
                    Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
                        for (op, arg) in ops {
                            all.push(Filter::Field(field.to_owned(), parse_test(op, arg)?));
                        }
                    }
                    other => all.push(Filter::Field(field.to_owned(), Test::Eq(other.clone()))),
                }
            }
        }
    }
    Ok(Filter::All(all))
}

fn parse_test(op: &str, arg: &Value) -> Result<Test, String> {
    let list = |arg: &Value| {
        arg.as_array()
            .cloned()
            .ok_or_else(|| format!("`{op}` takes an array"))
    };
    Ok(match op {
        "$eq" => Test::Eq(arg.clone()),
        "$ne" => Test::Ne(arg.clone()),
        "$gt" => Test::Gt(arg.clone()),
        "$gte" => Test::Gte(arg.clone()),
        "$lt" => Test::Lt(arg.clone()),
        "$lte" => Test::Lte(arg.clone()),
        "$in" => Test::In(list(arg)?),
        "$nin" => Test::Nin(list(arg)?),
        "$exists" => Test::Exists(arg.as_bool().ok_or("`$exists` takes true or false")?),
        other => return Err(format!("unknown operator `{other}`")),
    })
}

/// The value at a dotted path.
pub fn at<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// Order of two JSON values of the same kind (numbers numerically, strings by
/// bytes, booleans false first); `None` across kinds.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare(a, b) == Some(Ordering::Equal),
        _ => a == b,
    }
}

impl Filter {
    pub fn matches(&self, doc: &Value) -> bool {
        match self {
            Filter::All(fs) => fs.iter().all(|f| f.matches(doc)),
            Filter::Any(fs) => fs.iter().any(|f| f.matches(doc)),
            Filter::Field(path, test) => {
                let v = at(doc, path);
                let ord = |want: &Value| v.and_then(|v| compare(v, want));
                match test {
                    Test::Eq(want) => v.is_some_and(|v| equal(v, want)),
                    Test::Ne(want) => !v.is_some_and(|v| equal(v, want)),
                    Test::Gt(want) => ord(want) == Some(Ordering::Greater),
                    Test::Gte(want) => {
                        matches!(ord(want), Some(Ordering::Greater | Ordering::Equal))
                    }
                    Test::Lt(want) => ord(want) == Some(Ordering::Less),
                    Test::Lte(want) => matches!(ord(want), Some(Ordering::Less | Ordering::Equal)),
                    Test::In(list) => v.is_some_and(|v| list.iter().any(|w| equal(v, w))),
                    Test::Nin(list) => !v.is_some_and(|v| list.iter().any(|w| equal(v, w))),
                    Test::Exists(want) => v.is_some() == *want,
                }
            }
        }
    }
}

/// The order `find` returns documents in: by the `$sort` fields, then by id (so
/// the order is total and pages never overlap). Missing fields sort first; values
/// of different kinds sort by kind (null, booleans, numbers, strings, others).
pub fn order(a: &(String, Value), b: &(String, Value), by: &[(String, bool)]) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None => 0,
            Some(Value::Null) => 1,
            Some(Value::Bool(_)) => 2,
            Some(Value::Number(_)) => 3,
            Some(Value::String(_)) => 4,
            Some(_) => 5,
        }
    }
    for (field, asc) in by {
        let (x, y) = (at(&a.1, field), at(&b.1, field));
        let o = rank(x).cmp(&rank(y)).then_with(|| match (x, y) {
            (Some(x), Some(y)) => compare(x, y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        });
        let o = if *asc { o } else { o.reverse() };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.0.cmp(&b.0)
}

/// Sort `(id, doc)` pairs in [`order`].
pub fn sort(docs: &mut [(String, Value)], by: &[(String, bool)]) {
    docs.sort_by(|a, b| order(a, b, by));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"status": "paid", "total": 120, "customer": {"country": "FR", "vip": true}, "tags": ["a", "b"], "note": null})
    }

    fn hit(filter: Value) -> bool {
        FindRequest::parse(&filter).unwrap().filter.matches(&doc())
    }

    #[test]
    fn the_operator_table() {
        let table: &[(Value, bool)] = &[
            (json!({"status": "paid"}), true),
            (json!({"status": "open"}), false),
            (json!({"total": 120.0}), true),
            (json!({"customer.country": "FR"}), true),
            (json!({"customer.country": {"$eq": "DE"}}), false),
            (json!({"status": {"$ne": "open"}}), true),
            (json!({"missing": {"$ne": 1}}), true),
            (json!({"total": {"$gt": 100}}), true),
            (json!({"total": {"$gt": 120}}), false),
            (json!({"total": {"$gte": 120}}), true),
            (json!({"total": {"$lt": 200, "$gt": 100}}), true),
            (json!({"total": {"$lte": 119}}), false),
            (json!({"total": {"$gt": "100"}}), false),
            (json!({"status": {"$in": ["paid", "refunded"]}}), true),
            (json!({"status": {"$nin": ["paid"]}}), false),
            (json!({"customer.vip": {"$exists": true}}), true),
            (json!({"customer.age": {"$exists": false}}), true),
            (json!({"note": {"$exists": true}}), true),
            (json!({"tags.1": "b"}), true),
            (
                json!({"$or": [{"status": "open"}, {"total": {"$gte": 100}}]}),
                true,
            ),
            (
                json!({"$and": [{"status": "paid"}, {"customer.country": "DE"}]}),
                false,
            ),
            (json!({"$or": []}), false),
            (json!({}), true),
        ];
        for (filter, want) in table {
            assert_eq!(hit(filter.clone()), *want, "{filter}");
        }
    }

    #[test]
    fn unknown_operators_and_bad_shapes_are_named() {
        let err = |f: Value| FindRequest::parse(&f).unwrap_err();
        assert!(err(json!({"total": {"$regex": "x"}})).contains("`$regex`"));
        assert!(err(json!({"$where": "1"})).contains("`$where`"));
        assert!(err(json!({"total": {"$in": 3}})).contains("array"));
        assert!(err(json!({"$sort": {"total": 2}})).contains("1 or -1"));
        assert!(err(json!([1])).contains("map"));
        let r = FindRequest::parse(&json!({"$limit": 10000, "$sort": {"total": -1}})).unwrap();
        assert_eq!(
            (r.limit, r.sort),
            (MAX_LIMIT, vec![("total".into(), false)])
        );
    }

    #[test]
    fn sorting_is_stable_with_an_id_tie_break() {
        let mut docs = vec![
            ("d3".to_owned(), json!({"n": 1})),
            ("d1".to_owned(), json!({"n": 2})),
            ("d2".to_owned(), json!({"n": 1})),
            ("d0".to_owned(), json!({})),
        ];
        sort(&mut docs, &[("n".into(), true)]);
        let ids: Vec<&str> = docs.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids, ["d0", "d2", "d3", "d1"]);
        sort(&mut docs, &[("n".into(), false)]);
        let ids: Vec<&str> = docs.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids, ["d1", "d2", "d3", "d0"]);
    }
}
