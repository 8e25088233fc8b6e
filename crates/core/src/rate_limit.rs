//! Rate limits shared by every container: a fixed window counted in
//! the item store with a bounded atomic add, so the limit holds across Lambda
//! containers. The subject (an e-mail, an IP, a principal) is hashed into the key,
//! so the table holds no addresses in clear.

use crate::clock::Clock;
use crate::config::RateLimit;
use crate::ports::store::{ItemStore, Key, StoreError};
use sha2::{Digest, Sha256};

/// Extra lifetime of a window's counter after the window closes.
const SLACK_SECS: i64 = 60;

/// Whether a request was let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited { retry_after_secs: u64 },
}

fn key(name: &str, subject: &str, window_start: i64) -> Key {
    let digest = Sha256::digest(format!("{name}\0{subject}").as_bytes());
    Key::new(
        format!("RATE#{name}#{}", hex::encode(&digest[..16])),
        format!("W#{window_start}"),
    )
}

/// Count one request of `subject` against `limit` under `name`.
pub async fn hit(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    name: &str,
    subject: &str,
    limit: RateLimit,
) -> Result<Decision, StoreError> {
    let now = clock.unix();
    let window = limit.window_secs as i64;
    let start = now - now.rem_euclid(window);
    let end = start + window;
    match store
        .add(
            &key(name, subject, start),
            "count",
            1,
            Some(limit.max as i64),
            Some(end + SLACK_SECS),
        )
        .await
    {
        Ok(c) => Ok(Decision::Allowed {
            remaining: (limit.max as i64 - c.value).max(0) as u32,
        }),
        Err(e) if e.is_condition_failed() => Ok(Decision::Limited {
            retry_after_secs: (end - now).max(1) as u64,
        }),
        Err(e) => Err(e),
    }
}

/// Why [`enforce`] refused: the limit is reached (HTTP answers 429 with
/// `Retry-After`), or the counter could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("rate limit reached; retry in {retry_after_secs} s")]
    Limited { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// [`hit`], refusing when the limit is reached.
pub async fn enforce(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    name: &str,
    subject: &str,
    limit: RateLimit,
) -> Result<(), RateLimitError> {
    match hit(store, clock, name, subject, limit).await? {
        Decision::Allowed { .. } => Ok(()),
        Decision::Limited { retry_after_secs } => {
            tracing::info!(limit = name, "rate limit reached");
            Err(RateLimitError::Limited { retry_after_secs })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_the_subject_and_name_the_window() {
        let k = key("login_email", "alice@example.com", 600);
        assert!(k.pk.starts_with("RATE#login_email#"));
        assert!(!k.pk.contains("alice"));
        assert_eq!(k.sk, "W#600");
        assert_ne!(k, key("login_ip", "alice@example.com", 600));
    }
}
