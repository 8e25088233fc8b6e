//! Floating seats that never over-allocate, on any adapter, under any concurrency.
//!
//! The license item holds the counter `seats_used`; every session is its own seat
//! item (one per machine) with a lease `lease_until`. The counter and the set of
//! seat items change only together, in one store transaction:
//!
//! * a new seat = put the seat item (absent) + `seats_used += 1` on condition
//!   "active, unexpired, `seats_used < max_seats`" — the limit compared on the
//!   license item itself, so the common acquire is one transaction and no read, and a
//!   concurrent plan change is simply part of the state the condition sees;
//! * replacing an expired session (the same machine's, or another machine's when the
//!   license is full) = delete/overwrite it on condition "same session, lease over" +
//!   put the new one; the counter is untouched, the license only checked;
//! * an end (release, sweep, suspension, downgrade) = delete the seat item on
//!   condition "same session" + `seats_used -= k` on condition `seats_used ≥ k`.
//!
//! So `seats_used` always equals the number of seat items, and no interleaving can
//! create more than `max_seats` of them. A session whose lease ran out is never
//! counted as used (reports count live leases), whatever the physical deletion lag:
//! it is reclaimed by the next acquire that needs its seat, or by the sweeper.
//! Nothing here relies on the store's TTL.

use super::audit::{self, Action, Actor};
use super::model::{
    EndReason, HISTORY_RETENTION_SECS, LEASE_SECS, License, LicenseRef, Machine, RequestMeta, Seat,
    SessionRecord, Status, Validity, seat_expiry_index,
};
use serde_json::json;
use skiff_core::clock::Clock;
use skiff_core::ids::SeatSessionId;
use skiff_core::metrics::SEATS;
use skiff_core::ports::store::{
    Change, Cmp, Condition, Item, ItemStore, NewItem, Query, SortKey, StoreError, Write,
};
use std::collections::BTreeMap;

/// Attempts of one operation before it gives up with [`SeatError::Contention`].
/// Each retry follows a real change of state by another writer.
pub const MAX_ATTEMPTS: u32 = 64;
/// Seats ended per transaction (3 writes each — delete, history, audit — + the
/// license: ≤ 100 writes).
pub const END_CHUNK: usize = 33;

/// Why a seat operation did not happen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeatError {
    #[error("no such license")]
    NotFound,
    /// The license cannot hand out seats (suspended, inactive, expired).
    #[error("license is not active: {}", .0.code())]
    NotActive(Validity),
    /// Every seat is held by a live session.
    #[error("all {max_seats} seats are in use")]
    Exhausted { seats_used: i64, max_seats: i64 },
    /// The session ended (released, expired, or ended by the license).
    #[error("the session has expired or was released")]
    SessionExpired,
    /// Gave up after [`MAX_ATTEMPTS`] lost races (should not happen in practice).
    #[error("too much contention on the license: {0}")]
    Contention(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A granted seat.
#[derive(Debug, Clone, PartialEq)]
pub struct Acquired {
    pub seat: Seat,
    /// The machine already held a live session: it was refreshed, no new seat used.
    pub refreshed: bool,
    /// An expired session this acquire ended to take its seat (for the audit log).
    pub reclaimed: Option<Seat>,
    /// Lost races before success (benchmark figure).
    pub retries: u32,
}

/// Seat use of one license.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    /// Live sessions: what "seats used" means everywhere it is reported.
    pub live: i64,
    /// Seat items (live + expired, not yet reclaimed).
    pub items: i64,
    /// The license's counter (equals `items`).
    pub counter: i64,
    pub max_seats: i64,
}

fn attr(name: &str, cmp: Cmp, value: impl Into<serde_json::Value>) -> Condition {
    Condition::attr(name, cmp, value)
}

/// The seat item of `seat`, in the expiry index under its lease end.
fn seat_item(seat: &Seat) -> Result<NewItem, StoreError> {
    Ok(
        NewItem::from_record(seat.license().seat_key(&seat.hw_hash), seat)?.index(
            seat_expiry_index(&seat.hw_hash, seat.lease_until, &seat.session_id),
        ),
    )
}

