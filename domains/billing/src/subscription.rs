//! An org's subscription and the pure state machine that billing events drive.
//!
//! Ordering: Stripe delivers events at least once and in no particular order. A
//! change applies only to the org's current subscription and only if the event is
//! not older (by Stripe's `created`, whole seconds) than the last applied one; the
//! store enforces the same rule with a conditional write, so two racing deliveries
//! cannot both win with a stale view. Events of one second may apply in either order
//! (Stripe gives no finer order), so every transition is written to be safe under
//! that. A subscription Stripe deleted is terminal: nothing brings it back (a new
//! checkout starts a new one).

use super::catalog::{Catalog, Plan};
use super::dunning::{self, Policy};
use serde::{Deserialize, Serialize};
use skiff_core::ids::{OrgId, SubscriptionId};

/// Subscription status as the API reports it (`none` is the absence of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Trialing,
    Active,
    PastDue,
    Canceled,
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Stripe deleted it (canceled by the customer, or by Stripe after failed payments).
    Deleted,
    /// The trial ended without a paid invoice (set by the scheduler; a late paid
    /// invoice of the same subscription still revives it).
    TrialExpired,
}

/// The stored subscription of one org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub org_id: OrgId,
    pub subscription_id: SubscriptionId,
    pub customer_id: String,
    pub plan_id: String,
    pub status: Status,
    /// Seat packs: the license gets `plan.max_seats × quantity` seats.
    pub quantity: i64,
    /// Unix seconds; the license expires here.
    pub current_period_end: i64,
    pub trial_end: Option<i64>,
    pub failed_count: u32,
    pub grace_ends_at: Option<i64>,
    /// Suspended for non-payment (3rd failure or grace run out).
    pub suspended: bool,
    pub cancel_at_period_end: bool,
    /// A non-zero invoice was paid at least once.
    pub ever_paid: bool,
    pub canceled_at: Option<i64>,
    pub cancel_reason: Option<CancelReason>,
    pub created_at: i64,
    /// `created` of the last applied Stripe event.
    pub last_event_created: i64,
    pub last_event_id: String,
}

/// Something the org's billing contact is told (an e-mail through the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    Confirmed {
        plan_id: String,
        trial_end: Option<i64>,
    },
    Renewed {
        period_end: i64,
        restored: bool,
    },
    PaymentFailed {
        attempt: u32,
        grace_ends_at: i64,
    },
    PaymentFailedUrgent {
        attempt: u32,
        grace_ends_at: i64,
    },
    Suspended,
    PlanChanged {
        from: String,
        to: String,
    },
    CancellationScheduled {
        period_end: i64,
    },
    Canceled {
        never_paid: bool,
    },
    TrialExpired,
}

/// A billing event in domain terms (parsed from a Stripe event, or the scheduler's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CheckoutCompleted {
        subscription_id: SubscriptionId,
        customer_id: String,
        plan_id: String,
        trial_days: u32,
    },
    PaymentSucceeded {
        subscription_id: SubscriptionId,
        amount_paid: i64,
        /// End of the period the invoice paid for, when the invoice says.
        period_end: Option<i64>,
    },
    PaymentFailed {
        subscription_id: SubscriptionId,
    },
    SubscriptionUpdated {
        subscription_id: SubscriptionId,
        /// Plan of the subscription's price (unknown prices leave the plan as is).
        plan_id: Option<String>,
        quantity: Option<i64>,
        current_period_end: Option<i64>,
        trial_end: Option<i64>,
        cancel_at_period_end: bool,
    },
    SubscriptionDeleted {
        subscription_id: SubscriptionId,
    },
}

impl Change {
    pub fn subscription_id(&self) -> &SubscriptionId {
        match self {
            Change::CheckoutCompleted {
                subscription_id, ..
            }
            | Change::PaymentSucceeded {
                subscription_id, ..
            }
            | Change::PaymentFailed { subscription_id }
            | Change::SubscriptionUpdated {
                subscription_id, ..
            }
            | Change::SubscriptionDeleted { subscription_id } => subscription_id,
        }
    }
}

/// Identity and time of the event being applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub id: String,
    /// Unix seconds (Stripe's `created`).
    pub created: i64,
}

/// A change that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub next: Subscription,
    pub notices: Vec<Notice>,
    /// Audit actions, e.g. `PAYMENT_FAILED`.
    pub audit: Vec<&'static str>,
}

