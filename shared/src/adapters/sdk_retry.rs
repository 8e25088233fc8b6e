//! Jittered retries of transient AWS SDK failures, shared by the queue, mail and
//! secrets adapters. The SDK already retries a little on its own; this outer loop
//! rides out longer throttling bursts before the adapter reports `Unavailable`.

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::time::Duration;

/// How many times an operation is tried before its transient error is surfaced.
pub(crate) const ATTEMPTS: u32 = 4;
const BASE_DELAY: Duration = Duration::from_millis(50);
const MAX_DELAY: Duration = Duration::from_secs(2);

/// Error codes AWS services use for throttling and passing server trouble.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServiceError",
    "InternalServiceErrorException",
    "RequestTimeout",
    "RequestTimeoutException",
    "KmsThrottled",
    "KMSThrottlingException",
];

/// Whether retrying the same request later may succeed: network trouble, timeouts,
/// unreadable responses, 5xx, 429 and the throttling codes.
pub(crate) fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            matches!(status, Some(429) | Some(500..=599))
                || err.code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}

/// A readable one-line description of an SDK error (service code and message, or
/// the transport failure). Never contains request bodies.
pub(crate) fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (err.code(), err.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// Full-jitter exponential backoff for attempt `n` (0-based).
fn delay(attempt: u32) -> Duration {
    let ceiling = BASE_DELAY
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_DELAY);
    let ms = rand::random_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(ms)
}

/// Run `op` until it succeeds, fails permanently, or [`ATTEMPTS`] transient
/// failures have happened; returns the last error in the latter cases.
pub(crate) async fn retry<T, E, F, Fut>(
    what: &str,
    mut op: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if is_transient(&e) && attempt + 1 < ATTEMPTS => {
                let wait = delay(attempt);
                tracing::debug!(
                    operation = what,
                    attempt = attempt + 1,
                    code = e.code().unwrap_or("transport"),
                    wait_ms = wait.as_millis() as u64,
                    "transient AWS error; retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError;
    use aws_sdk_sqs::types::error::QueueDoesNotExist;
    use aws_smithy_types::body::SdkBody;
    use std::sync::atomic::{AtomicU32, Ordering};

    type Err = SdkError<GetQueueAttributesError, HttpResponse>;

    fn service_error(status: u16, code: &str) -> Err {
        let meta = aws_sdk_sqs::error::ErrorMetadata::builder()
            .code(code)
            .build();
        let inner = GetQueueAttributesError::QueueDoesNotExist(
            QueueDoesNotExist::builder().meta(meta).build(),
        );
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(inner, raw)
    }

    #[test]
    fn transient_errors_are_told_apart() {
        assert!(is_transient(&Err::timeout_error("slow")));
        assert!(is_transient(&service_error(503, "ServiceUnavailable")));
        assert!(is_transient(&service_error(400, "ThrottlingException")));
        assert!(!is_transient(&service_error(400, "QueueDoesNotExist")));
        assert!(!is_transient(&Err::construction_failure("bad input")));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_then_returned() {
        let calls = AtomicU32::new(0);
        let out: Result<(), Err> = retry("op", || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(service_error(503, "ServiceUnavailable")) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);

        let calls = AtomicU32::new(0);
        let out: Result<u8, Err> = retry("op", || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(Err::timeout_error("slow"))
                } else {
                    Ok(7)
                }
            }
        })
        .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = AtomicU32::new(0);
        let out: Result<(), Err> = retry("op", || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(service_error(400, "QueueDoesNotExist")) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a final error is not retried"
        );
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        for attempt in 0..40 {
            assert!(delay(attempt) <= MAX_DELAY);
        }
    }
}
