//! License records: issuance (exactly once per subscription), lookups, status and
//! entitlement changes, machine activation. Seat accounting lives in
//! [`super::seats`]; this module never touches `seats_used`.

use super::hooks::Entitlement;
use super::keys::{HardwareId, LicenseKey};
use super::model::{
    DIRECTORY_PK, License, LicenseRef, Machine, RequestMeta, Status, key_index_key, license_key,
    licenses_pk, subscription_key,
};
use skiff_core::clock::Clock;
use skiff_core::ids::{LicenseId, OrgId, SubscriptionId};
use skiff_core::ports::store::{
    Change, Cmp, Condition, IndexKey, Item, ItemStore, NewItem, Query, StoreError, Write,
};

/// Most machines a license with unlimited seats can bind (keeps an abusive client
/// from growing a partition without bound).
pub const MAX_ACTIVATIONS: i64 = 1000;

/// How many machines `license` may bind at once: one per seat, so a customer installs
/// the product on as many machines as the plan has seats and moves it by unbinding
/// one ([`super::seats::unbind_machine`]); an unlimited license up to
/// [`MAX_ACTIVATIONS`].
pub fn activation_limit(license: &License) -> i64 {
    if license.is_unlimited() {
        MAX_ACTIVATIONS
    } else {
        license.max_seats.min(MAX_ACTIVATIONS)
    }
}

/// "One more machine fits": [`activation_limit`] compared on the license item itself,
/// so a concurrent plan change is part of the state the condition sees.
fn admits_machine() -> Condition {
    Condition::Any(vec![
        Condition::AttrMissing("activations".into()),
        Condition::All(vec![
            Condition::attr("max_seats", Cmp::Lt, 0),
            Condition::attr("activations", Cmp::Lt, MAX_ACTIVATIONS),
        ]),
        Condition::All(vec![
            Condition::attrs("activations", Cmp::Lt, "max_seats"),
            Condition::attr("activations", Cmp::Lt, MAX_ACTIVATIONS),
        ]),
    ])
}

/// Attempts at drawing a key that is not taken (a collision is ~2^-100 likely).
const KEY_ATTEMPTS: u32 = 5;

fn status_is(s: Status) -> Condition {
    Condition::attr("status", Cmp::Eq, s.as_str())
}

/// The license exists and has not been deactivated (which is final).
fn not_inactive() -> Condition {
    Condition::All(vec![
        Condition::Exists,
        Condition::attr("status", Cmp::Ne, Status::Inactive.as_str()),
    ])
}

