//! Every org, newest first, with search (name or id) and filters by mode and plan;
//! an org's page (members, subscription, licenses with seat use, usage against each
//! entitlement); an operator's hold and its release (billing's service profile).

use crate::audit::record_action;
use crate::{AdminError, AdminResult, Operator, matches, scan};
use futures::future::try_join_all;
use serde::Serialize;
use serde_json::json;
use skiff_billing::service::{self as billing, SubscriptionView};
use skiff_billing::service_profile::{self, Mode, OperatorHold, ServiceProfile};
use skiff_core::ids::{LicenseId, OrgId, UserId};
use skiff_core::ports::store::{Item, Query};
use skiff_core::services::Services;
use skiff_identity::orgs::{self, DIRECTORY_PK, Org};
use skiff_identity::roles::Role;
use skiff_identity::users;
use skiff_licensing::{repo as licenses, seats};

/// An org as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrgSummary {
    pub id: OrgId,
    pub name: String,
    pub created_at: i64,
    /// The plan (the service profile's tier).
    pub plan: String,
    /// As it applies now: a held org is `read_only`.
    pub mode: &'static str,
    pub reason: Option<&'static str>,
    pub held: bool,
    /// `none` when the org never subscribed.
    pub subscription_status: &'static str,
}

/// What the list keeps.
#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    /// Lowercased search text (name or id).
    pub q: Option<String>,
    pub mode: Option<Mode>,
    pub plan: Option<String>,
}

fn status_name(sub: Option<&skiff_billing::subscription::Subscription>) -> &'static str {
    use skiff_billing::subscription::Status;
    match sub.map(|s| s.status) {
        None => "none",
        Some(Status::Trialing) => "trialing",
        Some(Status::Active) => "active",
        Some(Status::PastDue) => "past_due",
        Some(Status::Canceled) => "canceled",
    }
}

async fn summary(s: &Services, org: Org) -> AdminResult<OrgSummary> {
    let profile = service_profile::load(s.store.as_ref(), &org.id).await?;
    let sub = billing::subscription_of(s, &org.id).await?;
    Ok(summarize(org, &profile, sub.as_ref()))
}

fn summarize(
    org: Org,
    profile: &ServiceProfile,
    sub: Option<&skiff_billing::subscription::Subscription>,
) -> OrgSummary {
    let effective = profile.effective();
    OrgSummary {
        id: org.id,
        name: org.name,
        created_at: org.created_at,
        plan: effective.tier.clone(),
        mode: effective.mode.as_str(),
        reason: effective.reason.map(|r| r.as_str()),
        held: profile.hold.is_some(),
        subscription_status: status_name(sub),
    }
}

/// One page of the org directory, newest first.
pub async fn list(
    s: &Services,
    filter: &OrgFilter,
    limit: usize,
    position: Option<String>,
) -> AdminResult<(Vec<OrgSummary>, Option<String>)> {
    scan(
        s.store.as_ref(),
        Query::gsi1(DIRECTORY_PK).descending().after(position),
        limit,
        |items: Vec<Item>| async move {
            let mut candidates = vec![];
            for item in &items {
                let org: Org = item.parse()?;
                if filter
                    .q
                    .as_deref()
                    .is_none_or(|q| matches(&org.name, q) || org.id.as_str() == q)
                {
                    candidates.push(org);
                }
            }
            let rows = try_join_all(candidates.into_iter().map(|o| summary(s, o))).await?;
            Ok(rows
                .into_iter()
                .filter(|r| {
                    filter.mode.is_none_or(|m| r.mode == m.as_str())
                        && filter.plan.as_deref().is_none_or(|p| r.plan == p)
                })
                .collect())
        },
    )
    .await
}

/// A member with their account's e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: UserId,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub role: Role,
    pub joined_at: i64,
}

/// A license of the org with its live seat use.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrgLicense {
    pub id: LicenseId,
    pub plan_id: String,
    pub status: &'static str,
    pub held: bool,
    /// -1: unlimited.
    pub max_seats: i64,
    /// Live sessions now.
    pub seats_in_use: i64,
    pub expires_at: i64,
}

/// Use of one plan entitlement.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Usage {
    pub entitlement: &'static str,
    /// -1: unlimited.
    pub limit: i64,
    pub used: i64,
}

/// The service profile as it applies, with the hold.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProfileView {
    pub tier: String,
    pub mode: &'static str,
    pub reason: Option<&'static str>,
    pub trialing: bool,
    #[schema(value_type = Option<Object>)]
    pub hold: Option<OperatorHold>,
}

