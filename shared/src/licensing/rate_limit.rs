//! Fixed-window rate limits kept in the item store, so every Lambda container sees
//! the same count (DESIGN §5). One counter item per (scope, subject, window), bumped
//! with the store's bounded atomic add and expired by TTL after its window.
//!
//! (Licensing's own limiter: no shared limiter existed in `main` when it was
//! written; it has the same shape a shared one would.)

use crate::ApiError;
use crate::clock::Clock;
use crate::ports::store::{ItemStore, Key};
use sha2::{Digest, Sha256};

/// A limit of `max` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

impl Limit {
    pub const fn per_minute(max: u32) -> Self {
        Self {
            max,
            window_secs: 60,
        }
    }
}

/// Count one request of `subject` in `scope`; past the limit, 429 with the seconds
/// until the window ends as `Retry-After`. Subjects are hashed (they may be IPs or
/// user ids: nothing personal lands in a key).
pub async fn hit(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    scope: &str,
    subject: &str,
    limit: Limit,
) -> Result<(), ApiError> {
    let now = clock.unix();
    let window = limit.window_secs.max(1);
    let start = now - now.rem_euclid(window);
    let end = start + window;
    let digest = hex::encode(&Sha256::digest(subject.as_bytes())[..16]);
    let key = Key::new(format!("RL#{scope}#{digest}"), start.to_string());
    match store
        .add(&key, "n", 1, Some(i64::from(limit.max)), Some(end + 60))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_condition_failed() => Err(ApiError::RateLimited {
            retry_after_secs: (end - now).max(1) as u64,
        }),
        Err(e) => Err(e.into()),
    }
}
