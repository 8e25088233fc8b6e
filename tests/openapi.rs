//! The whole API's OpenAPI document is made here, from every endpoint group's paths,
//! and checked in as `openapi.json` at the repository root: the auth function and
//! the local server serve that file, so no function crate needs another's code, and
//! clients generated from it see exactly what runs.

use std::path::PathBuf;

/// Every group's part, merged as the API serves it.
fn document() -> String {
    let doc = skiff_http::openapi::document([
        skiff_fn_auth::openapi(),
        skiff_fn_billing::openapi(),
        skiff_fn_licensing::openapi(),
        skiff_fn_scripts::openapi(),
        skiff_fn_admin::openapi(),
        skiff_fn_storage::openapi(),
        skiff_fn_memory::openapi(),
    ]);
    let mut json = doc.to_pretty_json().expect("the document serializes");
    json.push('\n');
    json
}

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.json")
}

#[test]
fn the_checked_in_document_is_the_one_the_code_describes() {
    let want = document();
    if std::env::var_os("SKIFF_UPDATE_OPENAPI").is_some() {
        std::fs::write(checked_in(), &want).expect("write openapi.json");
        return;
    }
    let have = std::fs::read_to_string(checked_in()).expect("openapi.json at the repository root");
    assert!(
        have == want,
        "openapi.json is stale: regenerate it with \
         `SKIFF_UPDATE_OPENAPI=1 cargo nextest run -p skiff-e2e --test openapi` \
         (or `cargo test -p skiff-e2e --test openapi`) and commit it"
    );
    assert_eq!(
        skiff_fn_auth::OPENAPI_JSON,
        want,
        "the auth function was built from another openapi.json"
    );
}
