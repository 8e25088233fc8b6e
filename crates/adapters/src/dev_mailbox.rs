//! The local mailbox (embedded backend, development only): every e-mail is stored
//! as an item (partition [`PARTITION`], sort key a time-ordered id, kept 7 days)
//! so a person can read it — and click its links — at the dev-only routes in
//! the dev-mailbox routes of the HTTP crate. The log names recipient and subject only: bodies
//! carry sign-in and verification tokens.

use crate::ses_mail::check_email;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use skiff_core::clock::SharedClock;
use skiff_core::ports::mail::*;
use skiff_core::ports::store::{
    Condition, IndexKey, Item, ItemStore, Key, NewItem, Query, StoreError,
};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Item-store partition holding the mailbox.
pub const PARTITION: &str = "DEVMAIL";
/// How long a stored e-mail is kept.
pub const RETENTION: time::Duration = time::Duration::days(7);
/// Most e-mails one listing returns.
pub const MAX_LIST: usize = 200;

/// An e-mail as the mailbox stored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEmail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

/// Stores mail instead of sending it.
pub struct DevMailbox {
    store: Arc<dyn ItemStore>,
    clock: SharedClock,
    /// Keeps ids strictly increasing even when the clock stands still (tests).
    ids: Mutex<uuid::ContextV7>,
}

/// The secondary-index partition of one recipient (addresses compare case-blind).
fn recipient_partition(to: &str) -> String {
    format!("{PARTITION}#{}", to.trim().to_lowercase())
}

fn store_failure(e: StoreError) -> MailError {
    match e {
        StoreError::Invalid(m) => MailError::Rejected(format!("mailbox refused the e-mail: {m}")),
        other => MailError::Unavailable(format!("mailbox: {other}")),
    }
}

fn parse(item: &Item) -> Result<StoredEmail, MailError> {
    let mut email: StoredEmail = item
        .parse()
        .map_err(|e| MailError::Unavailable(format!("mailbox: {e}")))?;
    email.id = item.key.sk.clone();
    Ok(email)
}

impl DevMailbox {
    pub fn new(store: Arc<dyn ItemStore>, clock: SharedClock) -> Self {
        Self {
            store,
            clock,
            ids: Mutex::new(uuid::ContextV7::new()),
        }
    }

    /// A UUIDv7 on the injected clock: lexical order is arrival order.
    fn next_id(&self, now: OffsetDateTime) -> String {
        let nanos = now.unix_timestamp_nanos().max(0) as u128;
        let ts = uuid::Timestamp::from_unix(
            &self.ids,
            (nanos / 1_000_000_000) as u64,
            (nanos % 1_000_000_000) as u32,
        );
        uuid::Uuid::new_v7(ts).to_string()
    }

    /// Stored e-mails, newest first, optionally only those to one address.
    pub async fn list(
        &self,
        to: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredEmail>, MailError> {
        let limit = limit.clamp(1, MAX_LIST);
        let base = match to {
            Some(to) => Query::gsi1(recipient_partition(to)),
            None => Query::partition(PARTITION),
        };
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let query = base
                .clone()
                .descending()
                .limit(limit - found.len())
                .after(cursor);
            let page = self.store.query(query).await.map_err(store_failure)?;
            for item in &page.items {
                found.push(parse(item)?);
            }
            cursor = page.next;
            if found.len() >= limit || cursor.is_none() {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// One stored e-mail by id.
    pub async fn get(&self, id: &str) -> Result<Option<StoredEmail>, MailError> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        match self.store.get(&Key::new(PARTITION, id)).await {
            Ok(Some(item)) => parse(&item).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(store_failure(e)),
        }
    }
}

#[async_trait]
impl Mailer for DevMailbox {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        check_email(email)?;
        let now = self.clock.now();
        let id = self.next_id(now);
        let stored = StoredEmail {
            id: id.clone(),
            to: email.to.trim().to_owned(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            html: email.html.clone(),
            sent_at: now,
        };
        let item = NewItem::from_record(Key::new(PARTITION, &id), &stored)
            .map_err(store_failure)?
            .index(IndexKey::new(recipient_partition(&email.to), &id))
            .expires_at((now + RETENTION).unix_timestamp());
        self.store
            .put(item, Some(Condition::Absent))
            .await
            .map_err(store_failure)?;
        tracing::info!(
            to = %stored.to,
            subject = %stored.subject,
            mail_id = %id,
            "dev mailbox: e-mail stored (read it at /_dev/mailbox)"
        );
        Ok(id)
    }
}
