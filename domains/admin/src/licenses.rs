//! Every license, newest first, by status; a search for one license key, or for the
//! licenses of an owner's e-mail (or of an org or license id); an operator's
//! suspension and reinstatement (licensing's rules: an overlay that billing's
//! events never lift, see `skiff_licensing::lifecycle::operator_suspend`).

use crate::{AdminError, AdminResult, Operator, scan};
use futures::future::try_join_all;
use serde::Serialize;
use skiff_core::email::EmailAddress;
use skiff_core::ids::{LicenseId, OrgId};
use skiff_core::ports::store::{Item, Query};
use skiff_core::services::Services;
use skiff_identity::roles::Role;
use skiff_identity::{orgs, users};
use skiff_licensing::keys::LicenseKey;
use skiff_licensing::lifecycle;
use skiff_licensing::model::{DIRECTORY_PK, License, LicenseRef, Status};
use skiff_licensing::repo;

/// A license as operators see it: the key masked (operators search by it, they do
/// not need it shown), the owners' e-mail, the seat counter.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LicenseSummary {
    pub id: LicenseId,
    pub org_id: OrgId,
    pub org_name: Option<String>,
    pub owner_email: Option<String>,
    pub key: String,
    pub plan_id: String,
    /// As validation answers now (`suspended` while an operator holds it).
    pub status: &'static str,
    pub held: bool,
    /// -1: unlimited.
    pub max_seats: i64,
    /// Seat items on the license (live, or expired and not yet reclaimed).
    pub seats_used: i64,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// What the search box names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseQuery {
    Key(LicenseKey),
    OwnerEmail(EmailAddress),
    Org(OrgId),
    License(LicenseId),
}

impl LicenseQuery {
    /// A license key, an e-mail address, an `org_…` or a `lic_…` id.
    pub fn parse(raw: &str) -> AdminResult<Self> {
        let raw = raw.trim();
        if let Ok(id) = LicenseId::parse(raw) {
            return Ok(Self::License(id));
        }
        if let Ok(id) = OrgId::parse(raw) {
            return Ok(Self::Org(id));
        }
        if raw.contains('@') {
            return EmailAddress::parse(raw).map(Self::OwnerEmail).map_err(|_| {
                AdminError::invalid("q", "INVALID_EMAIL", "`q` is not a valid e-mail address")
            });
        }
        LicenseKey::parse(raw).map(Self::Key).map_err(|_| {
            AdminError::invalid(
                "q",
                "UNRECOGNIZED_QUERY",
                "`q` is a license key, an owner's e-mail address, an org id or a license id",
            )
        })
    }
}

/// What the list keeps.
#[derive(Debug, Clone, Default)]
pub struct LicenseFilter {
    pub status: Option<Status>,
    pub q: Option<LicenseQuery>,
}

async fn summary(s: &Services, l: License) -> AdminResult<LicenseSummary> {
    let store = s.store.as_ref();
    let org_name = orgs::get(store, &l.org_id).await?.map(|o| o.name);
    let owner = orgs::members(store, &l.org_id)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .min_by_key(|m| m.joined_at);
    let owner_email = match owner {
        Some(m) => users::get(store, &m.user_id)
            .await?
            .map(|u| u.email.as_str().to_owned()),
        None => None,
    };
    let now = s.clock.unix();
    let key = LicenseKey::parse(&l.key).map_or_else(|_| "****".to_owned(), |k| k.masked());
    Ok(LicenseSummary {
        status: l.effective_status(now).as_str(),
        held: l.operator_hold.is_some(),
        id: l.license_id,
        org_id: l.org_id,
        org_name,
        owner_email,
        key,
        plan_id: l.plan_id,
        max_seats: l.max_seats,
        seats_used: l.seats_used,
        issued_at: l.issued_at,
        expires_at: l.expires_at,
    })
}

