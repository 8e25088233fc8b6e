//! Sign-up: a new user, the organization they found and their owner membership,
//! written in one transaction so a lost race on the e-mail address leaves nothing
//! behind; then the verification e-mail is queued.

use crate::names::Name;
use crate::orgs::{self, Membership, Org};
use crate::users::{self, User};
use crate::{EmailAddress, OrgId, Password, Role, UserId, mail, password};
use skiff_core::Services;
use skiff_core::ports::store::StoreError;

/// What a person signs up with, each value already parsed.
pub struct Registration {
    pub email: EmailAddress,
    pub password: Password,
    pub full_name: Name,
    pub company: Name,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Create the account and its organization; the caller has checked the input and
/// the rate limits.
pub async fn register(services: &Services, r: Registration) -> Result<(User, Org), RegisterError> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    if users::find_by_email(store, &r.email).await?.is_some() {
        return Err(RegisterError::EmailTaken);
    }
    let now = clock.unix();
    let user = User {
        id: UserId::new(),
        email: r.email,
        full_name: r.full_name.into_string(),
        password_hash: password::hash_blocking(r.password).await,
        email_verified: false,
        created_at: now,
        platform_admin: false,
        default_org: OrgId::new(),
        company: Some(r.company.as_str().to_owned()),
        suspended_at: None,
    };
    let org = Org {
        id: user.default_org.clone(),
        name: r.company.into_string(),
        created_at: now,
        owners: 1,
    };
    let owner = Membership {
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        role: Role::Owner,
        joined_at: now,
    };
    let mut writes = users::create_writes(&user)?;
    writes.extend(orgs::create_writes(&org, &owner)?);
    match store.transact(writes).await {
        Ok(()) => {}
        // The e-mail item is the first write; ids are fresh, so a lost race on the
        // address is the only condition that can fail.
        Err(e) if e.is_condition_failed() => return Err(RegisterError::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(user = %user.id, org = %org.id, "user registered");
    crate::audit::record(
        store,
        clock,
        Some(&user.id),
        "USER_REGISTERED",
        Some(&org.id),
        user.id.as_str(),
        serde_json::json!({ "org_name": org.name }),
    )
    .await;
    if let Err(e) = mail::send_verification(services, &user).await {
        tracing::warn!(error = %e, "could not queue the verification e-mail; the user can ask again");
    }
    Ok((user, org))
}
