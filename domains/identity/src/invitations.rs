//! Invitations to an organization. The e-mailed one-time token is the credential;
//! the record in the org's partition (`ORG#<org>` / `INVITE#<inv>`) is what the
//! org's admins list and revoke. It names the token by hash only, so revoking
//! withdraws the token in the same transaction and the link then answers "revoked",
//! while accepting marks the record in the transaction that consumes the token.

use super::email::EmailAddress;
use super::ids::{InvitationId, OrgId, UserId};
use super::names::Name;
use super::one_time::{self, ConsumeError, Purpose, RETAIN_AFTER_EXPIRY};
use super::orgs::{self, Membership};
use super::password::{self, Password};
use super::roles::Role;
use super::users::{self, User};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_core::Services;
use skiff_core::clock::Clock;
use skiff_core::ports::store::{
    Change, Condition, ItemStore, Key, NewItem, Query, StoreError, Write,
};
use skiff_core::validation::FieldError;

/// An invitation as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: EmailAddress,
    pub role: Role,
    pub invited_by: UserId,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds: the token's end.
    pub expires_at: i64,
    /// SHA-256 of the e-mailed token.
    token_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

impl Invitation {
    /// Neither accepted nor revoked, and not yet expired.
    pub fn is_pending(&self, now: i64) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// The token data field that links a token to its invitation record.
pub const ID_FIELD: &str = "invitation_id";

pub fn invitation_key(org: &OrgId, id: &InvitationId) -> Key {
    Key::new(format!("ORG#{org}"), format!("INVITE#{id}"))
}

/// Record an invitation of `email` to `org` with `role`, and its token, in one
/// transaction; returns the record and the raw token (to e-mail, never to answer).
pub async fn create(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org: &OrgId,
    email: &EmailAddress,
    role: Role,
    invited_by: &UserId,
) -> Result<(Invitation, String), StoreError> {
    let now = clock.unix();
    let id = InvitationId::new();
    let mut data = Map::new();
    data.insert(ID_FIELD.into(), Value::String(id.to_string()));
    data.insert("org_id".into(), Value::String(org.to_string()));
    data.insert("email".into(), Value::String(email.to_string()));
    data.insert("role".into(), Value::String(role.as_str().into()));
    data.insert("invited_by".into(), Value::String(invited_by.to_string()));
    let (raw, token_write) = one_time::issue_write(clock, Purpose::Invitation, data);
    let expires_at = now + Purpose::Invitation.lifetime().as_secs() as i64;
    let invitation = Invitation {
        id,
        org_id: org.clone(),
        email: email.clone(),
        role,
        invited_by: invited_by.clone(),
        created_at: now,
        expires_at,
        token_hash: one_time::hash_of(&raw),
        accepted_at: None,
        revoked_at: None,
    };
    store
        .transact(vec![
            token_write,
            Write::Put {
                item: NewItem::from_record(invitation_key(org, &invitation.id), &invitation)?
                    .expires_at(expires_at + RETAIN_AFTER_EXPIRY.as_secs() as i64),
                condition: Some(Condition::Absent),
            },
        ])
        .await?;
    Ok((invitation, raw))
}

/// Store reads one page of [`pending`] may take before it answers with fewer.
const MAX_READS: usize = 10;

/// One page of `org`'s pending invitations, oldest first, and the cursor of the
/// next page. Accepted, revoked and expired invitations (kept a while to answer
/// precisely) are read past, so the page is filled from further reads; only after
/// many such reads may a page hold fewer than `limit`.
pub async fn pending(
    store: &dyn ItemStore,
    org: &OrgId,
    now: i64,
    limit: usize,
    mut cursor: Option<String>,
) -> Result<(Vec<Invitation>, Option<String>), StoreError> {
    let mut out = vec![];
    for _ in 0..MAX_READS {
        // Never more than still fits: a page is taken whole, so its cursor is exact.
        let page = store
            .query(
                Query::partition(format!("ORG#{org}"))
                    .prefix("INVITE#")
                    .limit(limit - out.len())
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            let invitation: Invitation = item.parse()?;
            if invitation.is_pending(now) {
                out.push(invitation);
            }
        }
        cursor = page.next;
        if out.len() == limit || cursor.is_none() {
            break;
        }
    }
    Ok((out, cursor))
}

/// What a revocation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Revoked now, or already before.
    Done,
    /// Accepted before it could be revoked.
    AlreadyAccepted,
    /// The org has no such invitation.
    NotFound,
}

/// Attempts before a revocation gives up on concurrent writers.
const ATTEMPTS: usize = 5;

/// Revoke one of `org`'s invitations: the record and the token together, so an
/// acceptance racing the revocation either wins entirely or fails as revoked.
pub async fn revoke(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    org: &OrgId,
    id: &InvitationId,
) -> Result<Revoked, StoreError> {
    let key = invitation_key(org, id);
    for _ in 0..ATTEMPTS {
        let Some(item) = store.get(&key).await? else {
            return Ok(Revoked::NotFound);
        };
        let invitation: Invitation = item.parse()?;
        if invitation.revoked_at.is_some() {
            return Ok(Revoked::Done);
        }
        if invitation.accepted_at.is_some() {
            return Ok(Revoked::AlreadyAccepted);
        }
        let writes = vec![
            Write::Update {
                key: key.clone(),
                changes: vec![Change::set("revoked_at", clock.unix())],
                condition: Some(Condition::VersionIs(item.version)),
            },
            one_time::revoke_write(clock, &invitation.token_hash),
        ];
        match store.transact(writes).await {
            Ok(()) => return Ok(Revoked::Done),
            // Accepted or revoked meanwhile: read again and say which.
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "invitation changed concurrently too often".into(),
    ))
}

