//! The business in figures, computed from Skiff's own records: billing's
//! subscriptions directory (plan, status, quantity, with the catalog's prices),
//! licensing's license directory and seat expiry index, identity's user directory.
//! Money is an integer count of the catalog currency's minor unit; rates are
//! fractions from 0 to 1.
//!
//! Definitions (each exact over the records):
//! * `mrr`: the monthly price × quantity of every `active` or `past_due`
//!   subscription; a yearly plan counts a twelfth of its price (the yearly sum is
//!   divided once, rounded to the nearest minor unit). `arr` = 12 × `mrr`.
//! * `churn_rate_30d`: paid subscriptions that ended in the last 30 days, over those
//!   plus the subscriptions paying now (`active` + `past_due`).
//! * `trial_conversion_rate`: of subscriptions whose trial is over (no longer
//!   `trialing`), the fraction that ever paid.
//! * `seats_total`: seats of active licenses that have a seat limit (unlimited ones
//!   count in no seat figure); `seats_in_use`: their live sessions (leases not run
//!   out); `license_utilization` = in use / total.
//! * `new_signups_this_month`: accounts created since the 1st of the UTC month.
//!
//! Computing the figures reads every subscription and license, so it grows with
//! the business. Requests are served the figures the scheduler stored last
//! ([`REFRESH_JOB`], each scheduler run), or computed now when those are older
//! than [`MAX_AGE_SECS`] or `fresh` is asked for; `as_of` says when they are of.
//!
//! A scheduler job ([`SNAPSHOT_JOB`]) writes one snapshot per UTC day, so the
//! series survive later changes to the records; [`series`] reads them.

use crate::{AdminError, AdminResult};
use serde::{Deserialize, Serialize};
use skiff_billing::catalog::Interval;
use skiff_billing::service as billing;
use skiff_billing::subscription::Status as SubStatus;
use skiff_core::audit::day_of;
use skiff_core::ports::store::{Cmp, Condition, ItemStore, Key, NewItem, Query, SortKey};
use skiff_core::services::Services;
use skiff_licensing::model::{LicenseRef, SWEEP_SHARDS, Seat, Status as LicStatus};
use std::collections::HashSet;

/// The scheduler job that writes the daily snapshot.
pub const SNAPSHOT_JOB: &str = "admin_daily_snapshot";
/// Partition of the daily snapshots (`<yyyy-mm-dd>` sort keys).
pub const SNAPSHOT_PK: &str = "ANALYTICS#DAILY";
/// The scheduler job that stores the figures requests are served.
pub const REFRESH_JOB: &str = "admin_refresh_figures";
/// Stored figures older than this are computed again on request: a little over
/// the scheduler's period on AWS (5 minutes), so while it runs no request waits
/// for a computation.
pub const MAX_AGE_SECS: i64 = 360;
/// Most days a series spans.
pub const MAX_SERIES_DAYS: u32 = 366;

const DAY: i64 = 86_400;
/// Store page size of the directory reads.
const PAGE: usize = 1000;

/// The figures at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    /// Monthly recurring revenue, in minor units of `currency`.
    pub mrr: i64,
    /// Annual run rate: 12 × `mrr`.
    pub arr: i64,
    pub active_subscriptions: u64,
    pub trialing: u64,
    pub past_due: u64,
    /// 0–1.
    pub churn_rate_30d: f64,
    pub new_signups_this_month: u64,
    /// 0–1.
    pub trial_conversion_rate: f64,
    /// Live sessions / seats of active licenses, 0–1.
    pub license_utilization: f64,
    pub seats_in_use: i64,
    pub seats_total: i64,
    /// ISO 4217, lowercase (the catalog's).
    pub currency: String,
    /// Unix seconds the figures are of.
    pub as_of: i64,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Where the figures requests are served are stored.
pub fn latest_key() -> Key {
    Key::new("ANALYTICS#LATEST", "FIGURES")
}

/// The figures now when `fresh` is asked for; else the stored figures when they
/// are at most [`MAX_AGE_SECS`] old, or the figures now, stored for the next
/// request.
pub async fn latest(s: &Services, fresh: bool) -> AdminResult<Figures> {
    if fresh {
        return figures(s).await;
    }
    if let Some(item) = s.store.get(&latest_key()).await? {
        let stored: Figures = item.into_record()?;
        if (0..=MAX_AGE_SECS).contains(&(s.clock.unix() - stored.as_of)) {
            return Ok(stored);
        }
    }
    refresh(s).await
}

/// Compute the figures and store them, unless newer ones were stored meanwhile.
async fn refresh(s: &Services) -> AdminResult<Figures> {
    let figures = figures(s).await?;
    let not_older = Condition::Any(vec![
        Condition::Absent,
        Condition::Attr {
            name: "as_of".into(),
            cmp: Cmp::Le,
            value: figures.as_of.into(),
        },
    ]);
    match s
        .store
        .put(
            NewItem::from_record(latest_key(), &figures)?,
            Some(not_older),
        )
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_condition_failed() => {}
        // The answer stands; the next request computes again.
        Err(e) => tracing::warn!(error = %e, "could not store the figures"),
    }
    Ok(figures)
}

