//! Accounts: registration, e-mail verification, password reset and change, the
//! caller's profile.

use crate::common::{Accepted, Checks, rfc3339, token_refusal};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use skiff_core::ports::store::{Change, Condition, StoreError, Write};
use skiff_core::{Services, outbox, rate_limit};
use skiff_http::client_ip::ClientIp;
use skiff_http::error::FieldError;
use skiff_http::json::JsonBody;
use skiff_http::principal::Principal;
use skiff_http::{ApiError, ApiResult};
use skiff_identity::mail::{self, PasswordResetRequested, VerificationRequested};
use skiff_identity::names::Name;
use skiff_identity::one_time::{self, Purpose};
use skiff_identity::orgs;
use skiff_identity::registration::{self, RegisterError, Registration};
use skiff_identity::users;
use skiff_identity::{EmailAddress, OrgId, Password, Role, UserId, password, sessions};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RegisterRequest {
    email: String,
    password: String,
    full_name: String,
    company_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    user_id: UserId,
    email: String,
    org_id: OrgId,
}

/// Create a user and their organization; e-mails a verification link.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = crate::TAG_AUTH,
    request_body = RegisterRequest,
    responses(
        (status = 201, body = RegisterResponse),
        (status = 409, description = "EMAIL_TAKEN", body = skiff_http::openapi::ProblemDetails),
        (status = 422, description = "Every failed rule", body = skiff_http::openapi::ProblemDetails),
        (status = 429, description = "Rate limited; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn register(
    State(services): State<Services>,
    ip: ClientIp,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let limits = &services.config.rate_limits;
    rate_limit::enforce(
        store,
        clock,
        "register_ip",
        &ip.subject(),
        limits.register_per_ip,
    )
    .await?;

    let mut checks = Checks::new();
    let email = checks.email("email", &body.email);
    let password = checks.check_all(Password::new(&body.password, "password"));
    let full_name = checks.check(Name::parse(&body.full_name, "full_name"));
    let company = checks.check(Name::parse(&body.company_name, "company_name"));
    checks.finish()?;
    let (email, password, full_name, company) = (
        email.expect("checked"),
        password.expect("checked"),
        full_name.expect("checked"),
        company.expect("checked"),
    );
    let registration = Registration {
        email,
        password,
        full_name,
        company,
    };
    let (user, org) = match registration::register(&services, registration).await {
        Ok(created) => created,
        Err(RegisterError::EmailTaken) => return Err(email_taken()),
        Err(RegisterError::Store(e)) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user_id: user.id,
            email: user.email.to_string(),
            org_id: org.id,
        }),
    ))
}