/// An org's page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgDetail {
    pub id: OrgId,
    pub name: String,
    pub created_at: i64,
    pub profile: ProfileView,
    #[schema(value_type = Object)]
    pub subscription: SubscriptionView,
    pub members: Vec<MemberView>,
    pub licenses: Vec<OrgLicense>,
    pub usage: Vec<Usage>,
}

async fn load(s: &Services, id: &OrgId) -> AdminResult<Org> {
    orgs::get(s.store.as_ref(), id)
        .await?
        .ok_or_else(|| AdminError::NotFound("no such organization".into()))
}

pub async fn detail(s: &Services, id: &OrgId) -> AdminResult<OrgDetail> {
    let store = s.store.as_ref();
    let org = load(s, id).await?;
    let stored = service_profile::load(store, id).await?;
    let profile = stored.effective();
    let subscription = billing::subscription_view(s, id)
        .await
        .map_err(|e| match e {
            skiff_billing::BillingError::Store(e) => AdminError::Store(e),
            other => AdminError::Internal(format!("billing: {other}")),
        })?;
    let mut members = vec![];
    for m in orgs::members(store, id).await? {
        let user = users::get(store, &m.user_id).await?;
        members.push(MemberView {
            email: user.as_ref().map(|u| u.email.as_str().to_owned()),
            full_name: user.map(|u| u.full_name),
            user_id: m.user_id,
            role: m.role,
            joined_at: m.joined_at,
        });
    }
    let now = s.clock.unix();
    let mut org_licenses = vec![];
    let mut seats_live = 0;
    for l in licenses::list(store, id).await? {
        let usage = seats::usage(store, s.clock.as_ref(), &l.reference()).await?;
        let status = l.effective_status(now);
        if status == skiff_licensing::model::Status::Active {
            seats_live += usage.live;
        }
        org_licenses.push(OrgLicense {
            id: l.license_id.clone(),
            plan_id: l.plan_id.clone(),
            status: status.as_str(),
            held: l.operator_hold.is_some(),
            max_seats: l.max_seats,
            seats_in_use: usage.live,
            expires_at: l.expires_at,
        });
    }
    let catalog = &skiff_billing::settings(s).catalog;
    let mut usage = vec![];
    for (name, limit) in profile.entitlements(catalog).all() {
        let used = match name {
            "max_seats" => seats_live,
            // A rate is a limit per minute, not something used up.
            "rate_limit_per_min" => continue,
            _ => store
                .get(&skiff_billing::keys::quota(id, name))
                .await?
                .and_then(|i| i.get_i64("used"))
                .unwrap_or(0),
        };
        usage.push(Usage {
            entitlement: name,
            limit: limit.0,
            used,
        });
    }
    Ok(OrgDetail {
        id: org.id,
        name: org.name,
        created_at: org.created_at,
        profile: ProfileView {
            tier: profile.tier.clone(),
            mode: profile.mode.as_str(),
            reason: profile.reason.map(|r| r.as_str()),
            trialing: profile.trialing,
            hold: stored.hold,
        },
        subscription,
        members,
        licenses: org_licenses,
        usage,
    })
}

/// Put the org on hold: its writes answer 423 `operator_hold` until released,
/// whatever billing does meanwhile.
pub async fn hold(
    s: &Services,
    operator: &Operator,
    id: &OrgId,
    note: Option<String>,
) -> AdminResult<OrgDetail> {
    load(s, id).await?;
    let now = s.clock.unix();
    let (_, changed) = service_profile::set_hold(
        s.store.as_ref(),
        id,
        Some(OperatorHold {
            since: now,
            by: operator.user_id.clone(),
            note: note.clone(),
        }),
        now,
    )
    .await?;
    if changed {
        record_action(
            s,
            operator,
            "ORG_HELD",
            Some(id.clone()),
            id.as_str(),
            json!({ "note": note }),
        )
        .await;
    }
    detail(s, id).await
}

/// Release an operator's hold: the org is again what billing made it.
pub async fn release(s: &Services, operator: &Operator, id: &OrgId) -> AdminResult<OrgDetail> {
    load(s, id).await?;
    let (_, changed) =
        service_profile::set_hold(s.store.as_ref(), id, None, s.clock.unix()).await?;
    if changed {
        record_action(
            s,
            operator,
            "ORG_RELEASED",
            Some(id.clone()),
            id.as_str(),
            serde_json::Value::Null,
        )
        .await;
    }
    detail(s, id).await
}
