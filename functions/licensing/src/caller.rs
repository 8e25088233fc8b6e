//! The authenticated caller of the member routes: the shared identity extractor's
//! principal. The tenant comes from here, never from the request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use skiff_core::Services;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_identity::{OrgId, Role, UserId, users};

/// Scope an API key needs to read licenses (users' tokens carry every scope).
pub const READ: &str = "licenses:read";
/// Scope of the seat routes.
pub const WRITE: &str = "licenses:write";

/// Who calls a member route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
}

impl Caller {
    /// Members (and API keys with `licenses:read`) read their org's licenses.
    pub fn require_read(&self) -> ApiResult<()> {
        self.principal.require_scope(READ)
    }

    /// Seats are for signed-in users with a verified e-mail address.
    pub async fn require_seat_user(&self, services: &Services) -> ApiResult<()> {
        self.principal.require_scope(WRITE)?;
        let user_id = self.principal.require_user()?;
        let user = users::get(services.store.as_ref(), user_id)
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("UNAUTHENTICATED", "the user no longer exists")
            })?;
        if !user.email_verified {
            return Err(ApiError::forbidden(
                "EMAIL_NOT_VERIFIED",
                "verify your e-mail address before using seats",
            ));
        }
        Ok(())
    }

    /// Rate-limit subject of the caller.
    pub fn subject(&self) -> String {
        match (&self.user_id, &self.principal.api_key_id) {
            (Some(u), _) => u.to_string(),
            (None, Some(k)) => k.to_string(),
            (None, None) => self.org_id.to_string(),
        }
    }

    /// Org owners and admins only, by the role the store has now (a token's role
    /// may be up to its lifetime stale).
    pub async fn require_admin(&self, services: &Services) -> ApiResult<()> {
        self.require_read()?;
        let current = self.principal.clone().current(services).await?;
        current.require_role(Role::Admin)
    }
}

impl FromRequestParts<Services> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, services).await?;
        Ok(Caller {
            org_id: principal.org_id.clone(),
            user_id: principal.user_id.clone(),
            principal,
        })
    }
}
