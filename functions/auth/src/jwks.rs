//! `GET /.well-known/jwks.json`: the public keys that verify access tokens.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use skiff_core::Services;
use skiff_http::ApiResult;
use skiff_identity::signing_keys;

/// Verification keys (current first, then previous keys not yet retired).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = crate::TAG_AUTH,
    responses((status = 200, description = "A JWK set (RFC 7517) of Ed25519 public keys", content_type = "application/json"))
)]
pub async fn jwks(State(services): State<Services>) -> ApiResult<impl IntoResponse> {
    let keys = signing_keys::current(&services.secrets).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        axum::Json(keys.jwks()),
    ))
}
