//! The in-process loops the local server runs where AWS would use SQS → Lambda and
//! EventBridge → Lambda. They call the same code as the `outbox` and `scheduler`
//! functions.

use skiff_core::outbox::{self, Outcome, Registry};
use skiff_core::scheduler::Jobs;
use skiff_core::services::Services;
use std::time::Duration;
use tokio::sync::watch;

/// Long-poll wait of one receive; also how quickly the loop notices a stop.
const POLL_WAIT: Duration = Duration::from_secs(1);

/// Receive, process, acknowledge, until stopped. A stop lets the current batch
/// finish; unreceived messages stay queued, unacknowledged ones come back later.
pub async fn outbox_loop(services: Services, registry: Registry, mut stop: watch::Receiver<bool>) {
    let visibility = Duration::from_secs(services.config.queue_visibility_secs);
    while !*stop.borrow() {
        let batch = tokio::select! {
            r = services.queue.receive(10, visibility, POLL_WAIT) => r,
            _ = stop.changed() => break,
        };
        let messages = match batch {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "outbox receive failed");
                tokio::time::sleep(POLL_WAIT).await;
                continue;
            }
        };
        for m in messages {
            let outcome =
                outbox::process_delivery(&services, &registry, &m.body, m.receive_count).await;
            let result = match &outcome {
                Outcome::Done | Outcome::Duplicate => services.queue.delete(&m.receipt).await,
                Outcome::Retry(_) => {
                    let delay = outbox::retry_delay(m.receive_count, visibility);
                    services.queue.change_visibility(&m.receipt, delay).await
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, message_id = %m.message_id, "outbox acknowledgement failed");
            }
        }
    }
    tracing::info!("outbox worker stopped");
}

/// Run every job each interval, until stopped.
pub async fn scheduler_loop(services: Services, jobs: Jobs, mut stop: watch::Receiver<bool>) {
    let mut tick =
        tokio::time::interval(Duration::from_secs(services.config.scheduler_interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => { jobs.run(&services, &[]).await; }
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("scheduler stopped");
}
