//! Organizations (tenants) and memberships. Every item lives in the org's partition
//! `ORG#<org>`: `META` (name, owner count) and `MEMBER#<user>` (role), the latter
//! also indexed under `USER#<user>` in gsi1 so a user's orgs are one query.
//!
//! The owner count on `META` is changed in the same transaction as a membership,
//! with a `> 1` condition when an owner leaves, so two concurrent demotions cannot
//! leave an org without an owner.

use super::ids::{OrgId, UserId};
use super::roles::Role;
use serde::{Deserialize, Serialize};
use skiff_core::ports::store::{
    Change, Cmp, Condition, IndexKey, Item, ItemStore, Key, NewItem, Query, StoreError, Write,
};

/// An organization as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// How many members are owners (never below 1).
    pub owners: i64,
}

/// One user's membership of one org.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    /// Unix seconds.
    pub joined_at: i64,
}

pub fn org_key(id: &OrgId) -> Key {
    Key::new(format!("ORG#{id}"), "META")
}

/// Index partition listing every org by `created_at` (`<unix:012>#<id>`): the
/// operators' org directory.
pub const DIRECTORY_PK: &str = "ORGS";

pub fn member_key(org: &OrgId, user: &UserId) -> Key {
    Key::new(format!("ORG#{org}"), format!("MEMBER#{user}"))
}

fn member_index(org: &OrgId, user: &UserId) -> IndexKey {
    IndexKey::new(format!("USER#{user}"), format!("ORG#{org}"))
}

/// Why a membership change was refused.
#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("no such member")]
    NotMember,
    #[error("the organization must keep at least one owner")]
    LastOwner,
    #[error("already a member")]
    AlreadyMember,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The writes that create an org with `owner` as its first owner.
pub fn create_writes(org: &Org, owner: &Membership) -> Result<Vec<Write>, StoreError> {
    Ok(vec![
        Write::Put {
            item: NewItem::from_record(org_key(&org.id), org)?.index(IndexKey::new(
                DIRECTORY_PK,
                format!("{:012}#{}", org.created_at, org.id),
            )),
            condition: Some(Condition::Absent),
        },
        membership_put(owner)?,
    ])
}

fn membership_put(m: &Membership) -> Result<Write, StoreError> {
    Ok(Write::Put {
        item: NewItem::from_record(member_key(&m.org_id, &m.user_id), m)?
            .index(member_index(&m.org_id, &m.user_id)),
        condition: Some(Condition::Absent),
    })
}

/// The writes that add `m` to an existing org (the membership put comes first: a
/// failure at index 0 means "already a member").
pub fn join_writes(m: &Membership) -> Result<Vec<Write>, StoreError> {
    let org_write = if m.role == Role::Owner {
        owner_joins(&m.org_id)
    } else {
        Write::Check {
            key: org_key(&m.org_id),
            condition: Condition::Exists,
        }
    };
    Ok(vec![membership_put(m)?, org_write])
}

