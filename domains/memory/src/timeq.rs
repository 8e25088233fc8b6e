//! AutoMem's `time_query` phrases ("today", "last 7 days", "this month", …) as a
//! window `[start, end)` in UTC, and its test for a query about "the latest".

use crate::model::Timestamp;
use time::{Date, Duration, Month, OffsetDateTime, Time};

fn day_start(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_utc()
}

fn month_start(year: i32, month: Month) -> OffsetDateTime {
    day_start(Date::from_calendar_date(year, month, 1).expect("day 1 exists"))
}

fn next_month(t: OffsetDateTime) -> OffsetDateTime {
    match t.month() {
        Month::December => month_start(t.year() + 1, Month::January),
        m => month_start(t.year(), m.next()),
    }
}

/// The window a phrase names at `now`, or `None` for a phrase AutoMem does not know
/// (it is then ignored, as AutoMem ignores it).
pub fn parse(expression: &str, now: OffsetDateTime) -> Option<(Timestamp, Timestamp)> {
    let expr = expression.trim().to_lowercase();
    let today = day_start(now.date());
    let weekday = i64::from(now.weekday().number_days_from_monday());
    let (start, end) = match expr.as_str() {
        "" => return None,
        "today" | "this day" => (today, today + Duration::days(1)),
        "yesterday" => (today - Duration::days(1), today),
        "last 24 hours" | "past 24 hours" => (now - Duration::hours(24), now),
        "last 48 hours" | "past 48 hours" => (now - Duration::hours(48), now),
        "this week" => {
            let s = today - Duration::days(weekday);
            (s, s + Duration::days(7))
        }
        "last week" | "past week" => {
            let e = today - Duration::days(weekday);
            (e - Duration::days(7), e)
        }
        "this month" => {
            let s = month_start(now.year(), now.month());
            (s, next_month(s))
        }
        "last month" | "past month" => {
            let e = month_start(now.year(), now.month());
            let s = match e.month() {
                Month::January => month_start(e.year() - 1, Month::December),
                m => month_start(e.year(), m.previous()),
            };
            (s, e)
        }
        "this year" => {
            let s = month_start(now.year(), Month::January);
            let e = if now.year() >= 9999 {
                now
            } else {
                month_start(now.year() + 1, Month::January)
            };
            (s, e)
        }
        "last year" | "past year" => {
            let e = month_start(now.year(), Month::January);
            (month_start(now.year() - 1, Month::January), e)
        }
        other => {
            let days = other
                .strip_prefix("last ")
                .and_then(|r| r.strip_suffix(" days"))
                .and_then(|n| n.trim().parse::<i64>().ok())?;
            if !(0..=36_500).contains(&days) {
                return None;
            }
            (now - Duration::days(days), now)
        }
    };
    Some((Timestamp::from_offset(start), Timestamp::from_offset(end)))
}

/// Whether a query asks about the present or the latest state ("current",
/// "latest", "what changed", …), as AutoMem's `recency_bias=auto` reads it.
pub fn has_temporal_intent(query: &str) -> bool {
    let q = query.to_lowercase();
    let words: Vec<&str> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const SINGLE: &[&str] = &[
        "latest",
        "recently",
        "current",
        "currently",
        "now",
        "nowadays",
        "today",
        "changed",
        "updated",
        "newest",
        "anymore",
    ];
    const PAIRS: &[[&str; 2]] = &[["most", "recent"], ["last", "time"], ["these", "days"]];
    words.iter().any(|w| SINGLE.contains(w))
        || words.windows(2).any(|p| PAIRS.iter().any(|x| x == p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn phrases_name_windows() {
        // A Wednesday.
        let now = datetime!(2026-03-18 15:30 UTC);
        let w = |e: &str| {
            parse(e, now).map(|(s, e)| (s.render()[..10].to_owned(), e.render()[..10].to_owned()))
        };
        assert_eq!(w("today"), Some(("2026-03-18".into(), "2026-03-19".into())));
        assert_eq!(
            w("Yesterday"),
            Some(("2026-03-17".into(), "2026-03-18".into()))
        );
        assert_eq!(
            w("this week"),
            Some(("2026-03-16".into(), "2026-03-23".into()))
        );
        assert_eq!(
            w("last week"),
            Some(("2026-03-09".into(), "2026-03-16".into()))
        );
        assert_eq!(
            w("this month"),
            Some(("2026-03-01".into(), "2026-04-01".into()))
        );
        assert_eq!(
            w("last month"),
            Some(("2026-02-01".into(), "2026-03-01".into()))
        );
        assert_eq!(
            w("last year"),
            Some(("2025-01-01".into(), "2026-01-01".into()))
        );
        assert_eq!(
            w("last 30 days"),
            Some(("2026-02-16".into(), "2026-03-18".into()))
        );
        assert_eq!(w("whenever"), None);
        assert_eq!(w("last x days"), None);
        let jan = datetime!(2026-01-05 00:00 UTC);
        assert_eq!(
            parse("last month", jan).map(|(s, _)| s.render()[..10].to_owned()),
            Some("2025-12-01".into())
        );
    }

    #[test]
    fn temporal_intent_is_word_bounded() {
        assert!(has_temporal_intent("what is my current editor"));
        assert!(has_temporal_intent("the most recent decision"));
        assert!(!has_temporal_intent("currency exchange"));
        assert!(!has_temporal_intent("nowhere to be found"));
    }
}
