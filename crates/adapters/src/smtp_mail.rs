//! SMTP mailer (a self-hosted production deployment): one multipart/alternative
//! message (text and HTML, UTF-8) per e-mail, through a pooled async connection to
//! one relay. TLS is STARTTLS (required, never downgraded) or implicit TLS, with
//! certificates checked against the webpki roots; plain SMTP only to a loopback
//! relay (configuration refuses it elsewhere). The password comes from the secrets
//! port, never from the environment or the command line, and is never logged.
//!
//! A reply the relay gives for this message (5xx: no such mailbox, policy) is
//! `Rejected`; everything else — connection, TLS, timeouts, 4xx, authentication
//! (the operator's to fix, the message is fine) — is `Unavailable`, so the outbox
//! tries again later.

use crate::ses_mail::check_email;
use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use skiff_core::config::{SmtpSettings, SmtpTls};
use skiff_core::ports::mail::*;
use skiff_core::ports::secrets::{Generate, SecretName, SecretValue};
use std::time::Duration;

/// The SMTP relay's password, used with `SKIFF_SMTP_USERNAME`; set by an operator.
pub const SMTP_PASSWORD: SecretName = SecretName {
    name: "smtp_password",
    generate: Generate::Never,
};

/// How long connecting to the relay may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one whole send may take: the client bounds only the connect, and a
/// relay that stalls mid-conversation would otherwise hold the outbox worker. A
/// send cut off after the relay took the message may be delivered again on retry
/// (SMTP cannot tell).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends through one SMTP relay from one address.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `settings`, sending as `from` (`Name <address>` or an address);
    /// `password` is required exactly when the settings name a username.
    pub fn new(
        settings: &SmtpSettings,
        from: &str,
        password: Option<SecretValue>,
    ) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Rejected(format!("sender `{from}`: {e}")))?;
        let tls = match settings.tls {
            SmtpTls::Plain => Tls::None,
            SmtpTls::StartTls | SmtpTls::Implicit => {
                let params = TlsParameters::new(settings.host.clone()).map_err(|e| {
                    MailError::Unavailable(format!("TLS set-up for {}: {e}", settings.host))
                })?;
                if settings.tls == SmtpTls::Implicit {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(CONNECT_TIMEOUT));
        match (&settings.username, password) {
            (Some(user), Some(password)) => {
                builder = builder
                    .credentials(Credentials::new(user.clone(), password.expose().to_owned()));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(MailError::Unavailable(format!(
                    "SKIFF_SMTP_USERNAME is set but the `{}` secret is not",
                    SMTP_PASSWORD.name
                )));
            }
            (None, Some(_)) => {
                return Err(MailError::Unavailable(format!(
                    "the `{}` secret is set but SKIFF_SMTP_USERNAME is not",
                    SMTP_PASSWORD.name
                )));
            }
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// A fresh Message-ID under the sender's domain: the id `send` returns.
    fn message_id(&self) -> String {
        format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            self.from.email.domain()
        )
    }
}

fn failure(e: lettre::transport::smtp::Error) -> MailError {
    let code = e.status().map(u16::from);
    match code {
        // 530/534/535/538: authentication; the message is fine, the set-up is not.
        Some(c) if (530..540).contains(&c) => MailError::Unavailable(format!("SMTP relay: {e}")),
        Some(500..=599) if e.is_permanent() => MailError::Rejected(format!("SMTP relay: {e}")),
        _ => MailError::Unavailable(format!("SMTP relay: {e}")),
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        check_email(email)?;
        let to: Mailbox = email.to.trim().parse().map_err(|e| {
            MailError::Rejected(format!(
                "`{}` is not a single e-mail address: {e}",
                email.to
            ))
        })?;
        let id = self.message_id();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| MailError::Rejected(format!("building the message: {e}")))?;
        tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message))
            .await
            .map_err(|_| {
                MailError::Unavailable(format!(
                    "SMTP relay: no answer within {} s",
                    SEND_TIMEOUT.as_secs()
                ))
            })?
            .map_err(failure)?;
        tracing::info!(to = %email.to.trim(), subject = %email.subject, mail_id = %id, "e-mail sent by SMTP");
        Ok(id)
    }
}