/// The writes that record an ended session: its history item and its audit entry
/// (`SEAT_RELEASED`, `SEAT_EXPIRED` or `SEAT_ENDED` with the reason).
fn end_writes(
    seat: &Seat,
    reason: EndReason,
    actor: &Actor,
    now: i64,
) -> Result<[Write; 2], StoreError> {
    let record = SessionRecord::ended(seat, reason, now);
    let item = NewItem::from_record(seat.license().history_key(&seat.session_id), &record)?
        .expires_at(record.ended_at + HISTORY_RETENTION_SECS);
    let action = match record.end_reason {
        EndReason::Released => Action::SeatReleased,
        EndReason::Expired => Action::SeatExpired,
        _ => Action::SeatEnded,
    };
    let meta = match actor {
        Actor::User(u) => RequestMeta {
            user_id: Some(u.clone()),
            ..RequestMeta::default()
        },
        _ => RequestMeta::default(),
    };
    Ok([
        Write::Put {
            item,
            condition: None,
        },
        audit::entry_write(
            &seat.org_id,
            &seat.license_id,
            action,
            actor,
            &meta,
            json!({
                "session_id": seat.session_id,
                "hardware_id": seat.hardware_id,
                "reason": record.end_reason,
                "started_at": seat.started_at,
                "ended_at": record.ended_at,
            }),
            now,
        )?,
    ])
}

/// The audit entry of a new session.
fn acquired_write(seat: &Seat, meta: &RequestMeta, now: i64) -> Result<Write, StoreError> {
    audit::entry_write(
        &seat.org_id,
        &seat.license_id,
        Action::SeatAcquired,
        &Actor::from_meta(meta),
        meta,
        json!({ "session_id": seat.session_id, "hardware_id": seat.hardware_id }),
        now,
    )
}

/// "This is still that session": robust to heartbeats, which change the version.
fn same_session(session_id: &SeatSessionId) -> Condition {
    attr("session_id", Cmp::Eq, session_id.as_str())
}

/// "That session, and its lease still runs at `now`."
fn live_session(session_id: &SeatSessionId, now: i64) -> Condition {
    Condition::All(vec![
        same_session(session_id),
        attr("lease_until", Cmp::Gt, now),
    ])
}

/// "That session, and its lease is over at `now`."
fn expired_session(session_id: &SeatSessionId, now: i64) -> Condition {
    Condition::All(vec![
        same_session(session_id),
        attr("lease_until", Cmp::Le, now),
    ])
}

/// The license hands out seats at `now` — active, and unexpired or in its grace
/// period (as [`License::validity`] says) — and, unless unlimited,
/// `seats_used <cmp> max_seats`: `Lt` to take one more seat, `Le` to hand a counted
/// seat to someone else. Checked on the license item itself, so an acquire needs no
/// read before its transaction.
fn license_admits(now: i64, cmp: Cmp) -> Condition {
    Condition::All(vec![
        attr("status", Cmp::Eq, Status::Active.as_str()),
        Condition::AttrMissing("operator_hold".into()),
        Condition::Any(vec![
            attr("expires_at", Cmp::Gt, now),
            attr("grace_period_ends_at", Cmp::Gt, now),
        ]),
        Condition::Any(vec![
            attr("max_seats", Cmp::Lt, 0),
            Condition::attrs("seats_used", cmp, "max_seats"),
        ]),
    ])
}

async fn load_license(store: &dyn ItemStore, lic: &LicenseRef) -> Result<License, SeatError> {
    let item = store.get(&lic.key()).await?.ok_or(SeatError::NotFound)?;
    Ok(item.parse()?)
}

/// Refuse unless the license can hand out seats at `now`.
fn check_open(license: &License, now: i64) -> Result<(), SeatError> {
    let v = license.validity(now);
    if v.is_valid() {
        Ok(())
    } else {
        Err(SeatError::NotActive(v))
    }
}

/// Every seat item of a license (all pages).
pub async fn list_seats(store: &dyn ItemStore, lic: &LicenseRef) -> Result<Vec<Seat>, StoreError> {
    list_seat_items(store, lic)
        .await?
        .iter()
        .map(Item::parse)
        .collect()
}

