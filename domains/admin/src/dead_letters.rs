//! The outbox's dead letters over the queue port, so the same operations work on
//! the embedded queue and on SQS: list, replay (back on the queue with a fresh
//! receive count; the outbox's idempotency record still prevents a repeat of a side
//! effect that happened), resolve (drop for good). Payloads are summarized, never
//! shown whole: an e-mail's body may carry a reset or invitation link.

use crate::audit::record_action;
use crate::{AdminError, AdminResult, Operator};
use serde::Serialize;
use serde_json::{Value, json};
use skiff_core::outbox::{Envelope, SendEmail};
use skiff_core::ports::queue::{DeadLetter, QueueError};
use skiff_core::services::Services;

/// A dead letter as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    /// The queue's id of the message: what replay and resolve take.
    pub message_id: String,
    pub receive_count: u32,
    /// The envelope's own id (stable across redrives), its kind and creation time;
    /// `None` when the body is not an envelope.
    pub envelope_id: Option<String>,
    pub kind: Option<String>,
    pub created_at: Option<i64>,
    /// What the message is about, without secrets: an e-mail's recipient and
    /// subject, or the payload's field names.
    #[schema(value_type = Object)]
    pub summary: Value,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(d: DeadLetter) -> Self {
        let envelope: Option<Envelope> = serde_json::from_str(&d.body).ok();
        let summary = match &envelope {
            Some(e) if e.kind == <SendEmail as skiff_core::outbox::Message>::KIND => {
                let email = &e.payload["email"];
                json!({ "to": email["to"], "subject": email["subject"] })
            }
            Some(e) => json!({
                "fields": e.payload.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            }),
            None => json!({ "bytes": d.body.len() }),
        };
        Self {
            message_id: d.message_id,
            receive_count: d.receive_count,
            envelope_id: envelope.as_ref().map(|e| e.id.clone()),
            kind: envelope.as_ref().map(|e| e.kind.clone()),
            created_at: envelope.as_ref().map(|e| e.created_at),
            summary,
        }
    }
}

/// Up to `max` dead letters, oldest first.
pub async fn list(s: &Services, max: usize) -> AdminResult<Vec<DeadLetterView>> {
    Ok(s.queue
        .dead_letters(max)
        .await?
        .into_iter()
        .map(DeadLetterView::from)
        .collect())
}

fn not_found(e: QueueError) -> AdminError {
    match e {
        QueueError::DeadLetterNotFound(_) => AdminError::NotFound("no such dead letter".into()),
        other => other.into(),
    }
}

/// Put a dead letter back on the queue; returns the new message id.
pub async fn replay(s: &Services, operator: &Operator, message_id: &str) -> AdminResult<String> {
    let new_id = s.queue.redrive(message_id).await.map_err(not_found)?;
    record_action(
        s,
        operator,
        "DEAD_LETTER_REPLAYED",
        None,
        message_id,
        json!({ "new_message_id": new_id }),
    )
    .await;
    Ok(new_id)
}

/// Drop a dead letter for good.
pub async fn resolve(s: &Services, operator: &Operator, message_id: &str) -> AdminResult<()> {
    s.queue.resolve(message_id).await.map_err(not_found)?;
    record_action(
        s,
        operator,
        "DEAD_LETTER_RESOLVED",
        None,
        message_id,
        Value::Null,
    )
    .await;
    Ok(())
}
