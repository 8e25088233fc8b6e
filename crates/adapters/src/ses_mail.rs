//! SES v2 mailer: `SendEmail` with simple content (subject, text and HTML bodies,
//! UTF-8). A message SES refuses (unverified sender, bad address) is `Rejected` and
//! should not be retried; throttling and outages are retried here with jittered
//! backoff, then reported `Unavailable` so the outbox tries again later.

use crate::aws::Lazy;
use crate::sdk_retry::{describe, is_transient, retry};
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use skiff_core::ports::mail::*;

/// Error codes that mean "this message will never be accepted as it is".
const REJECTED_CODES: &[&str] = &[
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "BadRequestException",
    "NotFoundException",
    "InvalidParameterValue",
];

/// Sends through SES v2 from one verified address.
pub struct SesMailer {
    client: Lazy<Client>,
    from: String,
}

/// Checks both mailers apply: one plausible recipient, and no line breaks in the
/// header fields (header injection).
pub(crate) fn check_email(email: &Email) -> Result<(), MailError> {
    let to = email.to.trim();
    let plausible = to.len() <= 320
        && to.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !to
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',');
    if !plausible {
        return Err(MailError::Rejected(format!(
            "`{}` is not a single e-mail address",
            email.to
        )));
    }
    if email.subject.chars().any(|c| c == '\r' || c == '\n') {
        return Err(MailError::Rejected(
            "the subject must not contain line breaks".into(),
        ));
    }
    Ok(())
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(format!("building the message: {e}")))
}

fn failure<E>(err: &SdkError<E, HttpResponse>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = describe(err);
    if is_transient(err) {
        return MailError::Unavailable(detail);
    }
    let status = err.raw_response().map(|r| r.status().as_u16());
    match err.code() {
        Some(code) if REJECTED_CODES.contains(&code) => MailError::Rejected(detail),
        // Account-wide conditions (suspended, paused, quota, credentials): the
        // message itself is fine; sending may work later.
        Some(_) => MailError::Unavailable(detail),
        None if status == Some(400) => MailError::Rejected(detail),
        None => MailError::Unavailable(detail),
    }
}

impl SesMailer {
    /// `from` must be an identity (address or domain) verified in SES.
    pub fn new(client: impl Into<Lazy<Client>>, from: String) -> Self {
        Self {
            client: client.into(),
            from,
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        check_email(email)?;
        let content = EmailContent::builder()
            .simple(
                Message::builder()
                    .subject(utf8(&email.subject)?)
                    .body(
                        Body::builder()
                            .text(utf8(&email.text)?)
                            .html(utf8(&email.html)?)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let destination = Destination::builder().to_addresses(email.to.trim()).build();
        let out = retry("send email", || {
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(destination.clone())
                .content(content.clone())
                .send()
        })
        .await
        .map_err(|e| {
            let err = failure(&e);
            tracing::warn!(to = %email.to, subject = %email.subject, error = %err, "e-mail not sent");
            err
        })?;
        let id = out.message_id.unwrap_or_default();
        tracing::info!(to = %email.to, subject = %email.subject, message_id = %id, "e-mail sent");
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(to: &str, subject: &str) -> Email {
        Email {
            to: to.into(),
            subject: subject.into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
        }
    }

    #[test]
    fn addresses_and_subjects_are_checked() {
        assert!(check_email(&email("ana@example.com", "Hi")).is_ok());
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@localhost",
            "a b@example.com",
            "a@x.com,b@y.com",
            "a@x.com\r\nBcc: c@z.com",
        ] {
            assert!(check_email(&email(bad, "Hi")).is_err(), "{bad:?}");
        }
        assert!(check_email(&email("ana@example.com", "Hi\r\nBcc: x@y.com")).is_err());
    }
}
