//! Identity repositories over both item store adapters (SQLite, and DynamoDB on the
//! emulator): accounts stored before e-mail identity ignored letter case, and API
//! keys' expiry, creator check and bounded bookkeeping of their use.

use async_trait::async_trait;
use skiff_core::clock::Clock;
use skiff_core::ports::store::{
    Change, Condition, Counter, Item, ItemStore, Key, NewItem, Page, Query, StoreError, Write,
};
use skiff_identity::api_keys::{self, KeyError};
use skiff_identity::invitations::{self, Revoked};
use skiff_identity::one_time::{self, ConsumeError, Purpose};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Role, Scopes, UserId};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

type Harness = skiff_adapters::testing::StoreHarness;

skiff_adapters::conformance_suite! {
    adapters { embedded => super::Harness::sqlite().await, dynamodb => super::Harness::dynamodb("identity").await }
    cases {
        an_account_stored_with_its_typed_address_is_found_and_then_owns_every_case,
        two_older_accounts_differing_only_in_case_both_stay_reachable,
        new_accounts_are_unique_whatever_the_case_and_keep_the_typed_form,
        a_keys_last_use_is_written_at_most_once_a_minute_even_under_concurrent_use,
        a_key_is_refused_once_expired_or_once_its_creator_leaves,
        a_revoked_invitation_leaves_the_list_and_its_token_answers_revoked,
        pending_invitations_page_past_accepted_ones,
    }
}

fn user(email: &str) -> User {
    User {
        id: UserId::new(),
        email: EmailAddress::parse(email).unwrap(),
        full_name: "Ada".into(),
        password_hash: "x".into(),
        email_verified: true,
        created_at: 0,
        platform_admin: false,
        company: None,
        suspended_at: None,
        default_org: OrgId::new(),
    }
}

/// Store `u` the way accounts were stored while the uniqueness item carried the
/// local part as typed.
async fn store_as_before(store: &dyn ItemStore, u: &User) {
    store
        .transact(vec![
            Write::Put {
                item: NewItem::new(Key::new(format!("EMAIL#{}", u.email), "EMAIL"))
                    .attr("user_id", u.id.as_str()),
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::from_record(users::user_key(&u.id), u).unwrap(),
                condition: Some(Condition::Absent),
            },
        ])
        .await
        .unwrap();
}

async fn find(store: &dyn ItemStore, email: &str) -> Option<UserId> {
    users::find_by_email(store, &EmailAddress::parse(email).unwrap())
        .await
        .unwrap()
        .map(|u| u.id)
}

async fn an_account_stored_with_its_typed_address_is_found_and_then_owns_every_case(h: Harness) {
    let store = h.store.as_ref();
    let old = user("Ada@Example.com");
    store_as_before(store, &old).await;

    assert_eq!(find(store, "Ada@example.com").await, Some(old.id.clone()));
    // Found once by its typed address, it answers to every case from then on...
    for other in ["ada@example.com", "ADA@EXAMPLE.COM", "aDA@example.com"] {
        assert_eq!(find(store, other).await, Some(old.id.clone()), "{other}");
    }
    // ...and no other case can be registered beside it.
    let twin = user("ada@example.com");
    let err = store
        .transact(users::create_writes(&twin).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed { index: Some(0) });
}

async fn two_older_accounts_differing_only_in_case_both_stay_reachable(h: Harness) {
    let store = h.store.as_ref();
    let lower = user("bob@example.com");
    let upper = user("Bob@example.com");
    store_as_before(store, &lower).await;
    store_as_before(store, &upper).await;

    assert_eq!(find(store, "Bob@example.com").await, Some(upper.id.clone()));
    assert_eq!(find(store, "bob@example.com").await, Some(lower.id.clone()));
    assert_eq!(find(store, "Bob@example.com").await, Some(upper.id));
    assert_eq!(find(store, "BOB@example.com").await, Some(lower.id));
}