/// The scheduler job: compute and store the figures requests are served.
pub async fn refresh_job(s: &Services) -> Result<String, String> {
    refresh(s)
        .await
        .map(|f| format!("figures as of {} stored", f.as_of))
        .map_err(|e| e.to_string())
}

/// The figures now. The three reads (subscriptions, licenses and seats,
/// sign-ups) are independent and run at once.
pub async fn figures(s: &Services) -> AdminResult<Figures> {
    let now = s.clock.unix();
    let store = s.store.as_ref();
    let catalog = &skiff_billing::settings(s).catalog;
    let month_start = month_start(now);
    let (subs, (seats_total, seats_in_use), new_signups) = futures::try_join!(
        subscriptions(store, catalog, now),
        seats(store, now),
        signups(store, month_start, now),
    )?;
    let mrr = subs.monthly + (subs.yearly + 6) / 12;
    Ok(Figures {
        mrr,
        arr: mrr * 12,
        active_subscriptions: subs.active,
        trialing: subs.trialing,
        past_due: subs.past_due,
        churn_rate_30d: ratio(subs.churned, subs.churned + subs.active + subs.past_due),
        new_signups_this_month: new_signups,
        trial_conversion_rate: ratio(subs.converted, subs.trials_over),
        license_utilization: ratio(seats_in_use as u64, seats_total as u64),
        seats_in_use,
        seats_total,
        currency: catalog.free().price.currency.as_str().to_owned(),
        as_of: now,
    })
}

/// What the subscriptions directory adds up to (see the module's definitions).
#[derive(Default)]
struct SubscriptionSums {
    /// Σ price × quantity of paying subscriptions on monthly plans.
    monthly: i64,
    /// The same on yearly plans (a twelfth of it counts in `mrr`).
    yearly: i64,
    active: u64,
    trialing: u64,
    past_due: u64,
    churned: u64,
    trials_over: u64,
    converted: u64,
}

async fn subscriptions(
    store: &dyn ItemStore,
    catalog: &skiff_billing::catalog::Catalog,
    now: i64,
) -> AdminResult<SubscriptionSums> {
    let mut t = SubscriptionSums::default();
    let mut position = None;
    loop {
        let (subs, next) = billing::subscriptions_page(store, PAGE, position).await?;
        for sub in &subs {
            match sub.status {
                SubStatus::Active | SubStatus::PastDue => {
                    if sub.status == SubStatus::Active {
                        t.active += 1;
                    } else {
                        t.past_due += 1;
                    }
                    if let Some(plan) = catalog.get(&sub.plan_id) {
                        let amount = plan.price.amount.saturating_mul(sub.quantity.max(1));
                        match plan.interval {
                            Interval::Month => t.monthly += amount,
                            Interval::Year => t.yearly += amount,
                        }
                    }
                }
                SubStatus::Trialing => t.trialing += 1,
                SubStatus::Canceled => {
                    if sub.ever_paid && sub.canceled_at.is_some_and(|at| at > now - 30 * DAY) {
                        t.churned += 1;
                    }
                }
            }
            if sub.trial_end.is_some() && sub.status != SubStatus::Trialing {
                t.trials_over += 1;
                if sub.ever_paid {
                    t.converted += 1;
                }
            }
        }
        match next {
            Some(n) => position = Some(n),
            None => return Ok(t),
        }
    }
}

