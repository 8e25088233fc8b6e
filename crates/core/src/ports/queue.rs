//! The queue port: the outbox's transport. At-least-once delivery with a visibility
//! timeout; a message received more than `max_receives` times moves to the
//! dead-letter queue, where operators list, redrive or resolve it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Most messages one `send_batch` or `receive` handles (SQS's limit).
pub const MAX_BATCH: usize = 10;

/// Largest message body (SQS's limit).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Longest delay a message can be sent with (SQS's `DelaySeconds` limit).
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// A received message. `receipt` is what `delete` and `extend` need; it is only
/// valid for this delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The backend's id of the message (stable across redeliveries).
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// How many times this message has been delivered, this delivery included.
    pub receive_count: u32,
}

/// A message sitting in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("invalid queue request: {0}")]
    Invalid(String),
    /// The receipt is unknown or belongs to an older delivery.
    #[error("stale or unknown receipt")]
    StaleReceipt,
    #[error("dead letter `{0}` not found")]
    DeadLetterNotFound(String),
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("queue failure: {0}")]
    Fatal(String),
}

#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Enqueue one message body; returns its message id.
    async fn send(&self, body: String) -> Result<String, QueueError>;

    /// Enqueue one message body that becomes receivable only after `delay` (at most
    /// [`MAX_DELAY`], whole seconds on SQS); returns its message id.
    async fn send_delayed(&self, body: String, delay: Duration) -> Result<String, QueueError>;

    /// Enqueue up to [`MAX_BATCH`] bodies, all or an error.
    async fn send_batch(&self, bodies: Vec<String>) -> Result<Vec<String>, QueueError>;

    /// Up to `max` visible messages, hidden from other receivers for `visibility`.
    /// Waits up to `wait` for the first one.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<Received>, QueueError>;

    /// Acknowledge: the message is gone for good.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;

    /// Make a received message visible again after `visibility` (0 = now).
    async fn change_visibility(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError>;

    /// Messages in the dead-letter queue (oldest first), without consuming them.
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError>;

    /// Move one dead letter (by message id) back to the main queue with a fresh
    /// receive count. Returns the new message id.
    async fn redrive(&self, message_id: &str) -> Result<String, QueueError>;

    /// Drop one dead letter for good (an operator resolved it by hand).
    async fn resolve(&self, message_id: &str) -> Result<(), QueueError>;

    /// Approximate number of messages waiting (visible + in flight), for readiness
    /// and the admin console.
    async fn depth(&self) -> Result<u64, QueueError>;

    /// Readiness probe.
    async fn check(&self) -> Result<(), QueueError>;
}