async fn new_accounts_are_unique_whatever_the_case_and_keep_the_typed_form(h: Harness) {
    let store = h.store.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for email in [
        "Eve@example.com",
        "eve@example.com",
        "EVE@example.com",
        "eVe@example.com",
    ] {
        let store = store.clone();
        tasks.spawn(async move {
            let u = user(email);
            store
                .transact(users::create_writes(&u).unwrap())
                .await
                .map(|()| u)
        });
    }
    let mut winners = vec![];
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(u) => winners.push(u),
            Err(e) => assert_eq!(e, StoreError::ConditionFailed { index: Some(0) }),
        }
    }
    assert_eq!(winners.len(), 1);
    let found = users::find_by_email(
        store.as_ref(),
        &EmailAddress::parse("EvE@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found.id, winners[0].id);
    assert_eq!(found.email, winners[0].email, "the typed form is kept");
}

/// An item store that counts the transactions that landed.
struct Counting {
    inner: Arc<dyn ItemStore>,
    transactions: AtomicUsize,
}

#[async_trait]
impl ItemStore for Counting {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: NewItem, condition: Option<Condition>) -> Result<Item, StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        changes: Vec<Change>,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        self.inner.update(key, changes, condition).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn add(
        &self,
        key: &Key,
        name: &str,
        delta: i64,
        max: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<Counter, StoreError> {
        self.inner.add(key, name, delta, max, expires_at).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let r = self.inner.transact(writes).await;
        if r.is_ok() {
            self.transactions.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn count(&self, query: Query) -> Result<u64, StoreError> {
        self.inner.count(query).await
    }
    async fn purge_expired(&self, max: usize) -> Result<usize, StoreError> {
        self.inner.purge_expired(max).await
    }
    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }
}

fn new_key<'a>(
    org: &'a OrgId,
    admin: &'a UserId,
    scopes: &'a Scopes,
    expires_at: Option<i64>,
) -> api_keys::NewKey<'a> {
    api_keys::NewKey {
        org,
        created_by: admin,
        name: "ci",
        scopes,
        role: Role::Admin,
        expires_at,
        app_id: None,
    }
}

/// An org with an admin; returns (org, admin).
async fn org_with_admin(store: &dyn ItemStore) -> (OrgId, UserId) {
    let (owner, admin) = (UserId::new(), UserId::new());
    let org = Org {
        id: OrgId::new(),
        name: "Acme".into(),
        created_at: 0,
        owners: 1,
    };
    let first = Membership {
        org_id: org.id.clone(),
        user_id: owner,
        role: Role::Owner,
        joined_at: 0,
    };
    store
        .transact(orgs::create_writes(&org, &first).unwrap())
        .await
        .unwrap();
    let m = Membership {
        user_id: admin.clone(),
        role: Role::Admin,
        ..first
    };
    store
        .transact(orgs::join_writes(&m).unwrap())
        .await
        .unwrap();
    (org.id, admin)
}

async fn a_keys_last_use_is_written_at_most_once_a_minute_even_under_concurrent_use(h: Harness) {
    let clock = h.clock.clone();
    let counting = Arc::new(Counting {
        inner: h.store.clone(),
        transactions: AtomicUsize::new(0),
    });
    let store: Arc<dyn ItemStore> = counting.clone();
    let (org, admin) = org_with_admin(store.as_ref()).await;
    let now = || clock.unix();
    let scopes = Scopes::parse_list(["org:read"]).unwrap();
    let (key, raw) = api_keys::create(store.as_ref(), now(), new_key(&org, &admin, &scopes, None))
        .await
        .unwrap();
    let before = counting.transactions.load(Ordering::SeqCst);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (store, raw, at) = (store.clone(), raw.clone(), now());
        tasks.spawn(async move { api_keys::authenticate(store.as_ref(), at, &raw).await });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap().unwrap().id, key.id);
    }
    for _ in 0..5 {
        api_keys::authenticate(store.as_ref(), now(), &raw)
            .await
            .unwrap();
    }
    assert_eq!(
        counting.transactions.load(Ordering::SeqCst) - before,
        1,
        "one write for 21 uses within a minute"
    );
    let first_use = api_keys::list(store.as_ref(), &org).await.unwrap()[0].last_used_at;
    assert!(first_use.is_some());

    clock.advance(Duration::from_secs(
        api_keys::LAST_USED_GRANULARITY_SECS as u64,
    ));
    api_keys::authenticate(store.as_ref(), now(), &raw)
        .await
        .unwrap();
    assert_eq!(counting.transactions.load(Ordering::SeqCst) - before, 2);
    let later = api_keys::list(store.as_ref(), &org).await.unwrap()[0].last_used_at;
    assert!(
        later.unwrap() >= first_use.unwrap() + api_keys::LAST_USED_GRANULARITY_SECS,
        "{later:?} after {first_use:?}"
    );
}

