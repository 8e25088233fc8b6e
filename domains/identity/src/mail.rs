//! The identity e-mails (verification, welcome, password reset, invitation,
//! password-changed notice), each with a plain-text and an HTML body, always sent
//! through the outbox. Links a person follows in a browser (welcome, reset,
//! invitation) lead to the product's front end (`SKIFF_APP_URL`, else the local
//! server's own pages); the verification link is an API call that answers by itself.
//!
//! "Forgot password" and "resend verification" answer the same thing, in the same
//! time, whether or not the account exists: the request only enqueues a
//! [`PasswordResetRequested`] / [`VerificationRequested`] message, and the outbox
//! consumer looks the account up and sends the e-mail if there is one.

use super::email::EmailAddress;
use super::one_time::{self, Purpose};
use super::users::{self, User};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message, Registry};
use skiff_core::ports::mail::Email;
use skiff_core::services::Services;

/// Escape text for HTML bodies (names and org names are user input).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Encode a token for a query string (tokens are base64url already; this is
/// defence in depth).
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn compose(to: &EmailAddress, subject: &str, lines: &[&str], link: Option<(&str, &str)>) -> Email {
    let mut text = lines.join("\n\n");
    let mut html = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape_html(l)))
        .collect::<String>();
    if let Some((label, url)) = link {
        text.push_str(&format!("\n\n{label}: {url}\n"));
        html.push_str(&format!(
            "<p><a href=\"{u}\">{l}</a></p><p>Or paste this link into your browser: {u}</p>",
            u = escape_html(url),
            l = escape_html(label)
        ));
    }
    text.push_str("\n\n— Skiff\n");
    Email {
        to: to.to_string(),
        subject: subject.to_owned(),
        text,
        html: format!("<!doctype html><html><body>{html}<p>— Skiff</p></body></html>"),
    }
}

pub fn verification_email(services: &Services, user: &User, token: &str) -> Email {
    let link = services.config.link(&format!(
        "/api/v1/auth/verify-email?token={}",
        query_value(token)
    ));
    compose(
        &user.email,
        "Verify your e-mail address",
        &[
            &format!("Hello {},", user.full_name),
            "Please confirm your e-mail address. The link is valid for 24 hours and works once.",
        ],
        Some(("Verify my e-mail address", &link)),
    )
}

pub fn welcome_email(services: &Services, user: &User) -> Email {
    let link = services.config.app_link("/");
    compose(
        &user.email,
        "Welcome to Skiff",
        &[
            &format!("Hello {},", user.full_name),
            "Your e-mail address is verified and your account is ready.",
        ],
        Some(("Open Skiff", &link)),
    )
}

pub fn reset_email(services: &Services, user: &User, token: &str) -> Email {
    let link = services
        .config
        .app_link(&format!("/reset-password?token={}", query_value(token)));
    compose(
        &user.email,
        "Reset your password",
        &[
            &format!("Hello {},", user.full_name),
            "Someone (hopefully you) asked to reset your password. The link is valid for one hour and works once. If it was not you, ignore this e-mail: your password stays as it is.",
        ],
        Some(("Choose a new password", &link)),
    )
}

pub fn invitation_email(
    services: &Services,
    to: &EmailAddress,
    org_name: &str,
    inviter: &str,
    role: &str,
    token: &str,
) -> Email {
    let link = services
        .config
        .app_link(&format!("/accept-invitation?token={}", query_value(token)));
    compose(
        to,
        &format!("You are invited to join {org_name} on Skiff"),
        &[
            &format!("{inviter} invited you to join {org_name} on Skiff as {role}."),
            "The invitation is valid for 7 days and works once.",
        ],
        Some(("Accept the invitation", &link)),
    )
}

pub fn password_changed_email(user: &User) -> Email {
    compose(
        &user.email,
        "Your password was changed",
        &[
            &format!("Hello {},", user.full_name),
            "The password of your Skiff account was just changed and every other session was signed out. If this was not you, reset your password at once.",
        ],
        None,
    )
}

/// Enqueue an e-mail; a failure is logged, never surfaced (sending must not fail
/// the request that caused it).
pub async fn send_logged(services: &Services, email: Email) {
    let subject = email.subject.clone();
    if let Err(e) = outbox::send_email(services, email).await {
        tracing::warn!(error = %e, %subject, "could not enqueue an e-mail");
    }
}

/// Issue a verification token for `user` and e-mail it.
pub async fn send_verification(services: &Services, user: &User) -> Result<(), HandlerError> {
    let mut data = Map::new();
    data.insert("user_id".into(), Value::String(user.id.to_string()));
    let token = one_time::issue(
        services.store.as_ref(),
        services.clock.as_ref(),
        Purpose::VerifyEmail,
        data,
    )
    .await
    .map_err(HandlerError::new)?;
    outbox::send_email(services, verification_email(services, user, &token))
        .await
        .map_err(HandlerError::new)?;
    Ok(())
}

/// Someone asked for a password reset e-mail for `email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub email: String,
}

impl Message for PasswordResetRequested {
    const KIND: &'static str = "auth.password_reset_requested";
}

/// Someone asked for the verification e-mail of `email` again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRequested {
    pub email: String,
}

impl Message for VerificationRequested {
    const KIND: &'static str = "auth.verification_requested";
}

async fn account(services: &Services, email: &str) -> Result<Option<User>, HandlerError> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Ok(None);
    };
    users::find_by_email(services.store.as_ref(), &email)
        .await
        .map_err(HandlerError::new)
}

struct PasswordResetHandler;

#[async_trait]
impl Handler for PasswordResetHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let PasswordResetRequested { email } = outbox::payload(envelope)?;
        let Some(user) = account(services, &email).await? else {
            tracing::info!("password reset requested for an unknown address; nothing sent");
            return Ok(());
        };
        let mut data = Map::new();
        data.insert("user_id".into(), Value::String(user.id.to_string()));
        let token = one_time::issue(
            services.store.as_ref(),
            services.clock.as_ref(),
            Purpose::ResetPassword,
            data,
        )
        .await
        .map_err(HandlerError::new)?;
        outbox::send_email(services, reset_email(services, &user, &token))
            .await
            .map_err(HandlerError::new)?;
        Ok(())
    }
}

struct VerificationHandler;

#[async_trait]
impl Handler for VerificationHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let VerificationRequested { email } = outbox::payload(envelope)?;
        match account(services, &email).await? {
            Some(user) if !user.email_verified => send_verification(services, &user).await,
            _ => {
                tracing::info!(
                    "verification requested for an unknown or verified address; nothing sent"
                );
                Ok(())
            }
        }
    }
}

/// Add the identity message kinds to an outbox registry.
pub fn register(registry: &mut Registry) {
    registry.register(PasswordResetRequested::KIND, PasswordResetHandler);
    registry.register(VerificationRequested::KIND, VerificationHandler);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_links_are_query_safe() {
        assert_eq!(
            escape_html("<b>\"A&B\"</b>"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;"
        );
        assert_eq!(query_value("a-b_c+d/e"), "a-b_c%2Bd%2Fe");
        let to = EmailAddress::parse("x@example.com").unwrap();
        let m = compose(
            &to,
            "S",
            &["Hi <script>"],
            Some(("Go", "http://h/x?token=a&b")),
        );
        assert!(m.html.contains("Hi &lt;script&gt;"));
        assert!(m.html.contains("href=\"http://h/x?token=a&amp;b\""));
        assert!(m.text.contains("Go: http://h/x?token=a&b"));
    }
}