fn email_taken() -> ApiError {
    ApiError::conflict(
        "EMAIL_TAKEN",
        "an account with this e-mail address already exists",
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedResponse {
    user_id: UserId,
    email_verified: bool,
}

/// Confirm an e-mail address with the token from the verification e-mail.
#[utoipa::path(
    get,
    path = "/api/v1/auth/verify-email",
    tag = crate::TAG_AUTH,
    params(TokenQuery),
    responses(
        (status = 200, body = VerifiedResponse),
        (status = 400, description = "TOKEN_INVALID", body = skiff_http::openapi::ProblemDetails),
        (status = 410, description = "TOKEN_EXPIRED or TOKEN_USED", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn verify_email_query(
    State(services): State<Services>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Json<VerifiedResponse>> {
    verify_email(&services, q.token.as_deref().unwrap_or_default()).await
}

/// Same as `GET /api/v1/auth/verify-email?token=…`, with the token in the path.
#[utoipa::path(
    get,
    path = "/api/v1/auth/verify-email/{token}",
    tag = crate::TAG_AUTH,
    params(("token" = String, Path, description = "The token from the e-mail")),
    responses(
        (status = 200, body = VerifiedResponse),
        (status = 400, description = "TOKEN_INVALID", body = skiff_http::openapi::ProblemDetails),
        (status = 410, description = "TOKEN_EXPIRED or TOKEN_USED", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn verify_email_path(
    State(services): State<Services>,
    Path(token): Path<String>,
) -> ApiResult<Json<VerifiedResponse>> {
    verify_email(&services, &token).await
}

async fn verify_email(services: &Services, token: &str) -> ApiResult<Json<VerifiedResponse>> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let data = one_time::peek(store, clock, Purpose::VerifyEmail, token)
        .await
        .map_err(token_refusal)?;
    let user_id = user_in(&data)?;
    let writes = vec![
        one_time::consume_write(clock, Purpose::VerifyEmail, token),
        Write::Update {
            key: users::user_key(&user_id),
            changes: vec![Change::set("email_verified", true)],
            condition: Some(Condition::Exists),
        },
    ];
    match store.transact(writes).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failed() => {
            return Err(token_refusal(
                one_time::explain(store, clock, Purpose::VerifyEmail, token).await,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(user) = users::get(store, &user_id).await? {
        mail::send_logged(services, mail::welcome_email(services, &user)).await;
    }
    Ok(Json(VerifiedResponse {
        user_id,
        email_verified: true,
    }))
}

/// The user id a token's data names.
fn user_in(data: &serde_json::Map<String, serde_json::Value>) -> ApiResult<UserId> {
    data.get("user_id")
        .and_then(|v| v.as_str())
        .and_then(|s| UserId::parse(s).ok())
        .ok_or_else(|| ApiError::internal("one-time token without a user id"))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EmailRequest {
    email: String,
}

const RESEND_ACCEPTED: Accepted = Accepted {
    status: "accepted",
    message: "If an unverified account exists for this address, a new verification link is on its way.",
};
const FORGOT_ACCEPTED: Accepted = Accepted {
    status: "accepted",
    message: "If an account exists for this address, a link to reset its password is on its way.",
};

/// Limit per IP and per address, then enqueue `message` (looked up by the outbox
/// consumer, so the answer and its timing never depend on the account existing).
async fn accept_by_email<M: outbox::Message>(
    services: &Services,
    ip: &ClientIp,
    raw_email: &str,
    names: (&str, &str),
    limits: (skiff_core::config::RateLimit, skiff_core::config::RateLimit),
    message: impl FnOnce(String) -> M,
) -> ApiResult<()> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    rate_limit::enforce(store, clock, names.0, &ip.subject(), limits.0).await?;
    // A malformed address gets the same 202: it names no account either way.
    let email = EmailAddress::parse(raw_email).ok();
    let subject = email
        .as_ref()
        .map_or_else(|| raw_email.trim().to_lowercase(), EmailAddress::identity);
    rate_limit::enforce(store, clock, names.1, &subject, limits.1).await?;
    let Some(email) = email else {
        return Ok(());
    };
    if let Err(e) = outbox::enqueue(services, &message(email.to_string())).await {
        tracing::warn!(error = %e, "could not enqueue an identity e-mail request");
    }
    Ok(())
}

/// Send the verification e-mail again (always 202).
#[utoipa::path(
    post,
    path = "/api/v1/auth/resend-verification",
    tag = crate::TAG_AUTH,
    request_body = EmailRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 429, description = "Rate limited; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn resend_verification(
    State(services): State<Services>,
    ip: ClientIp,
    JsonBody(body): JsonBody<EmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let limits = services.config.rate_limits;
    accept_by_email(
        &services,
        &ip,
        &body.email,
        ("resend_verification_ip", "resend_verification_email"),
        (
            limits.resend_verification_per_ip,
            limits.resend_verification_per_email,
        ),
        |email| VerificationRequested { email },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(RESEND_ACCEPTED)))
}

/// E-mail a password-reset link (always 202, whether or not the account exists).
#[utoipa::path(
    post,
    path = "/api/v1/auth/forgot-password",
    tag = crate::TAG_AUTH,
    request_body = EmailRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 429, description = "Rate limited; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn forgot_password(
    State(services): State<Services>,
    ip: ClientIp,
    JsonBody(body): JsonBody<EmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let limits = services.config.rate_limits;
    accept_by_email(
        &services,
        &ip,
        &body.email,
        ("forgot_password_ip", "forgot_password_email"),
        (
            limits.forgot_password_per_ip,
            limits.forgot_password_per_email,
        ),
        |email| PasswordResetRequested { email },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(FORGOT_ACCEPTED)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ResetPasswordRequest {
    token: String,
    new_password: String,
}

/// Set a new password with the token from the reset e-mail; signs out every session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/reset-password",
    tag = crate::TAG_AUTH,
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed; every session revoked"),
        (status = 400, description = "TOKEN_INVALID", body = skiff_http::openapi::ProblemDetails),
        (status = 410, description = "TOKEN_EXPIRED or TOKEN_USED", body = skiff_http::openapi::ProblemDetails),
        (status = 422, description = "Password policy", body = skiff_http::openapi::ProblemDetails),
        (status = 429, description = "Rate limited per IP and per token; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn reset_password(
    State(services): State<Services>,
    ip: ClientIp,
    JsonBody(body): JsonBody<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let limits = services.config.rate_limits;
    rate_limit::enforce(
        store,
        clock,
        "reset_password_ip",
        &ip.subject(),
        limits.reset_password_per_ip,
    )
    .await?;
    rate_limit::enforce(
        store,
        clock,
        "reset_password_token",
        body.token.trim(),
        limits.reset_password_per_token,
    )
    .await?;
    let mut checks = Checks::new();
    let password = checks.check_all(Password::new(&body.new_password, "new_password"));
    checks.finish()?;
    let data = one_time::peek(store, clock, Purpose::ResetPassword, &body.token)
        .await
        .map_err(token_refusal)?;
    let user_id = user_in(&data)?;
    let phc = password::hash_blocking(password.expect("checked")).await;
    let writes = vec![
        one_time::consume_write(clock, Purpose::ResetPassword, &body.token),
        Write::Update {
            key: users::user_key(&user_id),
            changes: vec![Change::set("password_hash", phc)],
            condition: Some(Condition::Exists),
        },
    ];
    match store.transact(writes).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failed() => {
            return Err(token_refusal(
                one_time::explain(store, clock, Purpose::ResetPassword, &body.token).await,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let revoked = sessions::revoke_all(store, clock, &user_id, None).await?;
    tracing::info!(user = %user_id, revoked, "password reset");
    skiff_identity::audit::record(
        store,
        clock,
        Some(&user_id),
        "PASSWORD_RESET",
        None,
        user_id.as_str(),
        serde_json::json!({ "sessions_revoked": revoked }),
    )
    .await;
    if let Some(user) = users::get(store, &user_id).await? {
        mail::send_logged(&services, mail::password_changed_email(&user)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgSummary {
    id: OrgId,
    name: String,
    role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    id: UserId,
    email: String,
    full_name: String,
    email_verified: bool,
    /// RFC 3339.
    created_at: String,
    /// The organization the token acts in.
    org: OrgSummary,
    /// A platform operator (set only by `skiff admin grant`).
    platform_admin: bool,
}

async fn me_response(services: &Services, principal: &Principal) -> ApiResult<MeResponse> {
    let store = services.store.as_ref();
    let user_id = principal.require_user()?;
    let user = users::get(store, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("UNAUTHENTICATED", "the account no longer exists"))?;
    let org = orgs::get(store, &principal.org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organization not found"))?;
    let role = orgs::membership(store, &principal.org_id, user_id)
        .await?
        .ok_or_else(|| {
            ApiError::forbidden(
                "NOT_A_MEMBER",
                "you are no longer a member of this organization",
            )
        })?
        .role;
    Ok(MeResponse {
        id: user.id,
        email: user.email.to_string(),
        full_name: user.full_name,
        email_verified: user.email_verified,
        created_at: rfc3339(user.created_at),
        org: OrgSummary {
            id: org.id,
            name: org.name,
            role,
        },
        platform_admin: user.platform_admin,
    })
}

/// The caller's profile and current organization.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = crate::TAG_AUTH,
    security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = skiff_http::openapi::ProblemDetails))
)]
pub async fn me(
    State(services): State<Services>,
    principal: Principal,
) -> ApiResult<Json<MeResponse>> {
    Ok(Json(me_response(&services, &principal).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateMeRequest {
    full_name: Option<String>,
}

/// Change the caller's full name.
#[utoipa::path(
    patch,
    path = "/api/v1/auth/me",
    tag = crate::TAG_AUTH,
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses((status = 200, body = MeResponse), (status = 422, body = skiff_http::openapi::ProblemDetails))
)]
pub async fn update_me(
    State(services): State<Services>,
    principal: Principal,
    JsonBody(body): JsonBody<UpdateMeRequest>,
) -> ApiResult<Json<MeResponse>> {
    let user_id = principal.require_user()?;
    if let Some(raw) = body.full_name {
        let name = Name::parse(&raw, "full_name").map_err(|e| ApiError::validation(vec![e]))?;
        match users::update(
            services.store.as_ref(),
            user_id,
            vec![Change::set("full_name", name.as_str())],
        )
        .await
        {
            Ok(_) => {}
            Err(StoreError::ConditionFailed { .. }) => {
                return Err(ApiError::unauthorized(
                    "UNAUTHENTICATED",
                    "the account no longer exists",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Json(me_response(&services, &principal).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// Change the caller's password; every other session is signed out.
#[utoipa::path(
    post,
    path = "/api/v1/auth/change-password",
    tag = crate::TAG_AUTH,
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; other sessions revoked"),
        (status = 422, description = "Policy, or the current password is wrong", body = skiff_http::openapi::ProblemDetails),
        (status = 429, description = "Rate limited per IP and per account; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn change_password(
    State(services): State<Services>,
    ip: ClientIp,
    principal: Principal,
    JsonBody(body): JsonBody<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let user_id = principal.require_user()?;
    let limits = services.config.rate_limits;
    rate_limit::enforce(
        store,
        clock,
        "change_password_ip",
        &ip.subject(),
        limits.change_password_per_ip,
    )
    .await?;
    // Per account: a stolen access token must not become a password oracle.
    rate_limit::enforce(
        store,
        clock,
        "change_password_user",
        user_id.as_str(),
        limits.change_password_per_user,
    )
    .await?;
    let mut checks = Checks::new();
    let new = checks.check_all(Password::new(&body.new_password, "new_password"));
    let user = users::get(store, user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("UNAUTHENTICATED", "the account no longer exists"))?;
    if !password::verify_blocking(Some(user.password_hash.clone()), body.current_password).await {
        checks.push(FieldError::new(
            "current_password",
            "INCORRECT_PASSWORD",
            "the current password is not correct",
        ));
    }
    checks.finish()?;
    let phc = password::hash_blocking(new.expect("checked")).await;
    users::set_password_hash(store, user_id, phc).await?;
    let revoked =
        sessions::revoke_all(store, clock, user_id, principal.session_id.as_ref()).await?;
    tracing::info!(user = %user_id, revoked, "password changed");
    skiff_identity::audit::record(
        store,
        clock,
        Some(user_id),
        "PASSWORD_CHANGED",
        None,
        user_id.as_str(),
        serde_json::json!({ "sessions_revoked": revoked }),
    )
    .await;
    mail::send_logged(&services, mail::password_changed_email(&user)).await;
    Ok(StatusCode::NO_CONTENT)
}