async fn a_key_is_refused_once_expired_or_once_its_creator_leaves(h: Harness) {
    let store = h.store.as_ref();
    let (org, admin) = org_with_admin(store).await;
    let scopes = Scopes::parse_list(["org:read"]).unwrap();
    let (_, expiring) = api_keys::create(store, 1_000, new_key(&org, &admin, &scopes, Some(2_000)))
        .await
        .unwrap();
    assert!(
        api_keys::authenticate(store, 1_999, &expiring)
            .await
            .is_ok()
    );
    assert!(matches!(
        api_keys::authenticate(store, 2_000, &expiring).await,
        Err(KeyError::Expired)
    ));

    let (_, lasting) = api_keys::create(store, 1_000, new_key(&org, &admin, &scopes, None))
        .await
        .unwrap();
    orgs::change_role(store, &org, &admin, Role::Member)
        .await
        .unwrap();
    let key = api_keys::authenticate(store, 3_000, &lasting)
        .await
        .unwrap();
    assert_eq!(
        key.role,
        Role::Member,
        "capped by the creator's current role"
    );
    orgs::remove(store, &org, &admin).await.unwrap();
    assert!(matches!(
        api_keys::authenticate(store, 3_000, &lasting).await,
        Err(KeyError::CreatorGone)
    ));
    let mut forged = lasting.clone();
    forged.pop();
    forged.push(if lasting.ends_with('A') { 'B' } else { 'A' });
    assert!(matches!(
        api_keys::authenticate(store, 3_000, &forged).await,
        Err(KeyError::Invalid)
    ));
}

/// Invite `email` to `org`; returns the invitation's id and its raw token.
async fn invite(
    h: &Harness,
    org: &OrgId,
    by: &UserId,
    email: &str,
) -> (skiff_identity::InvitationId, String) {
    let (inv, token) = invitations::create(
        h.store.as_ref(),
        h.clock.as_ref(),
        org,
        &EmailAddress::parse(email).unwrap(),
        Role::Member,
        by,
    )
    .await
    .unwrap();
    (inv.id, token)
}

/// What accepting does to the invitation: consume the token and mark the record.
async fn accept(
    h: &Harness,
    org: &OrgId,
    id: &skiff_identity::InvitationId,
    token: &str,
) -> Result<(), StoreError> {
    h.store
        .transact(vec![
            one_time::consume_write(h.clock.as_ref(), Purpose::Invitation, token),
            invitations::accept_write(h.clock.as_ref(), org, id),
        ])
        .await
}

async fn a_revoked_invitation_leaves_the_list_and_its_token_answers_revoked(h: Harness) {
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let (org, admin) = org_with_admin(store).await;
    let (id, token) = invite(&h, &org, &admin, "new@example.com").await;
    let (listed, _) = invitations::pending(store, &org, clock.unix(), 50, None)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|i| &i.id).collect::<Vec<_>>(), [&id]);

    assert_eq!(
        invitations::revoke(store, clock, &org, &id).await.unwrap(),
        Revoked::Done
    );
    assert_eq!(
        invitations::revoke(store, clock, &org, &id).await.unwrap(),
        Revoked::Done
    );
    let (listed, _) = invitations::pending(store, &org, clock.unix(), 50, None)
        .await
        .unwrap();
    assert!(listed.is_empty());
    assert!(matches!(
        one_time::peek(store, clock, Purpose::Invitation, &token).await,
        Err(ConsumeError::Revoked)
    ));
    assert!(
        accept(&h, &org, &id, &token)
            .await
            .unwrap_err()
            .is_condition_failed()
    );
    // Another org has no such invitation.
    let (other, _) = org_with_admin(store).await;
    assert_eq!(
        invitations::revoke(store, clock, &other, &id)
            .await
            .unwrap(),
        Revoked::NotFound
    );

    let (taken, token) = invite(&h, &org, &admin, "taken@example.com").await;
    accept(&h, &org, &taken, &token).await.unwrap();
    assert_eq!(
        invitations::revoke(store, clock, &org, &taken)
            .await
            .unwrap(),
        Revoked::AlreadyAccepted
    );
}

async fn pending_invitations_page_past_accepted_ones(h: Harness) {
    let (store, clock) = (h.store.as_ref(), h.clock.as_ref());
    let (org, admin) = org_with_admin(store).await;
    let mut pending = vec![];
    for i in 0..6 {
        let (id, token) = invite(&h, &org, &admin, &format!("p{i}@example.com")).await;
        if i % 2 == 0 {
            accept(&h, &org, &id, &token).await.unwrap();
        } else {
            pending.push(id);
        }
    }
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let (page, next) = invitations::pending(store, &org, clock.unix(), 2, cursor)
            .await
            .unwrap();
        assert!(
            page.len() == 2 || next.is_none(),
            "a full page unless it is the last"
        );
        seen.extend(page.into_iter().map(|i| i.id));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, pending);
}
