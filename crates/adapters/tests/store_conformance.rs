//! Item store conformance: every case below is written once against the port and
//! runs against both adapters — SQLite on a temporary directory (`embedded::…`) and
//! DynamoDB on the moto emulator, one fresh table per test (`dynamodb::…`).

use serde_json::{Value, json};
use skiff_adapters::sqlite_store::SqliteStore;
use skiff_core::clock::FixedClock;
use skiff_core::ports::store::*;
use std::collections::BTreeSet;
use std::time::Duration;

type Harness = skiff_adapters::testing::StoreHarness;

skiff_adapters::conformance_suite! {
    adapters { embedded => &super::Harness::sqlite().await, dynamodb => &super::Harness::dynamodb("store").await }
    cases {
        put_get_round_trip,
        get_of_missing_item_is_none,
        get_many_answers_each_key_in_order,
        get_many_text_reads_what_get_many_reads,
        put_replaces_the_whole_item,
        update_applies_every_change,
        update_creates_an_absent_item,
        delete_returns_the_old_item,
        absent_and_exists_conditions,
        failed_condition_writes_nothing,
        version_changes_on_every_write,
        version_is_condition,
        attribute_conditions_on_numbers,
        attribute_conditions_on_strings,
        attribute_conditions_on_other_types,
        attribute_to_attribute_conditions,
        attr_missing_condition,
        any_and_all_conditions,
        bounded_add,
        bounded_add_with_negative_delta,
        add_creates_counter_with_expiry,
        expired_item_is_invisible_and_absent,
        advancing_clock_hides_live_item,
        writes_on_expired_item_start_fresh,
        query_by_prefix,
        query_by_ranges,
        query_descending_with_limit,
        query_pagination_has_no_gaps_or_duplicates,
        query_gsi1,
        query_gsi1_pagination_with_equal_index_keys,
        count_matches_the_query_over_all_pages,
        query_many_answers_each_query_as_query_does,
        transaction_applies_all_writes,
        transaction_is_all_or_nothing,
        transaction_update_on_expired_item_starts_fresh,
        invalid_requests_are_rejected_alike,
        check_succeeds,
        concurrent_bounded_increments_stop_at_the_bound,
        concurrent_put_if_absent_has_one_winner,
        concurrent_transactions_losers_leave_nothing,
    }
}

// ------------------------------------------------------------------ helpers

fn key(sk: &str) -> Key {
    Key::new("P", sk)
}

fn cf() -> StoreError {
    StoreError::CONDITION_FAILED
}

async fn put(h: &Harness, sk: &str, attrs: Value) -> Item {
    let Value::Object(attrs) = attrs else {
        panic!("attrs must be an object")
    };
    let item = NewItem {
        key: Some(key(sk)),
        attrs,
        ..Default::default()
    };
    h.store.put(item, None).await.expect("put")
}

async fn get(h: &Harness, sk: &str) -> Option<Item> {
    h.store.get(&key(sk)).await.expect("get")
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.key.sk.clone()).collect()
}

/// Every item of a query from its cursor on, following cursors; also returns the
/// number of pages.
async fn query_all(h: &Harness, q: Query) -> (Vec<Item>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    let mut cursor = q.cursor.clone();
    loop {
        let page = h.store.query(q.clone().after(cursor)).await.expect("query");
        pages += 1;
        assert!(
            page.items.len() <= q.limit.unwrap_or(MAX_PAGE_SIZE),
            "a page never exceeds the limit"
        );
        all.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (all, pages),
        }
        assert!(pages < 100, "pagination does not terminate");
    }
}

// ------------------------------------------------------------------ basics

async fn put_get_round_trip(h: &Harness) {
    let attrs = json!({
        "name": "Ada", "count": 42, "big": 9_007_199_254_740_993_i64, "ratio": 0.25,
        "neg": -7, "on": true, "off": false, "nothing": null, "empty": "",
        "list": [1, "two", [3.5], {"four": 4}], "nested": {"a": {"b": [true, null]}},
        "unicode": "héllo ✓ 𝄞"
    });
    let expires = h.now() + 3600;
    let new = NewItem::new(key("a"))
        .index(IndexKey::new("G", "g#1"))
        .expires_at(expires);
    let new = NewItem {
        attrs: attrs.as_object().unwrap().clone(),
        ..new
    };
    let written = h.store.put(new, None).await.unwrap();
    let read = get(h, "a").await.expect("item exists");
    assert_eq!(read, written);
    assert_eq!(read.key, key("a"));
    assert_eq!(read.gsi1, Some(IndexKey::new("G", "g#1")));
    assert_eq!(read.expires_at, Some(expires));
    assert_eq!(Value::Object(read.attrs.clone()), attrs);
    assert_eq!(read.get_i64("big"), Some(9_007_199_254_740_993));
    assert_eq!(read.get_str("unicode"), Some("héllo ✓ 𝄞"));
}

async fn get_of_missing_item_is_none(h: &Harness) {
    assert_eq!(get(h, "nope").await, None);
    assert_eq!(h.store.get(&Key::new("other", "a")).await.unwrap(), None);
}

/// An item at `sk` that expired a second ago.
async fn put_expired(h: &Harness, sk: &str) {
    let item = NewItem::new(key(sk)).attr("n", 3).expires_at(h.now() - 1);
    h.store.put(item, None).await.unwrap();
}

