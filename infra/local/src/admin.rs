//! Operator commands (`skiff admin …`): platform operators and token-signing keys.
//! They work on whatever backend the configuration names — the embedded data dir,
//! or DynamoDB + Secrets Manager with `SKIFF_BACKEND=aws` and the resource
//! variables set (the documented operator path on AWS).

use anyhow::Context;
use skiff_shared::Services;
use skiff_shared::auth::signing_keys;
use skiff_shared::identity::EmailAddress;
use skiff_shared::identity::users::{self, User};
use skiff_shared::ports::store::Change;

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
