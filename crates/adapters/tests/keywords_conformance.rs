//! The keyword index port's conformance suite: every case runs on the embedded
//! adapter (SQLite FTS5, searched in memory, and searched with FTS5 itself), on the item-store inverted index over DynamoDB (moto) —
//! what the AWS backend runs — and on the same index over the SQLite item store.

use skiff_adapters::sqlite_keywords::SqliteKeywords;
use skiff_adapters::store_keywords::StoreKeywords;
use skiff_adapters::testing::{StoreHarness, unique_name};
use skiff_core::ports::keywords::*;
use skiff_core::ports::vectors::Namespace;
use std::sync::Arc;

struct Harness {
    index: Arc<dyn KeywordIndex>,
    _store: Option<StoreHarness>,
    _dir: Option<tempfile::TempDir>,
}

async fn fts5() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let index = SqliteKeywords::open(&dir.path().join("keywords.db")).unwrap();
    Harness {
        index: Arc::new(index),
        _store: None,
        _dir: Some(dir),
    }
}

/// The embedded adapter with no room for in-memory indexes: every search is FTS5's.
async fn fts5_only() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let index = SqliteKeywords::open_with_cache(&dir.path().join("keywords.db"), 0).unwrap();
    Harness {
        index: Arc::new(index),
        _store: None,
        _dir: Some(dir),
    }
}

async fn over(store: StoreHarness) -> Harness {
    Harness {
        index: Arc::new(StoreKeywords::new(store.store.clone())),
        _store: Some(store),
        _dir: None,
    }
}

async fn dynamodb() -> Harness {
    over(StoreHarness::dynamodb("kw").await).await
}

async fn sqlite_items() -> Harness {
    over(StoreHarness::sqlite().await).await
}

fn ns() -> Namespace {
    Namespace::parse(unique_name("mem.org").replace('-', "_")).unwrap()
}

fn doc(id: &str, text: &str) -> KeywordDoc {
    KeywordDoc {
        id: DocId::parse(id).unwrap(),
        text: text.into(),
    }
}

