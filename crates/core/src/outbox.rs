//! The outbox: side effects that may be slow or fail are messages. Producers write
//! state first, then [`enqueue`]; consumers run [`process`], which claims the
//! message id in the store before calling the handler for its kind, so a redelivery
//! never repeats a side effect (see ARCHITECTURE.md, The outbox).

use crate::idempotency::{self, Claim};
use crate::ports::mail::Email;
use crate::ports::queue::QueueError;
use crate::ports::store::{Condition, ItemStore, Key, NewItem, Write};
use crate::services::Services;
use async_trait::async_trait;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Idempotency scope of outbox messages.
const SCOPE: &str = "outbox";

/// How long a handler may run before another consumer may take the message over.
pub const HANDLER_LEASE: Duration = Duration::from_secs(120);

/// What travels on the queue. `id` is ours (stable across redeliveries and redrives),
/// unlike the backend's message id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    /// Unix seconds.
    pub created_at: i64,
}

/// A message type with its kind name.
pub trait Message: Serialize + DeserializeOwned + Send + Sync {
    const KIND: &'static str;
}

/// Send one e-mail through the mail port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    pub email: Email,
}

impl Message for SendEmail {
    const KIND: &'static str = "send_email";
}

/// Wrap a message in a fresh envelope.
pub fn envelope<M: Message>(services: &Services, message: &M) -> Result<Envelope, QueueError> {
    Ok(Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        kind: M::KIND.to_owned(),
        payload: serde_json::to_value(message)
            .map_err(|e| QueueError::Invalid(format!("message does not serialize: {e}")))?,
        created_at: services.clock.unix(),
    })
}

/// Enqueue one message; returns the envelope id.
pub async fn enqueue<M: Message>(services: &Services, message: &M) -> Result<String, QueueError> {
    let env = envelope(services, message)?;
    let body = serde_json::to_string(&env).map_err(|e| QueueError::Invalid(e.to_string()))?;
    services.queue.send(body).await?;
    tracing::info!(message_id = %env.id, kind = %env.kind, "message enqueued");
    Ok(env.id)
}

/// Enqueue an e-mail. Never call the mail port from a request.
pub async fn send_email(services: &Services, email: Email) -> Result<String, QueueError> {
    enqueue(services, &SendEmail { email }).await
}

/// Why a handler failed; the message will be retried, then dead-lettered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

impl HandlerError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        HandlerError(e.to_string())
    }
}

/// Handles one kind of message. Must be safe to call again for the same message after
/// a crash mid-way (the idempotency record covers completed runs, not partial ones).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError>;

    /// The last delivery the queue allows has failed (`why`): the message goes to
    /// the dead-letter queue next. A kind whose progress a user watches records the
    /// failure here, so it does not look as if it were still running.
    async fn given_up(&self, _services: &Services, _envelope: &Envelope, _why: &str) {}
}

/// Message kinds → handlers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The kinds the core defines itself (the generic e-mail); the wiring crate
    /// adds each domain's.
    pub fn core() -> Self {
        let mut r = Self::new();
        r.register(SendEmail::KIND, SendEmailHandler);
        r
    }

    pub fn register(&mut self, kind: &'static str, handler: impl Handler) -> &mut Self {
        self.handlers.insert(kind, Arc::new(handler));
        self
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

/// Typed payload of an envelope.
pub fn payload<M: Message>(envelope: &Envelope) -> Result<M, HandlerError> {
    serde_json::from_value(envelope.payload.clone())
        .map_err(|e| HandlerError(format!("bad {} payload: {e}", M::KIND)))
}

struct SendEmailHandler;

#[async_trait]
impl Handler for SendEmailHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let SendEmail { email } = payload(envelope)?;
        let id = services
            .mailer
            .send(&email)
            .await
            .map_err(HandlerError::new)?;
        tracing::info!(provider_id = %id, subject = %email.subject, "e-mail sent");
        Ok(())
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler ran and succeeded: acknowledge.
    Done,
    /// Already processed earlier: acknowledge without acting.
    Duplicate,
    /// Not processed now (handler failure, another consumer holds it, malformed):
    /// leave it for redelivery.
    Retry(String),
}

impl Outcome {
    pub fn acknowledge(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::Duplicate)
    }
}

