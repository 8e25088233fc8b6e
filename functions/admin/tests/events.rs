//! The `events/admin` API Gateway v2 fixtures driven through the real handler (the
//! router `lambda_http::run` serves), over the embedded adapters; and the EMF lines
//! the handler publishes after each invocation.

use http_body_util::BodyExt;
use serde_json::Value;
use skiff_core::metrics::{self, Mode};
use skiff_core::services::Services;
use skiff_http::principal;
use skiff_identity::access_token::{self, Grant};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Role, Scopes, UserId, signing_keys};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    let path = format!("{}/../../events/admin/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("fixture")
}

async fn invoke(services: &Services, event: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway v2 event");
    let response = skiff_fn_admin::app(services.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

/// A user (a platform operator or not) with an access token.
async fn user_with_token(s: &Services, email: &str, operator: bool) -> String {
    let now = s.clock.unix();
    let (user_id, org_id) = (UserId::new(), OrgId::new());
    let user = User {
        id: user_id.clone(),
        email: EmailAddress::parse(email).unwrap(),
        full_name: "Fixture".into(),
        password_hash: "unused".into(),
        email_verified: true,
        created_at: now,
        platform_admin: operator,
        default_org: org_id.clone(),
        company: Some("Fixture Inc".into()),
        suspended_at: None,
    };
    let org = Org {
        id: org_id.clone(),
        name: "Fixture Inc".into(),
        created_at: now,
        owners: 1,
    };
    let owner = Membership {
        org_id: org_id.clone(),
        user_id: user_id.clone(),
        role: Role::Owner,
        joined_at: now,
    };
    let mut writes = users::create_writes(&user).unwrap();
    writes.extend(orgs::create_writes(&org, &owner).unwrap());
    s.store.transact(writes).await.unwrap();
    let keys = signing_keys::current(&s.secrets).await.unwrap();
    access_token::issue(
        &keys,
        &principal::audience(s),
        now,
        Grant {
            user: &user_id,
            org: &org_id,
            role: Role::Owner,
            scopes: &Scopes::all(),
            session: None,
        },
    )
}

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn documents(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each EMF line is one JSON document"))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixtures_answer_operators_hide_from_others_and_publish_emf() {
    metrics::set_mode(Mode::Emf);
    let captured = Captured::default();
    metrics::set_emf_sink(Box::new(captured.clone()));
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = skiff_app::testing::embedded_services(dir.path()).await;
    let s = embedded.services;
    let operator = user_with_token(&s, "op@example.com", true).await;
    let customer = user_with_token(&s, "customer@example.com", false).await;

    let (status, _, body) = invoke(
        &s,
        &fixture("analytics.json").replace("ACCESS_TOKEN", &operator),
    )
    .await;
    let figures: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{figures}");
    assert_eq!(figures["new_signups_this_month"], 2);
    assert_eq!(
        (figures["mrr"].clone(), figures["currency"].clone()),
        (0.into(), "usd".into())
    );

    let (status, _, body) = invoke(
        &s,
        &fixture("users.json").replace("ACCESS_TOKEN", &operator),
    )
    .await;
    let users: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["items"].as_array().unwrap().len(), 2);
    assert!(users["items"][0].get("password_hash").is_none());

    for token in [customer.as_str(), "not-a-token"] {
        let (status, _, _) = invoke(
            &s,
            &fixture("analytics.json").replace("ACCESS_TOKEN", token),
        )
        .await;
        assert_eq!(status, 404, "hidden from {token:.12}");
    }

    let (status, headers, body) = invoke(&s, &fixture("console.json")).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("console.js"));
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );

    // Each invocation published its request metrics as EMF documents.
    let docs = captured.documents();
    assert!(!docs.is_empty(), "EMF documents were written");
    for d in &docs {
        let m = &d["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Skiff", "{d}");
        assert!(d["_aws"]["Timestamp"].as_i64().unwrap() > 0, "{d}");
        let name = m["Metrics"][0]["Name"].as_str().unwrap();
        assert!(
            d.get(name).is_some(),
            "the value sits beside its metadata: {d}"
        );
        for dim in m["Dimensions"][0].as_array().unwrap() {
            assert!(
                d[dim.as_str().unwrap()].is_string(),
                "dimension {dim} is set: {d}"
            );
        }
    }
    let count = |route: &str, status: &str| -> u64 {
        docs.iter()
            .filter(|d| {
                d.get("skiff_http_requests_total").is_some()
                    && d["route"] == route
                    && d["status"] == status
            })
            .map(|d| d["skiff_http_requests_total"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(count("/api/v1/admin/analytics", "2xx"), 1);
    assert_eq!(count("/api/v1/admin/analytics", "4xx"), 2);
    assert_eq!(count("/api/v1/admin/users", "2xx"), 1);
    assert_eq!(count("/console/", "2xx"), 1);
    let latency = docs
        .iter()
        .find(|d| d.get("skiff_http_request_duration_seconds").is_some())
        .expect("a latency document");
    assert_eq!(
        latency["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
        "Seconds"
    );
    assert!(
        latency["skiff_http_request_duration_seconds"]
            .as_array()
            .unwrap()[0]
            .as_f64()
            .unwrap()
            >= 0.0
    );
    assert!(
        docs.iter().all(|d| !d.to_string().contains(&operator)),
        "no token in a metric"
    );
}
