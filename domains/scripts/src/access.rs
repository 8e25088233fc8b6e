//! Who may do what in an app. Org owners and admins are implicitly every app's
//! `app_admin`; other members act in an app only with a role granted there
//! (`viewer` reads, `editor` writes scripts and routes, `app_admin` deletes and
//! manages members, domains and triggers). An app a caller has no role in does
//! not exist for them (404). API keys act with their creator's roles, capped by
//! their scopes, and a key bound to one app reaches no other.

use crate::keys;
use serde::{Deserialize, Serialize};
use skiff_core::ids::{ApiKeyId, AppId, OrgId, UserId};
use skiff_core::ports::store::{ItemStore, StoreError};
use skiff_identity::Role;
use std::fmt;

/// A member's role in one app, ordered by power.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AppRole {
    Viewer,
    Editor,
    AppAdmin,
}

impl AppRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AppRole::Viewer => "viewer",
            AppRole::Editor => "editor",
            AppRole::AppAdmin => "app_admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "viewer" => Some(AppRole::Viewer),
            "editor" => Some(AppRole::Editor),
            "app_admin" => Some(AppRole::AppAdmin),
            _ => None,
        }
    }
}

impl fmt::Display for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The caller of a scripts operation, as the edge authenticated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub org_id: OrgId,
    /// The person acting: the token's user, or an API key's creator.
    pub user_id: Option<UserId>,
    pub api_key_id: Option<ApiKeyId>,
    /// The org role as the store has it now.
    pub org_role: Role,
    /// The credential carries `scripts:write` (else it only reads).
    pub can_write: bool,
    /// An API key bound to one app.
    pub bound_app: Option<AppId>,
}

impl Actor {
    /// Org owners and admins manage every app of the org.
    pub fn is_org_admin(&self) -> bool {
        self.org_role.at_least(Role::Admin)
    }

    /// Whether the credential may reach this app at all.
    pub fn reaches(&self, app: &AppId) -> bool {
        self.bound_app.as_ref().is_none_or(|b| b == app)
    }

    /// The run's principal, as scripts see it.
    pub fn principal(&self, role: AppRole) -> crate::context::Principal {
        crate::context::Principal {
            user_id: self.user_id.clone(),
            api_key_id: self.api_key_id.as_ref().map(|k| k.to_string()),
            role: role.as_str().to_owned(),
        }
    }
}

/// A member's grant in one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub user_id: UserId,
    pub role: AppRole,
    pub added_at: i64,
}

/// The role `actor` has in `app` now, or `None` (the app is invisible to them).
pub async fn role_in(
    store: &dyn ItemStore,
    actor: &Actor,
    app: &AppId,
) -> Result<Option<AppRole>, StoreError> {
    if !actor.reaches(app) {
        return Ok(None);
    }
    let base = if actor.is_org_admin() {
        Some(AppRole::AppAdmin)
    } else {
        match &actor.user_id {
            Some(user) => store
                .get(&keys::member(&actor.org_id, app, user))
                .await?
                .map(|i| i.parse::<Membership>())
                .transpose()?
                .map(|m| m.role),
            None => None,
        }
    };
    Ok(base.map(|r| {
        if actor.can_write {
            r
        } else {
            r.min(AppRole::Viewer)
        }
    }))
}
