//! The mail port: transactional e-mail, always sent from the outbox, never inline.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// An e-mail with both a plain-text and an HTML body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The provider refused this message (bad address, unverified sender...).
    #[error("mail rejected: {0}")]
    Rejected(String),
    #[error("mail provider unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Deliver one message; returns the provider's message id.
    async fn send(&self, email: &Email) -> Result<String, MailError>;
}