async fn list_seat_items(store: &dyn ItemStore, lic: &LicenseRef) -> Result<Vec<Item>, StoreError> {
    let mut items = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(Query::partition(lic.seats_pk()).after(cursor))
            .await?;
        items.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(items),
        }
    }
}

/// Seat use of a license: live sessions, seat items and the counter.
pub async fn usage(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
) -> Result<Usage, SeatError> {
    let license = load_license(store, lic).await?;
    let seats = list_seats(store, lic).await?;
    let now = clock.unix();
    Ok(Usage {
        live: seats.iter().filter(|s| s.is_live(now)).count() as i64,
        items: seats.len() as i64,
        counter: license.seats_used,
        max_seats: license.max_seats,
    })
}

/// Take a seat of `lic` for machine `hw` (or refresh the machine's live session).
/// The audit entries of the new session (and of an expired one it replaces) are
/// written in the same transaction. Counted in `skiff_seats_total`.
pub async fn acquire(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    hardware_id: &super::keys::HardwareId,
    meta: &RequestMeta,
) -> Result<Acquired, SeatError> {
    let result = acquire_seat(store, clock, lic, hardware_id, meta).await;
    match &result {
        Ok(a) => {
            if !a.refreshed {
                SEATS.inc(&["acquired"]);
            }
            if a.reclaimed.is_some() {
                SEATS.inc(&["expired"]);
            }
        }
        Err(SeatError::Exhausted { .. } | SeatError::NotActive(_)) => SEATS.inc(&["refused"]),
        Err(_) => {}
    }
    result
}

async fn acquire_seat(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    hardware_id: &super::keys::HardwareId,
    meta: &RequestMeta,
) -> Result<Acquired, SeatError> {
    let hw_hash = hardware_id.hash();
    let seat_key = lic.seat_key(&hw_hash);
    for attempt in 0..MAX_ATTEMPTS {
        let now = clock.unix();
        let fresh = Seat {
            session_id: SeatSessionId::new(),
            org_id: lic.org_id.clone(),
            license_id: lic.license_id.clone(),
            hardware_id: hardware_id.clone(),
            hw_hash: hw_hash.clone(),
            user_id: meta.user_id.clone(),
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            started_at: now,
            last_heartbeat_at: now,
            lease_until: now + LEASE_SECS,
        };

        // The common case first, in one transaction: a machine without a session
        // takes a free seat of an open license.
        let writes = vec![
            Write::Put {
                item: seat_item(&fresh)?,
                condition: Some(Condition::Absent),
            },
            Write::Update {
                key: lic.key(),
                changes: vec![Change::Add("seats_used".into(), 1)],
                condition: Some(license_admits(now, Cmp::Lt)),
            },
            acquired_write(&fresh, meta, now)?,
        ];
        let refused = match store.transact(writes).await {
            Ok(()) => {
                return Ok(Acquired {
                    seat: fresh,
                    refreshed: false,
                    reclaimed: None,
                    retries: attempt,
                });
            }
            Err(StoreError::ConditionFailed { index }) => index,
            Err(e) => return Err(e.into()),
        };

        // The machine has a session item (or the adapter did not say what failed).
        if refused != Some(1) {
            match store.get(&seat_key).await? {
                Some(item) => {
                    if let Some(mut acquired) =
                        own_session(store, lic, item, &fresh, meta, now).await?
                    {
                        acquired.retries = attempt;
                        return Ok(acquired);
                    }
                    // The session moved meanwhile, or the license no longer
                    // admits it: the license says which, below.
                }
                None if refused == Some(0) => continue, // it vanished meanwhile
                None => {}
            }
        }

        // The license refused (or is missing): find out why from its current state.
        let license = load_license(store, lic).await?;
        check_open(&license, clock.unix())?;
        if license.max_seats < 0 || license.seats_used < license.max_seats {
            continue; // a seat was freed or the limit changed: try again
        }
        match reclaim(store, clock, lic, &license, &fresh, meta).await? {
            Reclaim::Done(victim) => {
                return Ok(Acquired {
                    seat: fresh,
                    refreshed: false,
                    reclaimed: Some(*victim),
                    retries: attempt,
                });
            }
            Reclaim::Full { live } => {
                return Err(SeatError::Exhausted {
                    seats_used: live,
                    max_seats: license.max_seats,
                });
            }
            Reclaim::Retry => continue,
        }
    }
    Err(SeatError::Contention(format!(
        "acquire on {} lost {MAX_ATTEMPTS} races",
        lic.license_id
    )))
}

