//! The links in identity e-mails lead somewhere: without `SKIFF_APP_URL` to the
//! local server's own pages, which complete the journey through the real API; with
//! it, to the product's front end.

use reqwest::Method;
use serde_json::{Value, json};
use skiff_e2e::{TEST_PASSWORD, TestApp, find_link, spawn_app, spawn_app_with};

/// Every `<tag …>` opening tag of `html`, as written.
fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let mut found = vec![];
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        if after.starts_with([' ', '>', '\n']) {
            let end = after.find('>').expect("tag closes");
            found.push(&rest[at..at + open.len() + end + 1]);
        }
        rest = &rest[at + open.len()..];
    }
    found
}

/// The value of `name="…"` in one opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn has_flag(tag: &str, name: &str) -> bool {
    tag.split(|c: char| c.is_whitespace() || c == '>')
        .any(|word| word == name)
}

/// The part of `html` inside the form whose opening tag satisfies `which`.
fn form(html: &str, which: impl Fn(&str) -> bool) -> (&str, &str) {
    let open = tags(html, "form")
        .into_iter()
        .find(|t| which(t))
        .expect("the form");
    let start = html.find(open).unwrap();
    let end = start + html[start..].find("</form>").expect("form closes");
    (open, &html[start..end])
}

/// A page as a browser gets it: status 200, HTML, the strict policy, no referrer,
/// no inline script or handler; the script it loads is served from this origin.
async fn fetch_page(app: &TestApp, link: &str) -> String {
    let page = app.client.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200, "{link}");
    let h = page.headers().clone();
    assert!(
        h["content-type"].to_str().unwrap().starts_with("text/html"),
        "{h:?}"
    );
    assert_eq!(h["referrer-policy"], "no-referrer");
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = page.text().await.unwrap();
    for script in tags(&html, "script") {
        let src = attr(script, "src").unwrap_or_else(|| panic!("inline script: {script}"));
        let js = app.get(src).await;
        assert_eq!(js.status(), 200, "{src}");
        assert!(
            js.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
    }
    assert!(
        !html.contains(" onclick=") && !html.contains(" onsubmit=") && !html.contains(" style="),
        "no inline handlers or styles: {html}"
    );
    html
}

/// Every input of a form has a label (keyboard and screen-reader users) and a
/// place where the API's message about it appears.
fn assert_labelled(html: &str, form_html: &str) {
    for input in tags(form_html, "input") {
        let id = attr(input, "id").unwrap_or_else(|| panic!("input without id: {input}"));
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "no label for {id}"
        );
        let name = attr(input, "name").unwrap();
        assert!(
            form_html.contains(&format!("data-error-for=\"{name}\"")),
            "no error slot for {name}"
        );
    }
}

/// Names of the inputs a form sends to its endpoint (what the page's script puts
/// into the JSON body, beside the token).
fn sent_fields<'a>(form_html: &'a str, marker: &str) -> Vec<&'a str> {
    tags(form_html, "input")
        .into_iter()
        .filter(|t| has_flag(t, marker))
        .map(|t| attr(t, "name").unwrap())
        .collect()
}