pub async fn get(store: &dyn ItemStore, id: &OrgId) -> Result<Option<Org>, StoreError> {
    match store.get(&org_key(id)).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

pub async fn rename(store: &dyn ItemStore, id: &OrgId, name: &str) -> Result<Org, StoreError> {
    store
        .update(
            &org_key(id),
            vec![Change::set("name", name)],
            Some(Condition::Exists),
        )
        .await?
        .parse()
}

async fn membership_item(
    store: &dyn ItemStore,
    org: &OrgId,
    user: &UserId,
) -> Result<Option<(Membership, Item)>, StoreError> {
    match store.get(&member_key(org, user)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

pub async fn membership(
    store: &dyn ItemStore,
    org: &OrgId,
    user: &UserId,
) -> Result<Option<Membership>, StoreError> {
    Ok(membership_item(store, org, user).await?.map(|(m, _)| m))
}

async fn query_all(store: &dyn ItemStore, query: Query) -> Result<Vec<Membership>, StoreError> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = store.query(query.clone().after(cursor)).await?;
        for item in &page.items {
            out.push(item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Every member of `org`, in user-id order.
pub async fn members(store: &dyn ItemStore, org: &OrgId) -> Result<Vec<Membership>, StoreError> {
    query_all(
        store,
        Query::partition(format!("ORG#{org}")).prefix("MEMBER#"),
    )
    .await
}

/// One page of `org`'s members in user-id order, and the store position after it.
pub async fn members_page(
    store: &dyn ItemStore,
    org: &OrgId,
    limit: usize,
    position: Option<String>,
) -> Result<(Vec<Membership>, Option<String>), StoreError> {
    let page = store
        .query(
            Query::partition(format!("ORG#{org}"))
                .prefix("MEMBER#")
                .limit(limit.max(1))
                .after(position),
        )
        .await?;
    let members = page
        .items
        .iter()
        .map(|i| i.parse())
        .collect::<Result<_, _>>()?;
    Ok((members, page.next))
}

/// Every org `user` belongs to.
pub async fn orgs_of(store: &dyn ItemStore, user: &UserId) -> Result<Vec<Membership>, StoreError> {
    query_all(store, Query::gsi1(format!("USER#{user}")).prefix("ORG#")).await
}

/// Attempts before a membership change gives up on concurrent writers.
const ATTEMPTS: usize = 5;

/// Give `user` a new role in `org`; the last owner cannot be demoted.
pub async fn change_role(
    store: &dyn ItemStore,
    org: &OrgId,
    user: &UserId,
    role: Role,
) -> Result<Membership, MembershipError> {
    for _ in 0..ATTEMPTS {
        let (current, item) = membership_item(store, org, user)
            .await?
            .ok_or(MembershipError::NotMember)?;
        if current.role == role {
            return Ok(current);
        }
        if current.role == Role::Owner {
            ensure_other_owner(store, org).await?;
        }
        let mut writes = vec![Write::Update {
            key: member_key(org, user),
            changes: vec![Change::set("role", role.as_str())],
            condition: Some(Condition::VersionIs(item.version)),
        }];
        if current.role == Role::Owner {
            writes.push(owner_leaves(org));
        } else if role == Role::Owner {
            writes.push(owner_joins(org));
        }
        match store.transact(writes).await {
            Ok(()) => return Ok(Membership { role, ..current }),
            // Someone changed the membership or the owner count meanwhile: re-read.
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Unavailable("membership changed concurrently too often".into()).into())
}

/// Remove `user` from `org`; the last owner cannot be removed.
pub async fn remove(
    store: &dyn ItemStore,
    org: &OrgId,
    user: &UserId,
) -> Result<Membership, MembershipError> {
    for _ in 0..ATTEMPTS {
        let (current, item) = membership_item(store, org, user)
            .await?
            .ok_or(MembershipError::NotMember)?;
        if current.role == Role::Owner {
            ensure_other_owner(store, org).await?;
        }
        let mut writes = vec![Write::Delete {
            key: member_key(org, user),
            condition: Some(Condition::VersionIs(item.version)),
        }];
        if current.role == Role::Owner {
            writes.push(owner_leaves(org));
        }
        match store.transact(writes).await {
            Ok(()) => return Ok(current),
            // Someone changed the membership or the owner count meanwhile: re-read.
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Unavailable("membership changed concurrently too often".into()).into())
}

/// Fail with `LastOwner` unless the org has another owner (the transaction's
/// condition re-checks this atomically).
async fn ensure_other_owner(store: &dyn ItemStore, org: &OrgId) -> Result<(), MembershipError> {
    let owners = get(store, org).await?.map_or(0, |o| o.owners);
    if owners <= 1 {
        Err(MembershipError::LastOwner)
    } else {
        Ok(())
    }
}

fn owner_leaves(org: &OrgId) -> Write {
    Write::Update {
        key: org_key(org),
        changes: vec![Change::Add("owners".into(), -1)],
        condition: Some(Condition::attr("owners", Cmp::Gt, 1)),
    }
}

fn owner_joins(org: &OrgId) -> Write {
    Write::Update {
        key: org_key(org),
        changes: vec![Change::Add("owners".into(), 1)],
        condition: Some(Condition::Exists),
    }
}
