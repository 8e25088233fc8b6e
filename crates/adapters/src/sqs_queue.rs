//! The outbox on SQS, with its dead-letter queue moved by SQS's own redrive policy
//! (the queue is created by [`crate::provision::create_queues`]).
//!
//! Differences from the embedded queue that callers may notice, all SQS's own:
//! a receipt from an older delivery of a message that was received again is still
//! accepted by SQS (so only unknown receipts and receipts of deleted messages are
//! reported as stale); visibility and wait are whole seconds (rounded up); counts
//! are approximate. Dead letters are listed by receiving them from the DLQ and
//! making them visible again at once, so each listing adds one to their receive
//! count and two concurrent listings may each see part of the DLQ.

use crate::aws::Lazy;
use crate::queue_rules::{
    MAX_WAIT, ceil_secs, check_batch, check_body, check_delay, check_receive, check_visibility,
};
use crate::sdk_retry::{ATTEMPTS, describe, is_transient, retry};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use skiff_core::ports::queue::*;
use std::collections::HashMap;
use std::time::Duration;

/// How long dead letters stay hidden while a listing or lookup walks the DLQ; they
/// are made visible again as soon as the walk ends.
const DLQ_SCAN_VISIBILITY: Duration = Duration::from_secs(30);

/// Long-poll each DLQ receive for this long: a short poll of a small SQS queue may
/// answer empty although messages are there.
const DLQ_SCAN_WAIT: Duration = Duration::from_secs(1);

/// Most dead letters one lookup (redrive/resolve) walks through.
const MAX_DLQ_SCAN: usize = 1000;

/// Receipt errors: the receipt is unknown, or its message is gone or not in flight.
const STALE_RECEIPT_CODES: &[&str] = &[
    "ReceiptHandleIsInvalid",
    "AWS.SimpleQueueService.ReceiptHandleIsInvalid",
    "MessageNotInflight",
    "AWS.SimpleQueueService.MessageNotInflight",
];

/// The SQS-backed queue: the outbox URL and its dead-letter queue's URL.
pub struct SqsQueue {
    client: Lazy<Client>,
    queue_url: String,
    dlq_url: String,
}

/// One message received from the dead-letter queue during a walk.
struct Scanned {
    message_id: String,
    receipt: String,
    body: String,
    receive_count: u32,
    sent_at_ms: u64,
}

fn failure<E>(what: &str, err: &SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = format!("{what}: {}", describe(err));
    if is_transient(err) {
        return QueueError::Unavailable(detail);
    }
    match err.code() {
        Some(c) if STALE_RECEIPT_CODES.contains(&c) => QueueError::StaleReceipt,
        Some(c) if c.contains("InvalidParameterValue") || c.contains("InvalidMessageContents") => {
            QueueError::Invalid(detail)
        }
        _ => QueueError::Fatal(detail),
    }
}

fn received(m: Message) -> Result<Received, QueueError> {
    let count = m
        .attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    match (m.message_id, m.receipt_handle) {
        (Some(message_id), Some(receipt)) => Ok(Received {
            message_id,
            receipt,
            body: m.body.unwrap_or_default(),
            receive_count: count,
        }),
        _ => Err(QueueError::Fatal(
            "SQS returned a message without id or receipt".into(),
        )),
    }
}

impl SqsQueue {
    /// Wrap the outbox queue and its dead-letter queue.
    pub fn new(client: impl Into<Lazy<Client>>, queue_url: String, dlq_url: String) -> Self {
        Self {
            client: client.into(),
            queue_url,
            dlq_url,
        }
    }

