//! Scripts' data through the SDK, on both backends (SQLite + files, and DynamoDB +
//! S3 + SQS on the emulator): KV, documents with the filter DSL, files, and the
//! app boundary no argument or filter can cross.

use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::{OrgId, UserId};
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::run::{Body, RunRequest};
use skiff_scripts::sandbox::Overrides;
use skiff_scripts::scripts::ScriptDraft;

struct World {
    services: Services,
    actor: Actor,
    _dir: Option<tempfile::TempDir>,
}

async fn embedded() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _) = skiff_app::testing::embedded_services(dir.path()).await;
    World {
        services: embedded.services,
        actor: owner(),
        _dir: Some(dir),
    }
}

async fn aws() -> World {
    World {
        services: skiff_app::testing::aws_services("scripts-data", None).await,
        actor: owner(),
        _dir: None,
    }
}

fn owner() -> Actor {
    Actor {
        org_id: OrgId::new(),
        user_id: Some(UserId::new()),
        api_key_id: None,
        org_role: Role::Owner,
        can_write: true,
        bound_app: None,
    }
}

impl World {
    /// A new app; returns its slug.
    async fn app(&self) -> String {
        let slug = format!("d-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        skiff_scripts::apps::create(
            &self.services,
            &self.actor,
            "Data".into(),
            Slug::parse(&slug).unwrap(),
        )
        .await
        .unwrap();
        slug
    }

    /// Save `source` in `app` and run it; its answer as JSON.
    async fn run(&self, app: &str, source: &str) -> Value {
        let name = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let script = skiff_scripts::scripts::create(
            &self.services,
            &self.actor,
            app,
            ScriptDraft {
                name: ScriptName::parse(&name).unwrap(),
                source: source.into(),
                kind: ScriptKind::Endpoint,
                overrides: Overrides::default(),
            },
        )
        .await
        .unwrap();
        let e = skiff_scripts::service::execute(
            &self.services,
            &self.actor,
            &script.id,
            RunRequest::default(),
        )
        .await
        .unwrap();
        match e.result {
            Ok(out) => match out.body {
                Body::Json(v) => v,
                other => panic!("{other:?}"),
            },
            Err(f) => panic!("{source}\n→ {f}"),
        }
    }
}

