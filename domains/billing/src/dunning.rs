//! The dunning policy as pure functions: what a failed
//! payment, an expired grace period and an unpaid trial do to a subscription.
//!
//! - 1st failed payment → `past_due`, 7-day grace, warning e-mail;
//! - 2nd → grace shortened to 3 days from that failure (never extended), urgent e-mail;
//! - 3rd or later, or a grace period that runs out → suspended: licenses suspended,
//!   seat sessions ended, service `read_only`, suspension e-mail (once);
//! - a trial that ends without a paid invoice → canceled with `trial_expired`,
//!   service `archived`.

use super::subscription::{CancelReason, Notice, Status, Subscription};

pub const DAY: i64 = 86_400;

/// Tunable numbers of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Grace after the first failure (seconds).
    pub first_grace: i64,
    /// Grace after the second failure, counted from that failure (seconds).
    pub second_grace: i64,
    /// Failures that suspend at once.
    pub suspend_at: u32,
    /// Wait after a trial's end for Stripe's first paid invoice before the trial
    /// counts as expired (Stripe finalizes and charges about an hour after).
    pub trial_slack: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            first_grace: 7 * DAY,
            second_grace: 3 * DAY,
            suspend_at: 3,
            trial_slack: DAY,
        }
    }
}

/// A payment failed at `at`: count it and apply the step of the policy it reaches.
pub fn payment_failed(sub: &mut Subscription, at: i64, policy: &Policy) -> Vec<Notice> {
    sub.failed_count = sub.failed_count.saturating_add(1);
    if sub.status != Status::Canceled {
        sub.status = Status::PastDue;
    }
    match sub.failed_count {
        n if n >= policy.suspend_at => suspend(sub),
        1 => {
            let ends = at + policy.first_grace;
            sub.grace_ends_at = Some(ends);
            vec![Notice::PaymentFailed {
                attempt: 1,
                grace_ends_at: ends,
            }]
        }
        n => {
            let ends = (at + policy.second_grace).min(sub.grace_ends_at.unwrap_or(i64::MAX));
            sub.grace_ends_at = Some(ends);
            vec![Notice::PaymentFailedUrgent {
                attempt: n,
                grace_ends_at: ends,
            }]
        }
    }
}

/// Suspend (3rd failure or grace run out); a second suspension notifies nobody.
pub fn suspend(sub: &mut Subscription) -> Vec<Notice> {
    sub.grace_ends_at = None;
    if sub.suspended {
        return vec![];
    }
    sub.suspended = true;
    vec![Notice::Suspended]
}

/// A paid invoice: the dunning state is cleared.
pub fn payment_recovered(sub: &mut Subscription) -> bool {
    let was_suspended = sub.suspended;
    sub.failed_count = 0;
    sub.grace_ends_at = None;
    sub.suspended = false;
    was_suspended
}

/// Has the grace period run out at `now`?
pub fn grace_expired(sub: &Subscription, now: i64) -> bool {
    sub.status == Status::PastDue && !sub.suspended && sub.grace_ends_at.is_some_and(|g| g <= now)
}

/// Has the trial ended without a paid invoice at `now` (after the slack)?
pub fn trial_expired(sub: &Subscription, now: i64, policy: &Policy) -> bool {
    sub.status == Status::Trialing
        && !sub.ever_paid
        && sub.trial_end.is_some_and(|t| t + policy.trial_slack <= now)
}

/// Cancel an unpaid trial.
pub fn expire_trial(sub: &mut Subscription, now: i64) -> Vec<Notice> {
    sub.status = Status::Canceled;
    sub.canceled_at = Some(now);
    sub.cancel_reason = Some(CancelReason::TrialExpired);
    sub.grace_ends_at = None;
    vec![Notice::TrialExpired]
}

/// When the scheduler must look at this subscription next, if ever.
pub fn next_deadline(sub: &Subscription, policy: &Policy) -> Option<i64> {
    match sub.status {
        Status::PastDue if !sub.suspended => sub.grace_ends_at,
        Status::Trialing if !sub.ever_paid => sub.trial_end.map(|t| t + policy.trial_slack),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::tests::active;

    #[test]
    fn first_failure_gives_seven_days_of_grace() {
        let mut s = active();
        let n = payment_failed(&mut s, 1_000, &Policy::default());
        assert_eq!(s.status, Status::PastDue);
        assert_eq!(s.failed_count, 1);
        assert_eq!(s.grace_ends_at, Some(1_000 + 7 * DAY));
        assert!(!s.suspended);
        assert_eq!(
            n,
            vec![Notice::PaymentFailed {
                attempt: 1,
                grace_ends_at: 1_000 + 7 * DAY
            }]
        );
    }

    #[test]
    fn second_failure_shortens_grace_to_three_days_and_never_extends_it() {
        let p = Policy::default();
        let mut s = active();
        payment_failed(&mut s, 0, &p);
        let n = payment_failed(&mut s, DAY, &p);
        assert_eq!(s.grace_ends_at, Some(4 * DAY));
        assert!(matches!(
            n[0],
            Notice::PaymentFailedUrgent { attempt: 2, .. }
        ));
        // A second failure reported late (day 6) must not push grace past day 7.
        let mut late = active();
        payment_failed(&mut late, 0, &p);
        payment_failed(&mut late, 6 * DAY, &p);
        assert_eq!(late.grace_ends_at, Some(7 * DAY));
    }

    #[test]
    fn third_failure_suspends_once() {
        let p = Policy::default();
        let mut s = active();
        payment_failed(&mut s, 0, &p);
        payment_failed(&mut s, 1, &p);
        let n = payment_failed(&mut s, 2, &p);
        assert!(s.suspended);
        assert_eq!(s.grace_ends_at, None);
        assert_eq!(n, vec![Notice::Suspended]);
        assert_eq!(payment_failed(&mut s, 3, &p), vec![]);
        assert_eq!(s.failed_count, 4);
    }

    #[test]
    fn recovery_clears_dunning_state() {
        let p = Policy::default();
        let mut s = active();
        for t in 0..3 {
            payment_failed(&mut s, t, &p);
        }
        assert!(payment_recovered(&mut s));
        assert_eq!(
            (s.failed_count, s.grace_ends_at, s.suspended),
            (0, None, false)
        );
    }

    #[test]
    fn grace_and_trial_deadlines() {
        let p = Policy::default();
        let mut s = active();
        assert_eq!(next_deadline(&s, &p), None);
        payment_failed(&mut s, 0, &p);
        assert_eq!(next_deadline(&s, &p), Some(7 * DAY));
        assert!(!grace_expired(&s, 7 * DAY - 1));
        assert!(grace_expired(&s, 7 * DAY));
        assert_eq!(suspend(&mut s), vec![Notice::Suspended]);
        assert_eq!(next_deadline(&s, &p), None);

        let mut t = active();
        t.status = Status::Trialing;
        t.ever_paid = false;
        t.trial_end = Some(14 * DAY);
        assert_eq!(next_deadline(&t, &p), Some(15 * DAY));
        assert!(!trial_expired(&t, 15 * DAY - 1, &p));
        assert!(trial_expired(&t, 15 * DAY, &p));
        t.ever_paid = true;
        assert!(!trial_expired(&t, 100 * DAY, &p));
        t.ever_paid = false;
        assert_eq!(expire_trial(&mut t, 15 * DAY), vec![Notice::TrialExpired]);
        assert_eq!(t.status, Status::Canceled);
        assert_eq!(t.cancel_reason, Some(CancelReason::TrialExpired));
    }
}