fn token_of(link: &str) -> &str {
    link.split("token=").nth(1).expect("token in link")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_link_opens_a_page_whose_form_resets_the_password_through_the_api() {
    let app = spawn_app().await;
    let email = "grace@example.com";
    app.register_owner(email, "Compilers").await;
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            None,
            Some(json!({ "email": email })),
        )
        .await;
    assert_eq!(status, 202);
    let mail = app.wait_for_email(email, "Reset your password").await;
    let link = find_link(
        mail["text"].as_str().unwrap(),
        &app.url("/reset-password?token="),
    )
    .expect("a reset link to the server's page");

    let html = fetch_page(&app, &link).await;
    let (open, form_html) = form(&html, |t| attr(t, "data-endpoint").is_some());
    let endpoint = attr(open, "data-endpoint").unwrap();
    assert_eq!(endpoint, "/api/v1/auth/reset-password");
    assert_labelled(&html, form_html);
    let fields = sent_fields(form_html, "data-send");
    assert_eq!(fields, ["new_password"], "the field the API reads");
    let script = app.get("/_pages/pages.js").await.text().await.unwrap();
    for piece in [
        "data-endpoint",
        "data-send",
        "body.token = TOKEN",
        "data-same-as",
    ] {
        assert!(script.contains(piece), "the script uses {piece}");
    }

    // What the script sends when the password breaks the policy: the API's
    // messages name a field the page has a place for.
    let send = |password: &str| {
        let mut body = serde_json::Map::new();
        for f in &fields {
            body.insert((*f).to_owned(), Value::String(password.to_owned()));
        }
        body.insert("token".into(), Value::String(token_of(&link).to_owned()));
        Value::Object(body)
    };
    let (status, problem) = app
        .call(Method::POST, endpoint, None, Some(send("short")))
        .await;
    assert_eq!(status, 422, "{problem}");
    for e in problem["errors"].as_array().unwrap() {
        let field = e["field"].as_str().unwrap();
        assert!(
            form_html.contains(&format!("data-error-for=\"{field}\"")),
            "the page can show the error about {field}"
        );
        assert!(!e["message"].as_str().unwrap().is_empty());
    }

    let (status, body) = app
        .call(Method::POST, endpoint, None, Some(send("Fresh1password")))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": "Fresh1password" })),
        )
        .await;
    assert_eq!(status, 200, "the new password signs in");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invitation_link_opens_a_page_that_registers_and_accepts_through_the_api() {
    let app = spawn_app().await;
    let (_, owner) = app.verified_owner("owner@example.com", "Harbour").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/orgs/current/invitations",
            Some(&owner),
            Some(json!({ "email": "newcomer@example.com", "role": "member" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mail = app
        .wait_for_email("newcomer@example.com", "You are invited")
        .await;
    let link = find_link(
        mail["text"].as_str().unwrap(),
        &app.url("/accept-invitation?token="),
    )
    .expect("an invitation link to the server's page");

    let html = fetch_page(&app, &link).await;
    let (sign_in_open, sign_in_form) = form(&html, |t| attr(t, "data-sign-in").is_some());
    assert_eq!(
        attr(sign_in_open, "data-sign-in"),
        Some("/api/v1/auth/login")
    );
    assert_eq!(
        attr(sign_in_open, "data-endpoint"),
        Some("/api/v1/orgs/invitations/accept")
    );
    assert_eq!(
        sent_fields(sign_in_form, "data-sign-in-field"),
        ["email", "password"]
    );
    assert_labelled(&html, sign_in_form);

    let (open, new_form) = form(&html, |t| {
        attr(t, "data-endpoint").is_some() && attr(t, "data-sign-in").is_none()
    });
    let endpoint = attr(open, "data-endpoint").unwrap();
    assert_eq!(endpoint, "/api/v1/orgs/invitations/accept");
    assert_labelled(&html, new_form);
    let fields = sent_fields(new_form, "data-send");
    assert_eq!(fields, ["full_name", "password"]);

    let body = json!({
        "token": token_of(&link),
        fields[0]: "Nia Newcomer",
        fields[1]: TEST_PASSWORD,
    });
    let (status, joined) = app.call(Method::POST, endpoint, None, Some(body)).await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["email"], "newcomer@example.com");
    app.login("newcomer@example.com").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_link_opens_a_page_that_leads_to_the_api_docs() {
    let app = spawn_app().await;
    app.verified_owner("welcome@example.com", "Quay").await;
    let mail = app
        .wait_for_email("welcome@example.com", "Welcome to Skiff")
        .await;
    let link = find_link(mail["text"].as_str().unwrap(), &app.url("/")).unwrap();
    assert_eq!(link, app.url("/"));
    let html = fetch_page(&app, &link).await;
    let docs = tags(&html, "a")
        .into_iter()
        .filter_map(|a| attr(a, "href"))
        .find(|h| h.contains("openapi"))
        .expect("a link to the API docs");
    assert_eq!(app.get(docs).await.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_app_url_the_links_lead_to_it_and_the_pages_are_not_served() {
    let app = spawn_app_with(&[("SKIFF_APP_URL", "https://app.example.com/")]).await;
    let (_, owner) = app.verified_owner("ada@example.com", "Engines").await;
    let welcome = app
        .wait_for_email("ada@example.com", "Welcome to Skiff")
        .await;
    assert!(
        welcome["text"]
            .as_str()
            .unwrap()
            .contains("https://app.example.com/\n"),
        "{welcome}"
    );

    app.call(
        Method::POST,
        "/api/v1/auth/forgot-password",
        None,
        Some(json!({ "email": "ada@example.com" })),
    )
    .await;
    let reset = app
        .wait_for_email("ada@example.com", "Reset your password")
        .await;
    let link = find_link(
        reset["text"].as_str().unwrap(),
        "https://app.example.com/reset-password?token=",
    )
    .expect("the reset link leads to the app");
    assert!(!token_of(&link).is_empty());
    assert!(
        reset["html"]
            .as_str()
            .unwrap()
            .contains("href=\"https://app.example.com/reset-password?token="),
        "{reset}"
    );

    app.call(
        Method::POST,
        "/api/v1/orgs/current/invitations",
        Some(&owner),
        Some(json!({ "email": "bob@example.com" })),
    )
    .await;
    let invite = app
        .wait_for_email("bob@example.com", "You are invited")
        .await;
    assert!(
        find_link(
            invite["text"].as_str().unwrap(),
            "https://app.example.com/accept-invitation?token="
        )
        .is_some(),
        "{invite}"
    );

    for path in [
        "/",
        "/reset-password",
        "/accept-invitation",
        "/_pages/pages.js",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    app.stop().await;
}
