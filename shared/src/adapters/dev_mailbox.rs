//! STUB — replaced by the mail work. Dev mailbox: stores mail in the item store.
use crate::clock::SharedClock;
use crate::ports::mail::*;
use crate::ports::store::ItemStore;
use async_trait::async_trait;
use std::sync::Arc;

pub struct DevMailbox;

impl DevMailbox {
    pub fn new(_store: Arc<dyn ItemStore>, _clock: SharedClock) -> Self {
        Self
    }
}

#[async_trait]
impl Mailer for DevMailbox {
    async fn send(&self, _e: &Email) -> Result<String, MailError> {
        todo!()
    }
}