async fn ids(h: &Harness, ns: &Namespace, query: &str, limit: usize) -> Vec<String> {
    h.index
        .search(ns, query, limit)
        .await
        .unwrap()
        .into_iter()
        .map(|hit| hit.id.as_str().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn finds_documents_holding_any_query_word(h: &Harness) {
    let ns = ns();
    h.index
        .upsert(
            &ns,
            vec![
                doc("a", "Chose PostgreSQL for the user service"),
                doc("b", "Redis caches the session tokens"),
                doc("c", "Quarterly revenue grew"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(ids(h, &ns, "postgresql", 10).await, ["a"]);
    assert_eq!(
        sorted(ids(h, &ns, "postgresql OR redis", 10).await),
        ["a", "b"]
    );
    assert!(ids(h, &ns, "kubernetes", 10).await.is_empty());
    assert_eq!(h.index.count(&ns).await.unwrap(), 3);
}

async fn matches_stems_and_folds_diacritics(h: &Harness) {
    let ns = ns();
    h.index
        .upsert(
            &ns,
            vec![
                doc("runs", "The job runs nightly"),
                doc("cafe", "Meeting at the Café Crème"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(ids(h, &ns, "running", 10).await, ["runs"]);
    assert_eq!(ids(h, &ns, "CAFE", 10).await, ["cafe"]);
    assert_eq!(ids(h, &ns, "crème", 10).await, ["cafe"]);
}

async fn ranks_documents_with_more_query_words_first(h: &Harness) {
    let ns = ns();
    let filler = (0..30)
        .map(|i| format!("note{i} unrelated filler"))
        .collect::<Vec<_>>();
    let mut docs: Vec<KeywordDoc> = filler
        .iter()
        .enumerate()
        .map(|(i, t)| doc(&format!("f{i}"), t))
        .collect();
    docs.push(doc("one", "database migration notes"));
    docs.push(doc("both", "database index tuning: the index was rebuilt"));
    h.index.upsert(&ns, docs).await.unwrap();
    let found = ids(h, &ns, "database index", 10).await;
    assert_eq!(found, ["both", "one"]);
    let hits = h.index.search(&ns, "database index", 10).await.unwrap();
    assert!(hits[0].score > hits[1].score);
}

async fn reindexing_replaces_the_old_text(h: &Harness) {
    let ns = ns();
    h.index
        .upsert(&ns, vec![doc("m", "deploys go through staging")])
        .await
        .unwrap();
    h.index
        .upsert(&ns, vec![doc("m", "releases skip staging now")])
        .await
        .unwrap();
    assert!(ids(h, &ns, "deploys", 10).await.is_empty());
    assert_eq!(ids(h, &ns, "releases", 10).await, ["m"]);
    assert_eq!(ids(h, &ns, "staging", 10).await, ["m"]);
    assert_eq!(h.index.count(&ns).await.unwrap(), 1);
}

async fn deleted_documents_are_not_found(h: &Harness) {
    let ns = ns();
    h.index
        .upsert(&ns, vec![doc("x", "alpha beta"), doc("y", "alpha gamma")])
        .await
        .unwrap();
    h.index
        .delete(
            &ns,
            &[DocId::parse("x").unwrap(), DocId::parse("absent").unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(ids(h, &ns, "alpha", 10).await, ["y"]);
    assert!(ids(h, &ns, "beta", 10).await.is_empty());
    assert_eq!(h.index.count(&ns).await.unwrap(), 1);
}

async fn namespaces_never_see_each_other(h: &Harness) {
    let (a, b) = (ns(), ns());
    h.index
        .upsert(&a, vec![doc("same-id", "shared secret words")])
        .await
        .unwrap();
    h.index
        .upsert(&b, vec![doc("other", "shared secret words")])
        .await
        .unwrap();
    assert_eq!(ids(h, &a, "secret", 10).await, ["same-id"]);
    assert_eq!(ids(h, &b, "secret", 10).await, ["other"]);
    h.index.drop_namespace(&a).await.unwrap();
    assert!(ids(h, &a, "secret", 10).await.is_empty());
    assert_eq!(h.index.count(&a).await.unwrap(), 0);
    assert_eq!(ids(h, &b, "secret", 10).await, ["other"]);
}

async fn limits_and_wordless_queries(h: &Harness) {
    let ns = ns();
    let docs = (0..12)
        .map(|i| doc(&format!("d{i:02}"), "common topic"))
        .collect();
    h.index.upsert(&ns, docs).await.unwrap();
    assert_eq!(ids(h, &ns, "topic", 5).await.len(), 5);
    assert!(ids(h, &ns, "the of and", 10).await.is_empty());
    assert!(ids(h, &ns, "\"* OR NEAR(", 10).await.is_empty());
    assert!(ids(h, &ns, "", 10).await.is_empty());
}

async fn query_syntax_in_text_is_only_words(h: &Harness) {
    let ns = ns();
    h.index
        .upsert(
            &ns,
            vec![doc("q", "use NEAR and OR carefully: \"quoted\" *stars*")],
        )
        .await
        .unwrap();
    assert_eq!(ids(h, &ns, "\"quoted\" AND (", 10).await, ["q"]);
    assert_eq!(ids(h, &ns, "stars*", 10).await, ["q"]);
}

async fn bad_batches_are_refused_whole(h: &Harness) {
    let ns = ns();
    let err = h
        .index
        .upsert(&ns, vec![doc("d", "one"), doc("d", "two")])
        .await
        .unwrap_err();
    assert!(matches!(err, KeywordError::Invalid(_)), "{err}");
    assert!(ids(h, &ns, "one", 10).await.is_empty());
}

async fn concurrent_writers_all_land(h: &Harness) {
    let ns = ns();
    let writes = (0..24).map(|i| {
        let index = h.index.clone();
        let ns = ns.clone();
        tokio::spawn(async move {
            index
                .upsert(
                    &ns,
                    vec![doc(&format!("c{i:02}"), &format!("racing writer w{i}"))],
                )
                .await
        })
    });
    for r in futures::future::join_all(writes).await {
        r.unwrap().unwrap();
    }
    assert_eq!(h.index.count(&ns).await.unwrap(), 24);
    assert_eq!(ids(h, &ns, "racing", 100).await.len(), 24);
    assert_eq!(ids(h, &ns, "w7", 10).await, ["c07"]);
}

skiff_adapters::conformance_suite! {
    adapters {
        embedded => &super::fts5().await,
        embedded_fts5_search => &super::fts5_only().await,
        dynamodb => &super::dynamodb().await,
        item_store_on_sqlite => &super::sqlite_items().await,
    }
    cases {
        finds_documents_holding_any_query_word,
        matches_stems_and_folds_diacritics,
        ranks_documents_with_more_query_words_first,
        reindexing_replaces_the_old_text,
        deleted_documents_are_not_found,
        namespaces_never_see_each_other,
        limits_and_wordless_queries,
        query_syntax_in_text_is_only_words,
        bad_batches_are_refused_whole,
        concurrent_writers_all_land,
    }
}
