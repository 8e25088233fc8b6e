//! Identity repositories over the embedded item store: accounts stored before
//! e-mail identity ignored letter case, and the bounded bookkeeping of API key use.

use async_trait::async_trait;
use skiff_shared::identity::api_keys::{self, KeyError};
use skiff_shared::identity::orgs::{self, Membership, Org};
use skiff_shared::identity::users::{self, User};
use skiff_shared::identity::{EmailAddress, OrgId, Role, Scopes, UserId};
use skiff_shared::ports::store::{
    Change, Condition, Counter, Item, ItemStore, Key, NewItem, Page, Query, StoreError, Write,
};
use skiff_shared::testing::embedded_services;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn user(email: &str) -> User {
    User {
        id: UserId::new(),
        email: EmailAddress::parse(email).unwrap(),
        full_name: "Ada".into(),
        password_hash: "x".into(),
        email_verified: true,
        created_at: 0,
        platform_admin: false,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_stored_with_its_typed_address_is_found_and_then_owns_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let store = embedded.services.store.as_ref();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_older_accounts_differing_only_in_case_both_stay_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let store = embedded.services.store.as_ref();
    let lower = user("bob@example.com");
    let upper = user("Bob@example.com");
    store_as_before(store, &lower).await;
    store_as_before(store, &upper).await;

    assert_eq!(find(store, "Bob@example.com").await, Some(upper.id.clone()));
    assert_eq!(find(store, "bob@example.com").await, Some(lower.id.clone()));
    assert_eq!(find(store, "Bob@example.com").await, Some(upper.id));
    assert_eq!(find(store, "BOB@example.com").await, Some(lower.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_accounts_are_unique_whatever_the_case_and_keep_the_typed_form() {
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _clock) = embedded_services(dir.path()).await;
    let store = embedded.services.store.clone();
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
