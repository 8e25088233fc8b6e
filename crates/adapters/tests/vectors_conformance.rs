//! Conformance suite of the vector index port: every case is written once against
//! a [`Harness`] and runs on the SQLite adapter (always, on a temp dir) and on the
//! S3 Vectors adapter (against the moto emulator started by `scripts/with-moto.sh`,
//! whose QueryVectors answer is the test-only brute force in
//! `scripts/moto_server.py`).

use serde_json::{Value, json};
use skiff_core::ports::vectors::*;
use std::collections::BTreeSet;
use std::sync::Arc;

struct Harness {
    index: Arc<dyn VectorIndex>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = skiff_adapters::sqlite_vectors::SqliteVectors::open(
            &dir.path().join("vectors.db"),
            64 << 20,
        )
        .expect("open the SQLite vector index");
        Self {
            index: Arc::new(index),
            _dir: Some(dir),
        }
    }

    /// Two fresh vector buckets on the emulator, so namespaces are spread over both.
    async fn s3() -> Self {
        Self {
            index: Arc::new(s3_index(false).await),
            _dir: None,
        }
    }
}

/// The S3 Vectors adapter over two fresh buckets, named by name or by ARN.
async fn s3_index(by_arn: bool) -> skiff_adapters::s3_vectors::S3Vectors {
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let client = aws_sdk_s3vectors::Client::new(&sdk);
    let mut buckets = vec![];
    for _ in 0..2 {
        let name = skiff_adapters::testing::unique_name("vec");
        skiff_adapters::provision::create_vector_bucket(&client, &name)
            .await
            .expect("create a vector bucket");
        buckets.push(if by_arn {
            let out = client
                .get_vector_bucket()
                .vector_bucket_name(&name)
                .send()
                .await
                .unwrap();
            out.vector_bucket()
                .expect("the bucket")
                .vector_bucket_arn()
                .to_owned()
        } else {
            name
        });
    }
    skiff_adapters::s3_vectors::S3Vectors::new(client, buckets)
}

/// A namespace no other test uses (the emulator's buckets are shared by the run).
fn ns(word: &str) -> Namespace {
    Namespace::parse(format!(
        "{word}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ))
    .unwrap()
}

fn id(raw: &str) -> VectorId {
    VectorId::parse(raw).unwrap()
}

fn meta(v: Value) -> Metadata {
    v.as_object().expect("an object").clone()
}

fn rec(raw_id: &str, vector: &[f32], metadata: Value) -> VectorRecord {
    VectorRecord {
        id: id(raw_id),
        vector: vector.to_vec(),
        metadata: meta(metadata),
    }
}

fn query(vector: &[f32], top_k: usize, filter: Option<MetadataFilter>) -> VectorQuery {
    VectorQuery {
        vector: vector.to_vec(),
        top_k,
        filter,
    }
}

fn ids_of(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

/// A deterministic pseudo-random unit-ish vector.
fn vector(seed: u64, dim: usize) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..dim)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2000) as f32 / 1000.0 - 1.0 + 1e-3
        })
        .collect()
}

fn sorted_records(mut records: Vec<VectorRecord>) -> Vec<VectorRecord> {
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
}

async fn upsert_get_delete_round_trip(h: &Harness) {
    let n = ns("roundtrip");
    let a = rec(
        "a",
        &[1.0, 0.0, 0.5],
        json!({"kind": "note", "tags": ["x", "y"], "n": 2}),
    );
    let b = rec("doc#b/1", &[0.25, -0.5, 0.125], json!({}));
    h.index
        .upsert(&n, vec![a.clone(), b.clone()])
        .await
        .unwrap();

    let got = h
        .index
        .get(&n, &[id("a"), id("doc#b/1"), id("absent"), id("a")])
        .await
        .unwrap();
    assert_eq!(
        sorted_records(got),
        vec![a.clone(), b.clone()],
        "vectors come back as given"
    );
    assert_eq!(h.index.count(&n).await.unwrap(), 2);

    h.index.delete(&n, &[id("a"), id("absent")]).await.unwrap();
    assert_eq!(h.index.get(&n, &[id("a")]).await.unwrap(), vec![]);
    assert_eq!(h.index.get(&n, &[id("doc#b/1")]).await.unwrap(), vec![b]);
    assert_eq!(h.index.count(&n).await.unwrap(), 1);
    let hits = h
        .index
        .query(&n, &query(&[1.0, 0.0, 0.5], 10, None))
        .await
        .unwrap();
    assert_eq!(ids_of(&hits), ["doc#b/1"], "a deleted vector is not found");

    // Deleting what is not there, in a namespace that never existed too, is fine.
    h.index.delete(&n, &[id("a")]).await.unwrap();
    h.index.delete(&ns("never"), &[id("a")]).await.unwrap();
    assert_eq!(h.index.get(&ns("never"), &[id("a")]).await.unwrap(), vec![]);
    assert_eq!(h.index.count(&ns("never")).await.unwrap(), 0);
    assert_eq!(h.index.dimension(&ns("never")).await.unwrap(), None);
}

