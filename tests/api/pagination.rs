//! Every list pages: `limit` (default 50, at most 200) and `next_cursor`, and
//! following the cursors yields each item exactly once.

use reqwest::Method;
use serde_json::{Value, json};
use skiff_e2e::{TestApp, spawn_app};
use std::collections::BTreeSet;

/// Follow `next_cursor` from `path` with `limit`, collecting `field` of every
/// item of the arrays named `arrays`; each page holds at most `limit` items.
async fn collect(
    app: &TestApp,
    token: &str,
    path: &str,
    limit: usize,
    arrays: &[&str],
    field: &str,
) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (status, page) = app.call(Method::GET, &url, Some(token), None).await;
        assert_eq!(status, 200, "{url}: {page}");
        let mut on_page = 0;
        for array in arrays {
            for item in page[*array].as_array().expect(array) {
                out.push(
                    item[field]
                        .as_str()
                        .map_or_else(|| item.to_string(), str::to_owned),
                );
                on_page += 1;
            }
        }
        assert!(on_page <= limit, "{url}: {page}");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("{path}: the cursors never end");
}

fn unique(items: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = items.iter().cloned().collect();
    assert_eq!(set.len(), items.len(), "an item came twice: {items:?}");
    set
}

async fn acquire(app: &TestApp, token: &str, key: &str, hw: &str) -> Value {
    let (status, seat) = app
        .call(
            Method::POST,
            "/api/v1/licenses/acquire",
            Some(token),
            Some(json!({"license_key": key, "hardware_id": hw})),
        )
        .await;
    assert_eq!(status, 201, "{seat}");
    seat
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_page_through_every_key_once() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("keys@example.com", "Keys Co").await;
    let mut made = BTreeSet::new();
    for i in 0..5 {
        let (status, key) = app
            .call(
                Method::POST,
                "/api/v1/auth/api-keys",
                Some(&token),
                Some(json!({"name": format!("ci-{i}"), "scopes": ["org:read"]})),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        made.insert(key["id"].as_str().unwrap().to_owned());
    }
    let listed = collect(
        &app,
        &token,
        "/api/v1/auth/api-keys",
        2,
        &["api_keys"],
        "id",
    )
    .await;
    assert_eq!(unique(&listed), made);
    let (_, all) = app
        .call(Method::GET, "/api/v1/auth/api-keys", Some(&token), None)
        .await;
    assert_eq!(all["api_keys"].as_array().unwrap().len(), 5, "default page");
    assert!(all["next_cursor"].is_null(), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_audit_licenses_members_and_events_page() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("pages@example.com", "Pages Co").await;
    app.subscribe(&token, "pro").await;
    let (_, list) = app
        .call(Method::GET, "/api/v1/licenses", Some(&token), None)
        .await;
    let license = &list["licenses"][0];
    let id = license["id"].as_str().unwrap();
    let key = license["key"].as_str().unwrap();

    // Three machines take a seat; two release it: two past, one active session.
    let mut sessions = BTreeSet::new();
    for hw in ["machine-pages-01", "machine-pages-02", "machine-pages-03"] {
        let seat = acquire(&app, &token, key, hw).await;
        sessions.insert(seat["session_id"].as_str().unwrap().to_owned());
        if hw != "machine-pages-03" {
            let (status, _) = app
                .call(
                    Method::POST,
                    "/api/v1/licenses/release",
                    Some(&token),
                    Some(json!({"session_id": seat["session_id"], "signed_token": seat["signed_token"]})),
                )
                .await;
            assert_eq!(status, 204);
        }
    }
    let path = format!("/api/v1/licenses/{id}/sessions");
    for limit in [1, 2, 50] {
        let listed = collect(
            &app,
            &token,
            &path,
            limit,
            &["active", "past"],
            "session_id",
        )
        .await;
        assert_eq!(unique(&listed), sessions, "limit {limit}");
    }

    // The audit log, whole and filtered by license, pages the same entries.
    let all = collect(
        &app,
        &token,
        "/api/v1/licenses/audit",
        200,
        &["entries"],
        "id",
    )
    .await;
    assert!(all.len() >= 6, "issued + 3 acquired + 2 released: {all:?}");
    let paged = collect(
        &app,
        &token,
        "/api/v1/licenses/audit",
        2,
        &["entries"],
        "id",
    )
    .await;
    assert_eq!(paged, all, "same entries, same order");
    let filtered = collect(
        &app,
        &token,
        &format!("/api/v1/licenses/audit?license_id={id}"),
        1,
        &["entries"],
        "id",
    )
    .await;
    assert_eq!(filtered, all, "every entry is of the one license");
    let none = collect(
        &app,
        &token,
        "/api/v1/licenses/audit?license_id=lic_00000000000000000000000000000000",
        3,
        &["entries"],
        "id",
    )
    .await;
    assert!(none.is_empty());

    let licenses = collect(&app, &token, "/api/v1/licenses", 1, &["licenses"], "id").await;
    assert_eq!(licenses, [id.to_owned()]);
    let members = collect(
        &app,
        &token,
        "/api/v1/orgs/current/members",
        1,
        &["members"],
        "user_id",
    )
    .await;
    assert_eq!(members.len(), 1);
    let events = collect(&app, &token, "/api/v1/billing/events", 200, &["events"], "").await;
    let paged = collect(&app, &token, "/api/v1/billing/events", 1, &["events"], "").await;
    assert_eq!(paged, events);
}