/// [`process`] one delivery and count its outcome by kind
/// (`skiff_core::metrics::OUTBOX_MESSAGES`): a failure of the last delivery the
/// queue allows (`receive_count` ≥ `SKIFF_QUEUE_MAX_RECEIVES`) counts as
/// `dead_lettered`, since the queue moves the message to its DLQ next.
pub async fn process_delivery(
    services: &Services,
    registry: &Registry,
    body: &str,
    receive_count: u32,
) -> Outcome {
    let envelope = parse(body);
    let outcome = match &envelope {
        Ok(envelope) => process_envelope(services, registry, envelope).await,
        Err(malformed) => malformed.clone(),
    };
    let envelope = envelope.ok();
    let kind = envelope
        .as_ref()
        .and_then(|e| registry.handlers.get_key_value(e.kind.as_str()))
        .map_or("unknown", |(k, _)| *k);
    let label = match &outcome {
        Outcome::Done => "processed",
        Outcome::Duplicate => "duplicate",
        Outcome::Retry(why) if receive_count >= services.config.queue_max_receives => {
            if let Some(envelope) = &envelope {
                give_up(services, registry, envelope, why).await;
            }
            "dead_lettered"
        }
        Outcome::Retry(_) => "retried",
    };
    crate::metrics::OUTBOX_MESSAGES.inc(&[kind, label]);
    outcome
}

/// Tell the message's handler that its message is being dead-lettered.
async fn give_up(services: &Services, registry: &Registry, envelope: &Envelope, why: &str) {
    if let Some(handler) = registry.handlers.get(envelope.kind.as_str()) {
        tracing::error!(message_id = %envelope.id, kind = %envelope.kind, error = %why, "message dead-lettered");
        handler.given_up(services, envelope, why).await;
    }
}

/// A delivery's envelope, or the outcome of a malformed one (left for the queue
/// to redeliver and finally dead-letter).
fn parse(body: &str) -> Result<Envelope, Outcome> {
    serde_json::from_str(body).map_err(|e| {
        tracing::error!(error = %e, "malformed outbox message");
        Outcome::Retry(format!("malformed message: {e}"))
    })
}

/// Process one message body, exactly once per envelope id.
pub async fn process(services: &Services, registry: &Registry, body: &str) -> Outcome {
    match parse(body) {
        Ok(envelope) => process_envelope(services, registry, &envelope).await,
        Err(malformed) => malformed,
    }
}

async fn process_envelope(
    services: &Services,
    registry: &Registry,
    envelope: &Envelope,
) -> Outcome {
    crate::request_scope::scope(
        envelope.id.clone(),
        handle_once(services, registry, envelope),
    )
    .await
}

async fn handle_once(services: &Services, registry: &Registry, envelope: &Envelope) -> Outcome {
    let Some(handler) = registry.handlers.get(envelope.kind.as_str()) else {
        tracing::error!(kind = %envelope.kind, "no handler for message kind");
        return Outcome::Retry(format!("no handler for kind `{}`", envelope.kind));
    };
    let claim = idempotency::claim(
        services.store.as_ref(),
        services.clock.as_ref(),
        SCOPE,
        &envelope.id,
        HANDLER_LEASE,
    )
    .await;
    let lease = match claim {
        Ok(Claim::Acquired(lease)) => lease,
        Ok(Claim::Done { .. }) => {
            tracing::info!(message_id = %envelope.id, "duplicate delivery skipped");
            return Outcome::Duplicate;
        }
        Ok(Claim::InProgress) => {
            return Outcome::Retry("another consumer holds this message".into());
        }
        Err(e) => return Outcome::Retry(format!("idempotency record: {e}")),
    };
    match handler.handle(services, envelope).await {
        Ok(()) => match lease.complete(services.store.as_ref(), None).await {
            Ok(()) => {
                tracing::info!(message_id = %envelope.id, kind = %envelope.kind, "message processed");
                Outcome::Done
            }
            // The side effect happened; a lost record only risks one repeat later.
            Err(e) => {
                tracing::warn!(error = %e, "processed but could not record completion");
                Outcome::Done
            }
        },
        Err(e) => {
            tracing::warn!(message_id = %envelope.id, kind = %envelope.kind, error = %e, "handler failed");
            if let Err(e) = lease.release(services.store.as_ref()).await {
                tracing::warn!(error = %e, "could not release the claim; it expires with its lease");
            }
            Outcome::Retry(e.0)
        }
    }
}

// ---------------------------------------------------------------------------
// Staged messages: the transactional outbox.
// ---------------------------------------------------------------------------

/// Partitions staged messages spread over (so no one partition runs hot).
pub const STAGED_SHARDS: u32 = 8;

/// How old a staged message must be before the sweeper sends it: the producer's
/// own relay, right after its commit, has had this long.
pub const RELAY_GRACE: Duration = Duration::from_secs(30);

/// Most staged messages one sweep sends.
pub const RELAY_BATCH: usize = 1000;

fn staged_pk(shard: u32) -> String {
    format!("OUTBOX#STAGED#{shard}")
}

fn shard_of(id: &str) -> u32 {
    // FNV-1a: stable across processes (unlike the std hasher).
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h % STAGED_SHARDS
}

/// A message written into the store with the change that causes it, waiting to
/// be sent to the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    pub envelope: Envelope,
    /// Unix seconds before which the message must not be delivered.
    pub not_before: i64,
}

impl Staged {
    pub fn now(envelope: Envelope) -> Self {
        let not_before = envelope.created_at;
        Self {
            envelope,
            not_before,
        }
    }