async fn re_upsert_replaces_vector_and_metadata(h: &Harness) {
    let n = ns("replace");
    h.index
        .upsert(
            &n,
            vec![rec("v", &[1.0, 0.0], json!({"version": 1, "old": true}))],
        )
        .await
        .unwrap();
    h.index
        .upsert(&n, vec![rec("w", &[0.7, 0.7], json!({}))])
        .await
        .unwrap();
    let replacement = rec("v", &[0.0, 1.0], json!({"version": 2}));
    h.index.upsert(&n, vec![replacement.clone()]).await.unwrap();
    assert_eq!(
        h.index.get(&n, &[id("v")]).await.unwrap(),
        vec![replacement]
    );
    assert_eq!(h.index.count(&n).await.unwrap(), 2);
    let hits = h
        .index
        .query(&n, &query(&[0.0, 1.0], 1, None))
        .await
        .unwrap();
    assert_eq!(ids_of(&hits), ["v"], "searched by its new vector");
    assert_eq!(
        hits[0].metadata,
        meta(json!({"version": 2})),
        "old keys are gone"
    );

    // Two records with one id in a batch: the later wins.
    h.index
        .upsert(
            &n,
            vec![
                rec("d", &[1.0, 0.0], json!({"which": "first"})),
                rec("d", &[0.0, -1.0], json!({"which": "second"})),
            ],
        )
        .await
        .unwrap();
    let got = h.index.get(&n, &[id("d")]).await.unwrap();
    assert_eq!(
        got,
        vec![rec("d", &[0.0, -1.0], json!({"which": "second"}))]
    );
    assert_eq!(h.index.count(&n).await.unwrap(), 3);
}

async fn query_answers_nearest_first_with_cosine_scores(h: &Harness) {
    let n = ns("nearest");
    let angle = |deg: f32| {
        let r = deg.to_radians();
        [r.cos(), r.sin()]
    };
    let mut records = vec![];
    for (name, deg, scale) in [
        ("d0", 0.0, 1.0),
        ("d30", 30.0, 7.0),
        ("d60", 60.0, 0.1),
        ("d90", 90.0, 2.0),
        ("d180", 180.0, 3.0),
    ] {
        let v = angle(deg).map(|x| x * scale);
        records.push(rec(name, &v, json!({"deg": deg})));
    }
    h.index.upsert(&n, records).await.unwrap();

    // Query at 10°, scaled: cosine ignores length.
    let q = angle(10.0).map(|x| x * 42.0);
    let hits = h.index.query(&n, &query(&q, 5, None)).await.unwrap();
    assert_eq!(ids_of(&hits), ["d0", "d30", "d60", "d90", "d180"]);
    for hit in &hits {
        let deg = hit.metadata["deg"].as_f64().unwrap() as f32;
        let expected = (deg - 10.0).to_radians().cos();
        assert!(
            (hit.score - expected).abs() < 1e-3,
            "{}: score {} is the cosine {expected}",
            hit.id,
            hit.score
        );
    }
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        (hits[4].score + 0.985).abs() < 1e-2,
        "opposite vectors score near -1"
    );

    let top2 = h.index.query(&n, &query(&q, 2, None)).await.unwrap();
    assert_eq!(ids_of(&top2), ["d0", "d30"]);
    let exact = h
        .index
        .query(&n, &query(&angle(90.0), 1, None))
        .await
        .unwrap();
    assert_eq!(ids_of(&exact), ["d90"]);
    assert!((exact[0].score - 1.0).abs() < 1e-4);
}

