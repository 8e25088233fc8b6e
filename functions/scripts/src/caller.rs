//! The authenticated caller of the scripts routes as the domain's [`Actor`]: the
//! org role read again from the store (a token's may be stale), an API key's
//! creator and app binding read from the key, and whether the credential may
//! write (`scripts:write`) or only read (`scripts:read`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use skiff_core::Services;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_identity::api_keys;
use skiff_scripts::access::Actor;

pub const READ: &str = "scripts:read";
pub const WRITE: &str = "scripts:write";

/// A caller who may read scripts (every route but the public ones).
pub struct Reader(pub Actor);

/// A caller whose credential carries `scripts:write`.
pub struct Writer(pub Actor);

async fn actor(parts: &mut Parts, services: &Services) -> ApiResult<(Actor, Principal)> {
    let principal = Principal::from_request_parts(parts, services).await?;
    let can_write = principal.scopes.allows(WRITE);
    if !can_write && !principal.scopes.allows(READ) {
        return Err(ApiError::forbidden(
            "INSUFFICIENT_SCOPE",
            format!("this action needs the `{READ}` or `{WRITE}` scope"),
        ));
    }
    let (user_id, bound_app) = match &principal.api_key_id {
        Some(key_id) => {
            let key = api_keys::get(services.store.as_ref(), &principal.org_id, key_id)
                .await?
                .ok_or_else(|| ApiError::unauthorized("API_KEY_REVOKED", "the API key is gone"))?;
            (Some(key.created_by), key.app_id)
        }
        None => (principal.user_id.clone(), None),
    };
    let current = match principal.clone().current(services).await {
        Ok(current) => current,
        // An erased org's ids are gone with it: 404, as for anyone else, rather
        // than a lost membership.
        Err(e) => {
            if skiff_identity::erasure::is_erased(services.store.as_ref(), &principal.org_id)
                .await?
            {
                return Err(ApiError::not_found("no such organization"));
            }
            return Err(e);
        }
    };
    Ok((
        Actor {
            org_id: principal.org_id.clone(),
            user_id,
            api_key_id: principal.api_key_id.clone(),
            org_role: current.role,
            can_write,
            bound_app,
        },
        principal,
    ))
}

impl FromRequestParts<Services> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> ApiResult<Self> {
        Ok(Reader(actor(parts, services).await?.0))
    }
}

impl FromRequestParts<Services> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> ApiResult<Self> {
        let (actor, principal) = actor(parts, services).await?;
        principal.require_scope(WRITE)?;
        Ok(Writer(actor))
    }
}
