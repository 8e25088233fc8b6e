//! Operator commands. `skiff admin …` (platform operators, token-signing keys)
//! works on whatever backend the configuration names — the embedded data dir, or
//! DynamoDB + Secrets Manager with `SKIFF_BACKEND=aws` and the resource variables
//! set (the documented operator path on AWS). `skiff secrets …` sets the embedded
//! backend's secret files; its rules (which names, which values) live here.

use anyhow::Context;
use skiff_adapters::file_secrets::FileSecrets;
use skiff_core::ports::secrets::{BLOB_URL_KEY, Generate, SecretName, SecretValue};
use skiff_core::ports::store::Change;
use skiff_core::services::Services;
use skiff_identity::EmailAddress;
use skiff_identity::signing_keys;
use skiff_identity::signing_keys::TOKEN_SIGNING_KEYS;
use skiff_identity::users::{self, User};

/// Set or clear the `platform_admin` flag of the account with this e-mail.
pub async fn set_platform_admin(
    services: &Services,
    email: &str,
    admin: bool,
) -> anyhow::Result<User> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("`{email}`: {e}"))?;
    let store = services.store.as_ref();
    let user = users::find_by_email(store, &email)
        .await?
        .with_context(|| format!("no account has the e-mail address {email}"))?;
    let user = users::update(store, &user.id, vec![Change::set("platform_admin", admin)]).await?;
    tracing::warn!(user = %user.id, admin, "platform_admin changed by an operator");
    Ok(user)
}

/// Make a new signing key current; the previous one keeps verifying. Returns its kid.
pub async fn rotate_signing_key(services: &Services) -> anyhow::Result<String> {
    Ok(signing_keys::rotate(&services.secrets).await?)
}

/// Stop accepting every previous signing key. Returns the retired kids.
pub async fn retire_signing_keys(services: &Services) -> anyhow::Result<Vec<String>> {
    Ok(signing_keys::retire_previous(&services.secrets).await?)
}

/// Secrets an operator may not set or delete by hand, and why.
fn managed_elsewhere(name: SecretName) -> Option<&'static str> {
    if name == BLOB_URL_KEY {
        Some(
            "is generated on first start; replacing it invalidates every signed URL and the keys derived from it",
        )
    } else if name == TOKEN_SIGNING_KEYS {
        Some("is managed by `skiff admin rotate-signing-key` and `retire-signing-keys`")
    } else {
        None
    }
}

/// A secret name an operator may set or delete (`skiff secrets set|delete NAME`).
pub fn operator_secret(name: &str) -> anyhow::Result<SecretName> {
    let all = skiff_app::secrets();
    let Some(known) = all.iter().copied().find(|s| s.name == name) else {
        let settable: Vec<&str> = all
            .iter()
            .filter(|s| managed_elsewhere(**s).is_none())
            .map(|s| s.name)
            .collect();
        anyhow::bail!(
            "`{name}` is not a secret Skiff knows; known: {}",
            settable.join(", ")
        );
    };
    if let Some(why) = managed_elsewhere(known) {
        anyhow::bail!("`{name}` {why}");
    }
    Ok(known)
}

/// The value of `skiff secrets set` as read from stdin: trailing line breaks are
/// dropped (an `echo` or the Enter key adds one); nothing else is changed.
pub fn secret_value(input: &str) -> anyhow::Result<SecretValue> {
    let value = input.trim_end_matches(['\n', '\r']);
    if value.trim().is_empty() {
        anyhow::bail!("refusing an empty value: write the secret to stdin");
    }
    Ok(SecretValue::new(value))
}

/// Every known secret and whether it is set, names only.
pub fn list_secrets(
    secrets: &FileSecrets,
) -> anyhow::Result<Vec<(&'static str, bool, &'static str)>> {
    skiff_app::secrets()
        .iter()
        .map(|s| {
            let note = match (managed_elsewhere(*s), s.generate) {
                (Some(_), Generate::RandomKey) => "generated",
                (Some(_), Generate::Never) => "managed by `skiff admin`",
                (None, _) => "",
            };
            Ok((s.name, secrets.is_set(*s)?, note))
        })
        .collect()
}
