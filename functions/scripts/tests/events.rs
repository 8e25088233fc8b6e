//! The `events/scripts` fixtures (API Gateway v2 HTTP events) drive the real
//! router through lambda_http's request conversion, as on Lambda: a user route
//! under `/run/{proxy+}`, the `$default` route of the claimed-hosts API, and an
//! admin route without credentials.

use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::{OrgId, UserId};
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::routes::{Dispatch, Method, RouteDraft};
use skiff_scripts::sandbox::Overrides;
use skiff_scripts::scripts::ScriptDraft;
use tower::ServiceExt;

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../events/scripts/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON event")
}

async fn invoke(services: &Services, event: &Value) -> (StatusCode, Value, axum::http::HeaderMap) {
    let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
    let response = skiff_fn_scripts::app(services.clone())
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

/// An app `shop-events` with a greeting script routed at `/greet/:name`, and the
/// host `api.shop.example` claimed (dev accepts claims at once).
async fn shop(services: &Services) {
    let actor = Actor {
        org_id: OrgId::new(),
        user_id: Some(UserId::new()),
        api_key_id: None,
        org_role: Role::Owner,
        can_write: true,
        bound_app: None,
    };
    skiff_scripts::apps::create(
        services,
        &actor,
        "Shop".into(),
        Slug::parse("shop-events").unwrap(),
    )
    .await
    .unwrap();
    let script = skiff_scripts::scripts::create(
        services,
        &actor,
        "shop-events",
        ScriptDraft {
            name: ScriptName::parse("greet").unwrap(),
            source: r#"
                let lang = ctx.request.query.lang ?? "en";
                let hello = if lang == "fr" { "Bonjour" } else { "Hello" };
                let punct = if ctx.request.body == () { "." } else { ctx.request.body.punctuation };
                #{ greeting: `${hello} ${ctx.request.params.name}${punct}`, method: ctx.request.method }
            "#
            .into(),
            kind: ScriptKind::Endpoint,
            overrides: Overrides::default(),
        },
    )
    .await
    .unwrap();
    skiff_scripts::domains::claim(services, &actor, "shop-events", "api.shop.example".into())
        .await
        .unwrap();
    skiff_scripts::routes::create(
        services,
        &actor,
        &script.id,
        RouteDraft {
            method: Method::Any,
            path: "/greet/:name".into(),
            host: None,
            dispatch: Dispatch::Sync,
        },
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_route_and_a_claimed_host_answer_through_the_lambda_handler() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = skiff_app::testing::embedded_services(dir.path()).await;
    let services = embedded.services;
    shop(&services).await;

    let (status, body, headers) = invoke(&services, &fixture("run-route.json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"greeting": "Bonjour ada!", "method": "POST"}));
    assert!(headers.contains_key("x-execution-id"));

    let (status, body, _) = invoke(&services, &fixture("claimed-host.json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"greeting": "Hello grace.", "method": "GET"}));

    // Another host (no claim) at the same path is not the app's.
    let mut other = fixture("claimed-host.json");
    other["headers"]["host"] = "api.other.example".into();
    let (status, body, _) = invoke(&services, &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_routes_need_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = skiff_app::testing::embedded_services(dir.path()).await;
    let (status, body, _) = invoke(&embedded.services, &fixture("list-apps.json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "UNAUTHENTICATED");
}
