//! Every account, newest first, with search (e-mail, name, company) and a status
//! filter; one account with its memberships; suspension and its lifting (identity's
//! rules, see `skiff_identity::suspension`).

use crate::audit::record_action;
use crate::{AdminError, AdminResult, Operator, matches, scan};
use serde::Serialize;
use serde_json::json;
use skiff_core::ids::{OrgId, UserId};
use skiff_core::ports::store::{Item, Query};
use skiff_core::services::Services;
use skiff_identity::roles::Role;
use skiff_identity::users::{self, DIRECTORY_PK, User};
use skiff_identity::{orgs, sessions, suspension};

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Verified and not suspended.
    Active,
    /// Has not clicked the verification link yet.
    Unverified,
    /// An operator suspended it.
    Suspended,
}

impl UserStatus {
    pub fn of(user: &User) -> Self {
        if user.is_suspended() {
            UserStatus::Suspended
        } else if user.email_verified {
            UserStatus::Active
        } else {
            UserStatus::Unverified
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "unverified" => Some(Self::Unverified),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// An account as operators see it (never its password hash).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub full_name: String,
    pub company: Option<String>,
    pub status: UserStatus,
    pub email_verified: bool,
    pub platform_admin: bool,
    pub created_at: i64,
    pub suspended_at: Option<i64>,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            email: u.email.as_str().to_owned(),
            full_name: u.full_name.clone(),
            company: u.company.clone(),
            status: UserStatus::of(u),
            email_verified: u.email_verified,
            platform_admin: u.platform_admin,
            created_at: u.created_at,
            suspended_at: u.suspended_at,
        }
    }
}

/// What the list keeps.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub status: Option<UserStatus>,
    /// Lowercased search text.
    pub q: Option<String>,
}

impl UserFilter {
    fn keeps(&self, u: &User) -> bool {
        self.status.is_none_or(|s| s == UserStatus::of(u))
            && self.q.as_deref().is_none_or(|q| {
                matches(u.email.as_str(), q)
                    || matches(&u.full_name, q)
                    || u.company.as_deref().is_some_and(|c| matches(c, q))
                    || u.id.as_str() == q
            })
    }
}

/// One page of the user directory, newest first.
pub async fn list(
    s: &Services,
    filter: &UserFilter,
    limit: usize,
    position: Option<String>,
) -> AdminResult<(Vec<UserSummary>, Option<String>)> {
    scan(
        s.store.as_ref(),
        Query::gsi1(DIRECTORY_PK).descending().after(position),
        limit,
        |items: Vec<Item>| async move {
            let mut out = vec![];
            for item in &items {
                let user: User = item.parse()?;
                if filter.keeps(&user) {
                    out.push(UserSummary::from(&user));
                }
            }
            Ok(out)
        },
    )
    .await
}

/// One membership of an account, with the org's name.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    pub org_id: OrgId,
    pub org_name: Option<String>,
    pub role: Role,
    pub joined_at: i64,
}

/// An account's page.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserSummary,
    pub default_org: OrgId,
    pub memberships: Vec<MembershipView>,
    /// Sessions (refresh-token families) neither revoked nor expired.
    pub active_sessions: usize,
}

async fn load(s: &Services, id: &UserId) -> AdminResult<User> {
    users::get(s.store.as_ref(), id)
        .await?
        .ok_or_else(|| AdminError::NotFound("no such user".into()))
}

pub async fn detail(s: &Services, id: &UserId) -> AdminResult<UserDetail> {
    let store = s.store.as_ref();
    let user = load(s, id).await?;
    let mut memberships = vec![];
    for m in orgs::orgs_of(store, id).await? {
        let org_name = orgs::get(store, &m.org_id).await?.map(|o| o.name);
        memberships.push(MembershipView {
            org_id: m.org_id,
            org_name,
            role: m.role,
            joined_at: m.joined_at,
        });
    }
    let active_sessions = active_sessions(s, id).await?;
    Ok(UserDetail {
        user: UserSummary::from(&user),
        default_org: user.default_org.clone(),
        memberships,
        active_sessions,
    })
}

async fn active_sessions(s: &Services, id: &UserId) -> AdminResult<usize> {
    let mut cursor = None;
    let mut n = 0;
    loop {
        let page = s
            .store
            .query(
                Query::gsi1(format!("USER#{id}"))
                    .prefix("SESSION#")
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            let session: sessions::Session = item.parse()?;
            if session.revoked_at.is_none() {
                n += 1;
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(n),
        }
    }
}

/// Suspend an account (not one's own: an operator locked out of the console could
/// not undo it).
pub async fn suspend(s: &Services, operator: &Operator, id: &UserId) -> AdminResult<UserDetail> {
    if *id == operator.user_id {
        return Err(AdminError::Conflict {
            code: "CANNOT_SUSPEND_SELF",
            detail: "an operator cannot suspend their own account".into(),
        });
    }
    let done = suspension::suspend(s.store.as_ref(), s.clock.as_ref(), id)
        .await
        .map_err(suspension_error)?;
    if done.changed {
        record_action(
            s,
            operator,
            "USER_SUSPENDED",
            Some(done.user.default_org.clone()),
            id.as_str(),
            json!({
                "email": done.user.email.as_str(),
                "sessions_revoked": done.sessions_revoked,
                "api_keys_deleted": done.api_keys_deleted,
            }),
        )
        .await;
    }
    detail(s, id).await
}

/// Lift a suspension.
pub async fn restore(s: &Services, operator: &Operator, id: &UserId) -> AdminResult<UserDetail> {
    let (user, changed) = suspension::restore(s.store.as_ref(), id)
        .await
        .map_err(suspension_error)?;
    if changed {
        record_action(
            s,
            operator,
            "USER_RESTORED",
            Some(user.default_org.clone()),
            id.as_str(),
            json!({ "email": user.email.as_str() }),
        )
        .await;
    }
    detail(s, id).await
}

fn suspension_error(e: suspension::SuspensionError) -> AdminError {
    match e {
        suspension::SuspensionError::NotFound => AdminError::NotFound("no such user".into()),
        suspension::SuspensionError::Store(e) => e.into(),
    }
}