    /// Receive (and hide) dead letters until `want` are held, `target` is found, the
    /// DLQ answers empty or [`MAX_DLQ_SCAN`] were seen. The caller must release
    /// what it does not delete.
    async fn scan(&self, want: usize, target: Option<&str>) -> Result<Vec<Scanned>, QueueError> {
        let mut held: Vec<Scanned> = Vec::new();
        while held.len() < want.min(MAX_DLQ_SCAN) {
            let out = retry("receive dead letters", || {
                self.client
                    .receive_message()
                    .queue_url(&self.dlq_url)
                    .max_number_of_messages(MAX_BATCH as i32)
                    .visibility_timeout(ceil_secs(DLQ_SCAN_VISIBILITY))
                    .wait_time_seconds(ceil_secs(DLQ_SCAN_WAIT))
                    .message_system_attribute_names(
                        MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                    .send()
            })
            .await;
            let messages = match out {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(e) => {
                    self.release(&held).await;
                    return Err(failure("receiving from the dead-letter queue", &e));
                }
            };
            if messages.is_empty() {
                break;
            }
            let mut found = false;
            for m in messages {
                let sent_at_ms = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let r = match received(m) {
                    Ok(r) => r,
                    Err(e) => {
                        self.release(&held).await;
                        return Err(e);
                    }
                };
                if held.iter().any(|h| h.message_id == r.message_id) {
                    continue;
                }
                found |= target == Some(r.message_id.as_str());
                held.push(Scanned {
                    message_id: r.message_id,
                    receipt: r.receipt,
                    body: r.body,
                    // This walk's own receive is not one of the message's deliveries.
                    receive_count: r.receive_count.saturating_sub(1),
                    sent_at_ms,
                });
            }
            if found {
                break;
            }
        }
        Ok(held)
    }

    /// Make walked dead letters visible again. Best effort: a failure only delays
    /// their visibility until the walk's visibility timeout ends.
    async fn release(&self, held: &[Scanned]) {
        for chunk in held.chunks(MAX_BATCH) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&s.receipt)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            let out = retry("release dead letters", || {
                self.client
                    .change_message_visibility_batch()
                    .queue_url(&self.dlq_url)
                    .set_entries(Some(entries.clone()))
                    .send()
            })
            .await;
            match out {
                Ok(out) if out.failed.is_empty() => {}
                Ok(out) => tracing::warn!(
                    failed = out.failed.len(),
                    "some dead letters stay hidden until their visibility timeout ends"
                ),
                Err(e) => tracing::warn!(
                    error = %describe(&e),
                    "dead letters stay hidden until their visibility timeout ends"
                ),
            }
        }
    }

    /// Walk the DLQ for one message (`DeadLetterNotFound` when it is not there),
    /// releasing every other walked message.
    async fn find_dead_letter(&self, message_id: &str) -> Result<Scanned, QueueError> {
        let mut held = self.scan(MAX_DLQ_SCAN, Some(message_id)).await?;
        let pos = held.iter().position(|s| s.message_id == message_id);
        let found = pos.map(|p| held.swap_remove(p));
        self.release(&held).await;
        found.ok_or_else(|| QueueError::DeadLetterNotFound(message_id.to_owned()))
    }

    async fn delete_from_dlq(&self, dead: &Scanned) -> Result<(), QueueError> {
        retry("delete dead letter", || {
            self.client
                .delete_message()
                .queue_url(&self.dlq_url)
                .receipt_handle(&dead.receipt)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| failure("deleting from the dead-letter queue", &e))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: String) -> Result<String, QueueError> {
        check_body(&body)?;
        let out = retry("send message", || {
            self.client
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(&body)
                .send()
        })
        .await
        .map_err(|e| failure("sending", &e))?;
        out.message_id
            .ok_or_else(|| QueueError::Fatal("SQS returned no message id".into()))
    }

    async fn send_delayed(&self, body: String, delay: Duration) -> Result<String, QueueError> {
        check_body(&body)?;
        check_delay(delay)?;
        // SQS counts whole seconds: round up, so a message never arrives early.
        let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        let secs = i32::try_from(secs.min(MAX_DELAY.as_secs())).unwrap_or(900);
        let out = retry("send delayed message", || {
            self.client
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(&body)
                .delay_seconds(secs)
                .send()
        })
        .await
        .map_err(|e| failure("sending", &e))?;
        out.message_id
            .ok_or_else(|| QueueError::Fatal("SQS returned no message id".into()))
    }

    /// SQS batches are not atomic: entries that fail for a transient reason are
    /// sent again; if some still fail, the error says how many of the batch went out.
    async fn send_batch(&self, bodies: Vec<String>) -> Result<Vec<String>, QueueError> {
        check_batch(&bodies)?;
        let mut ids: Vec<Option<String>> = vec![None; bodies.len()];
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            let entries: Vec<_> = ids
                .iter()
                .enumerate()
                .filter(|(_, id)| id.is_none())
                .filter_map(|(i, _)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&bodies[i])
                        .build()
                        .ok()
                })
                .collect();
            if entries.is_empty() {
                break;
            }
            let out = retry("send message batch", || {
                self.client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries.clone()))
                    .send()
            })
            .await
            .map_err(|e| failure("sending a batch", &e))?;
            for ok in out.successful {
                if let Some(slot) = ok.id.parse::<usize>().ok().and_then(|i| ids.get_mut(i)) {
                    *slot = Some(ok.message_id);
                }
            }
            if let Some(bad) = out.failed.iter().find(|f| f.sender_fault) {
                return Err(QueueError::Invalid(format!(
                    "batch entry {} refused: {} {}",
                    bad.id,
                    bad.code,
                    bad.message.as_deref().unwrap_or("")
                )));
            }
            if let Some(f) = out.failed.first() {
                last_failure = format!("{} {}", f.code, f.message.as_deref().unwrap_or(""));
                tokio::time::sleep(Duration::from_millis(rand::random_range(50..250))).await;
            }
        }
        let sent = ids.iter().filter(|i| i.is_some()).count();
        if sent < bodies.len() {
            return Err(QueueError::Unavailable(format!(
                "only {sent} of {} batch messages were sent: {last_failure}",
                bodies.len()
            )));
        }
        Ok(ids.into_iter().flatten().collect())
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        check_receive(max, visibility, wait)?;
        let out = retry("receive messages", || {
            self.client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(max as i32)
                .visibility_timeout(ceil_secs(visibility))
                .wait_time_seconds(ceil_secs(wait.min(MAX_WAIT)))
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
        })
        .await
        .map_err(|e| failure("receiving", &e))?;
        out.messages
            .unwrap_or_default()
            .into_iter()
            .map(received)
            .collect()
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        retry("delete message", || {
            self.client
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| failure("deleting", &e))
    }

    async fn change_visibility(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        check_visibility(visibility)?;
        retry("change message visibility", || {
            self.client
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt)
                .visibility_timeout(ceil_secs(visibility))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| failure("changing visibility", &e))
    }

    /// Walks the DLQ (receive, then make visible again); oldest sent first.
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        if max == 0 {
            return Ok(vec![]);
        }
        let mut held = self.scan(max, None).await?;
        self.release(&held).await;
        held.sort_by(|a, b| (a.sent_at_ms, &a.message_id).cmp(&(b.sent_at_ms, &b.message_id)));
        Ok(held
            .into_iter()
            .take(max)
            .map(|s| DeadLetter {
                message_id: s.message_id,
                body: s.body,
                receive_count: s.receive_count,
            })
            .collect())
    }

    /// Sends the body to the main queue as a new message, then deletes the dead
    /// letter (if that delete fails, the message exists twice — at-least-once).
    async fn redrive(&self, message_id: &str) -> Result<String, QueueError> {
        let dead = self.find_dead_letter(message_id).await?;
        let new_id = match self.send(dead.body.clone()).await {
            Ok(id) => id,
            Err(e) => {
                self.release(std::slice::from_ref(&dead)).await;
                return Err(e);
            }
        };
        self.delete_from_dlq(&dead).await?;
        tracing::info!(dead_letter = %message_id, message_id = %new_id, "dead letter redriven");
        Ok(new_id)
    }

    async fn resolve(&self, message_id: &str) -> Result<(), QueueError> {
        let dead = self.find_dead_letter(message_id).await?;
        self.delete_from_dlq(&dead).await?;
        tracing::info!(dead_letter = %message_id, "dead letter resolved");
        Ok(())
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let out = retry("get queue attributes", || {
            self.client
                .get_queue_attributes()
                .queue_url(&self.queue_url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .send()
        })
        .await
        .map_err(|e| failure("reading queue depth", &e))?;
        let attrs: HashMap<QueueAttributeName, String> = out.attributes.unwrap_or_default();
        Ok([
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ]
        .iter()
        .filter_map(|k| attrs.get(k).and_then(|v| v.parse::<u64>().ok()))
        .sum())
    }

    async fn check(&self) -> Result<(), QueueError> {
        retry("get queue attributes", || {
            self.client
                .get_queue_attributes()
                .queue_url(&self.queue_url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| failure("checking the queue", &e))
    }
}
