//! Jittered retries of transient AWS SDK failures: the one retry loop of every AWS
//! adapter. Each adapter keeps its own [`Policy`] (attempts, backoff) and its own
//! idea of which failures are transient; the loop, the backoff and the logging are
//! shared. Adapters that call [`retry`] (queue, mail, secrets) keep the SDK's small
//! built-in retries; this outer loop rides out longer throttling bursts before the
//! adapter reports `Unavailable`.

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::time::Duration;

/// How often and how patiently one adapter retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Tries in all, the first included, before a transient error is surfaced.
    pub attempts: u32,
    /// Ceiling of the first wait; it doubles per retry up to `cap`.
    pub base: Duration,
    /// Largest ceiling of any one wait.
    pub cap: Duration,
}

/// The queue, mail, secrets and S3 adapters' policy: 4 attempts, waits of up to
/// 50 ms doubling to at most 2 s.
pub(crate) const STANDARD: Policy = Policy {
    attempts: 4,
    base: Duration::from_millis(50),
    cap: Duration::from_secs(2),
};

/// How many times [`retry`] tries an operation before its transient error is surfaced.
pub(crate) const ATTEMPTS: u32 = STANDARD.attempts;

impl Policy {
    /// Full-jitter exponential backoff before retry `attempt` (0-based): uniform in
    /// `[0, min(cap, base·2^attempt)]`.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        Duration::from_millis(rand::random_range(0..=ceiling.as_millis() as u64))
    }
}

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
    is_transient_with(err, TRANSIENT_CODES)
}

/// [`is_transient`] with a service's own list of transient error `codes`.
pub(crate) fn is_transient_with<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    codes: &[&str],
) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            matches!(status, Some(429) | Some(500..=599))
                || err.code().is_some_and(|c| codes.contains(&c))
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

/// Why [`retry_with`] stopped without a result.
#[derive(Debug)]
pub(crate) enum GaveUp<E> {
    /// Transient every time, the last of the policy's attempts included.
    Exhausted(E),
    /// Not worth retrying.
    Final(E),
}

impl<E> GaveUp<E> {
    /// The last error, however the loop ended.
    pub(crate) fn into_inner(self) -> E {
        match self {
            GaveUp::Exhausted(e) | GaveUp::Final(e) => e,
        }
    }
}

/// The retry loop: run `op` until it succeeds, fails with an error `transient`
/// rejects, or has failed transiently `policy.attempts` times, sleeping a
/// [`Policy::delay`] between attempts. `what` and `describe` only feed the logs.
pub(crate) async fn retry_with<T, E, F, Fut>(
    policy: Policy,
    what: &str,
    transient: impl Fn(&E) -> bool,
    describe: impl Fn(&E) -> String,
    mut op: F,
) -> Result<T, GaveUp<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if transient(&e) => {
                attempt += 1;
                if attempt >= policy.attempts {
                    tracing::warn!(
                        operation = what,
                        attempts = attempt,
                        error = %describe(&e),
                        "transient AWS error persisted; giving up"
                    );
                    return Err(GaveUp::Exhausted(e));
                }
                let wait = policy.delay(attempt - 1);
                tracing::debug!(
                    operation = what,
                    attempt,
                    error = %describe(&e),
                    wait_ms = wait.as_millis() as u64,
                    "transient AWS error; retrying"
                );
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(GaveUp::Final(e)),
        }
    }
}

/// [`retry_with`] under the [`STANDARD`] policy and [`is_transient`], returning
/// the last SDK error as is (the caller sorts it with [`is_transient`]).
pub(crate) async fn retry<T, E, F, Fut>(what: &str, op: F) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    retry_with(
        STANDARD,
        what,
        is_transient,
        |e| e.code().unwrap_or("transport").to_owned(),
        op,
    )
    .await
    .map_err(GaveUp::into_inner)
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

    /// Run [`retry_with`] over attempts answering `outcome(n)` ("busy" is the
    /// transient error); returns how it ended and how many attempts were made.
    async fn run_policy(
        policy: Policy,
        outcome: fn(u32) -> Result<(), &'static str>,
    ) -> (Result<(), GaveUp<&'static str>>, u32) {
        let calls = AtomicU32::new(0);
        let transient = |e: &&str| *e == "busy";
        let out = retry_with(
            policy,
            "op",
            transient,
            |e| e.to_string(),
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move { outcome(n) }
            },
        )
        .await;
        (out, calls.into_inner())
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_follows_its_policy_and_tells_how_it_stopped() {
        let policy = Policy {
            attempts: 6,
            base: Duration::from_millis(25),
            cap: Duration::from_secs(1),
        };
        let (out, calls) = run_policy(policy, |_| Err("busy")).await;
        assert!(matches!(out, Err(GaveUp::Exhausted("busy"))));
        assert_eq!(calls, 6);

        let (out, calls) =
            run_policy(policy, |n| Err(if n == 0 { "busy" } else { "denied" })).await;
        assert!(matches!(out, Err(GaveUp::Final("denied"))));
        assert_eq!(calls, 2);

        let (out, calls) = run_policy(policy, |n| if n < 5 { Err("busy") } else { Ok(()) }).await;
        assert!(out.is_ok());
        assert_eq!(calls, 6);
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        for attempt in 0..40 {
            assert!(STANDARD.delay(attempt) <= STANDARD.cap);
        }
    }
}
