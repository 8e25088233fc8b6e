//! The identity repositories on both item store adapters (SQLite in a temporary
//! directory, DynamoDB in the emulator): the concurrency properties the HTTP layer
//! relies on (one winner per refresh token, an org never loses its last owner, one
//! consumption per one-time token), raced on a multi-thread runtime.

use skiff_core::ports::store::ItemStore;
use skiff_identity::one_time::{self, ConsumeError, Purpose};
use skiff_identity::orgs::{self, Membership, MembershipError, Org};
use skiff_identity::sessions::{self, RefreshError};
use skiff_identity::{OrgId, Role, UserId};
use std::time::Duration;

type Harness = skiff_adapters::testing::StoreHarness;

skiff_adapters::conformance_suite! {
    adapters { embedded => &super::Harness::sqlite().await, dynamodb => &super::Harness::dynamodb("identity").await }
    cases {
        concurrent_rotations_of_one_refresh_token_have_one_winner_and_revoke_the_session,
        refresh_tokens_expire_and_unknown_ones_are_invalid,
        two_owners_demoting_each_other_at_once_leave_one_owner,
        a_one_time_token_is_consumed_once_and_only_for_its_purpose,
    }
}

async fn org_with_owners(store: &dyn ItemStore, owners: &[UserId]) -> OrgId {
    let org = Org {
        id: OrgId::new(),
        name: "Acme".into(),
        created_at: 0,
        owners: 1,
    };
    let first = Membership {
        org_id: org.id.clone(),
        user_id: owners[0].clone(),
        role: Role::Owner,
        joined_at: 0,
    };
    store
        .transact(orgs::create_writes(&org, &first).unwrap())
        .await
        .unwrap();
    for u in &owners[1..] {
        let m = Membership {
            user_id: u.clone(),
            ..first.clone()
        };
        store
            .transact(orgs::join_writes(&m).unwrap())
            .await
            .unwrap();
    }
    org.id
}

async fn concurrent_rotations_of_one_refresh_token_have_one_winner_and_revoke_the_session(
    h: &Harness,
) {
    let (session, raw) = sessions::start(
        h.store.as_ref(),
        h.clock.as_ref(),
        &UserId::new(),
        &OrgId::new(),
    )
    .await
    .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (store, clock, raw) = (h.store.clone(), h.clock.clone(), raw.clone());
        tasks.spawn(async move { sessions::rotate(store.as_ref(), clock.as_ref(), &raw).await });
    }
    let results = tasks.join_all().await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            // A loser that arrives after another loser revoked the session sees
            // it revoked; either way the presentation is refused and the session dies.
            .all(|r| matches!(r, Err(RefreshError::Reused | RefreshError::Revoked))),
        "{results:?}"
    );
    // The losers' presentations were reuses: the winner's successor is dead too.
    let successor = &winners[0].1;
    assert!(matches!(
        sessions::rotate(h.store.as_ref(), h.clock.as_ref(), successor).await,
        Err(RefreshError::Revoked)
    ));
    assert!(
        sessions::get(h.store.as_ref(), &session.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
}

async fn refresh_tokens_expire_and_unknown_ones_are_invalid(h: &Harness) {
    let (_, raw) = sessions::start(
        h.store.as_ref(),
        h.clock.as_ref(),
        &UserId::new(),
        &OrgId::new(),
    )
    .await
    .unwrap();
    let forged = "x".repeat(43);
    assert!(matches!(
        sessions::rotate(h.store.as_ref(), h.clock.as_ref(), &forged).await,
        Err(RefreshError::Invalid)
    ));
    h.clock
        .advance(sessions::REFRESH_LIFETIME + Duration::from_secs(1));
    // Past its TTL the item is gone: an old token is simply unknown.
    assert!(matches!(
        sessions::rotate(h.store.as_ref(), h.clock.as_ref(), &raw).await,
        Err(RefreshError::Invalid | RefreshError::Expired)
    ));
}

async fn two_owners_demoting_each_other_at_once_leave_one_owner(h: &Harness) {
    let store = h.store.clone();
    let (a, b) = (UserId::new(), UserId::new());
    let org = org_with_owners(store.as_ref(), &[a.clone(), b.clone()]).await;
    assert_eq!(
        orgs::get(store.as_ref(), &org)
            .await
            .unwrap()
            .unwrap()
            .owners,
        2
    );

    let (s1, s2, o1, o2) = (store.clone(), store.clone(), org.clone(), org.clone());
    let (r1, r2) = tokio::join!(
        tokio::spawn(async move { orgs::change_role(s1.as_ref(), &o1, &a, Role::Member).await }),
        tokio::spawn(async move { orgs::remove(s2.as_ref(), &o2, &b).await }),
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    let ok = [r1.is_ok(), r2.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(ok, 1, "{r1:?} {r2:?}");
    assert!(matches!(r1, Ok(_) | Err(MembershipError::LastOwner)));
    assert!(matches!(r2, Ok(_) | Err(MembershipError::LastOwner)));
    assert_eq!(
        orgs::get(store.as_ref(), &org)
            .await
            .unwrap()
            .unwrap()
            .owners,
        1
    );
    let owners = orgs::members(store.as_ref(), &org)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .count();
    assert_eq!(owners, 1);
}

async fn a_one_time_token_is_consumed_once_and_only_for_its_purpose(h: &Harness) {
    let (store, c) = (h.store.as_ref(), h.clock.as_ref());
    let raw = one_time::issue(store, c, Purpose::ResetPassword, Default::default())
        .await
        .unwrap();
    assert!(matches!(
        one_time::consume(store, c, Purpose::VerifyEmail, &raw).await,
        Err(ConsumeError::Invalid)
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (store, clock, raw) = (h.store.clone(), h.clock.clone(), raw.clone());
        tasks.spawn(async move {
            one_time::consume(store.as_ref(), clock.as_ref(), Purpose::ResetPassword, &raw).await
        });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(ConsumeError::Used)))
    );

    let raw = one_time::issue(store, c, Purpose::ResetPassword, Default::default())
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(3601));
    assert!(matches!(
        one_time::consume(store, c, Purpose::ResetPassword, &raw).await,
        Err(ConsumeError::Expired)
    ));
}