/// `(seats_total, seats_in_use)` over active licenses with a seat limit: the
/// licenses' counters count every seat item, so the items whose lease ran out (the
/// expiry index finds them) are taken off.
async fn seats(store: &dyn ItemStore, now: i64) -> AdminResult<(i64, i64)> {
    let mut open: HashSet<LicenseRef> = HashSet::new();
    let (mut total, mut items) = (0i64, 0i64);
    let mut position = None;
    loop {
        let (licenses, next) = skiff_licensing::repo::directory_page(store, PAGE, position).await?;
        for l in licenses {
            if l.max_seats >= 0 && l.effective_status(now) == LicStatus::Active {
                total += l.max_seats;
                items += l.seats_used;
                open.insert(l.reference());
            }
        }
        match next {
            Some(n) => position = Some(n),
            None => break,
        }
    }
    let mut expired = 0i64;
    for shard in 0..SWEEP_SHARDS {
        let mut cursor = None;
        loop {
            let page = store
                .query(Query {
                    sort: SortKey::Lt(format!("{:012}", now + 1)),
                    ..Query::gsi1(format!("SEATEXP#{shard}"))
                        .limit(PAGE)
                        .after(cursor)
                })
                .await?;
            for item in &page.items {
                let seat: Seat = item.parse()?;
                if !seat.is_live(now) && open.contains(&seat.license()) {
                    expired += 1;
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok((total, items - expired))
}

/// Accounts created in `[from, until]` (unix seconds).
async fn signups(store: &dyn ItemStore, from: i64, until: i64) -> AdminResult<u64> {
    Ok(store
        .count(Query {
            sort: SortKey::Between(format!("{from:012}"), format!("{until:012}~")),
            ..Query::gsi1(skiff_identity::users::DIRECTORY_PK)
        })
        .await?)
}

/// Unix seconds of 00:00 UTC on the 1st of `now`'s month.
pub fn month_start(now: i64) -> i64 {
    let t =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let first = t.date().replace_day(1).expect("day 1 exists");
    first.midnight().assume_utc().unix_timestamp()
}

fn day_start(now: i64) -> i64 {
    now.div_euclid(DAY) * DAY
}

/// One day's stored figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The UTC day the snapshot closes (`yyyy-mm-dd`).
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// Accounts created during that day.
    pub signups: u64,
}

fn snapshot_key(date: &str) -> Key {
    Key::new(SNAPSHOT_PK, date)
}

/// The scheduler job: at its first run of a UTC day, store the figures as the
/// closing snapshot of the day before (with that day's sign-ups). Later runs of the
/// same day find it and write nothing, so the job is idempotent per day.
pub async fn snapshot_job(s: &Services) -> Result<String, String> {
    write_snapshot(s).await.map_err(|e| e.to_string())
}

async fn write_snapshot(s: &Services) -> AdminResult<String> {
    let now = s.clock.unix();
    let today = day_start(now);
    let date = day_of(today - DAY);
    if s.store.get(&snapshot_key(&date)).await?.is_some() {
        return Ok(format!("snapshot of {date} already written"));
    }
    let snapshot = Snapshot {
        signups: signups(s.store.as_ref(), today - DAY, today - 1).await?,
        figures: figures(s).await?,
        date: date.clone(),
    };
    match s
        .store
        .put(
            NewItem::from_record(snapshot_key(&date), &snapshot)?,
            Some(Condition::Absent),
        )
        .await
    {
        Ok(_) => Ok(format!("snapshot of {date} written")),
        Err(e) if e.is_condition_failed() => Ok(format!("snapshot of {date} already written")),
        Err(e) => Err(e.into()),
    }
}

/// What a series plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Mrr,
    Signups,
    SeatsInUse,
    ActiveSubscriptions,
}

impl Metric {
    pub const NAMES: [&'static str; 4] = ["mrr", "signups", "seats_in_use", "active_subscriptions"];

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "mrr" => Self::Mrr,
            "signups" => Self::Signups,
            "seats_in_use" => Self::SeatsInUse,
            "active_subscriptions" => Self::ActiveSubscriptions,
            _ => return None,
        })
    }

    fn of(self, f: &Figures, signups: u64) -> i64 {
        match self {
            Self::Mrr => f.mrr,
            Self::Signups => signups as i64,
            Self::SeatsInUse => f.seats_in_use,
            Self::ActiveSubscriptions => f.active_subscriptions as i64,
        }
    }
}

/// One day of a series.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Point {
    /// The UTC day, `yyyy-mm-dd`.
    pub date: String,
    /// `None` for a day without a snapshot (the job did not run that day).
    pub value: Option<i64>,
    /// Today's point: the figures now, not a snapshot.
    pub live: bool,
}

/// The daily points of the last `days` days (today included, live), oldest first.
pub async fn series(s: &Services, metric: Metric, days: u32) -> AdminResult<Vec<Point>> {
    if !(1..=MAX_SERIES_DAYS).contains(&days) {
        return Err(AdminError::invalid(
            "days",
            "OUT_OF_RANGE",
            format!("`days` is between 1 and {MAX_SERIES_DAYS}"),
        ));
    }
    let now = s.clock.unix();
    let today = day_start(now);
    let first = today - i64::from(days - 1) * DAY;
    let mut stored = std::collections::HashMap::new();
    if days > 1 {
        let mut cursor = None;
        loop {
            let page = s
                .store
                .query(Query {
                    sort: SortKey::Between(day_of(first), day_of(today - DAY)),
                    ..Query::partition(SNAPSHOT_PK).after(cursor)
                })
                .await?;
            for item in &page.items {
                let snap: Snapshot = item.parse()?;
                stored.insert(snap.date.clone(), metric.of(&snap.figures, snap.signups));
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let mut points: Vec<Point> = (0..i64::from(days) - 1)
        .map(|i| {
            let date = day_of(first + i * DAY);
            Point {
                value: stored.get(&date).copied(),
                date,
                live: false,
            }
        })
        .collect();
    let live = latest(s, false).await?;
    let today_signups = signups(s.store.as_ref(), today, now).await?;
    points.push(Point {
        date: day_of(today),
        value: Some(metric.of(&live, today_signups)),
        live: true,
    });
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_on_the_first_at_midnight_utc() {
        // 2023-11-14T22:13:20Z
        assert_eq!(month_start(1_700_000_000), 1_698_796_800); // 2023-11-01
        assert_eq!(month_start(1_698_796_800), 1_698_796_800);
        assert_eq!(day_start(1_700_000_000), 1_699_920_000);
    }

    #[test]
    fn ratios_of_nothing_are_zero() {
        assert_eq!(ratio(0, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
    }

    #[test]
    fn metrics_parse_by_name() {
        for name in Metric::NAMES {
            assert!(Metric::parse(name).is_some(), "{name}");
        }
        assert_eq!(Metric::parse("revenue"), None);
    }
}
