//! The `licensing` function.
pub fn router() -> axum::Router<skiff_shared::Services> {
    axum::Router::new()
}
