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
    Ok(!crate::routes::ids_of(services.store.as_ref(), app, script)
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
    Ok(())
}

/// Before an app's own partition is emptied.
pub(crate) async fn app_deleted(_services: &Services, _app: &App) -> ScriptsResult<()> {
    Ok(())
}
