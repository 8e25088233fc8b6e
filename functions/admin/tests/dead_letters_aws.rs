//! The operators' dead-letter routes over the AWS adapters (SQS and its DLQ on the
//! emulator, which `scripts/with-moto.sh` starts): the same HTTP answers as on the
//! embedded queue.

use http_body_util::BodyExt;
use serde_json::{Value, json};
use skiff_core::services::Services;
use skiff_http::principal;
use skiff_identity::access_token::{self, Grant};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Role, Scopes, UserId, signing_keys};
use std::time::Duration;
use tower::ServiceExt;

async fn aws_services() -> Services {
    skiff_app::testing::aws_services("admin", None).await
}

/// A platform operator in the table, with an access token.
async fn operator_token(s: &Services) -> String {
    let now = s.clock.unix();
    let (user_id, org_id) = (UserId::new(), OrgId::new());
    let user = User {
        id: user_id.clone(),
        email: EmailAddress::parse("op@example.com").unwrap(),
        full_name: "Operator".into(),
        password_hash: "unused".into(),
        email_verified: true,
        created_at: now,
        platform_admin: true,
        default_org: org_id.clone(),
        company: None,
        suspended_at: None,
    };
    let org = Org {
        id: org_id.clone(),
        name: "Operators".into(),
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

async fn call(s: &Services, method: &str, path: &str, token: &str) -> (u16, Value) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = skiff_fn_admin::app(s.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Deliver every message until SQS's redrive policy moves them to the DLQ.
async fn dead_letter_all(s: &Services) {
    for _ in 0..=skiff_core::resources::queue::MAX_RECEIVE_COUNT {
        let got = s
            .queue
            .receive(10, Duration::ZERO, Duration::ZERO)
            .await
            .unwrap();
        for m in got {
            s.queue
                .change_visibility(&m.receipt, Duration::ZERO)
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_replayed_and_resolved_on_sqs() {
    let s = aws_services().await;
    let token = operator_token(&s).await;
    for id in ["poison-1", "poison-2"] {
        let body =
            json!({"id": id, "kind": "no_such_kind", "payload": {"secret": "x"}, "created_at": 1});
        s.queue.send(body.to_string()).await.unwrap();
    }
    dead_letter_all(&s).await;

    let (status, list) = call(&s, "GET", "/api/v1/admin/dead-letters", &token).await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    let mut envelopes: Vec<&str> = items
        .iter()
        .map(|i| i["envelope_id"].as_str().unwrap())
        .collect();
    envelopes.sort_unstable();
    assert_eq!(envelopes, ["poison-1", "poison-2"]);
    assert_eq!(items[0]["summary"], json!({"fields": ["secret"]}));

    let replay = items
        .iter()
        .find(|i| i["envelope_id"] == "poison-1")
        .unwrap();
    let resolve = items
        .iter()
        .find(|i| i["envelope_id"] == "poison-2")
        .unwrap();
    let (status, body) = call(
        &s,
        "POST",
        &format!(
            "/api/v1/admin/dead-letters/{}/replay",
            replay["message_id"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        &s,
        "POST",
        &format!(
            "/api/v1/admin/dead-letters/{}/resolve",
            resolve["message_id"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &s,
        "POST",
        "/api/v1/admin/dead-letters/no-such-letter/resolve",
        &token,
    )
    .await;
    assert_eq!(status, 404);

    // The replayed message is back on the outbox queue; the DLQ is empty.
    let (_, list) = call(&s, "GET", "/api/v1/admin/dead-letters", &token).await;
    assert_eq!(list["items"], json!([]), "{list}");
    let back = s
        .queue
        .receive(10, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert!(back[0].body.contains("poison-1"));
    let (_, audit) = call(
        &s,
        "GET",
        "/api/v1/admin/audit?action=DEAD_LETTER_REPLAYED",
        &token,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}
