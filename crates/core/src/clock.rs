//! An injectable clock, so tests can move time (trial expiry, seat leases, TTLs)
//! without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;

    fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Real time plus an offset that tests (or the dev-only clock route) can move forward.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_ms: AtomicI64,
}

impl OffsetClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    pub fn offset(&self) -> time::Duration {
        time::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset()
    }
}

/// A clock frozen at a given instant, moved only by hand.
#[derive(Debug)]
pub struct FixedClock {
    unix_ms: AtomicI64,
}

impl FixedClock {
    pub fn at(t: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self {
            unix_ms: AtomicI64::new((t.unix_timestamp_nanos() / 1_000_000) as i64),
        })
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.unix_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        let ms = self.unix_ms.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .expect("clock within range")
    }
}

pub type SharedClock = Arc<dyn Clock>;
/// Unix seconds as RFC 3339 (UTC), the form every answer and e-mail shows; a time
/// outside what RFC 3339 can write is shown as its number.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