    fn key(&self) -> Key {
        Key::new(
            staged_pk(shard_of(&self.envelope.id)),
            self.envelope.id.clone(),
        )
    }

    /// The write that stages this message: put it in the same transaction as the
    /// change that causes it, so a change that commits never loses its messages
    /// and a change that fails sends none. Staging the same id twice fails the
    /// transaction.
    pub fn write(&self) -> Result<Write, QueueError> {
        let body = serde_json::to_string(&self.envelope)
            .map_err(|e| QueueError::Invalid(format!("message does not serialize: {e}")))?;
        Ok(Write::Put {
            item: NewItem::new(self.key())
                .attr("body", body)
                .attr("not_before", self.not_before)
                .attr("staged_at", self.envelope.created_at),
            condition: Some(Condition::Absent),
        })
    }
}

/// Send staged messages whose transaction committed, then drop them from the
/// store. What fails here stays staged and the sweeper sends it later; a message
/// sent twice (here and by the sweeper) is processed once, by its envelope id.
pub async fn relay(services: &Services, staged: &[Staged]) {
    relay_with(Ports::of(services), staged).await
}

/// The ports the relay works with (so its behaviour is tested on each adapter).
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    pub store: &'a dyn ItemStore,
    pub queue: &'a dyn crate::ports::queue::Queue,
    pub clock: &'a dyn crate::clock::Clock,
}

impl<'a> Ports<'a> {
    pub fn of(services: &'a Services) -> Self {
        Self {
            store: services.store.as_ref(),
            queue: services.queue.as_ref(),
            clock: services.clock.as_ref(),
        }
    }
}

/// [`relay`] over the ports.
pub async fn relay_with(ports: Ports<'_>, staged: &[Staged]) {
    for s in staged {
        if let Err(e) = send_staged(ports, s).await {
            tracing::warn!(message_id = %s.envelope.id, error = %e, "staged message left for the sweeper");
        }
    }
}

async fn send_staged(ports: Ports<'_>, s: &Staged) -> Result<(), String> {
    let body = serde_json::to_string(&s.envelope).map_err(|e| e.to_string())?;
    let wait = (s.not_before - ports.clock.unix()).max(0) as u64;
    let delay = Duration::from_secs(wait);
    if delay > crate::ports::queue::MAX_DELAY {
        return Err("not due within the queue's longest delay yet".into());
    }
    if delay.is_zero() {
        ports.queue.send(body).await
    } else {
        ports.queue.send_delayed(body, delay).await
    }
    .map_err(|e| e.to_string())?;
    ports
        .store
        .delete(&s.key(), None)
        .await
        .map_err(|e| format!("sent, but not unstaged: {e}"))?;
    tracing::info!(message_id = %s.envelope.id, kind = %s.envelope.kind, "message enqueued");
    Ok(())
}

/// The sweeper: send the staged messages older than [`RELAY_GRACE`] (their
/// producer crashed or lost the queue after its commit). Bounded per run.
pub async fn relay_stale(services: &Services) -> Result<String, String> {
    relay_stale_with(Ports::of(services)).await
}

/// [`relay_stale`] over the ports.
pub async fn relay_stale_with(ports: Ports<'_>) -> Result<String, String> {
    let services = ports;
    let cutoff = services.clock.unix() - RELAY_GRACE.as_secs() as i64;
    let mut sent = 0;
    let mut failed = 0;
    for shard in 0..STAGED_SHARDS {
        let mut cursor = None;
        loop {
            let page = services
                .store
                .query(
                    crate::ports::store::Query::partition(staged_pk(shard))
                        .limit(100)
                        .after(cursor),
                )
                .await
                .map_err(|e| e.to_string())?;
            for item in &page.items {
                if item.get_i64("staged_at").unwrap_or(0) > cutoff {
                    continue;
                }
                let Some(envelope) = item
                    .get_str("body")
                    .and_then(|b| serde_json::from_str::<Envelope>(b).ok())
                else {
                    tracing::error!(key = %item.key.sk, "unreadable staged message dropped");
                    let _ = services.store.delete(&item.key, None).await;
                    continue;
                };
                let staged = Staged {
                    envelope,
                    not_before: item.get_i64("not_before").unwrap_or(0),
                };
                match send_staged(ports, &staged).await {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(message_id = %staged.envelope.id, error = %e, "staged message not sent yet");
                    }
                }
                if sent + failed >= RELAY_BATCH {
                    return Ok(format!("sent {sent} staged messages ({failed} not yet)"));
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(format!("sent {sent} staged messages ({failed} not yet)"))
}

/// Delay before a failed message is retried: doubling from 2 s, capped.
pub fn retry_delay(receive_count: u32, cap: Duration) -> Duration {
    let secs = 2u64.saturating_pow(receive_count.clamp(1, 16));
    Duration::from_secs(secs).min(cap)
}
