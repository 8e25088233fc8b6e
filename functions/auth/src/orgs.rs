//! Organizations: the caller's org, its members and invitations. The org is always
//! the principal's; a user id of another org's member answers 404. Every route here
//! reads the caller's role from the store ([`CurrentMember`]), not from the token.

use crate::common::{Checks, rfc3339, token_refusal};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use skiff_core::{Services, rate_limit};
use skiff_http::client_ip::ClientIp;
use skiff_http::error::FieldError;
use skiff_http::extract::QueryParams;
use skiff_http::json::JsonBody;
use skiff_http::pagination::{CursorScope, PageRequest};
use skiff_http::principal::{CurrentMember, Principal};
use skiff_http::{ApiError, ApiResult};
use skiff_identity::invitations::{self, AcceptError, Invitation, NewAccount, Revoked};
use skiff_identity::mail;
use skiff_identity::names::Name;
use skiff_identity::orgs::{self, Membership, MembershipError};
use skiff_identity::users::{self, User};
use skiff_identity::{InvitationId, OrgId, Role, UserId, sessions};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgResponse {
    id: OrgId,
    name: String,
    /// RFC 3339.
    created_at: String,
    /// The caller's role.
    role: Role,
}

async fn org_response(services: &Services, principal: &Principal) -> ApiResult<OrgResponse> {
    let org = orgs::get(services.store.as_ref(), &principal.org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organization not found"))?;
    Ok(OrgResponse {
        id: org.id,
        name: org.name,
        created_at: rfc3339(org.created_at),
        role: principal.role,
    })
}

/// The caller's organization.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/current",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    responses((status = 200, body = OrgResponse), (status = 401, body = skiff_http::openapi::ProblemDetails))
)]
pub async fn current(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
) -> ApiResult<Json<OrgResponse>> {
    principal.require_scope("org:read")?;
    Ok(Json(org_response(&services, &principal).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RenameRequest {
    name: String,
}

/// Rename the organization (owner or admin).
#[utoipa::path(
    patch,
    path = "/api/v1/orgs/current",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    request_body = RenameRequest,
    responses(
        (status = 200, body = OrgResponse),
        (status = 403, description = "INSUFFICIENT_ROLE", body = skiff_http::openapi::ProblemDetails),
        (status = 422, body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn rename(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    JsonBody(body): JsonBody<RenameRequest>,
) -> ApiResult<Json<OrgResponse>> {
    principal.require_scope("org:write")?;
    principal.require_role(Role::Admin)?;
    let name = Name::parse(&body.name, "name").map_err(|e| ApiError::validation(vec![e]))?;
    orgs::rename(services.store.as_ref(), &principal.org_id, name.as_str()).await?;
    skiff_identity::audit::record(
        services.store.as_ref(),
        services.clock.as_ref(),
        principal.user_id.as_ref(),
        "ORG_RENAMED",
        Some(&principal.org_id),
        principal.org_id.as_str(),
        serde_json::json!({ "name": name.as_str() }),
    )
    .await;
    Ok(Json(org_response(&services, &principal).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    user_id: UserId,
    email: String,
    full_name: String,
    role: Role,
    /// RFC 3339.
    joined_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersResponse {
    members: Vec<MemberResponse>,
    /// Pass as `cursor` for the next page; absent on the last one.
    next_cursor: Option<String>,
}

/// The organization's members, a page at a time, in user-id order.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/current/members",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    params(
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, body = MembersResponse),
        (status = 400, description = "INVALID_CURSOR", body = skiff_http::openapi::ProblemDetails),
        (status = 401, body = skiff_http::openapi::ProblemDetails),
        (status = 403, body = skiff_http::openapi::ProblemDetails),
        (status = 422, body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn members(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    QueryParams(page): QueryParams<PageQuery>,
) -> ApiResult<Json<MembersResponse>> {
    principal.require_scope("members:read")?;
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("org-members", principal.org_id.as_str()),
        page.limit,
        page.cursor.as_deref(),
    )
    .await?;
    let store = services.store.as_ref();
    let (members, next) =
        orgs::members_page(store, &principal.org_id, pager.limit, pager.position.take()).await?;
    let mut out = vec![];
    for m in members {
        let Some(user) = users::get(store, &m.user_id).await? else {
            continue;
        };
        out.push(member_response(m, &user));
    }
    Ok(Json(MembersResponse {
        members: out,
        next_cursor: pager.next_cursor(next.as_deref()),
    }))
}

/// `limit` and `cursor` of a list request.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

fn member_response(m: Membership, user: &User) -> MemberResponse {
    MemberResponse {
        user_id: m.user_id,
        email: user.email.to_string(),
        full_name: user.full_name.clone(),
        role: m.role,
        joined_at: rfc3339(m.joined_at),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct InviteRequest {
    email: String,
    /// `owner`, `admin` or `member` (default `member`).
    role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    id: InvitationId,
    email: String,
    role: Role,
    /// The user who sent it.
    invited_by: UserId,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    expires_at: String,
}

fn invitation_response(i: Invitation) -> InvitationResponse {
    InvitationResponse {
        id: i.id,
        email: i.email.to_string(),
        role: i.role,
        invited_by: i.invited_by,
        created_at: rfc3339(i.created_at),
        expires_at: rfc3339(i.expires_at),
    }
}

fn parse_role(raw: &str, field: &str) -> Result<Role, FieldError> {
    Role::parse(raw).ok_or_else(|| {
        FieldError::new(
            field,
            "INVALID_ROLE",
            "the role must be one of owner, admin, member",
        )
    })
}

/// The role rule ([`Role::may_assign`]) as answers: 403 for a member, 403
/// `INSUFFICIENT_ROLE` for an admin touching the owner role.
fn may_assign(principal: &Principal, from: Option<Role>, to: Role) -> ApiResult<()> {
    principal.require_role(Role::Admin)?;
    if !principal.role.may_assign(from, to) {
        return Err(ApiError::forbidden(
            "INSUFFICIENT_ROLE",
            "only an owner can grant or change the owner role",
        ));
    }
    Ok(())
}

/// Invite someone by e-mail (owner or admin); the invitation is valid 7 days.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/current/invitations",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    request_body = InviteRequest,
    responses(
        (status = 201, body = InvitationResponse),
        (status = 409, description = "ALREADY_MEMBER", body = skiff_http::openapi::ProblemDetails),
        (status = 422, body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn invite(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    JsonBody(body): JsonBody<InviteRequest>,
) -> ApiResult<(StatusCode, Json<InvitationResponse>)> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    principal.require_scope("members:write")?;
    principal.require_role(Role::Admin)?;
    let inviter_id = principal.require_user()?;
    let mut checks = Checks::new();
    let email = checks.email("email", &body.email);
    let role = checks.check(parse_role(body.role.as_deref().unwrap_or("member"), "role"));
    checks.finish()?;
    let (email, role) = (email.expect("checked"), role.expect("checked"));
    may_assign(&principal, None, role)?;
    if let Some(existing) = users::find_by_email(store, &email).await?
        && orgs::membership(store, &principal.org_id, &existing.id)
            .await?
            .is_some()
    {
        return Err(ApiError::conflict(
            "ALREADY_MEMBER",
            "this person is already a member",
        ));
    }
    let org = orgs::get(store, &principal.org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organization not found"))?;
    let inviter = users::get(store, inviter_id)
        .await?
        .map_or_else(|| "A colleague".to_owned(), |u| u.full_name);
    let (invitation, token) =
        invitations::create(store, clock, &org.id, &email, role, inviter_id).await?;
    mail::send_logged(
        &services,
        mail::invitation_email(
            &services,
            &email,
            &org.name,
            &inviter,
            role.as_str(),
            &token,
        ),
    )
    .await;
    tracing::info!(org = %org.id, invitation = %invitation.id, "invitation sent");
    skiff_identity::audit::record(
        services.store.as_ref(),
        services.clock.as_ref(),
        principal.user_id.as_ref(),
        "MEMBER_INVITED",
        Some(&org.id),
        invitation.id.as_str(),
        serde_json::json!({ "role": role.as_str() }),
    )
    .await;
    Ok((StatusCode::CREATED, Json(invitation_response(invitation))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationsResponse {
    invitations: Vec<InvitationResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// The organization's pending invitations, oldest first (owner or admin).
#[utoipa::path(
    get,
    path = "/api/v1/orgs/current/invitations",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    params(
        ("limit" = Option<usize>, Query, description = "1-200, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, body = InvitationsResponse),
        (status = 400, description = "INVALID_CURSOR", body = skiff_http::openapi::ProblemDetails),
        (status = 403, description = "INSUFFICIENT_ROLE or NOT_A_MEMBER", body = skiff_http::openapi::ProblemDetails),
        (status = 422, description = "limit out of range", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn list_invitations(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    QueryParams(page): QueryParams<PageQuery>,
) -> ApiResult<Json<InvitationsResponse>> {
    principal.require_scope("members:read")?;
    principal.require_role(Role::Admin)?;
    let mut pager = PageRequest::open(
        services.secrets.as_ref(),
        CursorScope::new("org-invitations", principal.org_id.as_str()),
        page.limit,
        page.cursor.as_deref(),
    )
    .await?;
    let (found, next) = invitations::pending(
        services.store.as_ref(),
        &principal.org_id,
        services.clock.unix(),
        pager.limit,
        pager.position.take(),
    )
    .await?;
    Ok(Json(InvitationsResponse {
        invitations: found.into_iter().map(invitation_response).collect(),
        next_cursor: pager.next_cursor(next.as_deref()),
    }))
}

/// Revoke a pending invitation (owner or admin): its link stops working at once
/// (410 `INVITATION_REVOKED`). Revoking it again answers 204 too.
#[utoipa::path(
    delete,
    path = "/api/v1/orgs/current/invitations/{id}",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The invitation's id (`inv_…`)")),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 403, description = "INSUFFICIENT_ROLE or NOT_A_MEMBER", body = skiff_http::openapi::ProblemDetails),
        (status = 404, description = "No such invitation in this organization", body = skiff_http::openapi::ProblemDetails),
        (status = 409, description = "INVITATION_ACCEPTED", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn revoke_invitation(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require_scope("members:write")?;
    principal.require_role(Role::Admin)?;
    let not_found = || ApiError::not_found("invitation not found");
    let id = InvitationId::parse(&id).map_err(|_| not_found())?;
    match invitations::revoke(
        services.store.as_ref(),
        services.clock.as_ref(),
        &principal.org_id,
        &id,
    )
    .await?
    {
        Revoked::Done => {
            tracing::info!(org = %principal.org_id, invitation = %id, "invitation revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        Revoked::AlreadyAccepted => Err(ApiError::conflict(
            "INVITATION_ACCEPTED",
            "this invitation has already been accepted; remove the member instead",
        )),
        Revoked::NotFound => Err(not_found()),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AcceptRequest {
    token: String,
    /// Only for someone without an account: their name.
    full_name: Option<String>,
    /// Only for someone without an account: their password.
    password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    user_id: UserId,
    email: String,
    org_id: OrgId,
    role: Role,
}

/// Accept an invitation. The invited address's account joins the organization; with
/// no account yet, `full_name` and `password` create one (e-mail already verified
/// by the invitation).
#[utoipa::path(
    post,
    path = "/api/v1/orgs/invitations/accept",
    tag = crate::TAG_ORGS,
    request_body = AcceptRequest,
    responses(
        (status = 200, description = "An existing account joined", body = AcceptResponse),
        (status = 201, description = "An account was created and joined", body = AcceptResponse),
        (status = 400, description = "TOKEN_INVALID", body = skiff_http::openapi::ProblemDetails),
        (status = 409, description = "ALREADY_MEMBER", body = skiff_http::openapi::ProblemDetails),
        (status = 410, description = "TOKEN_EXPIRED, TOKEN_USED or INVITATION_REVOKED", body = skiff_http::openapi::ProblemDetails),
        (status = 422, description = "A new account needs full_name and password", body = skiff_http::openapi::ProblemDetails),
        (status = 429, description = "Rate limited per IP and per token; see Retry-After", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn accept_invitation(
    State(services): State<Services>,
    ip: ClientIp,
    principal: Option<Principal>,
    JsonBody(body): JsonBody<AcceptRequest>,
) -> ApiResult<(StatusCode, Json<AcceptResponse>)> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let limits = services.config.rate_limits;
    rate_limit::enforce(
        store,
        clock,
        "accept_invitation_ip",
        &ip.subject(),
        limits.accept_invitation_per_ip,
    )
    .await?;
    rate_limit::enforce(
        store,
        clock,
        "accept_invitation_token",
        body.token.trim(),
        limits.accept_invitation_per_token,
    )
    .await?;
    let signed_in = principal.as_ref().and_then(|p| p.user_id.as_ref());
    let new_account = NewAccount {
        full_name: body.full_name.as_deref().unwrap_or_default(),
        password: body.password.as_deref().unwrap_or_default(),
    };
    let accepted = invitations::accept(&services, &body.token, signed_in, new_account)
        .await
        .map_err(accept_refusal)?;
    let status = if accepted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(AcceptResponse {
            email: accepted.user.email.to_string(),
            user_id: accepted.user.id,
            org_id: accepted.org_id,
            role: accepted.role,
        }),
    ))
}

fn accept_refusal(e: AcceptError) -> ApiError {
    match e {
        AcceptError::Token(why) => token_refusal(why),
        AcceptError::ForAnotherAccount => {
            ApiError::forbidden("INVITATION_FOR_ANOTHER_ACCOUNT", e.to_string())
        }
        AcceptError::Invalid(errors) => ApiError::validation(errors),
        AcceptError::AlreadyMember => ApiError::conflict("ALREADY_MEMBER", e.to_string()),
        AcceptError::EmailTaken => ApiError::conflict("EMAIL_TAKEN", e.to_string()),
        AcceptError::OrgNotFound => ApiError::not_found(e.to_string()),
        AcceptError::Corrupt => ApiError::internal(e),
        AcceptError::Store(e) => e.into(),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangeRoleRequest {
    role: String,
}

fn member_id(raw: &str) -> ApiResult<UserId> {
    UserId::parse(raw).map_err(|_| ApiError::not_found("member not found"))
}

fn membership_error(e: MembershipError) -> ApiError {
    match e {
        MembershipError::NotMember => ApiError::not_found("member not found"),
        MembershipError::LastOwner => ApiError::conflict(
            "LAST_OWNER",
            "the organization must keep at least one owner",
        ),
        MembershipError::AlreadyMember => ApiError::conflict("ALREADY_MEMBER", e.to_string()),
        MembershipError::Store(e) => e.into(),
    }
}

/// Change a member's role. The last owner cannot be demoted (409 `LAST_OWNER`).
#[utoipa::path(
    patch,
    path = "/api/v1/orgs/current/members/{user_id}",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The member's user id")),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, body = MemberResponse),
        (status = 404, description = "No such member in this organization", body = skiff_http::openapi::ProblemDetails),
        (status = 409, description = "LAST_OWNER", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn change_role(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<ChangeRoleRequest>,
) -> ApiResult<Json<MemberResponse>> {
    let store = services.store.as_ref();
    principal.require_scope("members:write")?;
    principal.require_role(Role::Admin)?;
    let user_id = member_id(&user_id)?;
    let role = parse_role(&body.role, "role").map_err(|e| ApiError::validation(vec![e]))?;
    let current = orgs::membership(store, &principal.org_id, &user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("member not found"))?;
    may_assign(&principal, Some(current.role), role)?;
    let updated = orgs::change_role(store, &principal.org_id, &user_id, role)
        .await
        .map_err(membership_error)?;
    skiff_identity::audit::record(
        store,
        services.clock.as_ref(),
        principal.user_id.as_ref(),
        "MEMBER_ROLE_CHANGED",
        Some(&principal.org_id),
        user_id.as_str(),
        serde_json::json!({ "from": current.role, "to": role }),
    )
    .await;
    let user = users::get(store, &user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("member not found"))?;
    Ok(Json(member_response(updated, &user)))
}

/// Remove a member (or leave, for oneself). The last owner cannot be removed.
#[utoipa::path(
    delete,
    path = "/api/v1/orgs/current/members/{user_id}",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed; their sessions in this organization are revoked"),
        (status = 404, description = "No such member in this organization", body = skiff_http::openapi::ProblemDetails),
        (status = 409, description = "LAST_OWNER", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn remove_member(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    principal.require_scope("members:write")?;
    let user_id = member_id(&user_id)?;
    let current = orgs::membership(store, &principal.org_id, &user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("member not found"))?;
    if principal.user_id.as_ref() != Some(&user_id) {
        may_assign(&principal, Some(current.role), Role::Member)?;
    }
    orgs::remove(store, &principal.org_id, &user_id)
        .await
        .map_err(membership_error)?;
    sessions::revoke_in_org(store, clock, &user_id, &principal.org_id).await?;
    tracing::info!(org = %principal.org_id, user = %user_id, "member removed");
    skiff_identity::audit::record(
        store,
        clock,
        principal.user_id.as_ref(),
        "MEMBER_REMOVED",
        Some(&principal.org_id),
        user_id.as_str(),
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EraseRequest {
    /// The organization's name, exactly: the confirmation.
    confirm: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EraseAccepted {
    org_id: OrgId,
    /// `requested`, `purging` or `complete`.
    status: String,
    /// RFC 3339.
    requested_at: String,
}

/// Delete the organization and all of its data (owner only; `confirm` is the
/// org's name). Licenses are deactivated and the subscription cancelled at the
/// payment provider, then a job purges every item and blob of the org; members
/// left without any org lose their account. Allowed in every service mode.
#[utoipa::path(
    delete,
    path = "/api/v1/orgs/current",
    tag = crate::TAG_ORGS,
    security(("bearer" = [])),
    request_body = EraseRequest,
    responses(
        (status = 202, body = EraseAccepted),
        (status = 401, body = skiff_http::openapi::ProblemDetails),
        (status = 403, description = "INSUFFICIENT_ROLE: owners only", body = skiff_http::openapi::ProblemDetails),
        (status = 404, body = skiff_http::openapi::ProblemDetails),
        (status = 415, body = skiff_http::openapi::ProblemDetails),
        (status = 422, description = "`confirm` is not the org's name", body = skiff_http::openapi::ProblemDetails),
    )
)]
pub async fn erase(
    State(services): State<Services>,
    CurrentMember(principal): CurrentMember,
    JsonBody(body): JsonBody<EraseRequest>,
) -> ApiResult<(StatusCode, Json<EraseAccepted>)> {
    use skiff_identity::erasure::{self, EraseError};
    principal.require_scope("org:write")?;
    principal.require_user()?;
    principal.require_role(Role::Owner)?;
    let erasure = erasure::request(&services, &principal.org_id, &body.confirm)
        .await
        .map_err(|e| match e {
            EraseError::NotFound => ApiError::not_found("organization not found"),
            EraseError::NotConfirmed => {
                ApiError::invalid_field("confirm", "NOT_CONFIRMED", e.to_string())
            }
            EraseError::Store(e) => e.into(),
            EraseError::Queue(e) => e.into(),
        })?;
    let status = match erasure.status {
        erasure::Status::Requested => "requested",
        erasure::Status::Purging => "purging",
        erasure::Status::Complete => "complete",
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(EraseAccepted {
            org_id: erasure.org_id,
            status: status.into(),
            requested_at: rfc3339(erasure.requested_at),
        }),
    ))
}