/// What to do with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Apply(Box<Transition>),
    /// Acknowledge and do nothing (stale, about another subscription, terminal...).
    Ignore(&'static str),
    /// Not applicable yet (e.g. an invoice of a subscription whose checkout has not
    /// arrived): fail the delivery so Stripe retries later.
    Defer(&'static str),
}

impl Subscription {
    /// Seats the license carries.
    pub fn seats(&self, plan: &Plan) -> i64 {
        let per_pack = plan.entitlements.max_seats;
        if per_pack.is_unlimited() {
            -1
        } else {
            per_pack.0.saturating_mul(self.quantity.max(1))
        }
    }

    fn terminal(&self) -> bool {
        self.status == Status::Canceled && self.cancel_reason == Some(CancelReason::Deleted)
    }
}

/// Decide what `change` (event `meta`) does to the org's `current` subscription.
pub fn apply(
    org_id: &OrgId,
    current: Option<&Subscription>,
    change: &Change,
    meta: &EventMeta,
    catalog: &Catalog,
    policy: &Policy,
) -> Decision {
    let sub_id = change.subscription_id();
    if let Change::CheckoutCompleted {
        customer_id,
        plan_id,
        trial_days,
        ..
    } = change
    {
        if let Some(cur) = current {
            if cur.subscription_id == *sub_id {
                return Decision::Ignore("subscription already started");
            }
            if meta.created < cur.last_event_created && cur.status != Status::Canceled {
                return Decision::Ignore("stale checkout for a replaced subscription");
            }
        }
        let Some(plan) = catalog.get(plan_id) else {
            return Decision::Ignore("checkout for a plan not in the catalog");
        };
        let trial_end =
            (*trial_days > 0).then(|| meta.created + i64::from(*trial_days) * dunning::DAY);
        let next = Subscription {
            org_id: org_id.to_owned(),
            subscription_id: sub_id.clone(),
            customer_id: customer_id.clone(),
            plan_id: plan.id.clone(),
            status: if trial_end.is_some() {
                Status::Trialing
            } else {
                Status::Active
            },
            quantity: 1,
            current_period_end: trial_end.unwrap_or(meta.created + plan.interval.nominal_secs()),
            trial_end,
            failed_count: 0,
            grace_ends_at: None,
            suspended: false,
            cancel_at_period_end: false,
            ever_paid: false,
            canceled_at: None,
            cancel_reason: None,
            created_at: meta.created,
            last_event_created: meta.created,
            last_event_id: meta.id.clone(),
        };
        return Decision::Apply(Box::new(Transition {
            notices: vec![Notice::Confirmed {
                plan_id: plan.id.clone(),
                trial_end,
            }],
            audit: vec!["SUBSCRIPTION_STARTED", "LICENSE_REQUESTED"],
            next,
        }));
    }

    let Some(cur) = current else {
        return match change {
            Change::SubscriptionDeleted { .. } => Decision::Ignore("no subscription to delete"),
            _ => Decision::Defer("subscription not known yet (checkout not processed)"),
        };
    };
    if cur.subscription_id != *sub_id {
        return Decision::Ignore("event of another subscription");
    }
    if meta.created < cur.last_event_created {
        return Decision::Ignore("stale event (older than the last applied one)");
    }
    if cur.terminal() {
        return Decision::Ignore("subscription was deleted");
    }
    let mut next = cur.clone();
    next.last_event_created = meta.created;
    next.last_event_id = meta.id.clone();
    let mut notices = vec![];
    let mut audit = vec![];
    match change {
        Change::CheckoutCompleted { .. } => unreachable!("handled above"),
        Change::PaymentSucceeded {
            amount_paid,
            period_end,
            ..
        } => {
            if cur.status == Status::Canceled && *amount_paid == 0 {
                return Decision::Ignore("zero invoice of an expired trial");
            }
            if let Some(end) = period_end {
                next.current_period_end = next.current_period_end.max(*end);
            }
            if *amount_paid == 0 {
                // The trial's $0 invoice (or a fully credited one): nothing is owed.
                audit.push("INVOICE_SETTLED");
            } else {
                next.ever_paid = true;
                let restored = dunning::payment_recovered(&mut next)
                    || cur.status == Status::Canceled
                    || cur.status == Status::PastDue;
                if cur.status == Status::Canceled {
                    next.canceled_at = None;
                    next.cancel_reason = None;
                }
                next.status = Status::Active;
                if period_end.is_none() && next.current_period_end <= meta.created {
                    let nominal = catalog
                        .get(&next.plan_id)
                        .map_or(30 * dunning::DAY, |p| p.interval.nominal_secs());
                    next.current_period_end = meta.created + nominal;
                }
                audit.push("PAYMENT_SUCCEEDED");
                if restored {
                    audit.push("SERVICE_RESTORED");
                }
                notices.push(Notice::Renewed {
                    period_end: next.current_period_end,
                    restored,
                });
            }
        }
        Change::PaymentFailed { .. } => {
            if cur.status == Status::Canceled {
                return Decision::Ignore("payment failure of a canceled subscription");
            }
            notices = dunning::payment_failed(&mut next, meta.created, policy);
            audit.push("PAYMENT_FAILED");
            if next.suspended && !cur.suspended {
                audit.push("SERVICE_SUSPENDED");
            }
        }
        Change::SubscriptionUpdated {
            plan_id,
            quantity,
            current_period_end,
            trial_end,
            cancel_at_period_end,
            ..
        } => {
            if cur.status == Status::Canceled {
                return Decision::Ignore("update of a canceled subscription");
            }
            if let Some(p) = plan_id.as_deref().and_then(|id| catalog.get(id))
                && p.id != cur.plan_id
            {
                next.plan_id = p.id.clone();
                notices.push(Notice::PlanChanged {
                    from: cur.plan_id.clone(),
                    to: p.id.clone(),
                });
                audit.push("PLAN_CHANGED");
            }
            if let Some(q) = quantity.filter(|q| *q >= 1)
                && q != cur.quantity
            {
                next.quantity = q;
                audit.push("SEATS_CHANGED");
            }
            if let Some(end) = current_period_end {
                next.current_period_end = *end;
            }
            if trial_end.is_some() {
                next.trial_end = *trial_end;
            }
            if *cancel_at_period_end && !cur.cancel_at_period_end {
                notices.push(Notice::CancellationScheduled {
                    period_end: next.current_period_end,
                });
                audit.push("CANCELLATION_SCHEDULED");
            }
            next.cancel_at_period_end = *cancel_at_period_end;
            if audit.is_empty() {
                audit.push("SUBSCRIPTION_UPDATED");
            }
        }
        Change::SubscriptionDeleted { .. } => {
            next.status = Status::Canceled;
            next.canceled_at = Some(meta.created);
            next.cancel_reason = Some(CancelReason::Deleted);
            next.grace_ends_at = None;
            next.cancel_at_period_end = false;
            if cur.status != Status::Canceled {
                notices.push(Notice::Canceled {
                    never_paid: !cur.ever_paid,
                });
            }
            audit.push("SUBSCRIPTION_CANCELED");
        }
    }
    Decision::Apply(Box::new(Transition {
        next,
        notices,
        audit,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const ORG1: &str = "org_00000000000000000000000000000001";

    pub(crate) fn org1() -> OrgId {
        OrgId::parse(ORG1).unwrap()
    }

    pub(crate) fn sub(id: &str) -> SubscriptionId {
        SubscriptionId::parse(id).unwrap()
    }

    pub(crate) fn active() -> Subscription {
        Subscription {
            org_id: org1(),
            subscription_id: sub("sub_1"),
            customer_id: "cus_1".into(),
            plan_id: "pro".into(),
            status: Status::Active,
            quantity: 1,
            current_period_end: 30 * dunning::DAY,
            trial_end: None,
            failed_count: 0,
            grace_ends_at: None,
            suspended: false,
            cancel_at_period_end: false,
            ever_paid: true,
            canceled_at: None,
            cancel_reason: None,
            created_at: 0,
            last_event_created: 0,
            last_event_id: "evt_0".into(),
        }
    }

    fn meta(id: &str, created: i64) -> EventMeta {
        EventMeta {
            id: id.into(),
            created,
        }
    }

    fn run(current: Option<&Subscription>, change: Change, m: EventMeta) -> Decision {
        apply(
            &org1(),
            current,
            &change,
            &m,
            &Catalog::built_in(),
            &Policy::default(),
        )
    }

    fn applied(d: Decision) -> Transition {
        match d {
            Decision::Apply(t) => *t,
            other => panic!("expected a transition, got {other:?}"),
        }
    }

    fn checkout(trial_days: u32) -> Change {
        Change::CheckoutCompleted {
            subscription_id: sub("sub_1"),
            customer_id: "cus_1".into(),
            plan_id: "pro".into(),
            trial_days,
        }
    }

    #[test]
    fn checkout_starts_a_trial_or_an_active_subscription() {
        let t = applied(run(None, checkout(14), meta("evt_1", 100)));
        assert_eq!(t.next.status, Status::Trialing);
        assert_eq!(t.next.trial_end, Some(100 + 14 * dunning::DAY));
        assert_eq!(t.next.current_period_end, 100 + 14 * dunning::DAY);
        assert!(matches!(t.notices[0], Notice::Confirmed { .. }));
        assert!(t.audit.contains(&"LICENSE_REQUESTED"));
        let t = applied(run(None, checkout(0), meta("evt_1", 100)));
        assert_eq!(t.next.status, Status::Active);
        assert_eq!(t.next.trial_end, None);
        // The same subscription's checkout again does nothing.
        assert!(matches!(
            run(Some(&t.next), checkout(0), meta("evt_2", 200)),
            Decision::Ignore(_)
        ));
    }

    #[test]
    fn payment_succeeded_renews_and_restores() {
        let mut s = active();
        s.status = Status::PastDue;
        s.failed_count = 3;
        s.suspended = true;
        let t = applied(run(
            Some(&s),
            Change::PaymentSucceeded {
                subscription_id: sub("sub_1"),
                amount_paid: 9900,
                period_end: Some(60 * dunning::DAY),
            },
            meta("evt_2", 31 * dunning::DAY),
        ));
        assert_eq!(t.next.status, Status::Active);
        assert_eq!(
            (t.next.failed_count, t.next.suspended, t.next.grace_ends_at),
            (0, false, None)
        );
        assert_eq!(t.next.current_period_end, 60 * dunning::DAY);
        assert_eq!(
            t.notices,
            vec![Notice::Renewed {
                period_end: 60 * dunning::DAY,
                restored: true
            }]
        );
    }

    #[test]
    fn the_trials_zero_invoice_neither_pays_nor_notifies() {
        let trial = applied(run(None, checkout(14), meta("evt_1", 100))).next;
        let t = applied(run(
            Some(&trial),
            Change::PaymentSucceeded {
                subscription_id: sub("sub_1"),
                amount_paid: 0,
                period_end: None,
            },
            meta("evt_2", 100),
        ));
        assert_eq!(t.next.status, Status::Trialing);
        assert!(!t.next.ever_paid);
        assert!(t.notices.is_empty());
    }

    #[test]
    fn stale_events_and_other_subscriptions_are_ignored() {
        let mut s = active();
        s.last_event_created = 500;
        let failed = Change::PaymentFailed {
            subscription_id: sub("sub_1"),
        };
        assert!(matches!(
            run(Some(&s), failed.clone(), meta("evt_old", 499)),
            Decision::Ignore(_)
        ));
        // Same second: applies (Stripe gives no finer order).
        assert!(matches!(
            run(Some(&s), failed, meta("evt_same", 500)),
            Decision::Apply(_)
        ));
        let other = Change::PaymentFailed {
            subscription_id: sub("sub_other"),
        };
        assert!(matches!(
            run(Some(&s), other, meta("evt_x", 600)),
            Decision::Ignore(_)
        ));
        assert!(matches!(
            run(
                None,
                Change::PaymentFailed {
                    subscription_id: sub("sub_1")
                },
                meta("evt_y", 1)
            ),
            Decision::Defer(_)
        ));
    }

    #[test]
    fn a_deleted_subscription_is_never_resurrected() {
        let s = active();
        let deleted = applied(run(
            Some(&s),
            Change::SubscriptionDeleted {
                subscription_id: sub("sub_1"),
            },
            meta("evt_del", 100),
        ))
        .next;
        assert_eq!(deleted.status, Status::Canceled);
        let late = run(
            Some(&deleted),
            Change::PaymentSucceeded {
                subscription_id: sub("sub_1"),
                amount_paid: 9900,
                period_end: Some(1_000),
            },
            meta("evt_late", 200),
        );
        assert_eq!(late, Decision::Ignore("subscription was deleted"));
    }

    #[test]
    fn a_late_paid_invoice_revives_an_expired_trial() {
        let mut trial = applied(run(None, checkout(14), meta("evt_1", 0))).next;
        dunning::expire_trial(&mut trial, 15 * dunning::DAY);
        let t = applied(run(
            Some(&trial),
            Change::PaymentSucceeded {
                subscription_id: sub("sub_1"),
                amount_paid: 9900,
                period_end: Some(44 * dunning::DAY),
            },
            meta("evt_2", 15 * dunning::DAY + 5),
        ));
        assert_eq!(t.next.status, Status::Active);
        assert_eq!(t.next.cancel_reason, None);
        assert!(t.next.ever_paid);
    }

    #[test]
    fn updates_change_plan_seats_and_cancellation() {
        let s = active();
        let t = applied(run(
            Some(&s),
            Change::SubscriptionUpdated {
                subscription_id: sub("sub_1"),
                plan_id: Some("starter".into()),
                quantity: Some(2),
                current_period_end: Some(40 * dunning::DAY),
                trial_end: None,
                cancel_at_period_end: true,
            },
            meta("evt_u", 10),
        ));
        assert_eq!(t.next.plan_id, "starter");
        assert_eq!(t.next.quantity, 2);
        assert_eq!(t.next.seats(Catalog::built_in().get("starter").unwrap()), 6);
        assert!(t.next.cancel_at_period_end);
        assert!(t.notices.contains(&Notice::PlanChanged {
            from: "pro".into(),
            to: "starter".into()
        }));
        assert!(t.audit.contains(&"CANCELLATION_SCHEDULED"));
    }
}
