//! STUB — replaced by the mail work.
use crate::adapters::dev_mailbox::DevMailbox;
use std::sync::Arc;

pub fn router(_mailbox: Arc<DevMailbox>) -> axum::Router {
    axum::Router::new()
}