/// The write that marks an invitation accepted, for the transaction that consumes
/// its token; it fails if the invitation was revoked.
pub fn accept_write(clock: &dyn Clock, org: &OrgId, id: &InvitationId) -> Write {
    Write::Update {
        key: invitation_key(org, id),
        changes: vec![Change::set("accepted_at", clock.unix())],
        condition: Some(Condition::All(vec![
            Condition::Exists,
            Condition::AttrMissing("revoked_at".into()),
        ])),
    }
}

/// Someone without an account yet: what creates it, as typed.
pub struct NewAccount<'a> {
    pub full_name: &'a str,
    pub password: &'a str,
}

/// Who accepted, and whether their account was created for it.
pub struct Accepted {
    pub user: User,
    pub org_id: OrgId,
    pub role: Role,
    pub created: bool,
}

/// Why an invitation could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Token(#[from] ConsumeError),
    #[error("this invitation was sent to another e-mail address")]
    ForAnotherAccount,
    /// A new account needs these fields fixed.
    #[error("invalid account details")]
    Invalid(Vec<FieldError>),
    #[error("you are already a member of this organization")]
    AlreadyMember,
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    #[error("organization not found")]
    OrgNotFound,
    #[error("invitation token with malformed data")]
    Corrupt,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Accept the invitation `token`: the invited address's account joins the org; with
/// no account yet, `new_account` creates one (its address verified by the
/// invitation). `signed_in` is the caller's user when they are signed in: an
/// invitation for another address is refused. The token is consumed, the account
/// (if new), the membership and the invitation's record are written in one
/// transaction, and a lost race is reported as what it lost to.
pub async fn accept(
    services: &Services,
    token: &str,
    signed_in: Option<&UserId>,
    new_account: NewAccount<'_>,
) -> Result<Accepted, AcceptError> {
    let (store, clock) = (services.store.as_ref(), services.clock.as_ref());
    let data = one_time::peek(store, clock, Purpose::Invitation, token).await?;
    let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default();
    let org_id = OrgId::parse(field("org_id")).map_err(|_| AcceptError::Corrupt)?;
    let email = EmailAddress::parse(field("email")).map_err(|_| AcceptError::Corrupt)?;
    let role = Role::parse(field("role")).ok_or(AcceptError::Corrupt)?;
    // Tokens issued before invitations had records carry no id.
    let invitation_id = match data.get(ID_FIELD) {
        Some(_) => Some(InvitationId::parse(field(ID_FIELD)).map_err(|_| AcceptError::Corrupt)?),
        None => None,
    };
    let now = clock.unix();

    let existing = users::find_by_email(store, &email).await?;
    if let (Some(me), Some(u)) = (signed_in, &existing)
        && *me != u.id
    {
        return Err(AcceptError::ForAnotherAccount);
    }
    let (user, created) = match existing {
        Some(user) => (user, false),
        None => {
            let name = Name::parse(new_account.full_name, "full_name");
            let password = Password::new(new_account.password, "password");
            let (name, password) = match (name, password) {
                (Ok(name), Ok(password)) => (name, password),
                (name, password) => {
                    let mut errors: Vec<FieldError> = name.err().into_iter().collect();
                    errors.extend(password.err().unwrap_or_default());
                    return Err(AcceptError::Invalid(errors));
                }
            };
            let user = User {
                id: UserId::new(),
                email: email.clone(),
                full_name: name.into_string(),
                password_hash: password::hash_blocking(password).await,
                email_verified: true,
                created_at: now,
                platform_admin: false,
                company: None,
                suspended_at: None,
                default_org: org_id.clone(),
            };
            (user, true)
        }
    };
    let membership = Membership {
        org_id: org_id.clone(),
        user_id: user.id.clone(),
        role,
        joined_at: now,
    };
    let mut writes = vec![one_time::consume_write(clock, Purpose::Invitation, token)];
    let user_writes = if created {
        users::create_writes(&user)?
    } else {
        vec![]
    };
    let membership_at = 1 + user_writes.len();
    writes.extend(user_writes);
    writes.extend(orgs::join_writes(&membership)?);
    let invitation_at = writes.len();
    if let Some(id) = &invitation_id {
        writes.push(accept_write(clock, &org_id, id));
    }
    match store.transact(writes).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { index }) => {
            return Err(match index {
                Some(i) if invitation_id.is_some() && i == invitation_at => {
                    AcceptError::Token(ConsumeError::Revoked)
                }
                Some(i) if i == membership_at => AcceptError::AlreadyMember,
                Some(i) if i > membership_at => AcceptError::OrgNotFound,
                Some(i) if i > 0 => AcceptError::EmailTaken,
                // The token (index 0) or unknown: ask the token first.
                _ => match one_time::peek(store, clock, Purpose::Invitation, token).await {
                    Err(why) => AcceptError::Token(why),
                    Ok(_) => lost_race(store, &membership, created).await,
                },
            });
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(user = %user.id, org = %org_id, created, "invitation accepted");
    crate::audit::record(
        store,
        clock,
        Some(&user.id),
        "INVITATION_ACCEPTED",
        Some(&org_id),
        user.id.as_str(),
        serde_json::json!({ "role": role, "new_account": created }),
    )
    .await;
    Ok(Accepted {
        user,
        org_id,
        role,
        created,
    })
}

/// The token was still usable, so another write lost a race: say which.
async fn lost_race(store: &dyn ItemStore, m: &Membership, created: bool) -> AcceptError {
    if created {
        return AcceptError::EmailTaken;
    }
    match orgs::membership(store, &m.org_id, &m.user_id).await {
        Ok(Some(_)) => AcceptError::AlreadyMember,
        Ok(None) => AcceptError::OrgNotFound,
        Err(e) => e.into(),
    }
}