async fn get_many_answers_each_key_in_order(h: &Harness) {
    let b = put(h, "b", json!({"n": 2})).await;
    let a = put(h, "a", json!({"n": 1})).await;
    put_expired(h, "gone").await;
    let keys = [key("b"), key("missing"), key("a"), key("gone"), key("b")];
    let got = h.store.get_many(&keys).await.unwrap();
    assert_eq!(got, [Some(b.clone()), None, Some(a), None, Some(b)]);
    assert!(h.store.get_many(&[]).await.unwrap().is_empty());
    let too_many: Vec<Key> = (0..=MAX_BATCH_GET).map(|i| key(&format!("k{i}"))).collect();
    assert!(matches!(
        h.store.get_many(&too_many).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn get_many_text_reads_what_get_many_reads(h: &Harness) {
    let attrs = json!({"n": 1, "s": "é \"quoted\"", "list": [1, "two", null], "o": {"b": true}});
    put(h, "a", attrs.clone()).await;
    put_expired(h, "gone").await;
    let keys = [key("a"), key("missing"), key("gone"), key("a")];
    let items = h.store.get_many(&keys).await.unwrap();
    let texts = h.store.get_many_text(&keys).await.unwrap();
    assert_eq!(texts.len(), keys.len());
    for (item, text) in items.into_iter().zip(texts) {
        let Some(item) = item else {
            assert_eq!(text, None);
            continue;
        };
        let text = text.expect("read as text too");
        assert_eq!((&text.key, text.version), (&item.key, item.version));
        assert_eq!(
            text.into_record::<Value>().unwrap(),
            Value::Object(item.attrs)
        );
    }
    assert!(h.store.get_many_text(&[]).await.unwrap().is_empty());
    let too_many: Vec<Key> = (0..=MAX_BATCH_GET).map(|i| key(&format!("k{i}"))).collect();
    assert!(matches!(
        h.store.get_many_text(&too_many).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn put_replaces_the_whole_item(h: &Harness) {
    let first = NewItem::new(key("a"))
        .attr("x", 1)
        .attr("y", 2)
        .index(IndexKey::new("G", "1"))
        .expires_at(h.now() + 100);
    h.store.put(first, None).await.unwrap();
    h.store
        .put(NewItem::new(key("a")).attr("z", 3), None)
        .await
        .unwrap();
    let read = get(h, "a").await.unwrap();
    assert_eq!(Value::Object(read.attrs), json!({"z": 3}));
    assert_eq!(read.gsi1, None);
    assert_eq!(read.expires_at, None);
    let gsi = h.store.query(Query::gsi1("G")).await.unwrap();
    assert!(gsi.items.is_empty(), "the old index entry is gone");
}

async fn update_applies_every_change(h: &Harness) {
    put(h, "a", json!({"keep": "k", "gone": 1, "n": 5, "s": "old"})).await;
    let expires = h.now() + 500;
    let updated = h
        .store
        .update(
            &key("a"),
            vec![
                Change::set("s", "new"),
                Change::set("obj", json!({"deep": [1, 2]})),
                Change::Remove("gone".into()),
                Change::Add("n".into(), 3),
                Change::Add("fresh".into(), -2),
                Change::SetIndex(Some(IndexKey::new("G", "x"))),
                Change::SetExpiry(Some(expires)),
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        Value::Object(updated.attrs.clone()),
        json!({"keep": "k", "n": 8, "s": "new", "obj": {"deep": [1, 2]}, "fresh": -2})
    );
    assert_eq!(updated.gsi1, Some(IndexKey::new("G", "x")));
    assert_eq!(updated.expires_at, Some(expires));
    assert_eq!(
        get(h, "a").await.unwrap(),
        updated,
        "update returns the stored item"
    );

    let cleared = h
        .store
        .update(
            &key("a"),
            vec![Change::SetIndex(None), Change::SetExpiry(None)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(cleared.gsi1, None);
    assert_eq!(cleared.expires_at, None);
    assert_eq!(cleared.attrs, updated.attrs);
    assert!(
        h.store
            .query(Query::gsi1("G"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn update_creates_an_absent_item(h: &Harness) {
    let created = h
        .store
        .update(
            &key("new"),
            vec![Change::set("a", "x"), Change::Add("hits".into(), 4)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        Value::Object(created.attrs.clone()),
        json!({"a": "x", "hits": 4})
    );
    assert_eq!(get(h, "new").await.unwrap(), created);
    // Add on a missing attribute of an existing item counts from 0.
    let again = h
        .store
        .update(&key("new"), vec![Change::Add("other".into(), 7)], None)
        .await
        .unwrap();
    assert_eq!(again.get_i64("other"), Some(7));
    assert_eq!(again.get_i64("hits"), Some(4));
}

async fn delete_returns_the_old_item(h: &Harness) {
    let written = put(h, "a", json!({"x": 1})).await;
    let deleted = h.store.delete(&key("a"), None).await.unwrap();
    assert_eq!(deleted, Some(written));
    assert_eq!(get(h, "a").await, None);
    assert_eq!(h.store.delete(&key("a"), None).await.unwrap(), None);
}

// ------------------------------------------------------------------ conditions

async fn absent_and_exists_conditions(h: &Harness) {
    let s = &h.store;
    let absent = Some(Condition::Absent);
    let exists = Some(Condition::Exists);
    s.put(NewItem::new(key("a")).attr("n", 1), absent.clone())
        .await
        .expect("absent holds for a new key");
    assert_eq!(
        s.put(NewItem::new(key("a")).attr("n", 2), absent.clone())
            .await,
        Err(cf())
    );
    s.put(NewItem::new(key("a")).attr("n", 3), exists.clone())
        .await
        .expect("exists holds");
    assert_eq!(
        s.put(NewItem::new(key("b")).attr("n", 1), exists.clone())
            .await,
        Err(cf())
    );
    assert_eq!(
        s.update(&key("b"), vec![Change::set("n", 1)], exists.clone())
            .await,
        Err(cf())
    );
    assert_eq!(s.delete(&key("b"), exists.clone()).await, Err(cf()));
    assert_eq!(get(h, "b").await, None, "a failed update creates nothing");
    assert_eq!(s.delete(&key("a"), absent).await, Err(cf()));
    assert!(s.delete(&key("a"), exists).await.unwrap().is_some());
}

async fn failed_condition_writes_nothing(h: &Harness) {
    let before = put(h, "a", json!({"n": 1, "s": "x"})).await;
    let never = Some(Condition::attr("n", Cmp::Gt, 100));
    let e = h
        .store
        .put(NewItem::new(key("a")).attr("n", 2), never.clone())
        .await;
    assert_eq!(e, Err(cf()));
    let e = h
        .store
        .update(
            &key("a"),
            vec![Change::set("s", "y"), Change::Add("n".into(), 1)],
            never.clone(),
        )
        .await;
    assert_eq!(e, Err(cf()));
    assert_eq!(h.store.delete(&key("a"), never.clone()).await, Err(cf()));
    assert_eq!(
        h.store.add(&key("a"), "n", 1, Some(1), None).await,
        Err(cf())
    );
    assert_eq!(
        get(h, "a").await,
        Some(before),
        "item and version unchanged"
    );
}

async fn version_changes_on_every_write(h: &Harness) {
    let mut seen = BTreeSet::new();
    let v = put(h, "a", json!({"n": 1})).await.version;
    assert!(seen.insert(v.0));
    let v = h
        .store
        .update(&key("a"), vec![Change::set("n", 2)], None)
        .await
        .unwrap()
        .version;
    assert!(seen.insert(v.0));
    h.store.add(&key("a"), "n", 1, None, None).await.unwrap();
    let v = get(h, "a").await.unwrap().version;
    assert!(seen.insert(v.0), "add changes the version");
    h.store
        .transact(vec![Write::Update {
            key: key("a"),
            changes: vec![Change::set("n", 9)],
            condition: None,
        }])
        .await
        .unwrap();
    let v = get(h, "a").await.unwrap().version;
    assert!(
        seen.insert(v.0),
        "a transactional update changes the version"
    );
    let v = put(h, "a", json!({"n": 1})).await.version;
    assert!(
        seen.insert(v.0),
        "rewriting identical content changes the version"
    );
}

async fn version_is_condition(h: &Harness) {
    let v1 = put(h, "a", json!({"n": 1})).await.version;
    let v2 = h
        .store
        .update(
            &key("a"),
            vec![Change::set("n", 2)],
            Some(Condition::VersionIs(v1)),
        )
        .await
        .unwrap()
        .version;
    assert_ne!(v1, v2);
    // A writer holding the stale version loses.
    let stale = h
        .store
        .put(
            NewItem::new(key("a")).attr("n", 99),
            Some(Condition::VersionIs(v1)),
        )
        .await;
    assert_eq!(stale, Err(cf()));
    assert_eq!(
        h.store
            .delete(&key("a"), Some(Condition::VersionIs(v1)))
            .await,
        Err(cf())
    );
    assert_eq!(
        h.store
            .update(&key("none"), vec![], Some(Condition::VersionIs(v2)))
            .await,
        Err(cf()),
        "VersionIs needs the item to exist"
    );
    let v3 = h
        .store
        .put(
            NewItem::new(key("a")).attr("n", 3),
            Some(Condition::VersionIs(v2)),
        )
        .await
        .unwrap()
        .version;
    let deleted = h
        .store
        .delete(&key("a"), Some(Condition::VersionIs(v3)))
        .await
        .unwrap();
    assert_eq!(deleted.unwrap().get_i64("n"), Some(3));
}

/// Whether `condition` holds on the current item at `sk`, observed through a
/// transaction check (which writes nothing). Cross-checked with the port's own
/// [`Condition::holds`], so both adapters follow the semantics written there.
async fn holds(h: &Harness, sk: &str, condition: Condition) -> bool {
    let current = get(h, sk).await;
    let expected = condition.holds(current.as_ref());
    let result = h
        .store
        .transact(vec![Write::Check {
            key: key(sk),
            condition: condition.clone(),
        }])
        .await;
    let observed = match result {
        Ok(()) => true,
        Err(e) if e.is_condition_failed() => false,
        Err(e) => panic!("{condition:?} on {sk}: {e}"),
    };
    assert_eq!(
        observed, expected,
        "{condition:?} on {current:?}: the adapter disagrees with Condition::holds"
    );
    observed
}

async fn attribute_conditions_on_numbers(h: &Harness) {
    put(h, "a", json!({"n": 5, "f": 2.5, "neg": -3})).await;
    let c = |cmp, v: Value| Condition::attr("n", cmp, v);
    for (cond, want) in [
        (c(Cmp::Eq, json!(5)), true),
        (c(Cmp::Eq, json!(5.0)), true),
        (c(Cmp::Eq, json!(6)), false),
        (c(Cmp::Ne, json!(5)), false),
        (c(Cmp::Ne, json!(6)), true),
        (c(Cmp::Lt, json!(6)), true),
        (c(Cmp::Lt, json!(5)), false),
        (c(Cmp::Lt, json!(5.5)), true),
        (c(Cmp::Le, json!(5)), true),
        (c(Cmp::Le, json!(4)), false),
        (c(Cmp::Gt, json!(4)), true),
        (c(Cmp::Gt, json!(5)), false),
        (c(Cmp::Ge, json!(5)), true),
        (c(Cmp::Ge, json!(10)), false),
        (c(Cmp::Gt, json!(-100)), true),
        (Condition::attr("f", Cmp::Gt, 2), true),
        (Condition::attr("f", Cmp::Lt, 2.75), true),
        (Condition::attr("neg", Cmp::Lt, -2), true),
        // A number never orders against a string.
        (c(Cmp::Lt, json!("9")), false),
        (c(Cmp::Gt, json!("0")), false),
        (c(Cmp::Eq, json!("5")), false),
        // A missing attribute satisfies no comparison, not even `Ne`.
        (Condition::attr("missing", Cmp::Ne, 1), false),
        (Condition::attr("missing", Cmp::Lt, 1), false),
    ] {
        assert_eq!(holds(h, "a", cond.clone()).await, want, "{cond:?}");
    }
    // No item: no attribute comparison holds.
    assert!(!holds(h, "none", c(Cmp::Ne, json!(1))).await);
    assert!(!holds(h, "none", c(Cmp::Eq, json!(5))).await);
}

async fn attribute_conditions_on_strings(h: &Harness) {
    put(h, "a", json!({"s": "b", "u": "é"})).await;
    let c = |cmp, v: &str| Condition::attr("s", cmp, v);
    for (cond, want) in [
        (c(Cmp::Eq, "b"), true),
        (c(Cmp::Ne, "b"), false),
        (c(Cmp::Ne, "c"), true),
        (c(Cmp::Lt, "c"), true),
        (c(Cmp::Lt, "ba"), true),
        (c(Cmp::Lt, "b"), false),
        (c(Cmp::Le, "b"), true),
        (c(Cmp::Gt, "a"), true),
        (c(Cmp::Gt, "B"), true),
        (c(Cmp::Ge, "ba"), false),
        // UTF-8 byte order: "é" (C3 A9) sorts after "z".
        (Condition::attr("u", Cmp::Gt, "z"), true),
        (Condition::attr("u", Cmp::Lt, "\u{4e00}"), true),
        // A string never orders against a number.
        (Condition::attr("s", Cmp::Gt, 1), false),
        (Condition::attr("s", Cmp::Lt, 1), false),
    ] {
        assert_eq!(holds(h, "a", cond.clone()).await, want, "{cond:?}");
    }
}

async fn attribute_conditions_on_other_types(h: &Harness) {
    put(h, "a", json!({"on": true, "off": false, "nil": null})).await;
    for (cond, want) in [
        (Condition::attr("on", Cmp::Eq, true), true),
        (Condition::attr("on", Cmp::Eq, false), false),
        (Condition::attr("on", Cmp::Ne, false), true),
        (Condition::attr("off", Cmp::Eq, false), true),
        (Condition::attr("nil", Cmp::Eq, Value::Null), true),
        (Condition::attr("on", Cmp::Eq, 1), false),
        // Booleans are not ordered.
        (Condition::attr("on", Cmp::Gt, false), false),
        (Condition::attr("on", Cmp::Le, true), false),
    ] {
        assert_eq!(holds(h, "a", cond.clone()).await, want, "{cond:?}");
    }
}

async fn attribute_to_attribute_conditions(h: &Harness) {
    put(
        h,
        "a",
        json!({"used": 3, "max": 5, "half": 2.5, "neg": -1, "s": "3"}),
    )
    .await;
    let c = Condition::attrs;
    for (cond, want) in [
        (c("used", Cmp::Lt, "max"), true),
        (c("used", Cmp::Ge, "max"), false),
        (c("max", Cmp::Gt, "used"), true),
        (c("used", Cmp::Le, "used"), true),
        (c("used", Cmp::Eq, "used"), true),
        (c("used", Cmp::Ne, "max"), true),
        (c("used", Cmp::Eq, "max"), false),
        (c("half", Cmp::Lt, "used"), true),
        (c("neg", Cmp::Lt, "half"), true),
        // Only numbers compare: a string never does, nor a missing attribute.
        (c("used", Cmp::Eq, "s"), false),
        (c("used", Cmp::Ne, "s"), false),
        (c("used", Cmp::Lt, "missing"), false),
        (c("missing", Cmp::Ne, "used"), false),
    ] {
        assert_eq!(holds(h, "a", cond.clone()).await, want, "{cond:?}");
    }
    assert!(!holds(h, "none", c("used", Cmp::Lt, "max")).await);
    // As part of a transaction's update: a counter bounded by a limit on the item.
    let bounded = |sk: &str| Write::Update {
        key: key(sk),
        changes: vec![Change::Add("used".into(), 1)],
        condition: Some(c("used", Cmp::Lt, "max")),
    };
    h.store.transact(vec![bounded("a")]).await.unwrap();
    h.store.transact(vec![bounded("a")]).await.unwrap();
    let refused = h.store.transact(vec![bounded("a")]).await.unwrap_err();
    assert_eq!(refused, StoreError::ConditionFailed { index: Some(0) });
    assert_eq!(get(h, "a").await.unwrap().get_i64("used"), Some(5));
}

async fn attr_missing_condition(h: &Harness) {
    put(h, "a", json!({"x": 1})).await;
    assert!(holds(h, "a", Condition::AttrMissing("y".into())).await);
    assert!(!holds(h, "a", Condition::AttrMissing("x".into())).await);
    assert!(holds(h, "none", Condition::AttrMissing("x".into())).await);
    // A claim: set `owner` only if nobody holds it.
    let claim = |who: &str| {
        let who = who.to_owned();
        async move {
            h.store
                .update(
                    &key("a"),
                    vec![Change::set("owner", who)],
                    Some(Condition::AttrMissing("owner".into())),
                )
                .await
        }
    };
    claim("me").await.unwrap();
    assert_eq!(claim("you").await, Err(cf()));
    assert_eq!(get(h, "a").await.unwrap().get_str("owner"), Some("me"));
}

async fn any_and_all_conditions(h: &Harness) {
    put(h, "a", json!({"n": 5, "s": "x"})).await;
    let n_gt = |v: i64| Condition::attr("n", Cmp::Gt, v);
    for (cond, want) in [
        (Condition::All(vec![Condition::Exists, n_gt(1)]), true),
        (Condition::All(vec![Condition::Exists, n_gt(10)]), false),
        (Condition::Any(vec![Condition::Absent, n_gt(1)]), true),
        (Condition::Any(vec![Condition::Absent, n_gt(10)]), false),
        (Condition::All(vec![]), true),
        (Condition::Any(vec![]), false),
        (
            Condition::All(vec![
                Condition::Any(vec![n_gt(10), Condition::attr("s", Cmp::Eq, "x")]),
                Condition::Any(vec![Condition::AttrMissing("s".into()), n_gt(4)]),
            ]),
            true,
        ),
        (
            Condition::Any(vec![
                Condition::All(vec![n_gt(10), Condition::Exists]),
                Condition::All(vec![Condition::Absent]),
            ]),
            false,
        ),
        (
            Condition::Any(vec![Condition::attr("s", Cmp::Lt, true), n_gt(0)]),
            true,
        ),
    ] {
        assert_eq!(holds(h, "a", cond.clone()).await, want, "{cond:?}");
    }
    // On an absent item.
    let either = Condition::Any(vec![Condition::Absent, n_gt(1)]);
    assert!(holds(h, "none", either).await);
    let both = Condition::All(vec![Condition::Absent, Condition::AttrMissing("n".into())]);
    assert!(holds(h, "none", both).await);
}

// ------------------------------------------------------------------ counters

async fn bounded_add(h: &Harness) {
    let k = key("counter");
    for want in 1..=3 {
        let c = h.store.add(&k, "n", 1, Some(3), None).await.unwrap();
        assert_eq!(c.value, want);
    }
    assert_eq!(h.store.add(&k, "n", 1, Some(3), None).await, Err(cf()));
    assert_eq!(get(h, "counter").await.unwrap().get_i64("n"), Some(3));
    // A larger step that would cross the bound fails even though 1 would fit.
    let k2 = key("steps");
    assert_eq!(
        h.store.add(&k2, "n", 4, Some(5), None).await.unwrap().value,
        4
    );
    assert_eq!(h.store.add(&k2, "n", 2, Some(5), None).await, Err(cf()));
    assert_eq!(
        h.store.add(&k2, "n", 1, Some(5), None).await.unwrap().value,
        5
    );
    // A first step above the bound never creates the counter.
    assert_eq!(
        h.store.add(&key("big"), "n", 9, Some(5), None).await,
        Err(cf())
    );
    assert_eq!(get(h, "big").await, None);
    // Unbounded.
    let c = h
        .store
        .add(&key("free"), "n", 1_000, None, None)
        .await
        .unwrap();
    assert_eq!(c.value, 1_000);
    let c = h
        .store
        .add(&key("free"), "n", -1_500, None, None)
        .await
        .unwrap();
    assert_eq!(c.value, -500);
    // Other attributes of the item survive.
    put(h, "mixed", json!({"label": "x", "n": 1})).await;
    assert_eq!(
        h.store
            .add(&key("mixed"), "n", 2, Some(10), None)
            .await
            .unwrap()
            .value,
        3
    );
    assert_eq!(get(h, "mixed").await.unwrap().get_str("label"), Some("x"));
}

async fn bounded_add_with_negative_delta(h: &Harness) {
    let k = key("seats");
    h.store.add(&k, "used", 2, Some(5), None).await.unwrap();
    assert_eq!(
        h.store
            .add(&k, "used", -1, Some(5), None)
            .await
            .unwrap()
            .value,
        1
    );
    assert_eq!(
        h.store
            .add(&k, "used", -1, Some(5), None)
            .await
            .unwrap()
            .value,
        0
    );
    assert_eq!(
        h.store.add(&k, "used", -1, Some(5), None).await,
        Err(cf()),
        "a bounded counter never goes below zero"
    );
    assert_eq!(get(h, "seats").await.unwrap().get_i64("used"), Some(0));
    assert_eq!(
        h.store.add(&key("none"), "used", -1, Some(5), None).await,
        Err(cf())
    );
    assert_eq!(get(h, "none").await, None);
}

async fn add_creates_counter_with_expiry(h: &Harness) {
    let expires = h.now() + 60;
    let k = key("window");
    let c = h
        .store
        .add(&k, "hits", 1, Some(10), Some(expires))
        .await
        .unwrap();
    assert_eq!(c.value, 1);
    let item = get(h, "window").await.unwrap();
    assert_eq!(item.expires_at, Some(expires));
    // The expiry is set on creation only: later adds keep the first window.
    h.store
        .add(&k, "hits", 1, Some(10), Some(expires + 500))
        .await
        .unwrap();
    let item = get(h, "window").await.unwrap();
    assert_eq!(item.get_i64("hits"), Some(2));
    assert_eq!(item.expires_at, Some(expires));
    // After the window the counter starts over.
    h.clock.advance(Duration::from_secs(61));
    let c = h
        .store
        .add(&k, "hits", 1, Some(10), Some(h.now() + 60))
        .await
        .unwrap();
    assert_eq!(c.value, 1, "an expired counter starts fresh");
    assert_eq!(
        get(h, "window").await.unwrap().expires_at,
        Some(h.now() + 60)
    );
    // Without a new expiry the fresh counter has none.
    h.clock.advance(Duration::from_secs(61));
    let c = h.store.add(&k, "hits", 5, Some(10), None).await.unwrap();
    assert_eq!(c.value, 5);
    assert_eq!(get(h, "window").await.unwrap().expires_at, None);
}

// ------------------------------------------------------------------ expiry

async fn expired_item_is_invisible_and_absent(h: &Harness) {
    let past = h.now() - 10;
    let expired = NewItem::new(key("old"))
        .attr("x", 1)
        .index(IndexKey::new("G", "old"))
        .expires_at(past);
    h.store.put(expired, None).await.unwrap();
    h.store
        .put(NewItem::new(key("now")).attr("x", 2), None)
        .await
        .unwrap();
    // Expiry exactly now counts as expired.
    h.store
        .put(NewItem::new(key("edge")).expires_at(h.now()), None)
        .await
        .unwrap();
    assert_eq!(get(h, "old").await, None);
    assert_eq!(get(h, "edge").await, None);
    let page = h.store.query(Query::partition("P")).await.unwrap();
    assert_eq!(sks(&page.items), ["now"]);
    assert!(
        h.store
            .query(Query::gsi1("G"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Conditions see it as absent.
    assert!(holds(h, "old", Condition::Absent).await);
    assert!(!holds(h, "old", Condition::Exists).await);
    assert!(!holds(h, "old", Condition::attr("x", Cmp::Eq, 1)).await);
    assert!(holds(h, "old", Condition::AttrMissing("x".into())).await);
    assert_eq!(
        h.store.delete(&key("old"), Some(Condition::Exists)).await,
        Err(cf())
    );
    assert_eq!(h.store.delete(&key("old"), None).await.unwrap(), None);
    let fresh = h
        .store
        .put(
            NewItem::new(key("edge")).attr("y", 1),
            Some(Condition::Absent),
        )
        .await
        .unwrap();
    assert_eq!(get(h, "edge").await, Some(fresh));
}

async fn advancing_clock_hides_live_item(h: &Harness) {
    let expires = h.now() + 60;
    let item = NewItem::new(key("a"))
        .attr("x", 1)
        .index(IndexKey::new("G", "a"))
        .expires_at(expires);
    let written = h.store.put(item, None).await.unwrap();
    h.clock.advance(Duration::from_secs(59));
    assert_eq!(get(h, "a").await, Some(written.clone()));
    assert!(holds(h, "a", Condition::VersionIs(written.version)).await);
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(get(h, "a").await, None, "invisible from its expiry on");
    assert!(
        h.store
            .query(Query::partition("P"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        h.store
            .query(Query::gsi1("G"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(holds(h, "a", Condition::Absent).await);
    assert!(!holds(h, "a", Condition::VersionIs(written.version)).await);
    // Purging (where the adapter does it) changes nothing visible.
    h.store.purge_expired(100).await.unwrap();
    assert_eq!(get(h, "a").await, None);
}

async fn writes_on_expired_item_start_fresh(h: &Harness) {
    let item = NewItem::new(key("a"))
        .attr("old", "stale")
        .attr("n", 5)
        .index(IndexKey::new("G", "a"))
        .expires_at(h.now() + 10);
    h.store.put(item, None).await.unwrap();
    h.clock.advance(Duration::from_secs(11));
    let updated = h
        .store
        .update(&key("a"), vec![Change::Add("n".into(), 1)], None)
        .await
        .unwrap();
    assert_eq!(
        Value::Object(updated.attrs.clone()),
        json!({"n": 1}),
        "nothing of the expired item survives"
    );
    assert_eq!(updated.gsi1, None);
    assert_eq!(updated.expires_at, None);
    assert_eq!(get(h, "a").await, Some(updated));
    // A conditional update sees the expired item as absent, too.
    let item = NewItem::new(key("b")).attr("n", 5).expires_at(h.now() + 1);
    h.store.put(item, None).await.unwrap();
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(
        h.store
            .update(
                &key("b"),
                vec![Change::set("m", 1)],
                Some(Condition::Exists)
            )
            .await,
        Err(cf())
    );
    let created = h
        .store
        .update(
            &key("b"),
            vec![Change::set("m", 1)],
            Some(Condition::Absent),
        )
        .await
        .unwrap();
    assert_eq!(Value::Object(created.attrs), json!({"m": 1}));
}

// ------------------------------------------------------------------ queries

/// `P/item#00 … item#24`, plus neighbours that no query of `item#` may return.
async fn seed(h: &Harness) {
    for i in 0..25 {
        put(h, &format!("item#{i:02}"), json!({"i": i})).await;
    }
    put(h, "item", json!({})).await;
    put(h, "itex", json!({})).await;
    put(h, "aaa", json!({})).await;
    h.store
        .put(NewItem::new(Key::new("Q", "item#00")), None)
        .await
        .unwrap();
    h.store
        .put(NewItem::new(key("item#99")).expires_at(h.now() - 1), None)
        .await
        .unwrap();
}

fn items_range(r: std::ops::RangeInclusive<i32>) -> Vec<String> {
    r.map(|i| format!("item#{i:02}")).collect()
}

async fn query_by_prefix(h: &Harness) {
    seed(h).await;
    let page = h
        .store
        .query(Query::partition("P").prefix("item#"))
        .await
        .unwrap();
    assert_eq!(sks(&page.items), items_range(0..=24));
    assert_eq!(page.next, None);
    assert_eq!(page.items[3].get_i64("i"), Some(3));
    let page = h
        .store
        .query(Query::partition("P").prefix("item#1"))
        .await
        .unwrap();
    assert_eq!(sks(&page.items), items_range(10..=19));
    let page = h
        .store
        .query(Query::partition("P").prefix("zzz"))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let all = h.store.query(Query::partition("P")).await.unwrap();
    let mut want = vec!["aaa".to_owned(), "item".to_owned()];
    want.extend(items_range(0..=24));
    want.push("itex".to_owned());
    assert_eq!(sks(&all.items), want, "whole partition in byte order");
    assert_eq!(
        h.store.query(Query::partition("nobody")).await.unwrap(),
        Page::default()
    );
}

async fn query_by_ranges(h: &Harness) {
    seed(h).await;
    let q = |sort: SortKey| Query {
        sort,
        ..Query::partition("P")
    };
    let run = |sort: SortKey| {
        let query = q(sort);
        async move { sks(&h.store.query(query).await.unwrap().items) }
    };
    let s = |v: &str| v.to_owned();
    assert_eq!(
        run(SortKey::Between(s("item#05"), s("item#08"))).await,
        items_range(5..=8)
    );
    assert_eq!(
        run(SortKey::Between(s("item#05"), s("item#05"))).await,
        items_range(5..=5)
    );
    assert_eq!(
        run(SortKey::Between(s("item#2"), s("item#3"))).await,
        items_range(20..=24),
        "bounds need not be keys"
    );
    assert_eq!(
        run(SortKey::Lt(s("item#02"))).await,
        ["aaa", "item", "item#00", "item#01"]
    );
    assert_eq!(
        run(SortKey::Le(s("item#01"))).await,
        ["aaa", "item", "item#00", "item#01"]
    );
    assert_eq!(run(SortKey::Gt(s("item#23"))).await, ["item#24", "itex"]);
    assert_eq!(run(SortKey::Ge(s("item#24"))).await, ["item#24", "itex"]);
    assert_eq!(run(SortKey::Gt(s("itex"))).await, Vec::<String>::new());
}

async fn query_descending_with_limit(h: &Harness) {
    seed(h).await;
    let q = || Query::partition("P").prefix("item#1").descending().limit(3);
    let page = h.store.query(q()).await.unwrap();
    assert_eq!(sks(&page.items), ["item#19", "item#18", "item#17"]);
    assert!(page.next.is_some());
    let rest = h.store.query(q().after(page.next)).await.unwrap();
    assert_eq!(sks(&rest.items), ["item#16", "item#15", "item#14"]);
    let page = h
        .store
        .query(Query {
            sort: SortKey::Lt("item#03".into()),
            ..Query::partition("P").descending()
        })
        .await
        .unwrap();
    assert_eq!(
        sks(&page.items),
        ["item#02", "item#01", "item#00", "item", "aaa"]
    );
}

async fn query_pagination_has_no_gaps_or_duplicates(h: &Harness) {
    seed(h).await;
    for descending in [false, true] {
        let mut q = Query::partition("P").prefix("item#").limit(10);
        q.descending = descending;
        let (items, pages) = query_all(h, q).await;
        let mut want = items_range(0..=24);
        if descending {
            want.reverse();
        }
        assert_eq!(sks(&items), want, "descending = {descending}");
        assert!(
            (3..=4).contains(&pages),
            "25 items in pages of 10: {pages} pages"
        );
    }
    // Writes between pages do not disturb the cursor.
    let first = h
        .store
        .query(Query::partition("P").prefix("item#").limit(10))
        .await
        .unwrap();
    put(h, "item#00x", json!({})).await;
    let (rest, _) = query_all(
        h,
        Query::partition("P")
            .prefix("item#")
            .limit(10)
            .after(first.next),
    )
    .await;
    assert_eq!(sks(&rest), items_range(10..=24));
    // A page of one at a time.
    let (items, _) = query_all(h, Query::partition("P").prefix("item#1").limit(1)).await;
    assert_eq!(sks(&items), items_range(10..=19));
}

async fn count_matches_the_query_over_all_pages(h: &Harness) {
    seed(h).await;
    let count = |q: Query| async move { h.store.count(q).await.unwrap() };
    assert_eq!(
        count(Query::partition("P")).await,
        28,
        "the expired item is not counted"
    );
    assert_eq!(count(Query::partition("P").prefix("item#")).await, 25);
    assert_eq!(
        count(Query::partition("P").prefix("item#").limit(3).descending()).await,
        25,
        "limit and order do not change a count"
    );
    assert_eq!(
        count(Query {
            sort: SortKey::Between("item#05".into(), "item#08".into()),
            ..Query::partition("P")
        })
        .await,
        4
    );
    assert_eq!(count(Query::partition("Q")).await, 1);
    assert_eq!(count(Query::partition("nothing here")).await, 0);
    for (sk, gsk) in [("u1", "user#a"), ("u2", "user#b"), ("u3", "invite#c")] {
        let item = NewItem::new(key(sk)).index(IndexKey::new("org#1", gsk));
        h.store.put(item, None).await.unwrap();
    }
    assert_eq!(count(Query::gsi1("org#1").prefix("user#")).await, 2);
    assert_eq!(count(Query::gsi1("org#1")).await, 3);
    let page = h.store.query(Query::gsi1("org#1").limit(1)).await.unwrap();
    assert_eq!(
        count(Query::gsi1("org#1").after(page.next)).await,
        3,
        "a cursor does not change a count"
    );
}

async fn query_many_answers_each_query_as_query_does(h: &Harness) {
    seed(h).await;
    let queries = vec![
        Query::partition("P").prefix("item#1").limit(3),
        Query::partition("nothing here"),
        Query::partition("Q"),
        Query::partition("P").prefix("item#").limit(5).descending(),
        Query::partition("P"),
    ];
    let mut one_by_one = vec![];
    for q in &queries {
        one_by_one.push(h.store.query(q.clone()).await.unwrap());
    }
    let pages = h.store.query_many(queries).await.unwrap();
    assert_eq!(pages.len(), one_by_one.len());
    for (many, one) in pages.iter().zip(&one_by_one) {
        assert_eq!(sks(&many.items), sks(&one.items));
        assert_eq!(many.next.is_some(), one.next.is_some());
    }
    assert!(pages[0].next.is_some() && pages[1].items.is_empty());
    assert!(h.store.query_many(vec![]).await.unwrap().is_empty());
    let too_many = vec![Query::partition("P"); MAX_BATCH_GET + 1];
    assert!(matches!(
        h.store.query_many(too_many).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn query_gsi1(h: &Harness) {
    for (sk, gpk, gsk) in [
        ("u1", "org#1", "user#carol"),
        ("u2", "org#1", "user#alice"),
        ("u3", "org#1", "user#bob"),
        ("u4", "org#2", "user#dave"),
        ("u5", "org#1", "invite#x"),
    ] {
        let item = NewItem::new(key(sk))
            .attr("who", gsk)
            .index(IndexKey::new(gpk, gsk));
        h.store.put(item, None).await.unwrap();
    }
    put(h, "u6", json!({"who": "no index"})).await;
    let gsk = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| i.gsi1.as_ref().unwrap().sk.clone())
            .collect()
    };
    let page = h
        .store
        .query(Query::gsi1("org#1").prefix("user#"))
        .await
        .unwrap();
    assert_eq!(gsk(&page.items), ["user#alice", "user#bob", "user#carol"]);
    assert_eq!(sks(&page.items), ["u2", "u3", "u1"]);
    assert_eq!(page.items[0].get_str("who"), Some("user#alice"));
    let page = h
        .store
        .query(Query::gsi1("org#1").descending())
        .await
        .unwrap();
    assert_eq!(
        gsk(&page.items),
        ["user#carol", "user#bob", "user#alice", "invite#x"]
    );
    let page = h
        .store
        .query(Query {
            sort: SortKey::Between("user#b".into(), "user#c".into()),
            ..Query::gsi1("org#1")
        })
        .await
        .unwrap();
    assert_eq!(gsk(&page.items), ["user#bob"]);
    let page = h.store.query(Query::gsi1("org#2")).await.unwrap();
    assert_eq!(sks(&page.items), ["u4"]);
    let (items, _) = query_all(h, Query::gsi1("org#1").limit(2)).await;
    assert_eq!(sks(&items), ["u5", "u2", "u3", "u1"]);
}

async fn query_gsi1_pagination_with_equal_index_keys(h: &Harness) {
    // Index keys need not be unique: 12 items share one index sort key.
    for i in 0..12 {
        let item = NewItem::new(Key::new(format!("T{}", i % 3), format!("x{i:02}")))
            .index(IndexKey::new("status#open", "2024-01-01"));
        h.store.put(item, None).await.unwrap();
    }
    for descending in [false, true] {
        let mut q = Query::gsi1("status#open").limit(5);
        q.descending = descending;
        let (items, _) = query_all(h, q).await;
        let keys: BTreeSet<Key> = items.iter().map(|i| i.key.clone()).collect();
        assert_eq!(items.len(), 12, "no duplicates (descending = {descending})");
        assert_eq!(
            keys.len(),
            12,
            "no item missing (descending = {descending})"
        );
    }
}

// ------------------------------------------------------------------ transactions

async fn transaction_applies_all_writes(h: &Harness) {
    let old = put(h, "old", json!({"x": 1})).await;
    put(h, "upd", json!({"n": 1})).await;
    put(h, "guard", json!({"state": "open"})).await;
    h.store
        .transact(vec![
            Write::Put {
                item: NewItem::new(key("new")).attr("y", 2),
                condition: Some(Condition::Absent),
            },
            Write::Update {
                key: key("upd"),
                changes: vec![Change::Add("n".into(), 10)],
                condition: Some(Condition::attr("n", Cmp::Eq, 1)),
            },
            Write::Delete {
                key: key("old"),
                condition: Some(Condition::VersionIs(old.version)),
            },
            Write::Check {
                key: key("guard"),
                condition: Condition::attr("state", Cmp::Eq, "open"),
            },
            Write::Update {
                key: key("created"),
                changes: vec![Change::set("z", 3)],
                condition: None,
            },
        ])
        .await
        .unwrap();
    assert_eq!(get(h, "new").await.unwrap().get_i64("y"), Some(2));
    assert_eq!(get(h, "upd").await.unwrap().get_i64("n"), Some(11));
    assert_eq!(get(h, "old").await, None);
    assert_eq!(get(h, "created").await.unwrap().get_i64("z"), Some(3));
    assert_eq!(
        Value::Object(get(h, "guard").await.unwrap().attrs),
        json!({"state": "open"}),
        "a check writes nothing"
    );
}

async fn transaction_is_all_or_nothing(h: &Harness) {
    let upd = put(h, "upd", json!({"n": 1})).await;
    let del = put(h, "del", json!({"n": 1})).await;
    let writes = |second: Condition| {
        vec![
            Write::Put {
                item: NewItem::new(key("new")).attr("y", 2),
                condition: Some(Condition::Absent),
            },
            Write::Check {
                key: key("guard"),
                condition: second,
            },
            Write::Update {
                key: key("upd"),
                changes: vec![Change::set("n", 2)],
                condition: None,
            },
            Write::Delete {
                key: key("del"),
                condition: None,
            },
        ]
    };
    assert_eq!(
        h.store.transact(writes(Condition::Exists)).await,
        Err(StoreError::ConditionFailed { index: Some(1) })
    );
    assert_eq!(get(h, "new").await, None);
    assert_eq!(get(h, "upd").await, Some(upd));
    assert_eq!(get(h, "del").await, Some(del));

    // Failure at the last write, and the first of several failures is reported.
    let failing = vec![
        Write::Put {
            item: NewItem::new(key("a")),
            condition: Some(Condition::Absent),
        },
        Write::Put {
            item: NewItem::new(key("upd")),
            condition: Some(Condition::Absent),
        },
        Write::Update {
            key: key("del"),
            changes: vec![Change::set("n", 5)],
            condition: Some(Condition::attr("n", Cmp::Gt, 3)),
        },
    ];
    assert_eq!(
        h.store.transact(failing).await,
        Err(StoreError::ConditionFailed { index: Some(1) })
    );
    let last = vec![
        Write::Put {
            item: NewItem::new(key("a")),
            condition: None,
        },
        Write::Update {
            key: key("del"),
            changes: vec![Change::set("n", 5)],
            condition: Some(Condition::attr("n", Cmp::Gt, 3)),
        },
    ];
    assert_eq!(
        h.store.transact(last).await,
        Err(StoreError::ConditionFailed { index: Some(1) })
    );
    assert_eq!(get(h, "a").await, None);
    assert_eq!(get(h, "del").await.unwrap().get_i64("n"), Some(1));

    // With the guard present the same transaction commits.
    put(h, "guard", json!({})).await;
    h.store.transact(writes(Condition::Exists)).await.unwrap();
    assert!(get(h, "new").await.is_some());
    assert_eq!(get(h, "upd").await.unwrap().get_i64("n"), Some(2));
    assert_eq!(get(h, "del").await, None);
}

async fn transaction_update_on_expired_item_starts_fresh(h: &Harness) {
    let item = NewItem::new(key("a"))
        .attr("old", 1)
        .expires_at(h.now() + 5);
    h.store.put(item, None).await.unwrap();
    h.clock.advance(Duration::from_secs(6));
    h.store
        .transact(vec![
            Write::Update {
                key: key("a"),
                changes: vec![Change::Add("n".into(), 1)],
                condition: Some(Condition::AttrMissing("old".into())),
            },
            Write::Put {
                item: NewItem::new(key("b")),
                condition: Some(Condition::Absent),
            },
        ])
        .await
        .unwrap();
    let a = get(h, "a").await.unwrap();
    assert_eq!(Value::Object(a.attrs), json!({"n": 1}));
    assert_eq!(a.expires_at, None);
    assert!(get(h, "b").await.is_some());
}

// ------------------------------------------------------------------ validation

async fn invalid_requests_are_rejected_alike(h: &Harness) {
    let s = &h.store;
    let invalid = |r: Result<_, StoreError>, what: &str| match r {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{what}: expected Invalid, got {other:?}"),
    };
    for name in RESERVED_ATTRIBUTES {
        invalid(
            s.put(NewItem::new(key("a")).attr(name, 1), None)
                .await
                .map(|_| ()),
            &format!("put with reserved `{name}`"),
        );
        invalid(
            s.update(&key("a"), vec![Change::set(name, 1)], None)
                .await
                .map(|_| ()),
            &format!("update of reserved `{name}`"),
        );
    }
    invalid(
        s.add(&key("a"), "ttl", 1, None, None).await.map(|_| ()),
        "add to `ttl`",
    );
    invalid(
        s.put(NewItem::default(), None).await.map(|_| ()),
        "item without key",
    );
    invalid(s.get(&Key::new("", "a")).await.map(|_| ()), "empty pk");
    invalid(
        s.delete(&Key::new("a", ""), None).await.map(|_| ()),
        "empty sk",
    );
    invalid(
        s.put(
            NewItem::new(key("big")).attr("blob", "x".repeat(MAX_ITEM_BYTES)),
            None,
        )
        .await
        .map(|_| ()),
        "item over 400 KB",
    );
    invalid(
        s.update(
            &key("a"),
            vec![Change::set("x", 1), Change::Remove("x".into())],
            None,
        )
        .await
        .map(|_| ()),
        "attribute changed twice",
    );
    let put_w = |sk: &str| Write::Put {
        item: NewItem::new(key(sk)),
        condition: None,
    };
    invalid(s.transact(vec![]).await, "empty transaction");
    invalid(
        s.transact(vec![put_w("a"), put_w("b"), put_w("a")]).await,
        "duplicate key in a transaction",
    );
    invalid(
        s.transact(vec![
            put_w("a"),
            Write::Check {
                key: key("a"),
                condition: Condition::Exists,
            },
        ])
        .await,
        "check and write of one key",
    );
    let many: Vec<Write> = (0..=MAX_TRANSACTION_WRITES)
        .map(|i| put_w(&format!("k{i}")))
        .collect();
    invalid(s.transact(many).await, "101 writes");
    invalid(
        s.transact(vec![Write::Put {
            item: NewItem::new(key("a")).attr("v", 1),
            condition: None,
        }])
        .await,
        "reserved name inside a transaction",
    );
    invalid(
        s.query(Query::partition("")).await.map(|_| ()),
        "query without pk",
    );
    invalid(
        s.query(Query::partition("P").limit(0)).await.map(|_| ()),
        "limit 0",
    );
    invalid(
        s.query(Query {
            sort: SortKey::Between("b".into(), "a".into()),
            ..Query::partition("P")
        })
        .await
        .map(|_| ()),
        "reversed range",
    );
    invalid(
        s.query(Query::partition("P").after(Some("not a cursor!".into())))
            .await
            .map(|_| ()),
        "malformed cursor",
    );
    put(h, "str", json!({"n": "text"})).await;
    invalid(
        s.update(&key("str"), vec![Change::Add("n".into(), 1)], None)
            .await
            .map(|_| ()),
        "add to a string",
    );
    // Nothing of the rejected requests was written.
    let page = s.query(Query::partition("P")).await.unwrap();
    assert_eq!(sks(&page.items), ["str"]);
}

async fn check_succeeds(h: &Harness) {
    h.store.check().await.unwrap();
}

// ------------------------------------------------------------------ concurrency

async fn concurrent_bounded_increments_stop_at_the_bound(h: &Harness) {
    let k = key("hot");
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = h.store.clone();
            let k = k.clone();
            tokio::spawn(async move { store.add(&k, "n", 1, Some(10), None).await })
        })
        .collect();
    let mut values = BTreeSet::new();
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(c) => assert!(values.insert(c.value), "value {} handed out twice", c.value),
            Err(e) if e.is_condition_failed() => failed += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(
        values,
        (1..=10).collect::<BTreeSet<i64>>(),
        "exactly 10 increments"
    );
    assert_eq!(failed, 54);
    assert_eq!(get(h, "hot").await.unwrap().get_i64("n"), Some(10));
}

async fn concurrent_put_if_absent_has_one_winner(h: &Harness) {
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let item = NewItem::new(key("lock")).attr("owner", i);
                store.put(item, Some(Condition::Absent)).await.map(|_| i)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(i) => winners.push(i),
            Err(e) if e.is_condition_failed() => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
    assert_eq!(
        get(h, "lock").await.unwrap().get_i64("owner"),
        Some(winners[0])
    );
}

/// Racing transactions that each write their own item, then claim one shared item:
/// one wins, and every loser's own item — written before its claim failed — is
/// gone, even when the store commits concurrent writes together.
async fn concurrent_transactions_losers_leave_nothing(h: &Harness) {
    let tasks: Vec<_> = (0..48)
        .map(|i| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let writes = vec![
                    Write::Put {
                        item: NewItem::new(key(&format!("mine{i:02}"))).attr("owner", i),
                        condition: None,
                    },
                    Write::Put {
                        item: NewItem::new(key("claim")).attr("owner", i),
                        condition: Some(Condition::Absent),
                    },
                ];
                store.transact(writes).await.map(|()| i)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(i) => winners.push(i),
            Err(StoreError::ConditionFailed { index: Some(1) }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
    let winner = winners[0];
    assert_eq!(
        get(h, "claim").await.unwrap().get_i64("owner"),
        Some(winner)
    );
    let (mine, _) = query_all(h, Query::partition("P").prefix("mine")).await;
    assert_eq!(
        sks(&mine),
        [format!("mine{winner:02}")],
        "losers wrote nothing"
    );
}

// ------------------------------------------------------------------ embedded only

/// Physical deletion is the embedded adapter's job (DynamoDB TTL does it there).
#[tokio::test]
async fn sqlite_purge_deletes_only_expired_items() {
    let h = Harness::sqlite().await;
    for i in 0..5 {
        let item = NewItem::new(key(&format!("old{i}"))).expires_at(h.now() - 1);
        h.store.put(item, None).await.unwrap();
    }
    put(&h, "live", json!({})).await;
    let later = NewItem::new(key("later")).expires_at(h.now() + 100);
    h.store.put(later, None).await.unwrap();
    assert_eq!(h.store.purge_expired(3).await.unwrap(), 3, "at most `max`");
    assert_eq!(h.store.purge_expired(100).await.unwrap(), 2);
    assert_eq!(h.store.purge_expired(100).await.unwrap(), 0);
    let page = h.store.query(Query::partition("P")).await.unwrap();
    assert_eq!(sks(&page.items), ["later", "live"]);
}

/// The database survives a reopen (it is a file, not a cache).
#[tokio::test]
async fn sqlite_data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.db");
    let clock = || FixedClock::at(time::OffsetDateTime::now_utc());
    let written = {
        let store = SqliteStore::open(&path, clock()).unwrap();
        store
            .put(NewItem::new(key("a")).attr("x", 1), None)
            .await
            .unwrap()
    };
    let store = SqliteStore::open(&path, clock()).unwrap();
    assert_eq!(store.get(&key("a")).await.unwrap(), Some(written));
}