async fn kv_round_trip_and_pages(w: World) {
    let app = w.app().await;
    let out = w
        .run(
            &app,
            r#"
            let c = kv::collection("prefs");
            let out = #{};
            out.missing = c.get("theme");
            c.set("theme", #{ mode: "dark", size: 14 });
            out.theme = c.get("theme");
            out.has = c.has("theme");
            for i in 0..5 { c.set(`k${i}`, i); }
            let p1 = c.list(#{ limit: 3 });
            let p2 = c.list(#{ limit: 10, cursor: p1.cursor });
            out.pages = [p1.items.map(|i| i.key), p2.items.map(|i| i.key)];
            out.end = p2.cursor;
            out.deleted = c.delete("theme");
            out.deleted_again = c.delete("theme");
            out.has_after = c.has("theme");
            let bad = "";
            try { c.list(#{ limit: 3, sort: 1 }); } catch (e) { bad = `${e}`; }
            out.bad_option = bad;
            out
            "#,
        )
        .await;
    assert_eq!(out["missing"], Value::Null);
    assert_eq!(out["theme"], json!({"mode": "dark", "size": 14}));
    assert_eq!(out["has"], true);
    assert_eq!(
        out["pages"],
        json!([["k0", "k1", "k2"], ["k3", "k4", "theme"]])
    );
    assert_eq!(out["end"], Value::Null);
    assert_eq!(
        (&out["deleted"], &out["deleted_again"], &out["has_after"]),
        (&json!(true), &json!(false), &json!(false))
    );
    assert!(
        out["bad_option"].as_str().unwrap().contains("`sort`"),
        "{out}"
    );
}

async fn documents_and_the_filter_dsl(w: World) {
    let app = w.app().await;
    let out = w
        .run(
            &app,
            r#"
            let d = docs::collection("orders");
            let ids = [];
            for o in [
                #{ status: "paid", total: 30, customer: #{ name: "ada" } },
                #{ status: "open", total: 10, customer: #{ name: "bob" } },
                #{ status: "paid", total: 20, customer: #{ name: "cy" } },
                #{ status: "void", total: 20 },
            ] { ids.push(d.create(o)); }
            let out = #{};
            out.first = d.get(ids[0]);
            out.prev = d.update(ids[1], #{ status: "paid", total: 15, customer: #{ name: "bob" } });
            out.deleted = d.delete(ids[3]);
            let err = "";
            try { d.update(ids[3], #{ status: "x" }); } catch (e) { err = `${e}`; }
            out.update_missing = err;
            out.paid = d.find(#{ status: "paid", "$sort": #{ total: -1 } }).items.map(|i| i.data.total);
            let q = #{ total: #{ "$gte": 15 }, "$sort": #{ total: 1 }, "$limit": 2 };
            let p1 = d.find(q);
            q["$cursor"] = p1.cursor;
            let p2 = d.find(q);
            out.pages = [p1.items.map(|i| i.data.total), p2.items.map(|i| i.data.total)];
            out.or = d.find(#{ "$or": [#{ "customer.name": "ada" }, #{ status: #{ "$in": ["open", "void"] } }] })
                .items.map(|i| i.data.customer.name);
            out.exists_lt = d.find(#{ "customer.name": #{ "$exists": true }, total: #{ "$lt": 25 }, "$sort": #{ total: 1 } })
                .items.map(|i| i.data.total);
            out.nin_ne = d.find(#{ total: #{ "$nin": [15, 30] }, status: #{ "$ne": "open" } }).items.map(|i| i.data.total);
            err = "";
            try { d.find(#{ total: #{ "$regex": "1" } }); } catch (e) { err = `${e}`; }
            out.unknown = err;
            err = "";
            try { d.create([1, 2]); } catch (e) { err = `${e}`; }
            out.not_object = err;
            out
            "#,
        )
        .await;
    assert_eq!(
        out["first"],
        json!({"status": "paid", "total": 30, "customer": {"name": "ada"}})
    );
    assert_eq!(
        out["prev"],
        json!({"status": "open", "total": 10, "customer": {"name": "bob"}})
    );
    assert_eq!(out["deleted"], true);
    assert!(
        out["update_missing"]
            .as_str()
            .unwrap()
            .contains("not found")
            || out["update_missing"].as_str().unwrap().contains("no such"),
        "{out}"
    );
    assert_eq!(out["paid"], json!([30, 20, 15]));
    assert_eq!(out["pages"], json!([[15, 20], [30]]));
    assert_eq!(out["or"], json!(["ada"]));
    assert_eq!(out["exists_lt"], json!([15, 20]));
    assert_eq!(out["nin_ne"], json!([20]));
    assert!(
        out["unknown"].as_str().unwrap().contains("`$regex`"),
        "{out}"
    );
    assert!(
        out["not_object"].as_str().unwrap().contains("object"),
        "{out}"
    );
}

async fn files_round_trip(w: World) {
    let app = w.app().await;
    let out = w
        .run(
            &app,
            r#"
            let f = files::collection("uploads");
            let out = #{};
            out.created = f.create("a.txt", "hello world", #{ owner: "ada" });
            out.head = f.head("a.txt");
            out.text = f.get("a.txt").blob.as_string();
            let dup = "";
            try { f.create("a.txt", "again"); } catch (e) { dup = `${e}`; }
            out.duplicate = dup;
            out.updated = f.update("a.txt", "hello again", #{ owner: "bob" });
            out.text2 = f.get("a.txt").blob.as_string();
            f.create("b.bin", blob(3, 7));
            out.listed = f.list().items.map(|i| i.name);
            out.deleted = f.delete("a.txt");
            out.gone = f.get("a.txt");
            out.listed_after = f.list().items.map(|i| i.name);
            out
            "#,
        )
        .await;
    let created = &out["created"];
    assert_eq!(created["name"], "a.txt");
    assert_eq!(created["size"], 11);
    assert_eq!(
        created["sha256"],
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    assert_eq!(created["meta"], json!({"owner": "ada"}));
    assert_eq!(out["head"]["sha256"], created["sha256"]);
    assert_eq!(out["text"], "hello world");
    assert!(!out["duplicate"].as_str().unwrap().is_empty(), "{out}");
    assert_eq!(out["updated"]["meta"], json!({"owner": "bob"}));
    assert_eq!(out["text2"], "hello again");
    assert_eq!(out["listed"], json!(["a.txt", "b.bin"]));
    assert_eq!(out["deleted"], true);
    assert_eq!(out["gone"], Value::Null);
    assert_eq!(out["listed_after"], json!(["b.bin"]));
    assert!(
        out["head"].get("blob_key").is_none(),
        "no storage key shown"
    );
}

async fn no_call_or_filter_reaches_another_apps_data(w: World) {
    let ours = w.app().await;
    let theirs = w.app().await;
    w.run(
        &theirs,
        r#"
        docs::collection("orders").create(#{ secret: true, total: 99 });
        kv::collection("prefs").set("theme", "theirs");
        files::collection("uploads").create("x.txt", "theirs");
        1
        "#,
    )
    .await;
    let out = w
        .run(
            &ours,
            r#"
            let d = docs::collection("orders");
            d.create(#{ total: 1 });
            #{
                all: d.find(#{}).items.len(),
                or_anything: d.find(#{ "$or": [#{}, #{ secret: true }, #{ total: #{ "$exists": true } }] }).items.len(),
                secret: d.find(#{ secret: true }).items.len(),
                kv: kv::collection("prefs").get("theme"),
                file: files::collection("uploads").head("x.txt"),
                files: files::collection("uploads").list().items.len(),
            }
            "#,
        )
        .await;
    assert_eq!(
        out,
        json!({"all": 1, "or_anything": 1, "secret": 0, "kv": null, "file": null, "files": 0})
    );
}

async fn stored_bytes_count_against_the_plan(w: World) {
    use skiff_billing::entitlements::{self, STORAGE_BYTES};
    use skiff_core::ports::store::Change;
    let app = w.app().await;
    let org = w.actor.org_id.clone();
    let used = || entitlements::usage(&w.services, &org, STORAGE_BYTES);
    assert_eq!(used().await.unwrap(), 0);
    let out = w
        .run(
            &app,
            r#"
            let id = docs::collection("notes").create(#{ text: "hello" });
            files::collection("uploads").create("a.txt", "hello world");
            kv::collection("k").set("x", "kv entries are not counted");
            id
            "#,
        )
        .await;
    let doc = out.as_str().unwrap().to_owned();
    let after = used().await.unwrap();
    assert_eq!(after, 16 + 11, "the document's JSON and the file's bytes");

    // The free plan holds 1 GB: fill the counter to 10 bytes short of it.
    w.services
        .store
        .update(
            &skiff_billing::keys::quota(&org, STORAGE_BYTES),
            vec![Change::Add(
                "used".into(),
                entitlements::BYTES_PER_GB - 10 - after,
            )],
            None,
        )
        .await
        .unwrap();
    let out = w
        .run(
            &app,
            r#"
            let errors = [];
            try { docs::collection("notes").create(#{ text: "more than ten bytes" }); } catch (e) { errors.push(`${e}`); }
            try { files::collection("uploads").create("b.txt", "more than ten bytes"); } catch (e) { errors.push(`${e}`); }
            #{ errors: errors, notes: docs::collection("notes").find().items.len(), files: files::collection("uploads").list().items.len() }
            "#,
        )
        .await;
    assert_eq!(out["errors"].as_array().unwrap().len(), 2, "{out}");
    for e in out["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("storage_gb"), "{out}");
    }
    assert_eq!(
        (&out["notes"], &out["files"]),
        (&json!(1), &json!(1)),
        "nothing stored"
    );
    // Deleting gives the bytes back.
    w.run(
        &app,
        &format!(r#"docs::collection("notes").delete("{doc}"); files::collection("uploads").delete("a.txt"); 1"#),
    )
    .await;
    assert_eq!(
        used().await.unwrap(),
        entitlements::BYTES_PER_GB - 10 - after
    );
}

/// Scripts' part of an org's export walks every app's data (file bytes as
/// blobs with their SHA-256), and its purge removes all of it, items and blobs,
/// resumably and idempotently, leaving another org's apps alone.
async fn the_org_export_and_erasure_cover_every_part(w: World) {
    use skiff_core::org_data::{ExportFile, OrgData};
    use skiff_core::ports::store::Query;
    use skiff_scripts::keys;
    let slug = w.app().await;
    w.run(
        &slug,
        r#"
        kv::collection("prefs").set("theme", "dark");
        docs::collection("notes").create(#{ text: "hi" });
        files::collection("uploads").create("a.txt", "hello world", #{ owner: "ada" });
        1
        "#,
    )
    .await;
    skiff_scripts::scripts::create(
        &w.services,
        &w.actor,
        &slug,
        ScriptDraft {
            name: ScriptName::parse("helpers").unwrap(),
            source: "fn twice(x) { x * 2 }".into(),
            kind: ScriptKind::Module,
            overrides: Overrides::default(),
        },
    )
    .await
    .unwrap();
    let stranger = World {
        services: w.services.clone(),
        actor: owner(),
        _dir: None,
    };
    let theirs = stranger.app().await;
    stranger
        .run(
            &theirs,
            r#"kv::collection("prefs").set("theme", "light"); files::collection("uploads").create("b.txt", "theirs"); 1"#,
        )
        .await;

    let part = &skiff_scripts::org_data::ScriptsData;
    let org = w.actor.org_id.clone();
    let app = skiff_scripts::apps::claim(w.services.store.as_ref(), &slug)
        .await
        .unwrap()
        .unwrap()
        .app_id;
    let export = |org: OrgId| {
        let services = w.services.clone();
        async move {
            let mut counts = std::collections::BTreeMap::new();
            let mut blobs = vec![];
            let mut cursor = None;
            for _ in 0..200 {
                let page = part.export_page(&services, &org, cursor).await.unwrap();
                for file in page.files {
                    match file {
                        ExportFile::Data {
                            kind, count, bytes, ..
                        } => {
                            let text = String::from_utf8(bytes.to_vec()).unwrap();
                            assert_eq!(text.lines().count() as u64, count, "{text}");
                            *counts.entry(kind).or_insert(0u64) += count;
                        }
                        ExportFile::Blob {
                            path, key, sha256, ..
                        } => blobs.push((path, key, sha256)),
                    }
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return (counts, blobs),
                }
            }
            panic!("the export did not end");
        }
    };
    let (counts, blobs) = export(org.clone()).await;
    let expected: std::collections::BTreeMap<&str, u64> = [
        ("script_apps", 1),
        ("scripts", 1),
        ("script_modules", 1),
        ("script_kv", 1),
        ("script_documents", 1),
        ("script_files", 1),
        ("script_logs", 1),
    ]
    .into();
    assert_eq!(counts, expected);
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    let (path, key, sha256) = &blobs[0];
    assert!(path.starts_with(&format!("{app}/files/")), "{path}");
    assert_eq!(
        sha256,
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    assert_eq!(
        &w.services.blobs.get(key).await.unwrap().bytes[..],
        b"hello world"
    );

    // Erasure: close releases the slug, purge steps until done, then stays done.
    part.close(&w.services, &org).await.unwrap();
    assert!(
        skiff_scripts::apps::claim(w.services.store.as_ref(), &slug)
            .await
            .unwrap()
            .is_none()
    );
    let mut removed = 0;
    for step in 0.. {
        assert!(step < 50, "the purge did not end");
        let purged = part.purge(&w.services, &org).await.unwrap();
        removed += purged.removed;
        if purged.done {
            break;
        }
    }
    assert!(removed >= 8, "{removed}");
    let again = part.purge(&w.services, &org).await.unwrap();
    assert_eq!((again.removed, again.done), (0, true));
    let store = w.services.store.as_ref();
    let base = keys::app_pk(&org, &app);
    for pk in [
        keys::apps_pk(&org),
        base.clone(),
        format!("{base}#KV"),
        format!("{base}#DOCS"),
        format!("{base}#FILES"),
    ] {
        let left = store.query(Query::partition(&pk)).await.unwrap();
        assert!(left.items.is_empty(), "{pk}: {:?}", left.items);
    }
    let left = store
        .query(Query::gsi1(keys::scripts_index_pk(&org, &app)))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "scripts: {:?}", left.items);
    let left = w
        .services
        .blobs
        .list(&format!("scripts/{org}/"), 10)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert!(export(org.clone()).await.0.is_empty());

    // The other org's app is whole.
    let out = stranger
        .run(
            &theirs,
            r#"#{ theme: kv::collection("prefs").get("theme"), file: files::collection("uploads").get("b.txt").blob.as_string() }"#,
        )
        .await;
    assert_eq!(out, json!({"theme": "light", "file": "theirs"}));
}

skiff_adapters::conformance_suite! {
    adapters { embedded => super::embedded().await, aws => super::aws().await }
    cases {
        kv_round_trip_and_pages,
        documents_and_the_filter_dsl,
        files_round_trip,
        no_call_or_filter_reaches_another_apps_data,
        stored_bytes_count_against_the_plan,
        the_org_export_and_erasure_cover_every_part,
    }
}