/// One page of licenses. A search answers every match at once (they are few); the
/// directory pages newest first.
pub async fn list(
    s: &Services,
    filter: &LicenseFilter,
    limit: usize,
    position: Option<String>,
) -> AdminResult<(Vec<LicenseSummary>, Option<String>)> {
    let now = s.clock.unix();
    let keep = |l: &License| filter.status.is_none_or(|st| l.effective_status(now) == st);
    let Some(q) = &filter.q else {
        return scan(
            s.store.as_ref(),
            Query::gsi1(DIRECTORY_PK).descending().after(position),
            limit,
            |items: Vec<Item>| async move {
                let mut kept = vec![];
                for item in &items {
                    let l: License = item.parse()?;
                    if keep(&l) {
                        kept.push(l);
                    }
                }
                try_join_all(kept.into_iter().map(|l| summary(s, l))).await
            },
        )
        .await;
    };
    let mut found = searched(s, q).await?;
    found.retain(|l| keep(l));
    found.sort_by(|a, b| b.license_id.cmp(&a.license_id));
    let rows = try_join_all(found.into_iter().map(|l| summary(s, l))).await?;
    Ok((rows, None))
}

async fn searched(s: &Services, q: &LicenseQuery) -> AdminResult<Vec<License>> {
    let store = s.store.as_ref();
    Ok(match q {
        LicenseQuery::Key(key) => repo::by_key(store, key).await?.into_iter().collect(),
        LicenseQuery::License(id) => by_id(s, id).await?.into_iter().collect(),
        LicenseQuery::Org(org) => repo::list(store, org).await?,
        LicenseQuery::OwnerEmail(email) => {
            let Some(user) = users::find_by_email(store, email).await? else {
                return Ok(vec![]);
            };
            let mut out = vec![];
            for m in orgs::orgs_of(store, &user.id).await? {
                if m.role == Role::Owner {
                    out.extend(repo::list(store, &m.org_id).await?);
                }
            }
            out
        }
    })
}

/// A license by id, whatever its org (the directory names it).
pub async fn by_id(s: &Services, id: &LicenseId) -> AdminResult<Option<License>> {
    let page = s
        .store
        .query(Query::gsi1(DIRECTORY_PK).prefix(id.as_str()).limit(1))
        .await?;
    Ok(match page.items.first() {
        Some(item) => Some(item.parse()?),
        None => None,
    })
}

async fn reference(s: &Services, id: &LicenseId) -> AdminResult<LicenseRef> {
    by_id(s, id)
        .await?
        .map(|l| l.reference())
        .ok_or_else(|| AdminError::NotFound("no such license".into()))
}

/// Suspend a license: validation answers `SUSPENDED`, its sessions end, no seat is
/// handed out, until an operator reinstates it. Licensing audits it with the
/// operator's id.
pub async fn suspend(
    s: &Services,
    operator: &Operator,
    id: &LicenseId,
) -> AdminResult<LicenseSummary> {
    let lic = reference(s, id).await?;
    let done =
        lifecycle::operator_suspend(s.store.as_ref(), s.clock.as_ref(), &lic, &operator.user_id)
            .await?
            .ok_or_else(|| AdminError::NotFound("no such license".into()))?;
    if done.changed {
        tracing::info!(operator = %operator.user_id, license = %id, sessions_ended = done.sessions_ended, "license suspended by an operator");
    }
    summary(s, done.license).await
}

/// Lift an operator's suspension.
pub async fn reinstate(
    s: &Services,
    operator: &Operator,
    id: &LicenseId,
) -> AdminResult<LicenseSummary> {
    let lic = reference(s, id).await?;
    let done =
        lifecycle::operator_reinstate(s.store.as_ref(), s.clock.as_ref(), &lic, &operator.user_id)
            .await?
            .ok_or_else(|| AdminError::NotFound("no such license".into()))?;
    if done.changed {
        tracing::info!(operator = %operator.user_id, license = %id, "license reinstated by an operator");
    }
    summary(s, done.license).await
}
