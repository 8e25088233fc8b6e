//! What else goes when a script or an app goes, and what keeps a script an
//! endpoint: the routes (and triggers) that run it.

use crate::error::ScriptsResult;
use crate::model::App;
use skiff_core::Services;
use skiff_core::ids::ScriptId;

/// Routes (and triggers) that run `script`.
pub(crate) async fn is_targeted(
    services: &Services,
    app: &App,
    script: &ScriptId,
) -> ScriptsResult<bool> {
    let store = services.store.as_ref();
    Ok(!crate::routes::ids_of(store, app, script).await?.is_empty()
        || !crate::triggers::of_script(store, app, script)
            .await?
            .is_empty())
}

/// Before a script is deleted: remove what runs it.
pub(crate) async fn script_deleted(
    services: &Services,
    app: &App,
    script: &ScriptId,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let routes = crate::routes::ids_of(store, app, script).await?;
    crate::routes::remove_routes(store, app, &routes).await?;
    let triggers = crate::triggers::of_script(store, app, script).await?;
    crate::triggers::remove_all(store, &triggers).await?;
    Ok(())
}

/// Before an app's own partition is emptied: its data (files' bytes and the
/// stored bytes they and its documents counted against the plan) and its dead
/// letters.
pub(crate) async fn app_deleted(services: &Services, app: &App) -> ScriptsResult<()> {
    use skiff_core::ports::store::Write;
    let store = services.store.as_ref();
    let base = crate::keys::app_pk(&app.org_id, &app.id);
    for kind in ["KV", "DOCS", "FILES", "DL"] {
        let pk = format!("{base}#{kind}");
        loop {
            let page = store
                .query(skiff_core::ports::store::Query::partition(&pk).limit(40))
                .await?;
            if page.items.is_empty() {
                break;
            }
            let mut freed = 0i64;
            let mut writes = vec![];
            for item in &page.items {
                if kind == "FILES"
                    && let Some(blob) = item.get_str("blob_key")
                    && let Ok(k) = skiff_core::ports::blobs::BlobKey::parse(blob)
                {
                    services.blobs.delete(&k).await?;
                }
                if kind == "DOCS" || kind == "FILES" {
                    freed += item.get_i64("size").unwrap_or(0);
                }
                writes.push(Write::Delete {
                    key: item.key.clone(),
                    condition: None,
                });
            }
            if freed > 0 {
                writes.push(skiff_billing::entitlements::release_write(
                    &app.org_id,
                    skiff_billing::entitlements::STORAGE_BYTES,
                    freed,
                ));
            }
            store.transact(writes).await?;
        }
    }
    Ok(())
}
