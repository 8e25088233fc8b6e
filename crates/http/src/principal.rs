//! Who is calling: the authentication extractor every function uses.
//!
//! `Authorization: Bearer <credential>` where the credential is an access token
//! (JWT, see [`access_token`](super::access_token)) or an API key (`sk_live_…`).
//! The result is a [`Principal`] — user (absent for API keys), org, role, scopes —
//! and the tenant id every repository call takes comes from it, never from the
//! request. Guards ([`Principal::require_role`], [`Principal::require_scope`],
//! [`Principal::require_user`]) answer 403; a missing or bad credential 401.
//! Routes that manage the org take [`CurrentMember`], whose role is re-read.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use skiff_core::services::Services;
use skiff_identity::access_token::{self, Audience, TokenError};
use skiff_identity::signing_keys;
use skiff_identity::{ApiKeyId, OrgId, Role, Scopes, SessionId, UserId, api_keys, orgs, users};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The user, for access tokens; `None` for API keys.
    pub user_id: Option<UserId>,
    pub org_id: OrgId,
    pub role: Role,
    pub scopes: Scopes,
    /// The session an access token came from.
    pub session_id: Option<SessionId>,
    /// The key, for API keys.
    pub api_key_id: Option<ApiKeyId>,
    /// The person the call acts for: the token's user, or an API key's creator
    /// (whose data a key of theirs reads and writes).
    pub acting_user: UserId,
}

impl Principal {
    /// 403 unless the caller's role includes `role`.
    pub fn require_role(&self, role: Role) -> Result<(), ApiError> {
        if self.role.at_least(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "INSUFFICIENT_ROLE",
                format!("this action needs the {role} role or higher"),
            ))
        }
    }

    /// 403 unless the caller's scopes include `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "INSUFFICIENT_SCOPE",
                format!("this action needs the `{scope}` scope"),
            ))
        }
    }

    /// The user, or 403 for machine credentials (API keys).
    pub fn require_user(&self) -> Result<&UserId, ApiError> {
        self.user_id.as_ref().ok_or_else(|| {
            ApiError::forbidden(
                "USER_REQUIRED",
                "this action needs a user's access token, not an API key",
            )
        })
    }
}

/// The issuer/audience pair of this deployment.
pub fn audience(services: &Services) -> Audience {
    Audience {
        issuer: services.config.jwt_issuer.clone(),
        audience: services.config.jwt_audience.clone(),
    }
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::unauthorized("UNAUTHENTICATED", detail)
}

/// The bearer credential of a request, if any (an `Authorization` header that is
/// not `Bearer` is refused rather than ignored).
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthenticated("the Authorization header is malformed"))?;
    let (scheme, credential) = value
        .split_once(' ')
        .ok_or_else(|| unauthenticated("expected `Authorization: Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(unauthenticated("expected `Authorization: Bearer <token>`"));
    }
    Ok(Some(credential.trim()))
}

/// Authenticate one bearer credential.
pub async fn authenticate(services: &Services, credential: &str) -> Result<Principal, ApiError> {
    if api_keys::looks_like_key(credential) {
        let key =
            api_keys::authenticate(services.store.as_ref(), services.clock.unix(), credential)
                .await
                .map_err(|e| match e {
                    api_keys::KeyError::Invalid => {
                        ApiError::unauthorized("INVALID_API_KEY", e.to_string())
                    }
                    api_keys::KeyError::Expired => {
                        ApiError::unauthorized("API_KEY_EXPIRED", e.to_string())
                    }
                    api_keys::KeyError::CreatorGone => {
                        ApiError::unauthorized("API_KEY_REVOKED", e.to_string())
                    }
                    api_keys::KeyError::Store(e) => e.into(),
                })?;
        return Ok(Principal {
            user_id: None,
            org_id: key.org_id.clone(),
            role: key.role,
            scopes: key.scopes(),
            session_id: None,
            api_key_id: Some(key.id),
            acting_user: key.created_by,
        });
    }
    let kid = access_token::kid_of(credential).map_err(token_error)?;
    let keys = signing_keys::for_kid(&services.secrets, &kid).await?;
    let verified = access_token::verify_cached(
        &keys,
        &audience(services),
        services.clock.unix(),
        credential,
    )
    .map_err(token_error)?;
    Ok(Principal {
        acting_user: verified.user_id.clone(),
        user_id: Some(verified.user_id),
        org_id: verified.org_id,
        role: verified.role,
        scopes: verified.scopes,
        session_id: verified.session_id,
        api_key_id: None,
    })
}

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Expired => ApiError::unauthorized("TOKEN_EXPIRED", e.to_string()),
        other => ApiError::unauthorized("TOKEN_INVALID", other.to_string()),
    }
}

impl FromRequestParts<Services> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let credential = bearer(parts)?
            .ok_or_else(|| unauthenticated("this route needs `Authorization: Bearer <token>`"))?;
        authenticate(services, credential).await
    }
}

/// `Option<Principal>`: `None` without an `Authorization` header; a present but bad
/// credential is still refused.
impl OptionalFromRequestParts<Services> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Services,
    ) -> Result<Option<Self>, ApiError> {
        match bearer(parts)? {
            Some(credential) => authenticate(services, credential).await.map(Some),
            None => Ok(None),
        }
    }
}

/// A [`Principal`] whose role is read again from the store. An access token carries
/// the role its holder had when it was issued, for minutes; routes that manage the
/// org take this instead, so a demoted member loses the power at once and a removed
/// one is refused (403 `NOT_A_MEMBER`). API keys need no second read: their
/// creator's membership is checked whenever they are used.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentMember(pub Principal);

impl Principal {
    /// This principal with its role as the store has it now.
    pub async fn current(mut self, services: &Services) -> Result<Principal, ApiError> {
        let Some(user) = &self.user_id else {
            return Ok(self);
        };
        let membership = orgs::membership(services.store.as_ref(), &self.org_id, user)
            .await?
            .ok_or_else(|| {
                ApiError::forbidden(
                    "NOT_A_MEMBER",
                    "you are no longer a member of this organization",
                )
            })?;
        self.role = membership.role;
        Ok(self)
    }
}

impl FromRequestParts<Services> for CurrentMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let principal =
            <Principal as FromRequestParts<Services>>::from_request_parts(parts, services).await?;
        Ok(CurrentMember(principal.current(services).await?))
    }
}

/// A platform operator (the `platform_admin` flag, set only by `skiff admin grant`):
/// the only way into `/api/v1/admin/*`. The flag is read from the store on every
/// request, never trusted from a token. To everyone else — no credential, a bad
/// one, an API key, a user without the flag — the operators' routes do not exist:
/// 404, as for any unknown path, so they cannot even be found.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformAdmin(pub Principal);

impl FromRequestParts<Services> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let hidden = || ApiError::not_found("no such route");
        let credential = bearer(parts).map_err(|_| hidden())?.ok_or_else(hidden)?;
        let principal = authenticate(services, credential)
            .await
            .map_err(|_| hidden())?;
        let user = principal.user_id.as_ref().ok_or_else(hidden)?;
        match users::get(services.store.as_ref(), user).await? {
            Some(u) if u.platform_admin && !u.is_suspended() => Ok(PlatformAdmin(principal)),
            _ => Err(hidden()),
        }
    }
}
