//! The operators' console in a real browser: this test populates a server through
//! the API and runs `tests/browser/console.py`, which drives Debian's Chromium with
//! Playwright (both installed into `.tools/browser` by `scripts/browser-tools.sh`,
//! which `scripts/test` runs first). Screenshots land in `test-artifacts/console/`.

use serde_json::{Value, json};
use skiff_e2e::requests::get;
use skiff_e2e::{TEST_PASSWORD, spawn_app_with};
use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_reads_the_figures_searches_holds_and_replays_in_chromium() {
    let tools = repo().join(".tools/browser");
    let (python, chromium) = (tools.join("venv/bin/python"), tools.join("chromium"));
    assert!(
        python.is_file() && chromium.is_file(),
        "the browser test needs Chromium and Playwright in {}: run scripts/browser-tools.sh \
         (scripts/test does)",
        tools.display()
    );
    let app = spawn_app_with(&[("SKIFF_QUEUE_MAX_RECEIVES", "1")]).await;
    app.verified_owner("op@ops.test", "Operators").await;
    skiff_local::admin::set_platform_admin(app.services(), "op@ops.test", true)
        .await
        .unwrap();
    let (org, owner) = app.verified_owner("owner@acme.test", "Acme Rockets").await;
    app.subscribe(&owner, "pro").await;
    app.simulate(&owner, &org, "renew").await;
    let (_, trial) = app.verified_owner("trial@beta.test", "Beta Labs").await;
    app.subscribe(&trial, "starter").await;
    app.register_owner("ada@analytical.test", "Analytical Engines")
        .await;
    let (_, list) = get(&app, "/api/v1/licenses", &owner).await;
    let key = list["licenses"][0]["key"].as_str().unwrap();
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/licenses/acquire",
            Some(&owner),
            Some(json!({"license_key": key, "hardware_id": "laptop-0001-aaaa"})),
        )
        .await;
    assert_eq!(status, 201);
    // A message no handler knows: dead after its one delivery.
    let poison = json!({"id": "poison-1", "kind": "no_such_kind", "payload": {}, "created_at": 1});
    app.services().queue.send(poison.to_string()).await.unwrap();
    for _ in 0..200 {
        if !app
            .services()
            .queue
            .dead_letters(1)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.wait_for_outbox_idle().await;

    let artifacts = repo().join("test-artifacts/console");
    let script = repo().join("tests/browser/console.py");
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env("SKIFF_URL", address)
            .env("OPERATOR_EMAIL", "op@ops.test")
            .env("OPERATOR_PASSWORD", TEST_PASSWORD)
            .env("SEARCH_EMAIL", "ada@analytical.test")
            .env("ORG_NAME", "Acme Rockets")
            .env("CHROMIUM", chromium)
            .env("ARTIFACTS", &artifacts)
            .output()
            .expect("the browser test starts")
    })
    .await
    .unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the browser test failed:\n{said}");

    // What the clicks did, as the API tells it.
    let op = app.login("op@ops.test").await;
    let (_, audit) = get(&app, "/api/v1/admin/audit?limit=200", &op).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["actor"]
                .as_str()
                .is_some_and(|a| a.starts_with("operator:"))
        })
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["ORG_HELD", "ORG_RELEASED", "DEAD_LETTER_REPLAYED"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let (_, profile) = get(&app, "/api/v1/service/profile", &owner).await;
    assert_eq!(profile["mode"], Value::from("active"), "released again");
    app.stop().await;
}
