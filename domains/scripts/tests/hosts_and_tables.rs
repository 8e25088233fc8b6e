//! A claimed host is proven by its TXT record (read through the DNS port, here a
//! fixed table: no real DNS), and a route table cached by one process is replaced
//! on its next request after another process changes the app's routes.

use serde_json::json;
use skiff_core::Services;
use skiff_core::clock::OffsetClock;
use skiff_core::ids::{OrgId, UserId};
use skiff_core::ports::dns::StaticResolver;
use skiff_identity::Role;
use skiff_scripts::ScriptsError;
use skiff_scripts::access::Actor;
use skiff_scripts::domains::{self, DomainStatus};
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::routes::{self, Dispatch, Method, RouteDraft};
use skiff_scripts::run::{Body, RunRequest};
use skiff_scripts::sandbox::Overrides;
use skiff_scripts::scripts::{self, ScriptDraft};
use skiff_scripts::service::{self, Dispatched, Entry};
use std::sync::Arc;

async fn services(dir: &std::path::Path, vars: &[(&str, &str)]) -> Services {
    let mut all = vec![("SKIFF_DATA_DIR".to_owned(), dir.display().to_string())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = skiff_app::AppConfig::from_vars(all).unwrap();
    skiff_app::services::embedded(config, OffsetClock::new())
        .await
        .unwrap()
        .services
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_becomes_active_only_when_its_txt_record_carries_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = services(dir.path(), &[("SKIFF_SCRIPTS_DOMAIN_VERIFICATION", "dns")]).await;
    let dns = Arc::new(StaticResolver::new());
    s.resolver = dns.clone();
    let actor = owner();
    skiff_scripts::apps::create(&s, &actor, "Shop".into(), Slug::parse("dns-shop").unwrap())
        .await
        .unwrap();

    let claim = domains::claim(&s, &actor, "dns-shop", "*.shop.example".into())
        .await
        .unwrap();
    assert_eq!(claim.status, DomainStatus::Pending);
    assert_eq!(claim.challenge_name(), "_skiff-challenge.shop.example");
    // Pending: a request to a host under it is nobody's yet.
    assert!(
        domains::serving(s.store.as_ref(), "api.shop.example")
            .await
            .unwrap()
            .is_none()
    );

    // No record, then a record with another value: refused.
    let e = domains::verify(&s, &actor, "dns-shop", "*.shop.example")
        .await
        .unwrap_err();
    assert!(matches!(e, ScriptsError::NotVerified(_)), "{e:?}");
    dns.set_txt(
        "_skiff-challenge.shop.example",
        vec!["skiff-verify=someone-else".into()],
    );
    assert!(
        domains::verify(&s, &actor, "dns-shop", "*.shop.example")
            .await
            .is_err()
    );

    dns.set_txt(
        "_skiff-challenge.shop.example.",
        vec!["v=spf1 -all".into(), claim.token.clone()],
    );
    let verified = domains::verify(&s, &actor, "dns-shop", "*.shop.example")
        .await
        .unwrap();
    assert_eq!(verified.status, DomainStatus::Active);
    let serving = domains::serving(s.store.as_ref(), "API.shop.example")
        .await
        .unwrap()
        .expect("the wildcard serves its subdomains");
    assert_eq!(serving.host, "*.shop.example");
    assert!(
        domains::serving(s.store.as_ref(), "a.b.shop.example")
            .await
            .unwrap()
            .is_none(),
        "one level only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_sees_a_route_change_on_its_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let first = services(dir.path(), &[]).await;
    // A second process: the same store, its own runtime and route-table cache.
    let mut second = first.clone();
    let mut settings = (*first.settings).clone();
    let config = skiff_app::AppConfig::from_vars(vec![(
        "SKIFF_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    )])
    .unwrap();
    settings.insert(
        skiff_scripts::settings::ScriptsSettings::from_vars(&Default::default(), &config.core)
            .unwrap(),
    );
    second.settings = Arc::new(settings);
    assert!(!Arc::ptr_eq(
        &skiff_scripts::runtime(&first),
        &skiff_scripts::runtime(&second)
    ));

    let actor = owner();
    skiff_scripts::apps::create(&first, &actor, "T".into(), Slug::parse("tables").unwrap())
        .await
        .unwrap();
    let mut ids = vec![];
    for (name, source) in [("a", "\"a\""), ("b", "\"b\"")] {
        let s = scripts::create(
            &first,
            &actor,
            "tables",
            ScriptDraft {
                name: ScriptName::parse(name).unwrap(),
                source: source.into(),
                kind: ScriptKind::Endpoint,
                overrides: Overrides::default(),
            },
        )
        .await
        .unwrap();
        ids.push(s.id);
    }
    let route = |path: &str| RouteDraft {
        method: Method::Get,
        path: path.into(),
        host: None,
        dispatch: Dispatch::Sync,
    };
    routes::create(&first, &actor, &ids[0], route("/x/*"))
        .await
        .unwrap();
    let get = |path: &str| RunRequest {
        method: "GET".into(),
        path: path.into(),
        ..Default::default()
    };
    let answer = |d: Dispatched| match d {
        Dispatched::Ran(e) => e.result.unwrap().body,
        other => panic!("{other:?}"),
    };
    let d = service::dispatch(&second, Entry::Slug("tables"), get("/x/y"))
        .await
        .unwrap();
    assert_eq!(answer(d), Body::Json(json!("a")));

    // The first process adds a more specific route; the second's cached table is
    // stale and is read again on its next request.
    routes::create(&first, &actor, &ids[1], route("/x/y"))
        .await
        .unwrap();
    let d = service::dispatch(&second, Entry::Slug("tables"), get("/x/y"))
        .await
        .unwrap();
    assert_eq!(answer(d), Body::Json(json!("b")));
}
