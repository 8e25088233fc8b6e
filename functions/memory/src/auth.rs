//! Who calls the memory routes. AutoMem clients send their token three ways —
//! `Authorization: Bearer`, `X-API-Key`, or `?api_key=` — and the admin token in
//! `X-Admin-Token` / `X-Admin-Api-Key`; here each carries a Skiff credential (an
//! access token or an `sk_live_…` API key) and is verified like any other. Scopes:
//! `memory:read` for reads and recall, `memory:write` for changes, `memory:admin`
//! (and the admin role) for `/admin/*`.

use crate::error::AutoMemError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_http::principal::{self, Principal};
use skiff_identity::Role;

pub const SCOPE_READ: &str = "memory:read";
pub const SCOPE_WRITE: &str = "memory:write";
pub const SCOPE_ADMIN: &str = "memory:admin";

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn query_param(parts: &Parts, name: &str) -> Option<String> {
    form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The credential of a request, where AutoMem clients put it.
pub fn credential(parts: &Parts) -> Option<String> {
    if let Some(auth) = header(parts, "authorization")
        && let Some((scheme, rest)) = auth.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
        && !rest.trim().is_empty()
    {
        return Some(rest.trim().to_owned());
    }
    header(parts, "x-api-key")
        .map(str::to_owned)
        .or_else(|| query_param(parts, "api_key"))
}

/// The admin credential: `X-Admin-Token`, `X-Admin-Api-Key` or `?admin_token=`.
pub fn admin_credential(parts: &Parts) -> Option<String> {
    header(parts, "x-admin-token")
        .or_else(|| header(parts, "x-admin-api-key"))
        .map(str::to_owned)
        .or_else(|| query_param(parts, "admin_token"))
}

fn unauthorized(message: &str) -> AutoMemError {
    AutoMemError::new(StatusCode::UNAUTHORIZED, message)
}

/// Verify a credential (AutoMem's 401 on any failure, with the reason).
pub async fn verify(services: &Services, credential: &str) -> Result<Principal, AutoMemError> {
    principal::authenticate(services, credential)
        .await
        .map_err(|e| {
            if e.status().is_server_error() {
                AutoMemError::from(e)
            } else {
                unauthorized(&format!("Unauthorized: {e}"))
            }
        })
}

/// An authenticated caller of the memory routes, with its org.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn org(&self) -> &OrgId {
        &self.0.org_id
    }

    fn require_scope(&self, scope: &str) -> Result<(), AutoMemError> {
        if self.0.scopes.allows(scope) {
            Ok(())
        } else {
            Err(AutoMemError::new(
                StatusCode::FORBIDDEN,
                format!("This credential lacks the `{scope}` scope"),
            ))
        }
    }

    pub fn can_read(&self) -> Result<(), AutoMemError> {
        self.require_scope(SCOPE_READ)
    }

    pub fn can_write(&self) -> Result<(), AutoMemError> {
        self.require_scope(SCOPE_WRITE)
    }

    /// `memory:admin` and the admin role (or the owner's).
    pub fn can_administer(&self) -> Result<(), AutoMemError> {
        self.require_scope(SCOPE_ADMIN)?;
        if self.0.role.at_least(Role::Admin) {
            Ok(())
        } else {
            Err(AutoMemError::new(
                StatusCode::FORBIDDEN,
                "This action needs an admin of the organization",
            ))
        }
    }
}

impl FromRequestParts<Services> for Caller {
    type Rejection = AutoMemError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Services,
    ) -> Result<Self, Self::Rejection> {
        let credential = credential(parts).ok_or_else(|| unauthorized("Unauthorized"))?;
        Ok(Caller(verify(services, &credential).await?))
    }
}

/// A caller of `/admin/*`: the admin credential when one is sent (AutoMem clients
/// send it beside their API token), else the regular one; either way it needs
/// `memory:admin` and the admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<Services> for Admin {
    type Rejection = AutoMemError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Services,
    ) -> Result<Self, Self::Rejection> {
        let credential = admin_credential(parts)
            .or_else(|| credential(parts))
            .ok_or_else(|| unauthorized("Admin authorization required"))?;
        let caller = Caller(verify(services, &credential).await?);
        caller.can_administer()?;
        Ok(Admin(caller))
    }
}

/// An optional caller (`/health` answers without credentials, with the caller's
/// counts when there is one). A bad credential is still refused.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<Services> for MaybeCaller {
    type Rejection = AutoMemError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Services,
    ) -> Result<Self, Self::Rejection> {
        match credential(parts) {
            None => Ok(MaybeCaller(None)),
            Some(c) => Ok(MaybeCaller(Some(Caller(verify(services, &c).await?)))),
        }
    }
}
