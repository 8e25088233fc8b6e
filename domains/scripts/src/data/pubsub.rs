//! Topics: `pubsub::publish(topic, message)` fans out to every matching pubsub
//! trigger of the app in one store write (all of its messages or none), durably.

use super::Scope;
use crate::error::{ScriptsError, ScriptsResult};
use crate::triggers::{self, TriggerKind};
use serde_json::{Value, json};
use skiff_core::outbox;

/// Publish `message` on `topic`; how many triggers it fired.
pub async fn publish(scope: &Scope, topic: &str, message: Value) -> ScriptsResult<usize> {
    triggers::check_topic(topic).map_err(|m| ScriptsError::invalid("topic", "INVALID_TOPIC", m))?;
    let store = scope.services.store.as_ref();
    let fired: Vec<_> = triggers::of_kind(store, &scope.org, &scope.app, TriggerKind::Pubsub)
        .await?
        .into_iter()
        .filter(|t| {
            t.topic
                .as_deref()
                .is_some_and(|p| triggers::topic_matches(p, topic))
        })
        .collect();
    let event = json!({"kind": "pubsub", "pubsub": {"topic": topic, "message": message}});
    let staged = triggers::stage(
        &scope.services,
        &fired,
        scope.depth + 1,
        &scope.change_id,
        &event,
        None,
    )?;
    if staged.is_empty() {
        return Ok(0);
    }
    store.transact(triggers::writes(&staged)?).await?;
    outbox::relay(&scope.services, &staged).await;
    Ok(staged.len())
}
