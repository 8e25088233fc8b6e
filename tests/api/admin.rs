//! The operators' API, black-box over HTTP: hidden from everyone but platform
//! operators, the user, org and license directories, suspension, holds, exact
//! analytics over a population built through the real flows, the daily snapshot
//! and its series, the cross-domain audit log, dead letters, the console's files
//! and the metrics endpoint.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_admin::analytics::latest_key;
use skiff_e2e::requests::{get, post};
use skiff_e2e::{TEST_PASSWORD, TestApp, spawn_app, spawn_app_with};
use std::time::Duration;

/// A verified user made a platform operator by the operator command: (org, token).
async fn operator(app: &TestApp, email: &str) -> (String, String) {
    let (org, _) = app.verified_owner(email, "Operators Inc").await;
    skiff_local::admin::set_platform_admin(app.services(), email, true)
        .await
        .expect("grant");
    (org, app.login(email).await)
}

async fn admin_get(app: &TestApp, path: &str, token: &str) -> Value {
    let (status, body) = get(app, path, token).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn admin_post(app: &TestApp, path: &str, token: &str) -> Value {
    let (status, body) = app.call(Method::POST, path, Some(token), None).await;
    assert_eq!(status, 200, "POST {path}: {body}");
    body
}

/// Every admin route, as (method, path) with real ids where a path takes one.
fn routes(user: &str, org: &str, license: &str) -> Vec<(Method, String)> {
    let mut r: Vec<(Method, String)> = [
        "/api/v1/admin/users",
        "/api/v1/admin/orgs",
        "/api/v1/admin/licenses",
        "/api/v1/admin/analytics",
        "/api/v1/admin/analytics/series?metric=mrr",
        "/api/v1/admin/audit",
        "/api/v1/admin/dead-letters",
    ]
    .iter()
    .map(|p| (Method::GET, (*p).to_owned()))
    .collect();
    r.push((Method::GET, format!("/api/v1/admin/users/{user}")));
    r.push((Method::GET, format!("/api/v1/admin/orgs/{org}")));
    for action in ["suspend", "restore"] {
        r.push((Method::POST, format!("/api/v1/admin/users/{user}/{action}")));
    }
    for action in ["hold", "release"] {
        r.push((Method::POST, format!("/api/v1/admin/orgs/{org}/{action}")));
    }
    for action in ["suspend", "reinstate"] {
        r.push((
            Method::POST,
            format!("/api/v1/admin/licenses/{license}/{action}"),
        ));
    }
    for action in ["replay", "resolve"] {
        r.push((
            Method::POST,
            format!("/api/v1/admin/dead-letters/some-message/{action}"),
        ));
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_does_not_exist_for_anyone_but_platform_operators() {
    let app = spawn_app().await;
    let (org, owner) = app.verified_owner("owner@acme.test", "Acme").await;
    app.subscribe(&owner, "pro").await;
    let (_, licenses) = get(&app, "/api/v1/licenses", &owner).await;
    let license = licenses["licenses"][0]["id"].as_str().unwrap().to_owned();
    let (_, me) = get(&app, "/api/v1/auth/me", &owner).await;
    let user = me["id"].as_str().unwrap().to_owned();
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&owner),
        json!({"name": "ci", "scopes": ["licenses:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let api_key = key["secret"].as_str().unwrap().to_owned();

    for (method, path) in routes(&user, &org, &license) {
        for token in [None, Some("garbage"), Some(owner.as_str()), Some(&api_key)] {
            let (status, body) = app.call(method.clone(), &path, token, None).await;
            assert_eq!(status, 404, "{method} {path} with {token:?}: {body}");
            assert_eq!(body["code"], "NOT_FOUND", "{body}");
        }
    }
    // Nothing happened: the owner is not suspended, the org not held.
    let (status, _) = app
        .call(
            Method::PATCH,
            "/api/v1/orgs/current",
            Some(&owner),
            Some(json!({"name": "Acme Two"})),
        )
        .await;
    assert_eq!(status, 200);

    // A revoked operator is back to 404 at once (the flag is read per request).
    let (_, op) = operator(&app, "op@ops.test").await;
    admin_get(&app, "/api/v1/admin/users", &op).await;
    skiff_local::admin::set_platform_admin(app.services(), "op@ops.test", false)
        .await
        .unwrap();
    let (status, _) = get(&app, "/api/v1/admin/users", &op).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_searched_filtered_and_paged_and_a_suspension_locks_the_account_out() {
    let app = spawn_app().await;
    let (_, op) = operator(&app, "op@ops.test").await;
    let (_, ada) = app
        .verified_owner("ada@analytical.test", "Analytical Engines")
        .await;
    app.register_owner("grace@navy.test", "Navy Compilers")
        .await;
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&ada),
        json!({"name": "build", "scopes": ["licenses:read"]}),
    )
    .await;
    assert_eq!(status, 201);
    let api_key = key["secret"].as_str().unwrap().to_owned();
    let (status, pair) = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({"email": "ada@analytical.test", "password": TEST_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200);
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();

    // Search by e-mail, name and company, case-insensitively; filter by status.
    let all = admin_get(&app, "/api/v1/admin/users", &op).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "{all}");
    assert_eq!(all["items"][0]["email"], "grace@navy.test", "newest first");
    for q in ["ANALYTICAL", "ada@", "engines"] {
        let found = admin_get(&app, &format!("/api/v1/admin/users?q={q}"), &op).await;
        let emails: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["ada@analytical.test"], "q={q}");
    }
    let unverified = admin_get(&app, "/api/v1/admin/users?status=unverified", &op).await;
    assert_eq!(unverified["items"][0]["email"], "grace@navy.test");
    assert_eq!(unverified["items"].as_array().unwrap().len(), 1);
    let (status, bad) = get(&app, "/api/v1/admin/users?status=zombie", &op).await;
    assert_eq!(
        (status, bad["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("status"))
    );

    // Paging: one at a time, the cursor carries on, a forged one is refused.
    let first = admin_get(&app, "/api/v1/admin/users?limit=1", &op).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = admin_get(
        &app,
        &format!("/api/v1/admin/users?limit=1&cursor={cursor}"),
        &op,
    )
    .await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let (status, body) = get(
        &app,
        &format!("/api/v1/admin/users?limit=1&status=active&cursor={cursor}"),
        &op,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("INVALID_CURSOR"))
    );

    // Suspend Ada: sessions and keys revoked, login answers 403 once the password is right.
    let ada_id = admin_get(&app, "/api/v1/admin/users?q=ada@", &op).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = admin_post(&app, &format!("/api/v1/admin/users/{ada_id}/suspend"), &op).await;
    assert_eq!(detail["status"], "suspended");
    assert_eq!(detail["active_sessions"], 0);
    let (status, body) = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({"email": "ada@analytical.test", "password": TEST_PASSWORD}),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("ACCOUNT_SUSPENDED"))
    );
    let (status, body) = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({"email": "ada@analytical.test", "password": "Wrong1horse"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("INVALID_CREDENTIALS")),
        "a wrong password learns nothing of the suspension"
    );
    let (status, _) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await;
    assert_eq!(status, 401, "the refresh token's session is revoked");
    let (status, _) = get(&app, "/api/v1/licenses", &api_key).await;
    assert_eq!(status, 401, "the API key is gone");
    let (status, body) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&ada),
        json!({"name": "escape", "scopes": ["licenses:read"]}),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("ACCOUNT_SUSPENDED")),
        "a live access token mints no new credential"
    );
    let suspended = admin_get(&app, "/api/v1/admin/users?status=suspended", &op).await;
    assert_eq!(suspended["items"][0]["id"], ada_id.as_str());
    // An operator cannot lock themselves out.
    let op_id = get(&app, "/api/v1/auth/me", &op).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/admin/users/{op_id}/suspend"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("CANNOT_SUSPEND_SELF"))
    );

    // Restored: she signs in again.
    let detail = admin_post(&app, &format!("/api/v1/admin/users/{ada_id}/restore"), &op).await;
    assert_eq!(detail["status"], "active");
    app.login("ada@analytical.test").await;
    let (status, _) = get(
        &app,
        "/api/v1/admin/users/usr_00000000000000000000000000000000",
        &op,
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_hold_locks_the_org_with_423_and_no_billing_event_lifts_it() {
    let app = spawn_app().await;
    let (_, op) = operator(&app, "op@ops.test").await;
    let (org, token) = app.verified_owner("owner@acme.test", "Acme").await;
    app.subscribe(&token, "pro").await;
    app.simulate(&token, &org, "renew").await;

    let detail = app
        .call(
            Method::POST,
            &format!("/api/v1/admin/orgs/{org}/hold"),
            Some(&op),
            Some(json!({"note": "chargeback investigation"})),
        )
        .await;
    assert_eq!(detail.0, 200, "{}", detail.1);
    assert_eq!(
        detail.1["profile"]["hold"]["note"],
        "chargeback investigation"
    );
    assert_eq!(detail.1["profile"]["mode"], "read_only");

    let rename = |name: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.call(
                Method::PATCH,
                "/api/v1/orgs/current",
                Some(&token),
                Some(json!({"name": name})),
            )
            .await
        }
    };
    let (status, body) = rename("Acme Held").await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(body["code"], "operator_hold");
    assert_eq!(body["reason"], "operator_hold");
    let (_, profile) = get(&app, "/api/v1/service/profile", &token).await;
    assert_eq!(
        (profile["mode"].clone(), profile["reason"].clone()),
        (json!("read_only"), json!("operator_hold"))
    );
    assert_eq!(profile["capabilities"]["writes_enabled"], false);

    // Payment events move billing's part of the profile, never the hold.
    app.simulate(&token, &org, "renew").await;
    app.simulate(&token, &org, "fail").await;
    app.simulate(&token, &org, "renew").await;
    let (status, body) = rename("Acme Paid").await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::LOCKED, json!("operator_hold"))
    );
    let held = admin_get(&app, "/api/v1/admin/orgs?mode=read_only", &op).await;
    assert_eq!(held["items"][0]["id"], org.as_str());
    assert_eq!(held["items"][0]["held"], true);

    // Released: writable again, billing's mode shows through.
    let released = admin_post(&app, &format!("/api/v1/admin/orgs/{org}/release"), &op).await;
    assert_eq!(released["profile"]["hold"], Value::Null);
    assert_eq!(released["profile"]["mode"], "active");
    let (status, _) = rename("Acme Free").await;
    assert_eq!(status, 200);

    // The org page: members, subscription, license with seat use, usage bars' data.
    let page = admin_get(&app, &format!("/api/v1/admin/orgs/{org}"), &op).await;
    assert_eq!(page["name"], "Acme Free");
    assert_eq!(page["members"][0]["email"], "owner@acme.test");
    assert_eq!(page["subscription"]["status"], "active");
    assert_eq!(page["licenses"][0]["max_seats"], 10);
    let seats = page["usage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["entitlement"] == "max_seats")
        .unwrap();
    assert_eq!(
        (seats["limit"].clone(), seats["used"].clone()),
        (json!(10), json!(0))
    );
    let found = admin_get(&app, "/api/v1/admin/orgs?q=acme%20FREE", &op).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let pro = admin_get(&app, "/api/v1/admin/orgs?plan=pro", &op).await;
    assert_eq!(pro["items"][0]["id"], org.as_str());
    let (status, body) = get(&app, "/api/v1/admin/orgs?plan=platinum", &op).await;
    assert_eq!(
        (status, body["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("plan"))
    );
    app.stop().await;
}

async fn acquire(app: &TestApp, token: &str, key: &str, hw: &str) -> (StatusCode, Value) {
    post(
        app,
        "/api/v1/licenses/acquire",
        Some(token),
        json!({"license_key": key, "hardware_id": hw}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_license_suspended_by_an_operator_stays_suspended_through_renewals_until_reinstated() {
    let app = spawn_app().await;
    let (_, op) = operator(&app, "op@ops.test").await;
    let (org, token) = app.verified_owner("owner@acme.test", "Acme").await;
    app.subscribe(&token, "pro").await;
    let (_, list) = get(&app, "/api/v1/licenses", &token).await;
    let license = list["licenses"][0].clone();
    let (id, key) = (
        license["id"].as_str().unwrap(),
        license["key"].as_str().unwrap(),
    );
    let (status, _) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201);

    // Found by key, by the owner's e-mail, by org id; filtered by status.
    for q in [key.to_owned(), "OWNER@acme.test".to_owned(), org.clone()] {
        let found = admin_get(
            &app,
            &format!("/api/v1/admin/licenses?q={}", q.replace('@', "%40")),
            &op,
        )
        .await;
        assert_eq!(found["items"][0]["id"], id, "q={q}: {found}");
        assert_eq!(found["items"][0]["owner_email"], "owner@acme.test");
        assert!(
            !found["items"][0]["key"]
                .as_str()
                .unwrap()
                .contains(&key[8..]),
            "masked"
        );
    }
    let (status, body) = get(&app, "/api/v1/admin/licenses?q=not-a-thing", &op).await;
    assert_eq!(
        (status, body["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("q"))
    );

    let suspended = admin_post(&app, &format!("/api/v1/admin/licenses/{id}/suspend"), &op).await;
    assert_eq!(
        (suspended["status"].clone(), suspended["held"].clone()),
        (json!("suspended"), json!(true))
    );
    let (status, body) = acquire(&app, &token, key, "laptop-0002-bbbb").await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("SUSPENDED"))
    );
    let (_, v) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": key}),
    )
    .await;
    assert_eq!(v["code"], "SUSPENDED");
    let (_, l) = get(&app, &format!("/api/v1/licenses/{id}"), &token).await;
    assert_eq!(l["seats_used"], 0, "its session ended: {l}");

    // Billing renews (and would reactivate a payment suspension): the hold stays.
    app.simulate(&token, &org, "renew").await;
    let (_, v) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": key}),
    )
    .await;
    assert_eq!(v["code"], "SUSPENDED");
    let listed = admin_get(&app, "/api/v1/admin/licenses?status=suspended", &op).await;
    assert_eq!(listed["items"][0]["id"], id);

    let reinstated = admin_post(&app, &format!("/api/v1/admin/licenses/{id}/reinstate"), &op).await;
    assert_eq!(reinstated["status"], "active");
    let (status, _) = acquire(&app, &token, key, "laptop-0002-bbbb").await;
    assert_eq!(status, 201);
    let (_, log) = get(&app, "/api/v1/licenses/audit", &token).await;
    let text = log.to_string();
    assert!(
        text.contains("LICENSE_HELD") && text.contains("LICENSE_REINSTATED"),
        "{log}"
    );
    app.stop().await;
}

/// A verified owner on `plan` (trialing until `renew`): (org, token, license key).
async fn customer(app: &TestApp, email: &str, plan: &str) -> (String, String, String) {
    let (org, token) = app.verified_owner(email, &format!("{plan} customer")).await;
    app.subscribe(&token, plan).await;
    let (_, list) = get(app, "/api/v1/licenses", &token).await;
    let key = list["licenses"][0]["key"].as_str().unwrap().to_owned();
    (org, token, key)
}

async fn scheduler(app: &TestApp, job: &str) -> Value {
    let (status, body) = post(app, "/_dev/scheduler/run", None, json!({"jobs": [job]})).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_are_exact_for_a_population_built_through_the_real_flows() {
    let app = spawn_app().await;
    let (_, op) = operator(&app, "op@ops.test").await;
    // A: starter, still in its trial; one seat whose lease will run out.
    let (_, a, a_key) = customer(&app, "a@pop.test", "starter").await;
    let (status, _) = acquire(&app, &a, &a_key, "machine-a-0001").await;
    assert_eq!(status, 201);
    app.advance_clock(Duration::from_secs(400)).await;
    // B: pro, paid. C: pro × 2 seat packs, paid. D: enterprise, paid then failed once.
    let (b_org, b, b_key) = customer(&app, "b@pop.test", "pro").await;
    app.simulate(&b, &b_org, "renew").await;
    let (c_org, c, c_key) = customer(&app, "c@pop.test", "pro").await;
    app.simulate(&c, &c_org, "renew").await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/billing/simulator/orgs/{c_org}/update"),
            Some(&c),
            Some(json!({"quantity": 2})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (d_org, d, d_key) = customer(&app, "d@pop.test", "enterprise").await;
    app.simulate(&d, &d_org, "renew").await;
    app.simulate(&d, &d_org, "fail").await;
    // E: starter, paid, then canceled (churn). F: pro, canceled in its trial.
    let (e_org, e, _) = customer(&app, "e@pop.test", "starter").await;
    app.simulate(&e, &e_org, "renew").await;
    app.simulate(&e, &e_org, "cancel").await;
    let (f_org, f, _) = customer(&app, "f@pop.test", "pro").await;
    app.simulate(&f, &f_org, "cancel").await;
    // G: never subscribed.
    app.register_owner("g@pop.test", "Free Riders").await;
    // Live sessions: 2 on B, 3 on C, 1 on D.
    for (token, key, machines) in [(&b, &b_key, 2), (&c, &c_key, 3), (&d, &d_key, 1)] {
        for i in 0..machines {
            let (status, body) = acquire(&app, token, key, &format!("machine-{i:04}-{key}")).await;
            assert_eq!(status, 201, "{body}");
        }
    }

    let f = admin_get(&app, "/api/v1/admin/analytics?fresh=true", &op).await;
    let expected_mrr = 9_900 + 2 * 9_900 + 29_900;
    assert_eq!(f["currency"], "usd");
    assert_eq!(f["mrr"], expected_mrr, "{f}");
    assert_eq!(f["arr"], 12 * expected_mrr);
    assert_eq!(f["active_subscriptions"], 2);
    assert_eq!(f["past_due"], 1);
    assert_eq!(f["trialing"], 1);
    // One paid subscription ended in 30 days, three pay now.
    assert_eq!(f["churn_rate_30d"], 0.25);
    // Trials over: B, C, D, E converted, F did not.
    assert_eq!(f["trial_conversion_rate"], 0.8);
    // Seats of active licenses: starter 3, pro 10, pro × 2 20, enterprise 50; A's
    // session ran out, so 6 are in use.
    assert_eq!(f["seats_total"], 3 + 10 + 20 + 50);
    assert_eq!(f["seats_in_use"], 6);
    assert_eq!(f["license_utilization"], 6.0 / 83.0);
    // Eight accounts: the operator and A to G.
    assert_eq!(f["new_signups_this_month"], 8);

    // The daily snapshot: at the first run of a day, the closing figures of the day
    // before; later runs that day write nothing. (The server's own scheduler ran it
    // at startup, for the day before the population existed.)
    app.advance_clock(Duration::from_secs(86_400)).await;
    let op = app.login("op@ops.test").await; // a day outlives any access token
    scheduler(&app, "admin_daily_snapshot").await;
    let again = scheduler(&app, "admin_daily_snapshot").await;
    assert!(again.to_string().contains("already written"), "{again}");
    let series = admin_get(
        &app,
        "/api/v1/admin/analytics/series?metric=mrr&days=3",
        &op,
    )
    .await;
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(
        points[0]["value"], 0,
        "the snapshot taken at startup: {series}"
    );
    assert_eq!(
        (points[1]["value"].clone(), points[1]["live"].clone()),
        (json!(expected_mrr), json!(false))
    );
    assert_eq!(
        (points[2]["value"].clone(), points[2]["live"].clone()),
        (json!(expected_mrr), json!(true))
    );
    let signups = admin_get(
        &app,
        "/api/v1/admin/analytics/series?metric=signups&days=2",
        &op,
    )
    .await;
    assert_eq!(
        signups["points"][0]["value"], 8,
        "everyone signed up that day"
    );
    assert_eq!(signups["points"][1]["value"], 0, "nobody today so far");

    // A day later: the new snapshot closes a day with one subscription fewer; the
    // one before is kept as it was, although the records changed since.
    let b = app.login("b@pop.test").await;
    app.simulate(&b, &b_org, "cancel").await;
    app.advance_clock(Duration::from_secs(86_400)).await;
    let op = app.login("op@ops.test").await;
    scheduler(&app, "admin_daily_snapshot").await;
    let series = admin_get(
        &app,
        "/api/v1/admin/analytics/series?metric=mrr&days=3",
        &op,
    )
    .await;
    let values: Vec<Value> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].clone())
        .collect();
    assert_eq!(
        values,
        [
            json!(expected_mrr),
            json!(expected_mrr - 9_900),
            json!(expected_mrr - 9_900)
        ]
    );
    let active = admin_get(
        &app,
        "/api/v1/admin/analytics/series?metric=active_subscriptions&days=2",
        &op,
    )
    .await;
    assert_eq!(active["points"][0]["value"], 1);
    let (status, body) = get(&app, "/api/v1/admin/analytics/series?metric=revenue", &op).await;
    assert_eq!(
        (status, body["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("metric"))
    );
    let (status, _) = get(
        &app,
        "/api/v1/admin/analytics/series?metric=mrr&days=0",
        &op,
    )
    .await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_serve_the_stored_figures_until_they_age_out_and_fresh_computes_them_now() {
    let app = spawn_app().await;
    let (_, op) = operator(&app, "op@ops.test").await;
    let signups = |f: &Value| f["new_signups_this_month"].as_u64().unwrap();
    // The scheduler runs every job once as the server starts: let that refresh
    // land first, so that it cannot replace what this test stores.
    let store = app.services().store.clone();
    for _ in 0..1500 {
        if store.get(&latest_key()).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        store.get(&latest_key()).await.unwrap().is_some(),
        "the startup run stored figures"
    );
    let stored = scheduler(&app, "admin_refresh_figures").await;
    assert!(stored.to_string().contains("stored"), "{stored}");
    let before = admin_get(&app, "/api/v1/admin/analytics", &op).await;
    assert_eq!(signups(&before), 1, "the operator: {before}");

    app.register_owner("late@pop.test", "Late Co").await;
    let served = admin_get(&app, "/api/v1/admin/analytics", &op).await;
    assert_eq!(served, before, "the stored figures, as they were");
    let fresh = admin_get(&app, "/api/v1/admin/analytics?fresh=true", &op).await;
    assert_eq!(signups(&fresh), 2, "{fresh}");
    // A fresh read changes nothing stored.
    let served = admin_get(&app, "/api/v1/admin/analytics", &op).await;
    assert_eq!(served, before);

    // The scheduler's refresh replaces them; past the maximum age a request
    // computes them itself.
    app.register_owner("later@pop.test", "Later Co").await;
    scheduler(&app, "admin_refresh_figures").await;
    let served = admin_get(&app, "/api/v1/admin/analytics", &op).await;
    assert_eq!(signups(&served), 3, "{served}");
    app.register_owner("latest@pop.test", "Latest Co").await;
    app.advance_clock(Duration::from_secs(361)).await;
    let op = app.login("op@ops.test").await;
    let served = admin_get(&app, "/api/v1/admin/analytics", &op).await;
    assert_eq!(signups(&served), 4, "older than the maximum age: {served}");

    let (status, body) = get(&app, "/api/v1/admin/analytics?fresh=maybe", &op).await;
    assert_eq!(status, 422, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_reads_every_domain_and_names_the_operator_of_each_action() {
    let app = spawn_app().await;
    let (_, op) = operator(&app, "op@ops.test").await;
    let op_id = get(&app, "/api/v1/auth/me", &op).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (org, token, key) = customer(&app, "owner@acme.test", "pro").await;
    let (status, _) = acquire(&app, &token, &key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201);
    let owner_id = get(&app, "/api/v1/auth/me", &token).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_post(&app, &format!("/api/v1/admin/orgs/{org}/hold"), &op).await;
    admin_post(&app, &format!("/api/v1/admin/orgs/{org}/release"), &op).await;
    admin_post(
        &app,
        &format!("/api/v1/admin/users/{owner_id}/suspend"),
        &op,
    )
    .await;
    admin_post(
        &app,
        &format!("/api/v1/admin/users/{owner_id}/restore"),
        &op,
    )
    .await;

    let log = admin_get(
        &app,
        &format!("/api/v1/admin/audit?org={org}&limit=200"),
        &op,
    )
    .await;
    let items = log["items"].as_array().unwrap();
    let domains: std::collections::BTreeSet<&str> = items
        .iter()
        .map(|e| e["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        domains,
        ["admin", "billing", "identity", "licensing"]
            .into_iter()
            .collect(),
        "{log}"
    );
    let ats: Vec<i64> = items.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {ats:?}"
    );
    for action in [
        "USER_REGISTERED",
        "SUBSCRIPTION_STARTED",
        "LICENSE_ISSUED",
        "SEAT_ACQUIRED",
    ] {
        assert!(
            items.iter().any(|e| e["action"] == action),
            "{action}: {log}"
        );
    }

    // Every operator action, with the operator's id.
    let mine = admin_get(
        &app,
        &format!("/api/v1/admin/audit?actor=operator:{op_id}"),
        &op,
    )
    .await;
    let actions: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "USER_RESTORED",
            "USER_SUSPENDED",
            "ORG_RELEASED",
            "ORG_HELD"
        ],
        "{mine}"
    );
    let held = admin_get(&app, "/api/v1/admin/audit?action=ORG_HELD", &op).await;
    assert_eq!(held["items"][0]["target"], org.as_str());
    // A range in the past finds nothing; a reversed or too wide one is refused.
    let empty = admin_get(&app, "/api/v1/admin/audit?since=0&until=86400", &op).await;
    assert_eq!(empty["items"], json!([]));
    let (status, _) = get(&app, "/api/v1/admin/audit?since=100&until=50", &op).await;
    assert_eq!(status, 422);
    let (status, _) = get(&app, "/api/v1/admin/audit?since=0", &op).await;
    assert_eq!(status, 422);
    let (status, _) = get(&app, "/api/v1/admin/audit?org=acme", &op).await;
    assert_eq!(status, 422);
    // Paged through cursors, the log is the same entries in the same order.
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            None => format!("/api/v1/admin/audit?org={org}&limit=3"),
            Some(c) => format!("/api/v1/admin/audit?org={org}&limit=3&cursor={c}"),
        };
        let page = admin_get(&app, &path, &op).await;
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let whole: Vec<Value> = items.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, whole);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_replayed_and_resolved_over_http() {
    let app = spawn_app_with(&[("SKIFF_QUEUE_MAX_RECEIVES", "1")]).await;
    let (_, op) = operator(&app, "op@ops.test").await;
    // Two messages of a kind no handler knows: each fails its one delivery.
    for id in ["poison-1", "poison-2"] {
        let body =
            json!({"id": id, "kind": "no_such_kind", "payload": {"secret": "x"}, "created_at": 1});
        app.services().queue.send(body.to_string()).await.unwrap();
    }
    let mut letters = json!([]);
    for _ in 0..200 {
        letters = admin_get(&app, "/api/v1/admin/dead-letters", &op).await["items"].clone();
        if letters.as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let letters = letters.as_array().unwrap().clone();
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert_eq!(letters[0]["kind"], "no_such_kind");
    assert_eq!(letters[0]["envelope_id"], "poison-1");
    assert_eq!(
        letters[0]["summary"],
        json!({"fields": ["secret"]}),
        "payload values are not shown"
    );

    let replayed = admin_post(
        &app,
        &format!(
            "/api/v1/admin/dead-letters/{}/replay",
            letters[0]["message_id"].as_str().unwrap()
        ),
        &op,
    )
    .await;
    assert!(replayed["message_id"].is_string());
    let (status, _) = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/admin/dead-letters/{}/resolve",
                letters[1]["message_id"].as_str().unwrap()
            ),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/admin/dead-letters/no-such-letter/resolve",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // The replayed message fails again and comes back; the resolved one does not.
    let mut ids = vec![];
    for _ in 0..200 {
        let now = admin_get(&app, "/api/v1/admin/dead-letters", &op).await;
        ids = now["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["envelope_id"].as_str().unwrap().to_owned())
            .collect();
        if !ids.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ids, ["poison-1"]);
    let audit = admin_get(&app, "/api/v1/admin/audit?action=DEAD_LETTER_RESOLVED", &op).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let r = app.get("/console").await;
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/console/");
    for (path, kind) in [
        ("/console/", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/console/uPlot.iife.min.js", "text/javascript"),
        ("/console/uPlot.LICENSE", "text/plain"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    assert_eq!(app.get("/console/../../etc/passwd").await.status(), 404);
    assert_eq!(app.get("/console/nope.js").await.status(), 404);
    app.stop().await;
}
