//! The `outbox` function: an SQS consumer. Each record is processed exactly once
//! per envelope id (see `skiff_core::outbox`); failures are reported per item
//! (`ReportBatchItemFailures`) so only they are redelivered, after a backoff.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::future::join_all;
use skiff_core::outbox::{self, Outcome, Registry};
use skiff_core::services::Services;
use std::time::Duration;

/// Process one SQS batch; the response names the records to redeliver.
pub async fn handle_batch(
    services: &Services,
    registry: &Registry,
    event: SqsEvent,
) -> SqsBatchResponse {
    let outcomes = join_all(event.records.iter().map(|record| async move {
        let body = record.body.as_deref().unwrap_or_default();
        let outcome =
            outbox::process_delivery(services, registry, body, receive_count(record)).await;
        if let (Outcome::Retry(_), Some(receipt)) = (&outcome, record.receipt_handle.as_deref()) {
            backoff(services, receipt, record).await;
        }
        (record.message_id.clone().unwrap_or_default(), outcome)
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (message_id, outcome) in outcomes {
        if !outcome.acknowledge() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    // Publish this batch's counters (EMF on Lambda).
    skiff_core::metrics::flush_emf();
    response
}

/// How many times SQS has delivered the record, this delivery included.
fn receive_count(record: &aws_lambda_events::event::sqs::SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1)
}

/// Delay the retry of a failed record (doubling with its receive count) instead of
/// waiting out the whole visibility timeout.
async fn backoff(
    services: &Services,
    receipt: &str,
    record: &aws_lambda_events::event::sqs::SqsMessage,
) {
    let count = receive_count(record);
    let cap = Duration::from_secs(services.config.queue_visibility_secs);
    if let Err(e) = services
        .queue
        .change_visibility(receipt, outbox::retry_delay(count, cap))
        .await
    {
        tracing::warn!(error = %e, "could not set the retry delay; the visibility timeout applies");
    }
}