/// The machine already has a session item: refresh it if live (no new seat), or
/// put `fresh` in its place if expired (the counter already counts the item) —
/// either only while the license admits its seats. `None` when the session moved
/// meanwhile or the license refused.
async fn own_session(
    store: &dyn ItemStore,
    lic: &LicenseRef,
    item: Item,
    fresh: &Seat,
    meta: &RequestMeta,
    now: i64,
) -> Result<Option<Acquired>, SeatError> {
    let current: Seat = item.parse()?;
    let seat_key = lic.seat_key(&current.hw_hash);
    if current.is_live(now) {
        let writes = vec![
            Write::Update {
                key: seat_key,
                changes: lease_changes(&current.hw_hash, &current.session_id, now),
                condition: Some(live_session(&current.session_id, now)),
            },
            Write::Check {
                key: lic.key(),
                condition: license_admits(now, Cmp::Le),
            },
        ];
        return match store.transact(writes).await {
            Ok(()) => Ok(Some(Acquired {
                seat: Seat {
                    last_heartbeat_at: now,
                    lease_until: now + LEASE_SECS,
                    ..current
                },
                refreshed: true,
                reclaimed: None,
                retries: 0,
            })),
            Err(e) if e.is_condition_failed() => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    let [history, ended] = end_writes(&current, EndReason::Expired, &Actor::System, now)?;
    let writes = vec![
        Write::Put {
            item: seat_item(fresh)?,
            condition: Some(expired_session(&current.session_id, now)),
        },
        Write::Check {
            key: lic.key(),
            condition: license_admits(now, Cmp::Le),
        },
        history,
        ended,
        acquired_write(fresh, meta, now)?,
    ];
    match store.transact(writes).await {
        Ok(()) => Ok(Some(Acquired {
            seat: fresh.clone(),
            refreshed: false,
            reclaimed: Some(current),
            retries: 0,
        })),
        Err(e) if e.is_condition_failed() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

enum Reclaim {
    /// An expired session was ended and `fresh` took its seat.
    Done(Box<Seat>),
    /// Every seat item is a live session.
    Full { live: i64 },
    /// The state moved under us.
    Retry,
}

/// The license is full: take the seat of an expired session, atomically.
async fn reclaim(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    license: &License,
    fresh: &Seat,
    meta: &RequestMeta,
) -> Result<Reclaim, SeatError> {
    let now = clock.unix();
    let seats = list_seats(store, lic).await?;
    let (expired, live): (Vec<_>, Vec<_>) = seats.into_iter().partition(|s| !s.is_live(now));
    if expired.is_empty() {
        return Ok(if live.len() as i64 >= license.max_seats {
            Reclaim::Full {
                live: live.len() as i64,
            }
        } else {
            Reclaim::Retry // a seat was released meanwhile
        });
    }
    // Concurrent reclaimers spread over the expired sessions instead of all racing
    // for the oldest one.
    let victim = &expired[rand::random_range(0..expired.len())];
    if victim.hw_hash == fresh.hw_hash {
        return Ok(Reclaim::Retry); // our own machine's: the main loop replaces it
    }
    let [history, ended] = end_writes(victim, EndReason::Expired, &Actor::System, now)?;
    let writes = vec![
        Write::Delete {
            key: lic.seat_key(&victim.hw_hash),
            condition: Some(expired_session(&victim.session_id, now)),
        },
        Write::Put {
            item: seat_item(fresh)?,
            condition: Some(Condition::Absent),
        },
        Write::Check {
            key: lic.key(),
            condition: license_admits(now, Cmp::Le),
        },
        history,
        ended,
        acquired_write(fresh, meta, now)?,
    ];
    match store.transact(writes).await {
        Ok(()) => Ok(Reclaim::Done(Box::new(victim.clone()))),
        Err(e) if e.is_condition_failed() => Ok(Reclaim::Retry),
        Err(e) => Err(e.into()),
    }
}

/// Changes that extend a session's lease from `now`.
fn lease_changes(hw_hash: &str, session_id: &SeatSessionId, now: i64) -> Vec<Change> {
    let until = now + LEASE_SECS;
    vec![
        Change::set("lease_until", until),
        Change::set("last_heartbeat_at", now),
        Change::SetIndex(Some(seat_expiry_index(hw_hash, until, session_id))),
    ]
}

/// Extend a live session's lease to `now + LEASE_SECS`. An expired, released or
/// replaced session answers [`SeatError::SessionExpired`].
pub async fn heartbeat(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    hw_hash: &str,
    session_id: &SeatSessionId,
) -> Result<Seat, SeatError> {
    let now = clock.unix();
    match store
        .update(
            &lic.seat_key(hw_hash),
            lease_changes(hw_hash, session_id, now),
            Some(live_session(session_id, now)),
        )
        .await
    {
        Ok(item) => Ok(item.parse()?),
        Err(e) if e.is_condition_failed() => Err(SeatError::SessionExpired),
        Err(e) => Err(e.into()),
    }
}

/// End a session and free its seat. `None` when it had already ended (releasing
/// twice is not an error). An already expired session is recorded as expired.
pub async fn release(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    hw_hash: &str,
    session_id: &SeatSessionId,
    meta: &RequestMeta,
) -> Result<Option<SessionRecord>, SeatError> {
    let key = lic.seat_key(hw_hash);
    let actor = Actor::from_meta(meta);
    for _ in 0..MAX_ATTEMPTS {
        let Some(item) = store.get(&key).await? else {
            return Ok(None);
        };
        let seat: Seat = item.parse()?;
        if seat.session_id != *session_id {
            return Ok(None); // a later session of the same machine
        }
        let now = clock.unix();
        let record = SessionRecord::ended(&seat, EndReason::Released, now);
        let [history, ended] = end_writes(&seat, EndReason::Released, &actor, now)?;
        let writes = vec![
            Write::Delete {
                key: key.clone(),
                condition: Some(same_session(session_id)),
            },
            Write::Update {
                key: lic.key(),
                changes: vec![Change::Add("seats_used".into(), -1)],
                condition: Some(attr("seats_used", Cmp::Ge, 1)),
            },
            history,
            ended,
        ];
        match store.transact(writes).await {
            Ok(()) => return Ok(Some(record)),
            Err(StoreError::ConditionFailed { index: Some(1) }) => {
                return Err(StoreError::Fatal(format!(
                    "seat counter of {} is below its seat items",
                    lic.license_id
                ))
                .into());
            }
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SeatError::Contention(format!(
        "release on {} lost {MAX_ATTEMPTS} races",
        lic.license_id
    )))
}

/// What unbinding a machine changed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unbound {
    /// The activation removed (`None`: the machine was not bound).
    pub machine: Option<Machine>,
    /// The session ended with it, whose seat is free again.
    pub ended: Option<Seat>,
}

impl Unbound {
    /// Whether this call changed anything (a repeated unbind does not).
    pub fn changed(&self) -> bool {
        self.machine.is_some() || self.ended.is_some()
    }
}

/// Unbind machine `hw` from `lic`: remove its activation (its slot under the
/// activation limit is free again) and end its session if it has one (its seat is
/// free again), with the `MACHINE_DEACTIVATED` audit entry — one transaction over
/// both items and both counters, so a concurrent acquire, heartbeat or second unbind
/// sees all of it or nothing. Unbinding a machine that is neither bound nor seated
/// changes nothing and is not an error.
pub async fn unbind_machine(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    hardware_id: &super::keys::HardwareId,
    meta: &RequestMeta,
) -> Result<Unbound, SeatError> {
    let hw_hash = hardware_id.hash();
    let machine_key = lic.machine_key(&hw_hash);
    let seat_key = lic.seat_key(&hw_hash);
    let actor = Actor::from_meta(meta);
    for _ in 0..MAX_ATTEMPTS {
        let machine: Option<Machine> = store
            .get(&machine_key)
            .await?
            .map(|i| i.parse())
            .transpose()?;
        let seat: Option<Seat> = store.get(&seat_key).await?.map(|i| i.parse()).transpose()?;
        if machine.is_none() && seat.is_none() {
            return Ok(Unbound::default());
        }
        let now = clock.unix();
        let mut writes = Vec::with_capacity(7);
        let mut counters = vec![];
        let mut guard = vec![Condition::Exists];
        match &machine {
            Some(_) => {
                writes.push(Write::Delete {
                    key: machine_key.clone(),
                    condition: Some(Condition::Exists),
                });
                counters.push(Change::Add("activations".into(), -1));
                guard.push(attr("activations", Cmp::Ge, 1));
            }
            None => writes.push(Write::Check {
                key: machine_key.clone(),
                condition: Condition::Absent,
            }),
        }
        match &seat {
            Some(seat) => {
                writes.push(Write::Delete {
                    key: seat_key.clone(),
                    condition: Some(same_session(&seat.session_id)),
                });
                let reason = if seat.is_live(now) {
                    EndReason::MachineDeactivated
                } else {
                    EndReason::Expired
                };
                writes.extend(end_writes(seat, reason, &actor, now)?);
                counters.push(Change::Add("seats_used".into(), -1));
                guard.push(attr("seats_used", Cmp::Ge, 1));
            }
            None => writes.push(Write::Check {
                key: seat_key.clone(),
                condition: Condition::Absent,
            }),
        }
        writes.push(Write::Update {
            key: lic.key(),
            changes: counters,
            condition: Some(Condition::All(guard)),
        });
        writes.push(audit::entry_write(
            &lic.org_id,
            &lic.license_id,
            Action::MachineDeactivated,
            &actor,
            meta,
            json!({
                "hardware_id": hardware_id.as_str(),
                "was_bound": machine.is_some(),
                "session_id": seat.as_ref().map(|s| s.session_id.clone()),
            }),
            now,
        )?);
        match store.transact(writes).await {
            Ok(()) => {
                return Ok(Unbound {
                    machine,
                    ended: seat,
                });
            }
            // The machine or its session changed meanwhile: look again.
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SeatError::Contention(format!(
        "unbinding a machine of {} lost {MAX_ATTEMPTS} races",
        lic.license_id
    )))
}

/// End `victims` (seat items of one license) in one transaction: each only if it is
/// still the same session (and, with `only_expired`, still expired at `now`), with
/// the counter decreased by their number. `extra` conditions guard the license.
async fn end_batch(
    store: &dyn ItemStore,
    lic: &LicenseRef,
    victims: &[Seat],
    reason: EndReason,
    now: i64,
    only_expired: bool,
    extra: Vec<Condition>,
) -> Result<bool, SeatError> {
    let k = victims.len() as i64;
    let mut writes = Vec::with_capacity(victims.len() * 3 + 1);
    for seat in victims {
        writes.push(Write::Delete {
            key: lic.seat_key(&seat.hw_hash),
            condition: Some(if only_expired {
                expired_session(&seat.session_id, now)
            } else {
                same_session(&seat.session_id)
            }),
        });
        writes.extend(end_writes(seat, reason, &Actor::System, now)?);
    }
    let mut guard = vec![attr("seats_used", Cmp::Ge, k)];
    guard.extend(extra);
    writes.push(Write::Update {
        key: lic.key(),
        changes: vec![Change::Add("seats_used".into(), -k)],
        condition: Some(Condition::All(guard)),
    });
    match store.transact(writes).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_condition_failed() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// End every session of a license whose status no longer admits new seats
/// (suspension, deactivation). Returns the sessions ended.
pub async fn end_all(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
    reason: EndReason,
) -> Result<Vec<Seat>, SeatError> {
    let mut ended = vec![];
    let mut failures = 0;
    loop {
        let page = store
            .query(Query::partition(lic.seats_pk()).limit(END_CHUNK))
            .await?;
        if page.items.is_empty() {
            return Ok(ended);
        }
        let victims: Vec<Seat> = page
            .items
            .iter()
            .map(Item::parse)
            .collect::<Result<_, _>>()?;
        if end_batch(store, lic, &victims, reason, clock.unix(), false, vec![]).await? {
            ended.extend(victims);
        } else {
            failures += 1;
            if failures >= MAX_ATTEMPTS {
                return Err(SeatError::Contention(format!(
                    "ending the sessions of {} lost {MAX_ATTEMPTS} races",
                    lic.license_id
                )));
            }
        }
    }
}

/// After `max_seats` was lowered: end sessions until the seat items fit the new
/// limit — expired ones first, then the newest live ones. Returns the live sessions
/// ended.
pub async fn enforce_limit(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
) -> Result<Vec<Seat>, SeatError> {
    let mut ended = vec![];
    for _ in 0..MAX_ATTEMPTS * 4 {
        let license = load_license(store, lic).await?;
        let max = license.max_seats;
        if max < 0 || license.seats_used <= max {
            return Ok(ended);
        }
        let now = clock.unix();
        let excess = (license.seats_used - max) as usize;
        let mut seats = list_seats(store, lic).await?;
        // Expired first (oldest lease first), then live, newest start first.
        seats.sort_by_key(|s| {
            if s.is_live(now) {
                (1, -s.started_at)
            } else {
                (0, s.lease_until)
            }
        });
        let victims: Vec<Seat> = seats.into_iter().take(excess.min(END_CHUNK)).collect();
        if victims.is_empty() {
            continue;
        }
        // Guard: the limit we enforce is still the license's.
        if end_batch(
            store,
            lic,
            &victims,
            EndReason::Downgraded,
            now,
            false,
            vec![attr("max_seats", Cmp::Eq, max)],
        )
        .await?
        {
            ended.extend(victims.into_iter().filter(|s| s.is_live(now)));
        }
    }
    Err(SeatError::Contention(format!(
        "enforcing the seat limit of {} lost too many races",
        lic.license_id
    )))
}

/// End the expired sessions of one license. Returns them.
pub async fn sweep_license(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    lic: &LicenseRef,
) -> Result<Vec<Seat>, SeatError> {
    let now = clock.unix();
    let expired: Vec<Seat> = list_seats(store, lic)
        .await?
        .into_iter()
        .filter(|s| !s.is_live(now))
        .collect();
    end_expired(store, lic, expired, now).await
}

/// End these (believed expired) sessions chunk by chunk; a chunk whose condition
/// fails (a session was heartbeated, released or already swept) is retried one
/// session at a time so the others still end.
async fn end_expired(
    store: &dyn ItemStore,
    lic: &LicenseRef,
    expired: Vec<Seat>,
    now: i64,
) -> Result<Vec<Seat>, SeatError> {
    let mut ended = vec![];
    for chunk in expired.chunks(END_CHUNK) {
        if end_batch(store, lic, chunk, EndReason::Expired, now, true, vec![]).await? {
            ended.extend_from_slice(chunk);
            continue;
        }
        for seat in chunk {
            if end_batch(
                store,
                lic,
                std::slice::from_ref(seat),
                EndReason::Expired,
                now,
                true,
                vec![],
            )
            .await?
            {
                ended.push(seat.clone());
            }
        }
    }
    Ok(ended)
}

/// The scheduler's sweep: find sessions whose lease ended (through the expiry
/// index, shard by shard) and end them, at most `max` per run. The index may lag
/// (DynamoDB GSIs are eventually consistent); every deletion re-checks the lease on
/// the seat item itself, so a late index entry never ends a live session.
pub async fn sweep_expired(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    max: usize,
) -> Result<Vec<Seat>, SeatError> {
    let now = clock.unix();
    let mut found: BTreeMap<LicenseRef, Vec<Seat>> = BTreeMap::new();
    let mut seen = 0;
    'shards: for shard in 0..super::model::SWEEP_SHARDS {
        let mut cursor = None;
        loop {
            let page = store
                .query(Query {
                    sort: SortKey::Lt(format!("{now:012}")),
                    ..Query::gsi1(format!("SEATEXP#{shard}"))
                        .limit(max.clamp(1, 1000))
                        .after(cursor)
                })
                .await?;
            for item in &page.items {
                let seat: Seat = item.parse()?;
                if !seat.is_live(now) {
                    found.entry(seat.license()).or_default().push(seat);
                    seen += 1;
                    if seen >= max {
                        break 'shards;
                    }
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let mut ended = vec![];
    for (license, seats) in found {
        ended.extend(end_expired(store, &license, seats, now).await?);
    }
    SEATS.add(&["expired"], ended.len() as u64);
    Ok(ended)
}
