//! The `events/auth` fixtures (API Gateway v2 HTTP events) drive the real handler:
//! deserialized as lambda_http does, converted to an HTTP request and sent through
//! the same router and layers the Lambda entry point runs.

use http_body_util::BodyExt;
use lambda_http::request::LambdaRequest;
use serde_json::Value;
use skiff_app::testing::embedded_services;
use skiff_core::rate_limit::{self, Decision};
use tower::ServiceExt;

fn fixture(name: &str) -> lambda_http::Request {
    event(&format!("auth/{name}"))
}

fn event(rel: &str) -> lambda_http::Request {
    let path = format!("{}/../../events/{rel}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).expect("fixture");
    let event: LambdaRequest = serde_json::from_str(&raw).expect("API Gateway v2 event");
    lambda_http::Request::from(event)
}

async fn send(app: &axum::Router, request: lambda_http::Request) -> (u16, Value, http::HeaderMap) {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("infallible router");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

#[tokio::test]
async fn register_then_login_fixtures_through_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let services = embedded.services;
    let app = skiff_fn_auth::app(services.clone());

    let (status, body, headers) = send(&app, fixture("register.json")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(headers["x-request-id"], "evt-register-1");

    let (status, body, _) = send(&app, fixture("login.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);

    // The client IP came from the event's requestContext: its per-IP login window
    // already holds the fixture's attempt.
    let limit = services.config.rate_limits.login_per_ip;
    let after = rate_limit::hit(
        services.store.as_ref(),
        services.clock.as_ref(),
        "login_ip",
        "203.0.113.10",
        limit,
    )
    .await
    .unwrap();
    assert_eq!(
        after,
        Decision::Allowed {
            remaining: limit.max - 2
        }
    );

    // A second registration of the same event is a conflict, as problem+json.
    let (status, body, headers) = send(&app, fixture("register.json")).await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "EMAIL_TAKEN");
    assert_eq!(headers["content-type"], "application/problem+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fixtures_are_answered_by_the_handler_with_the_common_layers() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let app = skiff_fn_auth::app(embedded.services);
    for route in ["healthz", "livez", "readyz", "version"] {
        let (status, body, headers) = send(&app, event(&format!("health/{route}.json"))).await;
        assert_eq!(status, 200, "GET /{route}: {body}");
        assert_eq!(headers["x-request-id"], format!("evt-{route}-1").as_str());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        match route {
            "readyz" => {
                assert_eq!(body["status"], "ready");
                for check in ["store", "blobs", "queue", "vectors"] {
                    assert_eq!(body["checks"][check]["status"], "ok", "{check}");
                }
            }
            "version" => assert_eq!(body["version"], env!("CARGO_PKG_VERSION")),
            _ => assert_eq!(body["status"], "ok"),
        }
    }
    // The whole document, health included, is this function's.
    let (status, body, _) = send(&app, fixture("openapi.json")).await;
    assert_eq!(status, 200);
    for path in ["/readyz", "/api/v1/plans", "/api/v1/licenses/acquire"] {
        assert!(body["paths"].get(path).is_some(), "{path} is documented");
    }
}

/// The auth function's handler over the AWS adapters on the emulator, with `queue_url`
/// in place of the provisioned queue when given.
async fn aws_app(queue_url: Option<&str>) -> axum::Router {
    let services = skiff_app::testing::aws_services("ready", queue_url).await;
    skiff_fn_auth::app(services)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readiness_fixture_probes_the_aws_resources() {
    let app = aws_app(None).await;
    let (status, body, _) = send(&app, event("health/readyz.json")).await;
    assert_eq!(status, 200, "{body}");
    for check in ["store", "blobs", "queue", "vectors"] {
        assert_eq!(body["checks"][check]["status"], "ok", "{check}: {body}");
    }

    let endpoint = skiff_adapters::testing::aws_endpoint();
    let gone = format!("{endpoint}/123456789012/no-such-queue");
    let app = aws_app(Some(&gone)).await;
    let (status, body, headers) = send(&app, event("health/readyz.json")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["code"], "NOT_READY");
    assert_eq!(body["failed"], serde_json::json!(["queue"]));
    assert_eq!(body["checks"]["store"]["status"], "ok");
}
