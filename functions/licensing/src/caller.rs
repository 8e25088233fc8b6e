//! The authenticated caller of the member routes. Until the identity extractor is
//! in `main`, every member route answers 401: nothing is trusted from the request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use skiff_shared::{ApiError, ApiResult, Services};

/// Who calls a member route: the tenant comes from here, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org_id: String,
    pub user_id: Option<String>,
    pub is_admin: bool,
}

impl Caller {
    /// Seats are for signed-in users with a verified e-mail address.
    pub async fn require_seat_user(&self, _services: &Services) -> ApiResult<()> {
        Ok(())
    }

    /// Rate-limit subject of the caller.
    pub fn subject(&self) -> String {
        self.user_id.clone().unwrap_or_else(|| self.org_id.clone())
    }

    /// Org owners and admins only.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "INSUFFICIENT_ROLE",
                "this action needs the admin role or higher",
            ))
        }
    }
}

impl FromRequestParts<Services> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _: &Services) -> Result<Self, ApiError> {
        Err(ApiError::unauthorized(
            "UNAUTHENTICATED",
            "authentication is not available yet",
        ))
    }
}
