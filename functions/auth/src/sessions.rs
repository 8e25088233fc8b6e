//! Signing in and out: login, refresh-token rotation, logout, org switching.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use skiff_core::{Services, rate_limit};
use skiff_http::client_ip::ClientIp;
use skiff_http::json::JsonBody;
use skiff_http::principal::Principal;
use skiff_http::principal::audience;
use skiff_http::{ApiError, ApiResult};
use skiff_identity::access_token::{self, ACCESS_TOKEN_LIFETIME, Grant};
use skiff_identity::orgs::{self, Membership};
use skiff_identity::sessions::{self, RefreshError, Session};
use skiff_identity::signing_keys;
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Scopes, password};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

/// An access token for `membership` in `session`, with the session's refresh token.
async fn token_pair(
    services: &Services,
    membership: &Membership,
    session: &Session,
    refresh_token: String,
) -> ApiResult<TokenPair> {
    let keys = signing_keys::current(&services.secrets).await?;
    let access = access_token::issue(
        &keys,
        &audience(services),
        services.clock.unix(),
        Grant {
            user: &membership.user_id,
            org: &membership.org_id,
            role: membership.role,
            scopes: &Scopes::all(),
            session: Some(&session.id),
        },
    );
    Ok(TokenPair {
        access_token: access,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME.as_secs(),
    })
}

/// Start a session for `membership` and answer with its tokens.
async fn sign_in(services: &Services, membership: &Membership) -> ApiResult<TokenPair> {
    let (session, refresh) = sessions::start(
        services.store.as_ref(),
        services.clock.as_ref(),
        &membership.user_id,
        &membership.org_id,
    )
    .await?;
    token_pair(services, membership, &session, refresh).await
}

/// The membership a login lands in: the default org, else the oldest other one.
async fn landing(services: &Services, user: &User) -> ApiResult<Membership> {
    let store = services.store.as_ref();
    if let Some(m) = orgs::membership(store, &user.default_org, &user.id).await? {
        return Ok(m);
    }
    orgs::orgs_of(store, &user.id)
        .await?
        .into_iter()
        .min_by_key(|m| m.joined_at)
        .ok_or_else(|| {
            ApiError::forbidden("NO_MEMBERSHIP", "this account belongs to no organization")
        })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// 403 `ACCOUNT_SUSPENDED` for an account an operator suspended (told only to
/// someone who proved the password, or holds a token of the account).
pub(crate) fn refuse_suspended(user: &User) -> ApiResult<()> {
    if user.is_suspended() {
        return Err(ApiError::forbidden(
            "ACCOUNT_SUSPENDED",
            "this account is suspended; contact the service's operators",
        ));
    }
    Ok(())
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        "INVALID_CREDENTIALS",
        "the e-mail address or the password is wrong",
    )
}

