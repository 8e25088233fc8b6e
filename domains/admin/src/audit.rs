//! The audit log across domains: every entry any domain wrote, read from the
//! secondary index by UTC day (`skiff_core::audit`), newest first, filtered by org,
//! actor, action and a time range; and the record of every operator action.

use crate::{AdminError, AdminResult, MAX_PAGES_PER_REQUEST, Operator};
use serde::Serialize;
use serde_json::Value;
use skiff_core::audit::{self as core_audit, ATTR_DOMAIN, ATTR_ORG, Entry};
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{Item, Query, SortKey};
use skiff_core::services::Services;

/// The widest range one query may span (the index is read day by day).
pub const MAX_RANGE_DAYS: i64 = 400;
/// The range when none is given.
pub const DEFAULT_RANGE_DAYS: i64 = 30;
const DAY: i64 = 86_400;

/// One entry, whichever domain wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: String,
    pub at: i64,
    /// `identity`, `billing`, `licensing` or `admin`.
    pub domain: String,
    pub org_id: Option<String>,
    pub actor: String,
    pub action: String,
    /// What it happened to: a user, org, license or message id, or the payment
    /// provider's event id.
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub detail: Value,
}

impl AuditRecord {
    fn from_item(item: &Item) -> Option<Self> {
        let id = item
            .gsi1
            .as_ref()
            .and_then(|g| g.sk.split_once('#'))
            .map(|(_, id)| id.to_owned())?;
        let text = |name: &str| item.get_str(name).map(str::to_owned);
        Some(Self {
            id,
            at: item.get_i64("at")?,
            domain: text(ATTR_DOMAIN).unwrap_or_default(),
            org_id: text(ATTR_ORG),
            actor: text("actor").unwrap_or_default(),
            action: text("action").unwrap_or_default(),
            target: text("target")
                .or_else(|| text("license_id"))
                .or_else(|| text("event_id")),
            detail: item.attrs.get("detail").cloned().unwrap_or(Value::Null),
        })
    }
}

/// What the log keeps.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org: Option<OrgId>,
    /// Exact actor (`operator:usr_…`, `user:usr_…`, `billing`, ...).
    pub actor: Option<String>,
    /// Exact action (`USER_SUSPENDED`, `SEAT_ACQUIRED`, ...).
    pub action: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, inclusive.
    pub until: Option<i64>,
}

impl AuditFilter {
    fn keeps(&self, r: &AuditRecord) -> bool {
        self.org
            .as_ref()
            .is_none_or(|o| r.org_id.as_deref() == Some(o.as_str()))
            && self.actor.as_deref().is_none_or(|a| r.actor == a)
            && self.action.as_deref().is_none_or(|a| r.action == a)
    }

    /// The range as unix seconds: `until` defaults to now, `since` to
    /// [`DEFAULT_RANGE_DAYS`] before it.
    pub fn range(&self, now: i64) -> AdminResult<(i64, i64)> {
        let until = self.until.unwrap_or(now);
        let since = self.since.unwrap_or(until - DEFAULT_RANGE_DAYS * DAY);
        if since > until {
            return Err(AdminError::invalid(
                "since",
                "RANGE_REVERSED",
                "`since` must not be after `until`",
            ));
        }
        if until - since > MAX_RANGE_DAYS * DAY {
            return Err(AdminError::invalid(
                "since",
                "RANGE_TOO_WIDE",
                format!("a query spans at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok((since, until))
    }
}

/// One page of the log, newest first, and the position to go on from: the day
/// being read and the store's cursor within it.
pub async fn list(
    s: &Services,
    filter: &AuditFilter,
    limit: usize,
    position: Option<String>,
) -> AdminResult<(Vec<AuditRecord>, Option<String>)> {
    let (since, until) = filter.range(s.clock.unix())?;
    let limit = limit.max(1);
    let first_day = since.div_euclid(DAY);
    let (mut day, mut cursor) = match position.as_deref().map(parse_position) {
        Some(Some((day, cursor))) if (first_day..=until.div_euclid(DAY)).contains(&day) => {
            (day, cursor)
        }
        Some(_) => {
            return Err(AdminError::invalid(
                "cursor",
                "INVALID_CURSOR",
                "bad position",
            ));
        }
        None => (until.div_euclid(DAY), None),
    };
    let mut out = vec![];
    let mut reads = 0;
    while day >= first_day && reads < MAX_PAGES_PER_REQUEST && out.len() < limit {
        reads += 1;
        let page = s
            .store
            .query(Query {
                sort: SortKey::Between(format!("{since:012}"), format!("{until:012}~")),
                limit: Some(limit - out.len()),
                ..Query::gsi1(format!(
                    "{}{}",
                    core_audit::INDEX_PREFIX,
                    core_audit::day_of(day * DAY)
                ))
                .descending()
                .after(cursor.take())
            })
            .await?;
        out.extend(
            page.items
                .iter()
                .filter_map(AuditRecord::from_item)
                .filter(|r| filter.keeps(r)),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => day -= 1,
        }
    }
    let next = (day >= first_day).then(|| format!("{day}|{}", cursor.unwrap_or_default()));
    Ok((out, next))
}

fn parse_position(raw: &str) -> Option<(i64, Option<String>)> {
    let (day, cursor) = raw.split_once('|')?;
    let day = day.parse().ok()?;
    Some((day, (!cursor.is_empty()).then(|| cursor.to_owned())))
}

/// Record an operator's action (after it took effect; a failed write is logged).
pub async fn record_action(
    s: &Services,
    operator: &Operator,
    action: &str,
    org: Option<OrgId>,
    target: &str,
    detail: Value,
) {
    let mut entry = Entry::new(s.clock.as_ref(), "admin", operator.actor(), action)
        .target(target)
        .detail(detail);
    if let Some(org) = &org {
        entry = entry.org(org);
    }
    tracing::info!(operator = %operator.user_id, action, target, "operator action");
    core_audit::record_logged(s.store.as_ref(), &entry).await;
}