/// Twelve vectors with metadata of every kind, some keys missing.
async fn filter_fixture(h: &Harness) -> Namespace {
    let n = ns("filters");
    let rows = [
        (
            "m0",
            json!({"kind": "note", "year": 2019, "tags": ["a", "b"], "pinned": true}),
        ),
        (
            "m1",
            json!({"kind": "note", "year": 2020, "tags": ["b"], "pinned": false}),
        ),
        ("m2", json!({"kind": "task", "year": 2021, "tags": ["c"]})),
        ("m3", json!({"kind": "task", "year": 2022.5})),
        (
            "m4",
            json!({"kind": "fact", "tags": ["a"], "scores": [1, 9]}),
        ),
        ("m5", json!({"year": 2024, "pinned": true})),
        ("m6", json!({"kind": "note", "year": "2020"})),
        ("m7", json!({})),
    ];
    let records = rows
        .iter()
        .enumerate()
        .map(|(i, (name, m))| rec(name, &vector(i as u64 + 1, 8), m.clone()))
        .collect();
    h.index.upsert(&n, records).await.unwrap();
    n
}

async fn every_filter_operator_selects_the_same_vectors(h: &Harness) {
    use MetadataFilter::*;
    let n = filter_fixture(h).await;
    let s = |v: &str| Value::from(v);
    let cases: Vec<(MetadataFilter, &[&str])> = vec![
        (Eq("kind".into(), s("note")), &["m0", "m1", "m6"]),
        (Eq("tags".into(), s("a")), &["m0", "m4"]),
        (Eq("year".into(), json!(2020)), &["m1"]),
        (Eq("pinned".into(), json!(true)), &["m0", "m5"]),
        (
            Ne("kind".into(), s("note")),
            &["m2", "m3", "m4", "m5", "m7"],
        ),
        (
            Ne("tags".into(), s("b")),
            &["m2", "m3", "m4", "m5", "m6", "m7"],
        ),
        (
            In("kind".into(), vec![s("task"), s("fact")]),
            &["m2", "m3", "m4"],
        ),
        (In("tags".into(), vec![s("c"), s("a")]), &["m0", "m2", "m4"]),
        (
            NotIn("kind".into(), vec![s("note"), s("task")]),
            &["m4", "m5", "m7"],
        ),
        (Gt("year".into(), 2020.0), &["m2", "m3", "m5"]),
        (Gte("year".into(), 2020.0), &["m1", "m2", "m3", "m5"]),
        (Lt("year".into(), 2021.0), &["m0", "m1"]),
        (Lte("year".into(), 2022.5), &["m0", "m1", "m2", "m3"]),
        (Gt("scores".into(), 5.0), &["m4"]),
        (Lt("scores".into(), 0.0), &[]),
        (Exists("tags".into(), true), &["m0", "m1", "m2", "m4"]),
        (Exists("kind".into(), false), &["m5", "m7"]),
        (
            And(vec![
                Eq("kind".into(), s("note")),
                Exists("tags".into(), true),
            ]),
            &["m0", "m1"],
        ),
        (
            Or(vec![
                Eq("kind".into(), s("fact")),
                Gte("year".into(), 2024.0),
            ]),
            &["m4", "m5"],
        ),
        (
            And(vec![
                Or(vec![
                    Eq("pinned".into(), json!(true)),
                    Eq("kind".into(), s("task")),
                ]),
                Ne("year".into(), json!(2024)),
            ]),
            &["m0", "m2", "m3"],
        ),
    ];
    for (filter, expected) in cases {
        let hits = h
            .index
            .query(&n, &query(&vector(99, 8), 100, Some(filter.clone())))
            .await
            .unwrap_or_else(|e| panic!("{filter:?}: {e}"));
        let got: BTreeSet<&str> = ids_of(&hits).into_iter().collect();
        let want: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(got, want, "{filter:?}");
        for hit in &hits {
            assert!(
                filter.matches(&hit.metadata),
                "{filter:?}: {} carries its metadata",
                hit.id
            );
        }
    }
}