/// Issue the license of `entitlement.subscription_id`, or return the one already
/// issued for it (`false`). Subscription record, key index and license are written
/// in one transaction, each only if absent: two concurrent deliveries issue one.
pub async fn issue(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    entitlement: &Entitlement,
    key_prefix: &str,
) -> Result<(License, bool), StoreError> {
    let org = &entitlement.org_id;
    let sub_key = subscription_key(org, &entitlement.subscription_id);
    for _ in 0..KEY_ATTEMPTS {
        if let Some(existing) = for_subscription(store, org, &entitlement.subscription_id).await? {
            return Ok((existing, false));
        }
        let now = clock.unix();
        let key = LicenseKey::generate(key_prefix);
        let license = License {
            license_id: LicenseId::new(),
            org_id: org.clone(),
            key: key.as_str().to_owned(),
            key_hash: key.hash(),
            plan_id: entitlement.plan_id.clone(),
            tier: entitlement.tier.clone(),
            features: entitlement.features.clone(),
            max_seats: entitlement.max_seats,
            seats_used: 0,
            activations: 0,
            status: Status::Active,
            issued_at: now,
            activated_at: None,
            suspended_at: None,
            suspend_reason: None,
            deactivated_at: None,
            grace_period_ends_at: None,
            expires_at: entitlement.expires_at,
            subscription_id: entitlement.subscription_id.clone(),
            updated_at: now,
            operator_hold: None,
        };
        let writes = vec![
            Write::Put {
                item: NewItem::new(sub_key.clone()).attr("license_id", license.license_id.as_str()),
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::new(key_index_key(&license.key_hash))
                    .attr("org_id", org.as_str())
                    .attr("license_id", license.license_id.as_str()),
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::from_record(license_key(org, &license.license_id), &license)?
                    .index(IndexKey::new(DIRECTORY_PK, license.license_id.as_str())),
                condition: Some(Condition::Absent),
            },
        ];
        match store.transact(writes).await {
            Ok(()) => return Ok((license, true)),
            // Subscription already issued, or (vanishingly rare) the key is taken:
            // the loop's first step tells which.
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Fatal(format!(
        "could not issue a license for subscription {}",
        entitlement.subscription_id
    )))
}

/// The license a subscription issued.
pub async fn for_subscription(
    store: &dyn ItemStore,
    org_id: &OrgId,
    subscription_id: &SubscriptionId,
) -> Result<Option<License>, StoreError> {
    let Some(record) = store
        .get(&subscription_key(org_id, subscription_id))
        .await?
    else {
        return Ok(None);
    };
    let license_id = record
        .get_str("license_id")
        .ok_or_else(|| StoreError::Fatal("subscription record without license_id".into()))?;
    let license_id = LicenseId::parse(license_id)
        .map_err(|e| StoreError::Fatal(format!("subscription record: {e}")))?;
    get(store, &LicenseRef::new(org_id, &license_id)).await
}

pub async fn get(store: &dyn ItemStore, lic: &LicenseRef) -> Result<Option<License>, StoreError> {
    match store.get(&lic.key()).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

/// The license with this key, whatever its org.
pub async fn by_key(
    store: &dyn ItemStore,
    key: &LicenseKey,
) -> Result<Option<License>, StoreError> {
    let Some(index) = store.get(&key_index_key(&key.hash())).await? else {
        return Ok(None);
    };
    let (Some(org), Some(id)) = (index.get_str("org_id"), index.get_str("license_id")) else {
        return Err(StoreError::Fatal(
            "license key index item is incomplete".into(),
        ));
    };
    let (org, id) = match (OrgId::parse(org), LicenseId::parse(id)) {
        (Ok(org), Ok(id)) => (org, id),
        (Err(e), _) | (_, Err(e)) => {
            return Err(StoreError::Fatal(format!("license key index item: {e}")));
        }
    };
    get(store, &LicenseRef::new(&org, &id)).await
}

/// Every license of an org, oldest first.
pub async fn list(store: &dyn ItemStore, org_id: &OrgId) -> Result<Vec<License>, StoreError> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(Query::partition(licenses_pk(org_id)).after(cursor))
            .await?;
        for item in &page.items {
            out.push(item.parse()?);
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Apply a renewal or plan change: expiry, plan, tier, features, seats; a suspended
/// (or expired) license becomes active again. A deactivated license stays so.
/// Returns the license after the change, `None` if it is inactive.
pub async fn apply_entitlement(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    entitlement: &Entitlement,
) -> Result<Option<License>, StoreError> {
    let changes = vec![
        Change::set("plan_id", entitlement.plan_id.clone()),
        Change::set("tier", entitlement.tier.clone()),
        Change::set("features", entitlement.features.clone()),
        Change::set("max_seats", entitlement.max_seats),
        Change::set("expires_at", entitlement.expires_at),
        Change::set("status", Status::Active.as_str()),
        Change::Remove("suspended_at".into()),
        Change::Remove("suspend_reason".into()),
        Change::set("updated_at", clock.unix()),
    ];
    let condition = not_inactive();
    match store.update(&lic.key(), changes, Some(condition)).await {
        Ok(item) => Ok(Some(item.parse()?)),
        Err(e) if e.is_condition_failed() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Move an active (or time-expired) license to `suspended`. `false` if it was not
/// active (already suspended, or inactive).
pub async fn suspend(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    reason: &str,
) -> Result<bool, StoreError> {
    let now = clock.unix();
    let changes = vec![
        Change::set("status", Status::Suspended.as_str()),
        Change::set("suspended_at", now),
        Change::set("suspend_reason", reason),
        Change::set("updated_at", now),
    ];
    let condition = Condition::Any(vec![status_is(Status::Active), status_is(Status::Expired)]);
    changed(store.update(&lic.key(), changes, Some(condition)).await)
}

/// Move a license to `inactive` (subscription canceled). `false` if it already was.
pub async fn deactivate(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
) -> Result<bool, StoreError> {
    let now = clock.unix();
    let changes = vec![
        Change::set("status", Status::Inactive.as_str()),
        Change::set("deactivated_at", now),
        Change::set("updated_at", now),
    ];
    let condition = not_inactive();
    changed(store.update(&lic.key(), changes, Some(condition)).await)
}

/// Set or clear the grace period of a license that is not inactive.
pub async fn set_grace(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    grace_ends_at: Option<i64>,
) -> Result<bool, StoreError> {
    let changes = vec![
        match grace_ends_at {
            Some(t) => Change::set("grace_period_ends_at", t),
            None => Change::Remove("grace_period_ends_at".into()),
        },
        Change::set("updated_at", clock.unix()),
    ];
    let condition = not_inactive();
    changed(store.update(&lic.key(), changes, Some(condition)).await)
}

/// Put an operator's hold on a license (`Some(now)`) or lift it (`None`); `false`
/// when it already was so (or the license does not exist).
pub async fn set_operator_hold(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    hold: bool,
) -> Result<bool, StoreError> {
    let now = clock.unix();
    let (change, condition) = if hold {
        (
            Change::set("operator_hold", now),
            Condition::All(vec![
                Condition::Exists,
                Condition::AttrMissing("operator_hold".into()),
            ]),
        )
    } else {
        (
            Change::Remove("operator_hold".into()),
            Condition::attr("operator_hold", Cmp::Ge, 0),
        )
    };
    changed(
        store
            .update(
                &lic.key(),
                vec![change, Change::set("updated_at", now)],
                Some(condition),
            )
            .await,
    )
}

/// One page of every license (newest first) and the store position after it.
pub async fn directory_page(
    store: &dyn ItemStore,
    limit: usize,
    position: Option<String>,
) -> Result<(Vec<License>, Option<String>), StoreError> {
    let page = store
        .query(
            Query::gsi1(DIRECTORY_PK)
                .descending()
                .limit(limit.max(1))
                .after(position),
        )
        .await?;
    let licenses = page
        .items
        .into_iter()
        .map(Item::into_record)
        .collect::<Result<_, _>>()?;
    Ok((licenses, page.next))
}

/// Claim the right to send the "license issued" e-mail (once per license).
pub async fn claim_issued_email(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
) -> Result<bool, StoreError> {
    changed(
        store
            .update(
                &lic.key(),
                vec![Change::set("issued_email_at", clock.unix())],
                Some(Condition::All(vec![
                    Condition::Exists,
                    Condition::AttrMissing("issued_email_at".into()),
                ])),
            )
            .await,
    )
}

/// Give the claim back (the e-mail could not be queued), so a retry sends it.
pub async fn unclaim_issued_email(
    store: &dyn ItemStore,
    lic: &LicenseRef,
) -> Result<(), StoreError> {
    store
        .update(
            &lic.key(),
            vec![Change::Remove("issued_email_at".into())],
            Some(Condition::Exists),
        )
        .await
        .map(|_| ())
}

fn changed<T>(r: Result<T, StoreError>) -> Result<bool, StoreError> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.is_condition_failed() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Outcome of an activation.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// The machine is bound (`new` = by this call).
    Bound { machine: Machine, new: bool },
    /// The license already binds [`activation_limit`] machines.
    LimitReached { limit: i64 },
}

/// Bind a machine to a license (idempotent) within its [`activation_limit`],
/// counting activations exactly and stamping the license's first `activated_at`.
pub async fn activate(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    license: &License,
    hardware_id: &HardwareId,
    meta: &RequestMeta,
) -> Result<Activation, StoreError> {
    let lic = license.reference();
    let key = lic.machine_key(&hardware_id.hash());
    for _ in 0..super::seats::MAX_ATTEMPTS {
        if let Some(item) = store.get(&key).await? {
            return Ok(Activation::Bound {
                machine: item.parse()?,
                new: false,
            });
        }
        let now = clock.unix();
        let machine = Machine {
            hardware_id: hardware_id.clone(),
            activated_at: now,
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
        };
        let writes = vec![
            Write::Put {
                item: NewItem::from_record(key.clone(), &machine)?,
                condition: Some(Condition::Absent),
            },
            Write::Update {
                key: lic.key(),
                changes: vec![Change::Add("activations".into(), 1)],
                condition: Some(admits_machine()),
            },
        ];
        match store.transact(writes).await {
            Ok(()) => {
                // First activation of the license: stamp it (later ones leave it).
                let _ = changed(
                    store
                        .update(
                            &lic.key(),
                            vec![Change::set("activated_at", now)],
                            Some(Condition::All(vec![
                                Condition::Exists,
                                Condition::AttrMissing("activated_at".into()),
                            ])),
                        )
                        .await,
                )?;
                return Ok(Activation::Bound { machine, new: true });
            }
            Err(StoreError::ConditionFailed { index: Some(1) }) => {
                // Full, unless a machine was unbound meanwhile (the loop retries).
                if let Some(l) = get(store, &lic).await?
                    && l.activations >= activation_limit(&l)
                {
                    return Ok(Activation::LimitReached {
                        limit: activation_limit(&l),
                    });
                }
            }
            Err(e) if e.is_condition_failed() => {
                // Either the machine was bound concurrently (the loop finds it) or
                // the limit was hit (the license says so).
                if let Some(l) = get(store, &lic).await?
                    && l.activations >= activation_limit(&l)
                    && store.get(&key).await?.is_none()
                {
                    return Ok(Activation::LimitReached {
                        limit: activation_limit(&l),
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "activation lost too many races".into(),
    ))
}

/// Whether a machine is bound to the license.
pub async fn is_bound(
    store: &dyn ItemStore,
    lic: &LicenseRef,
    hardware_id: &HardwareId,
) -> Result<bool, StoreError> {
    Ok(store
        .get(&lic.machine_key(&hardware_id.hash()))
        .await?
        .is_some())
}

/// The bound machines of a license.
pub async fn machines(store: &dyn ItemStore, lic: &LicenseRef) -> Result<Vec<Machine>, StoreError> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(Query::partition(lic.machines_pk()).after(cursor))
            .await?;
        for item in &page.items {
            out.push(item.parse()?);
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}