/// Exchange an e-mail and password for tokens.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = crate::TAG_AUTH,
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "INVALID_CREDENTIALS (same answer and timing for unknown e-mails)", body = skiff_http::openapi::ProblemDetails),
        (status = 403, description = "ACCOUNT_SUSPENDED (an operator suspended the account; only after the right password) or NO_MEMBERSHIP", body = skiff_http::openapi::ProblemDetails),
        (status = 429, description = "Rate limited per e-mail and per IP; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn login(
    State(services): State<Services>,
    ip: ClientIp,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let limits = services.config.rate_limits;
    rate_limit::enforce(store, clock, "login_ip", &ip.subject(), limits.login_per_ip).await?;
    let email = EmailAddress::parse(&body.email).ok();
    let subject = email
        .as_ref()
        .map_or_else(|| body.email.trim().to_lowercase(), EmailAddress::identity);
    rate_limit::enforce(
        store,
        clock,
        "login_email",
        &subject,
        limits.login_per_email,
    )
    .await?;
    let user = match &email {
        Some(e) => users::find_by_email(store, e).await?,
        None => None,
    };
    // Unknown e-mails cost one (dummy) verification too, so timing tells nothing.
    let ok = password::verify_blocking(
        user.as_ref().map(|u| u.password_hash.clone()),
        body.password,
    )
    .await;
    let user = match user {
        Some(u) if ok => u,
        _ => return Err(invalid_credentials()),
    };
    refuse_suspended(&user)?;
    let membership = landing(&services, &user).await?;
    tracing::info!(user = %user.id, org = %membership.org_id, "signed in");
    Ok(Json(sign_in(&services, &membership).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// Exchange a refresh token for a new pair; the old refresh token dies. Presenting a
/// refresh token that was already exchanged revokes its whole session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = crate::TAG_AUTH,
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED or TOKEN_REUSED", body = skiff_http::openapi::ProblemDetails),
        (status = 429, description = "Rate limited per IP and per token; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn refresh(
    State(services): State<Services>,
    ip: ClientIp,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let limits = services.config.rate_limits;
    rate_limit::enforce(
        store,
        clock,
        "refresh_ip",
        &ip.subject(),
        limits.refresh_per_ip,
    )
    .await?;
    rate_limit::enforce(
        store,
        clock,
        "refresh_token",
        body.refresh_token.trim(),
        limits.refresh_per_token,
    )
    .await?;
    let (session, new_refresh) = sessions::rotate(store, clock, &body.refresh_token)
        .await
        .map_err(|e| match e {
            RefreshError::Invalid => ApiError::unauthorized("TOKEN_INVALID", e.to_string()),
            RefreshError::Expired => ApiError::unauthorized("TOKEN_EXPIRED", e.to_string()),
            RefreshError::Reused => ApiError::unauthorized("TOKEN_REUSED", e.to_string()),
            RefreshError::Revoked => ApiError::unauthorized("TOKEN_REVOKED", e.to_string()),
            RefreshError::Store(e) => e.into(),
        })?;
    // The role is read again: a demotion or removal takes effect at the next refresh.
    let Some(membership) = orgs::membership(store, &session.org_id, &session.user_id).await? else {
        sessions::revoke(store, clock, &session.id).await?;
        return Err(ApiError::unauthorized(
            "TOKEN_REVOKED",
            "you are no longer a member of this organization",
        ));
    };
    Ok(Json(
        token_pair(&services, &membership, &session, new_refresh).await?,
    ))
}

/// Sign out this session (its refresh tokens stop working).
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = crate::TAG_AUTH,
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = skiff_http::openapi::ProblemDetails))
)]
pub async fn logout(
    State(services): State<Services>,
    principal: Principal,
) -> ApiResult<StatusCode> {
    principal.require_user()?;
    if let Some(session) = &principal.session_id {
        sessions::revoke(services.store.as_ref(), services.clock.as_ref(), session).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out every session of the caller.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout-all",
    tag = crate::TAG_AUTH,
    security(("bearer" = [])),
    responses((status = 204, description = "Every session signed out"), (status = 401, body = skiff_http::openapi::ProblemDetails))
)]
pub async fn logout_all(
    State(services): State<Services>,
    principal: Principal,
) -> ApiResult<StatusCode> {
    let user = principal.require_user()?;
    let n =
        sessions::revoke_all(services.store.as_ref(), services.clock.as_ref(), user, None).await?;
    tracing::info!(user = %user, revoked = n, "signed out everywhere");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SwitchOrgRequest {
    org_id: String,
}

/// Tokens for another organization the caller belongs to (a new session).
#[utoipa::path(
    post,
    path = "/api/v1/auth/switch-org",
    tag = crate::TAG_AUTH,
    security(("bearer" = [])),
    request_body = SwitchOrgRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 404, description = "Not a member of that organization", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn switch_org(
    State(services): State<Services>,
    principal: Principal,
    JsonBody(body): JsonBody<SwitchOrgRequest>,
) -> ApiResult<Json<TokenPair>> {
    let user = principal.require_user()?;
    let not_found = || ApiError::not_found("organization not found");
    let org = OrgId::parse(&body.org_id).map_err(|_| not_found())?;
    let membership = orgs::membership(services.store.as_ref(), &org, user)
        .await?
        .ok_or_else(not_found)?;
    if let Some(account) = users::get(services.store.as_ref(), user).await? {
        refuse_suspended(&account)?;
    }
    Ok(Json(sign_in(&services, &membership).await?))
}