async fn filtered_queries_still_answer_the_nearest_matches(h: &Harness) {
    let n = ns("filtertopk");
    let records = (0..60)
        .map(|i| {
            rec(
                &format!("v{i:02}"),
                &vector(i, 16),
                json!({"even": i % 2 == 0, "i": i}),
            )
        })
        .collect();
    h.index.upsert(&n, records).await.unwrap();
    let q = vector(7, 16);
    let all = h.index.query(&n, &query(&q, 60, None)).await.unwrap();
    let even_order: Vec<&str> = all
        .iter()
        .filter(|h| h.metadata["even"] == json!(true))
        .map(|h| h.id.as_str())
        .take(5)
        .collect();
    let filter = MetadataFilter::Eq("even".into(), json!(true));
    let hits = h
        .index
        .query(&n, &query(&q, 5, Some(filter)))
        .await
        .unwrap();
    assert_eq!(ids_of(&hits), even_order, "the five nearest even vectors");
}

async fn top_k_is_bounded(h: &Harness) {
    let n = ns("topk");
    let records = (0..5)
        .map(|i| rec(&format!("t{i}"), &vector(i, 4), json!({})))
        .collect();
    h.index.upsert(&n, records).await.unwrap();
    for top_k in [0, MAX_TOP_K + 1] {
        let err = h
            .index
            .query(&n, &query(&vector(1, 4), top_k, None))
            .await
            .unwrap_err();
        assert!(
            matches!(err, VectorError::Invalid(_)),
            "top_k {top_k}: {err:?}"
        );
    }
    assert_eq!(
        h.index
            .query(&n, &query(&vector(1, 4), MAX_TOP_K, None))
            .await
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        h.index
            .query(&n, &query(&vector(1, 4), 3, None))
            .await
            .unwrap()
            .len(),
        3
    );
    let empty = h
        .index
        .query(&ns("nothing"), &query(&vector(1, 4), 10, None))
        .await
        .unwrap();
    assert!(empty.is_empty(), "an unknown namespace has no hits");
}

