//! Request checks both queue adapters apply before touching their backend, so the
//! embedded queue refuses exactly what SQS refuses.

use skiff_core::ports::queue::{MAX_BATCH, MAX_BODY_BYTES, MAX_DELAY, QueueError};
use std::time::Duration;

/// Longest visibility timeout SQS accepts (12 hours).
pub(crate) const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// Longest long-poll SQS accepts in one receive (20 seconds).
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(20);

/// SQS accepts only these characters in a body: #x9 #xA #xD and #x20 to #x10FFFF
/// minus the surrogates (which a Rust `str` cannot hold anyway) and #xFFFE/#xFFFF.
fn allowed_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A body must be 1 to [`MAX_BODY_BYTES`] bytes of SQS-allowed characters.
pub(crate) fn check_body(body: &str) -> Result<(), QueueError> {
    if body.is_empty() {
        return Err(QueueError::Invalid(
            "a message body must not be empty".into(),
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(QueueError::Invalid(format!(
            "a message body of {} bytes exceeds the {MAX_BODY_BYTES}-byte limit",
            body.len()
        )));
    }
    if let Some(c) = body.chars().find(|c| !allowed_char(*c)) {
        return Err(QueueError::Invalid(format!(
            "a message body must not contain the character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// A delay of at most [`MAX_DELAY`].
pub(crate) fn check_delay(delay: Duration) -> Result<(), QueueError> {
    if delay > MAX_DELAY {
        return Err(QueueError::Invalid(format!(
            "a message may be delayed at most {} s, not {} s",
            MAX_DELAY.as_secs(),
            delay.as_secs()
        )));
    }
    Ok(())
}

/// A batch holds at most [`MAX_BATCH`] valid bodies totalling at most
/// [`MAX_BODY_BYTES`] (SQS's batch payload limit).
pub(crate) fn check_batch(bodies: &[String]) -> Result<(), QueueError> {
    if bodies.len() > MAX_BATCH {
        return Err(QueueError::Invalid(format!(
            "a batch holds at most {MAX_BATCH} messages, not {}",
            bodies.len()
        )));
    }
    for body in bodies {
        check_body(body)?;
    }
    let total: usize = bodies.iter().map(String::len).sum();
    if total > MAX_BODY_BYTES {
        return Err(QueueError::Invalid(format!(
            "a batch of {total} bytes exceeds the {MAX_BODY_BYTES}-byte limit"
        )));
    }
    Ok(())
}

/// `max` in 1..=[`MAX_BATCH`], visibility ≤ 12 h, wait ≤ 20 s.
pub(crate) fn check_receive(
    max: usize,
    visibility: Duration,
    wait: Duration,
) -> Result<(), QueueError> {
    if max == 0 || max > MAX_BATCH {
        return Err(QueueError::Invalid(format!(
            "receive takes 1 to {MAX_BATCH} messages, not {max}"
        )));
    }
    check_visibility(visibility)?;
    if wait > MAX_WAIT {
        return Err(QueueError::Invalid(format!(
            "a receive waits at most {} s",
            MAX_WAIT.as_secs()
        )));
    }
    Ok(())
}

pub(crate) fn check_visibility(visibility: Duration) -> Result<(), QueueError> {
    if visibility > MAX_VISIBILITY {
        return Err(QueueError::Invalid(format!(
            "a visibility timeout is at most {} s",
            MAX_VISIBILITY.as_secs()
        )));
    }
    Ok(())
}

/// Whole seconds for SQS, rounded up so a message is never visible earlier than asked.
pub(crate) fn ceil_secs(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.min(i32::MAX as u64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert!(check_body("hello\tworld\n").is_ok());
        assert!(check_body("").is_err());
        assert!(check_body("nul\u{0}").is_err());
        assert!(check_body("\u{FFFF}").is_err());
        assert!(check_body(&"x".repeat(MAX_BODY_BYTES)).is_ok());
        assert!(check_body(&"x".repeat(MAX_BODY_BYTES + 1)).is_err());
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_secs(2)), 2);
        assert_eq!(ceil_secs(Duration::from_millis(2001)), 3);
    }
}
