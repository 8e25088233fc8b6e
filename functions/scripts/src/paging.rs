//! Every list of the scripts routes, one way: the client's sealed cursor opened
//! for its list (scoped to the org and the list's scope), one page read from the
//! domain, the next position sealed again.

use crate::problem::error;
use skiff_core::Services;
use skiff_http::ApiResult;
use skiff_http::pagination::{CursorScope, PageRequest};
use skiff_scripts::ScriptsResult;

/// One page: `read(limit, position)` answers the items and the store's next
/// position; this answers the items and the client's next cursor.
pub async fn page<T, F, Fut>(
    services: &Services,
    scope: CursorScope<'_>,
    limit: Option<usize>,
    cursor: Option<&str>,
    read: F,
) -> ApiResult<(Vec<T>, Option<String>)>
where
    F: FnOnce(usize, Option<String>) -> Fut,
    Fut: Future<Output = ScriptsResult<(Vec<T>, Option<String>)>>,
{
    PageRequest::open(services.secrets.as_ref(), scope, limit, cursor)
        .await?
        .read(read, error)
        .await
}
