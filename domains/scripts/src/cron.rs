//! Cron triggers: 6-field expressions (seconds, minutes, hours, day of month,
//! month, day of week) in an IANA time zone, and the scheduler job that fires
//! them.
//!
//! Each tick the job takes the triggers due within the tick's look-ahead (the
//! scheduler's interval) from the due index, stages one run per occurrence in
//! that window (each delayed to its exact time) and moves the trigger past them
//! in the same transaction, conditioned on the occurrence it read: two overlapping ticks never
//! fire one occurrence twice. An occurrence missed while nothing ran (downtime)
//! fires once, now, so a long outage costs one run per trigger, not one per
//! missed window.

use crate::triggers::{self, CRON_DUE_PK, Trigger};
use chrono::{TimeZone, Utc};
use serde_json::json;
use skiff_core::Services;
use skiff_core::outbox;
use skiff_core::ports::queue::MAX_DELAY;
use skiff_core::ports::store::{Index, Query, SortKey};
use std::str::FromStr;

/// A parsed schedule in its zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    inner: cron::Schedule,
    zone: chrono_tz::Tz,
}

/// An IANA time zone name (`Europe/Paris`, `UTC`).
pub fn parse_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    chrono_tz::Tz::from_str(name)
        .map_err(|_| format!("`{name}` is not an IANA time zone (e.g. `Europe/Paris`, `UTC`)"))
}

impl Schedule {
    pub fn parse(expr: &str, zone: chrono_tz::Tz) -> Result<Self, String> {
        let fields = expr.split_whitespace().count();
        if fields != 6 {
            return Err(format!(
                "`{expr}` has {fields} fields; a schedule has 6: second minute hour \
                 day-of-month month day-of-week (e.g. `0 */5 * * * *`)"
            ));
        }
        let inner = cron::Schedule::from_str(expr).map_err(|e| format!("`{expr}`: {e}"))?;
        Ok(Self { inner, zone })
    }

    /// The first occurrence strictly after `unix` (seconds).
    pub fn next_after(&self, unix: i64) -> Option<i64> {
        let at = Utc
            .timestamp_opt(unix, 0)
            .single()?
            .with_timezone(&self.zone);
        self.inner.after(&at).next().map(|t| t.timestamp())
    }
}

/// The scheduler's `scripts_cron` job.
pub async fn fire_due(services: &Services) -> Result<String, String> {
    let now = services.clock.unix();
    let lookahead = services
        .config
        .scheduler_interval_secs
        .min(MAX_DELAY.as_secs()) as i64;
    let store = services.store.as_ref();
    let page = store
        .query(Query {
            index: Index::Gsi1,
            pk: CRON_DUE_PK.into(),
            sort: SortKey::Lt(format!("{:012}", now + lookahead + 1)),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let (mut fired, mut skipped) = (0, 0);
    for item in &page.items {
        let t: Trigger = item.parse().map_err(|e| e.to_string())?;
        match fire(services, &t, now, lookahead).await {
            Ok(true) => fired += 1,
            Ok(false) => skipped += 1,
            Err(e) => {
                skipped += 1;
                tracing::warn!(trigger = %t.id, error = %e, "cron trigger not fired this tick");
            }
        }
    }
    Ok(format!("fired {fired} cron triggers ({skipped} skipped)"))
}

/// Most occurrences of one trigger one tick stages (a transaction holds them with
/// the trigger's move).
const MAX_PER_TICK: usize = 60;

/// Fire one due trigger: every occurrence up to the end of this tick's look-ahead,
/// each delayed to its time (a missed one, from downtime, fires now, once); `false`
/// when another tick did it first.
async fn fire(services: &Services, t: &Trigger, now: i64, lookahead: i64) -> Result<bool, String> {
    let (Some(seen), Some(expr)) = (t.next_at, t.schedule.as_deref()) else {
        return Ok(false);
    };
    let zone = parse_zone(t.timezone.as_deref().unwrap_or("UTC"))?;
    let schedule = Schedule::parse(expr, zone)?;
    // Missed (downtime): fire now, once; ahead: fire at its time.
    let first = seen.max(now);
    let mut occurrences = vec![(seen, first)];
    let mut next = schedule
        .next_after(first)
        .ok_or("the schedule never fires again")?;
    while next <= now + lookahead && occurrences.len() < MAX_PER_TICK {
        occurrences.push((next, next));
        next = schedule
            .next_after(next)
            .ok_or("the schedule never fires again")?;
    }
    let mut staged = vec![];
    for (scheduled, at) in occurrences {
        let event = json!({
            "kind": "cron",
            "schedule": expr,
            "timezone": zone.name(),
            "scheduled_at": skiff_core::clock::rfc3339(scheduled),
            "fired_at": skiff_core::clock::rfc3339(at),
        });
        staged.extend(
            triggers::stage(
                services,
                std::slice::from_ref(t),
                1,
                &format!("cron.{scheduled}"),
                &event,
                Some(at),
            )
            .map_err(|e| e.to_string())?,
        );
    }
    let mut writes = vec![triggers::advance_cron(t, seen, next).map_err(|e| e.to_string())?];
    writes.extend(triggers::writes(&staged).map_err(|e| e.to_string())?);
    match services.store.transact(writes).await {
        Ok(()) => {
            outbox::relay(services, &staged).await;
            Ok(true)
        }
        Err(e) if e.is_condition_failed() => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_fields_in_a_zone() {
        let paris = parse_zone("Europe/Paris").unwrap();
        assert!(parse_zone("Mars/Olympus").is_err());
        assert!(
            Schedule::parse("*/5 * * * *", paris)
                .unwrap_err()
                .contains("6")
        );
        assert!(Schedule::parse("0 0 9 * * * 2030", paris).is_err());
        assert!(Schedule::parse("0 0 25 * * *", paris).is_err());
        // 09:00 in Paris on 2026-01-15 (UTC+1) is 08:00 UTC.
        let s = Schedule::parse("0 0 9 * * *", paris).unwrap();
        let jan_15_midnight_utc = 1_768_435_200;
        assert_eq!(
            s.next_after(jan_15_midnight_utc),
            Some(jan_15_midnight_utc + 8 * 3600)
        );
        // In July (UTC+2) it is 07:00 UTC.
        let jul_15_midnight_utc = 1_784_073_600;
        assert_eq!(
            s.next_after(jul_15_midnight_utc),
            Some(jul_15_midnight_utc + 7 * 3600)
        );
    }
}