async fn the_first_vector_fixes_the_dimension(h: &Harness) {
    let n = ns("dims");
    assert_eq!(h.index.dimension(&n).await.unwrap(), None);
    h.index
        .upsert(&n, vec![rec("a", &[1.0, 2.0, 3.0], json!({}))])
        .await
        .unwrap();
    assert_eq!(h.index.dimension(&n).await.unwrap(), Some(3));

    let err = h
        .index
        .upsert(
            &n,
            vec![
                rec("b", &[1.0, 2.0, 3.0], json!({})),
                rec("c", &[1.0; 4], json!({})),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VectorError::DimensionMismatch {
                expected: 3,
                got: 4
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        h.index.get(&n, &[id("b"), id("c")]).await.unwrap(),
        vec![],
        "all or nothing"
    );
    let err = h
        .index
        .query(&n, &query(&[1.0; 4], 5, None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VectorError::DimensionMismatch {
                expected: 3,
                got: 4
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains('3') && err.to_string().contains('4'),
        "{err}"
    );

    // Emptied, the namespace keeps its dimension; dropped, it takes a new one.
    h.index.delete(&n, &[id("a")]).await.unwrap();
    assert_eq!(h.index.dimension(&n).await.unwrap(), Some(3));
    let err = h
        .index
        .upsert(&n, vec![rec("d", &[1.0; 5], json!({}))])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VectorError::DimensionMismatch {
                expected: 3,
                got: 5
            }
        ),
        "{err:?}"
    );
    h.index.drop_namespace(&n).await.unwrap();
    assert_eq!(h.index.dimension(&n).await.unwrap(), None);
    h.index
        .upsert(&n, vec![rec("d", &[1.0; 5], json!({}))])
        .await
        .unwrap();
    assert_eq!(h.index.dimension(&n).await.unwrap(), Some(5));
}

async fn invalid_input_is_refused_and_stores_nothing(h: &Harness) {
    let n = ns("invalid");
    let bad: Vec<(Vec<f32>, Value)> = vec![
        (vec![], json!({})),
        (vec![0.0, 0.0], json!({})),
        (vec![1.0, f32::NAN], json!({})),
        (vec![1.0, f32::INFINITY], json!({})),
        (vec![1.0; MAX_DIMENSION + 1], json!({})),
        (vec![1.0, 2.0], json!({"nested": {"a": 1}})),
        (vec![1.0, 2.0], json!({"null": null})),
        (
            vec![1.0, 2.0],
            json!({"big": "x".repeat(MAX_METADATA_BYTES)}),
        ),
    ];
    for (vector, metadata) in bad {
        let batch = vec![
            rec("good", &[1.0, 2.0], json!({})),
            rec("bad", &vector, metadata.clone()),
        ];
        let err = h.index.upsert(&n, batch).await.unwrap_err();
        assert!(
            matches!(err, VectorError::Invalid(_)),
            "{metadata}: {err:?}"
        );
    }
    let too_many: Vec<VectorRecord> = (0..=MAX_BATCH)
        .map(|i| rec(&format!("v{i}"), &[1.0, 2.0], json!({})))
        .collect();
    let err = h.index.upsert(&n, too_many).await.unwrap_err();
    assert!(matches!(err, VectorError::Invalid(_)), "{err:?}");
    let ids: Vec<VectorId> = (0..=MAX_BATCH).map(|i| id(&format!("v{i}"))).collect();
    assert!(matches!(
        h.index.get(&n, &ids).await,
        Err(VectorError::Invalid(_))
    ));
    assert!(matches!(
        h.index.delete(&n, &ids).await,
        Err(VectorError::Invalid(_))
    ));
    assert_eq!(h.index.count(&n).await.unwrap(), 0, "nothing was stored");
    assert_eq!(h.index.dimension(&n).await.unwrap(), None);

    h.index
        .upsert(&n, vec![rec("ok", &[1.0, 2.0], json!({}))])
        .await
        .unwrap();
    for q in [
        query(&[f32::NAN, 1.0], 3, None),
        query(&[0.0, 0.0], 3, None),
    ] {
        assert!(matches!(
            h.index.query(&n, &q).await,
            Err(VectorError::Invalid(_))
        ));
    }
    let empty_or = MetadataFilter::Or(vec![]);
    assert!(matches!(
        h.index
            .query(&n, &query(&[1.0, 2.0], 3, Some(empty_or)))
            .await,
        Err(VectorError::Invalid(_))
    ));
}

/// Namespaces whose names are alike (a prefix of one another, `_` against `-`)
/// share nothing: not a query hit, not an id, not a count, not a drop.
async fn namespaces_never_see_each_other(h: &Harness) {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let a = Namespace::parse(format!("org_1{suffix}.vec")).unwrap();
    let b = Namespace::parse(format!("org-1{suffix}.vec")).unwrap();
    let c = Namespace::parse(format!("org_1{suffix}.vec1")).unwrap();
    let shared = rec("same-id", &[1.0, 0.0, 0.0], json!({"owner": "a"}));
    h.index
        .upsert(
            &a,
            vec![
                shared.clone(),
                rec("only-a", &[0.9, 0.1, 0.0], json!({"owner": "a"})),
            ],
        )
        .await
        .unwrap();
    h.index
        .upsert(
            &b,
            vec![rec("same-id", &[1.0, 0.0, 0.0], json!({"owner": "b"}))],
        )
        .await
        .unwrap();
    h.index
        .upsert(
            &c,
            vec![rec("only-c", &[0.0, 0.0, 1.0, 0.0], json!({"owner": "c"}))],
        )
        .await
        .unwrap();

    let hits = h
        .index
        .query(&b, &query(&[1.0, 0.0, 0.0], 100, None))
        .await
        .unwrap();
    assert_eq!(ids_of(&hits), ["same-id"]);
    assert_eq!(hits[0].metadata["owner"], "b");
    let filter = MetadataFilter::Eq("owner".into(), json!("a"));
    assert!(
        h.index
            .query(&b, &query(&[1.0, 0.0, 0.0], 100, Some(filter)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.index.get(&b, &[id("only-a")]).await.unwrap(), vec![]);
    assert_eq!(
        h.index.dimension(&c).await.unwrap(),
        Some(4),
        "each namespace its own dimension"
    );

    h.index
        .delete(&b, &[id("same-id"), id("only-a")])
        .await
        .unwrap();
    assert_eq!(
        h.index.count(&a).await.unwrap(),
        2,
        "a delete in b leaves a alone"
    );
    assert_eq!(
        h.index.get(&a, &[id("same-id")]).await.unwrap(),
        vec![shared]
    );
    let page = h.index.list(&b, None, 10).await.unwrap();
    assert!(page.records.is_empty());

    h.index.drop_namespace(&a).await.unwrap();
    assert_eq!(h.index.count(&c).await.unwrap(), 1, "dropping a leaves c");
    assert_eq!(h.index.count(&a).await.unwrap(), 0);
}

async fn list_pages_through_every_vector_once(h: &Harness) {
    let n = ns("list");
    let total = 1234;
    for chunk in (0..total).collect::<Vec<_>>().chunks(MAX_BATCH) {
        let records = chunk
            .iter()
            .map(|i| {
                rec(
                    &format!("item-{i:05}"),
                    &vector(*i as u64, 4),
                    json!({"i": i}),
                )
            })
            .collect();
        h.index.upsert(&n, records).await.unwrap();
    }
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = h.index.list(&n, cursor.as_deref(), 100).await.unwrap();
        pages += 1;
        assert!(page.records.len() <= 100);
        for r in &page.records {
            let i = r.metadata["i"].as_u64().unwrap();
            assert_eq!(r.id.as_str(), format!("item-{i:05}"));
            assert_eq!(r.vector, vector(i, 4), "the vector comes back as given");
            assert!(seen.insert(r.id.clone()), "{} listed twice", r.id);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 100, "the listing ends");
    }
    assert_eq!(seen.len(), total);
    assert!(pages >= 13, "{pages} pages of at most 100");
    assert_eq!(h.index.count(&n).await.unwrap(), total as u64);
    for limit in [0, MAX_LIST_PAGE + 1] {
        assert!(matches!(
            h.index.list(&n, None, limit).await,
            Err(VectorError::Invalid(_))
        ));
    }
    let empty = h.index.list(&ns("empty"), None, 10).await.unwrap();
    assert!(empty.records.is_empty() && empty.next.is_none());
}

async fn drop_namespace_removes_everything(h: &Harness) {
    let n = ns("drop");
    let records = (0..30)
        .map(|i| rec(&format!("d{i}"), &vector(i, 6), json!({})))
        .collect();
    h.index.upsert(&n, records).await.unwrap();
    assert_eq!(h.index.count(&n).await.unwrap(), 30);
    h.index.drop_namespace(&n).await.unwrap();
    assert_eq!(h.index.count(&n).await.unwrap(), 0);
    assert_eq!(h.index.get(&n, &[id("d1")]).await.unwrap(), vec![]);
    assert!(
        h.index
            .query(&n, &query(&vector(1, 6), 10, None))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.index.list(&n, None, 10).await.unwrap().records.is_empty());
    h.index.drop_namespace(&n).await.unwrap();
    h.index.drop_namespace(&ns("never")).await.unwrap();
}

async fn batches_of_the_maximum_size_round_trip(h: &Harness) {
    let n = ns("batch");
    let records: Vec<VectorRecord> = (0..MAX_BATCH)
        .map(|i| rec(&format!("b{i:03}"), &vector(i as u64, 32), json!({"i": i})))
        .collect();
    h.index.upsert(&n, records.clone()).await.unwrap();
    assert_eq!(h.index.count(&n).await.unwrap(), MAX_BATCH as u64);
    let ids: Vec<VectorId> = records.iter().map(|r| r.id.clone()).collect();
    let got = h.index.get(&n, &ids).await.unwrap();
    assert_eq!(sorted_records(got), records);
    let hits = h
        .index
        .query(&n, &query(&records[123].vector, 1, None))
        .await
        .unwrap();
    assert_eq!(ids_of(&hits), ["b123"]);
    h.index.delete(&n, &ids).await.unwrap();
    assert_eq!(h.index.count(&n).await.unwrap(), 0);
}

async fn concurrent_upserts_lose_nothing(h: &Harness) {
    let n = ns("concurrent");
    let tasks = 16;
    let batches = 4;
    let per_batch = 25;
    let mut joins = vec![];
    for t in 0..tasks {
        let (index, n) = (h.index.clone(), n.clone());
        joins.push(tokio::spawn(async move {
            for b in 0..batches {
                let records = (0..per_batch)
                    .map(|i| {
                        let k = (t * batches + b) * per_batch + i;
                        rec(
                            &format!("c{k:05}"),
                            &vector(k as u64, 12),
                            json!({"task": t}),
                        )
                    })
                    .collect();
                index.upsert(&n, records).await.unwrap();
            }
        }));
    }
    for j in joins {
        j.await.unwrap();
    }
    let total = tasks * batches * per_batch;
    assert_eq!(h.index.count(&n).await.unwrap(), total as u64);
    let k = 777;
    let hits = h
        .index
        .query(&n, &query(&vector(k, 12), 1, None))
        .await
        .unwrap();
    assert_eq!(ids_of(&hits), [format!("c{k:05}").as_str()]);
    let mut listed = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = h
            .index
            .list(&n, cursor.as_deref(), MAX_LIST_PAGE)
            .await
            .unwrap();
        listed += page.records.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, total);
}

async fn readiness_check_answers(h: &Harness) {
    h.index.check().await.unwrap();
}

skiff_adapters::conformance_suite! {
    adapters { sqlite => &super::Harness::sqlite().await, s3 => &super::Harness::s3().await }
    cases {
        upsert_get_delete_round_trip,
        re_upsert_replaces_vector_and_metadata,
        query_answers_nearest_first_with_cosine_scores,
        every_filter_operator_selects_the_same_vectors,
        filtered_queries_still_answer_the_nearest_matches,
        top_k_is_bounded,
        the_first_vector_fixes_the_dimension,
        invalid_input_is_refused_and_stores_nothing,
        namespaces_never_see_each_other,
        list_pages_through_every_vector_once,
        drop_namespace_removes_everything,
        batches_of_the_maximum_size_round_trip,
        concurrent_upserts_lose_nothing,
        readiness_check_answers,
    }
}

/// A deployment names its vector buckets by ARN (CloudFormation's `!Ref`): the same
/// calls address indexes by ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_buckets_named_by_arn_work_alike() {
    let index = s3_index(true).await;
    let h = Harness {
        index: Arc::new(index),
        _dir: None,
    };
    upsert_get_delete_round_trip(&h).await;
    query_answers_nearest_first_with_cosine_scores(&h).await;
    drop_namespace_removes_everything(&h).await;
    readiness_check_answers(&h).await;
}

/// Namespaces land in the bucket their hash names, each in its own index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_namespaces_are_spread_over_the_buckets_one_index_each() {
    let index = s3_index(false).await;
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let client = aws_sdk_s3vectors::Client::new(&sdk);
    let names: Vec<Namespace> = (0..12).map(|i| ns(&format!("spread{i}"))).collect();
    for n in &names {
        index
            .upsert(n, vec![rec("v", &[1.0, 2.0], json!({}))])
            .await
            .unwrap();
    }
    let mut used = BTreeSet::new();
    for n in &names {
        let at = index.location(n);
        used.insert(at.bucket.clone());
        let out = client
            .get_index()
            .vector_bucket_name(&at.bucket)
            .index_name(&at.index)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{n} → {at:?}: {e:?}"));
        let got = out.index().unwrap();
        assert_eq!(got.dimension(), 2);
        assert_eq!(
            got.distance_metric(),
            &aws_sdk_s3vectors::types::DistanceMetric::Cosine
        );
    }
    assert_eq!(used.len(), 2, "twelve namespaces use both buckets");
}

/// Readiness fails, naming the bucket, when a configured vector bucket is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_readiness_fails_for_a_missing_bucket() {
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let missing = skiff_adapters::testing::unique_name("gone");
    let index = skiff_adapters::s3_vectors::S3Vectors::new(
        aws_sdk_s3vectors::Client::new(&sdk),
        vec![missing.clone()],
    );
    let err = index.check().await.unwrap_err();
    assert!(err.to_string().contains(&missing), "{err}");
}
