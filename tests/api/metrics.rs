//! Metrics at the local server's `/metrics` (its own test binary: the metrics
//! registry is global to the process, so no other test may count into it).

use serde_json::{Value, json};
use skiff_e2e::requests::{get, post};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};

async fn acquire(app: &TestApp, token: &str, key: &str, hw: &str) -> (reqwest::StatusCode, Value) {
    post(
        app,
        "/api/v1/licenses/acquire",
        Some(token),
        json!({"license_key": key, "hardware_id": hw}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_only_when_switched_on() {
    let off = spawn_app().await;
    assert_eq!(off.get("/metrics").await.status(), 404);
    off.stop().await;

    let app = spawn_app_with(&[("SKIFF_METRICS", "true")]).await;
    let (org, token) = app.verified_owner("owner@acme.test", "Acme").await;
    app.subscribe(&token, "starter").await;
    let (_, list) = get(&app, "/api/v1/licenses", &token).await;
    let key = list["licenses"][0]["key"].as_str().unwrap().to_owned();
    for hw in ["laptop-0001-aaaa", "laptop-0002-bbbb", "laptop-0003-cccc"] {
        assert_eq!(acquire(&app, &token, &key, hw).await.0, 201);
    }
    assert_eq!(acquire(&app, &token, &key, "laptop-0004-dddd").await.0, 429);
    app.simulate(&token, &org, "renew").await;
    // Five bytes of "ciphertext" stored as a record.
    let (status, _) = post(
        &app,
        "/api/v1/storage/records",
        Some(&token),
        json!({
            "table": "notes",
            "blob": "aGVsbG8=",
            "checksum": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        }),
    )
    .await;
    assert_eq!(status, 201);
    // And ten through a signed upload, counted once its commit succeeds.
    let ten = b"0123456789";
    let (status, up) = post(
        &app,
        "/api/v1/storage/uploads",
        Some(&token),
        json!({"table": "notes", "size": 10, "checksum": skiff_core::ports::blobs::sha256_hex(ten)}),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    let mut put = app
        .client
        .put(up["upload_url"].as_str().unwrap())
        .body(&ten[..]);
    for (k, v) in up["headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k.as_str(), v.as_str().unwrap());
        }
    }
    assert_eq!(put.send().await.unwrap().status(), 200);
    let commit = format!(
        "/api/v1/storage/records/{}/commit",
        up["record_id"].as_str().unwrap()
    );
    for _ in 0..2 {
        // A second commit answers the same record and counts nothing more.
        assert_eq!(post(&app, &commit, Some(&token), json!({})).await.0, 200);
    }
    // Two script runs: one answers, one throws.
    let (status, body) = post(
        &app,
        "/api/v1/apps",
        Some(&token),
        json!({"name": "Metered", "slug": "metered"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for (name, source, expected) in [("fine", "40 + 2", 200), ("broken", "throw \"no\";", 500)] {
        let (status, s) = post(
            &app,
            "/api/v1/apps/metered/scripts",
            Some(&token),
            json!({"name": name, "source": source}),
        )
        .await;
        assert_eq!(status, 201, "{s}");
        let path = format!("/api/v1/scripts/{}/execute", s["id"].as_str().unwrap());
        let (status, _) = post(&app, &path, Some(&token), json!({})).await;
        assert_eq!(status, expected, "{name}");
    }
    app.wait_for_outbox_idle().await;

    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    let samples = parse_prometheus(&text);
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"))
    };
    assert_eq!(value("skiff_seats_total", &[("outcome", "acquired")]), 3.0);
    assert_eq!(value("skiff_seats_total", &[("outcome", "refused")]), 1.0);
    assert_eq!(
        value("skiff_storage_bytes_stored_total", &[("kind", "record")]),
        15.0
    );
    assert!(value("skiff_webhook_events_total", &[("outcome", "processed")]) >= 2.0);
    assert!(
        value(
            "skiff_outbox_messages_total",
            &[("kind", "send_email"), ("outcome", "processed")]
        ) >= 1.0
    );
    let acquire_route = [("route", "/api/v1/licenses/acquire"), ("method", "POST")];
    assert_eq!(
        value(
            "skiff_http_requests_total",
            &[acquire_route[0], acquire_route[1], ("status", "2xx")]
        ),
        3.0
    );
    assert_eq!(
        value(
            "skiff_http_requests_total",
            &[acquire_route[0], acquire_route[1], ("status", "4xx")]
        ),
        1.0
    );
    assert_eq!(
        value("skiff_http_request_duration_seconds_count", &acquire_route),
        4.0
    );
    assert_eq!(
        value(
            "skiff_http_request_duration_seconds_bucket",
            &[acquire_route[0], acquire_route[1], ("le", "+Inf")]
        ),
        4.0
    );
    for status in ["ok", "error"] {
        assert_eq!(
            value("skiff_script_executions_total", &[("status", status)]),
            1.0,
            "{status}"
        );
    }
    assert!(!text.contains(&key), "no license key in a label");
    app.stop().await;
}

/// `(name, labels, value)` of every sample line; panics on a malformed line.
fn parse_prometheus(text: &str) -> Vec<(String, std::collections::BTreeMap<String, String>, f64)> {
    let mut out = vec![];
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("`<series> <value>`");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), Default::default()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = std::collections::BTreeMap::new();
                for pair in split_labels(body) {
                    let (k, v) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("bad label: {line}"));
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .expect("quoted");
                    labels.insert(k.to_owned(), v.replace("\\\"", "\"").replace("\\\\", "\\"));
                }
                (name.to_owned(), labels)
            }
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        out.push((name, labels, value));
    }
    out
}

/// Split `a="x",b="y,z"` at the commas outside quotes.
fn split_labels(body: &str) -> Vec<&str> {
    let (mut out, mut start, mut quoted, mut escaped) = (vec![], 0, false, false);
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < body.len() {
        out.push(&body[start..]);
    }
    out
}
