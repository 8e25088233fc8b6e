//! The e-mails billing sends, one per [`Notice`], with text and HTML bodies.

use super::catalog::Catalog;
use super::subscription::Notice;
use skiff_core::ports::mail::Email;

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The e-mail for one notice.
pub fn render(notice: &Notice, to: &str, catalog: &Catalog, upgrade_url: &str) -> Email {
    let plan_name = |id: &str| {
        catalog
            .get(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let (subject, body): (String, String) = match notice {
        Notice::Confirmed { plan_id, trial_end } => (
            format!("Subscription confirmed: {}", plan_name(plan_id)),
            match trial_end {
                Some(t) => format!(
                    "Your {} subscription is confirmed. Your free trial runs until {}; your license is being issued.",
                    plan_name(plan_id),
                    date(*t)
                ),
                None => format!(
                    "Your {} subscription is confirmed and your license is being issued.",
                    plan_name(plan_id)
                ),
            },
        ),
        Notice::Renewed {
            period_end,
            restored,
        } => (
            "Subscription renewed".into(),
            format!(
                "Thank you: your payment was received and your subscription runs until {}.{}",
                date(*period_end),
                if *restored {
                    " Full service is restored."
                } else {
                    ""
                }
            ),
        ),
        Notice::PaymentFailed { grace_ends_at, .. } => (
            "Payment failed: please update your payment method".into(),
            format!(
                "We could not collect your payment. Your service continues during a grace period until {}. \
                 Please update your payment method: {upgrade_url}",
                date(*grace_ends_at)
            ),
        ),
        Notice::PaymentFailedUrgent {
            attempt,
            grace_ends_at,
        } => (
            "Urgent: payment failed again".into(),
            format!(
                "Payment attempt {attempt} failed. Your grace period now ends on {}; after that the service \
                 becomes read-only and your licenses are suspended. Pay now: {upgrade_url}",
                date(*grace_ends_at)
            ),
        ),
        Notice::Suspended => (
            "Service suspended: payment overdue".into(),
            format!(
                "We could not collect your payment, so your licenses are suspended and the service is \
                 read-only. Your data is safe and can be exported. Pay to restore service: {upgrade_url}"
            ),
        ),
        Notice::PlanChanged { from, to: plan } => (
            format!("Plan changed to {}", plan_name(plan)),
            format!(
                "Your subscription changed from {} to {}. Your license has been updated.",
                plan_name(from),
                plan_name(plan)
            ),
        ),
        Notice::CancellationScheduled { period_end } => (
            "Subscription will end".into(),
            format!(
                "Your subscription is set to end on {}. You can resume it until then: {upgrade_url}",
                date(*period_end)
            ),
        ),
        Notice::Canceled { never_paid } => (
            "Subscription canceled".into(),
            if *never_paid {
                format!(
                    "Your subscription has been canceled. Your data is archived and can be exported; \
                     choose a plan to continue: {upgrade_url}"
                )
            } else {
                format!(
                    "Your subscription has been canceled and your account is back on the free plan; \
                     the service is read-only. Choose a plan to continue: {upgrade_url}"
                )
            },
        ),
        Notice::TrialExpired => (
            "Your trial has ended".into(),
            format!(
                "Your trial ended without a payment, so your account is archived. Your data can be \
                 exported; choose a plan to continue: {upgrade_url}"
            ),
        ),
    };
    let text = format!("{body}\n\n— Skiff\n");
    let html = format!(
        "<!doctype html><html><body><p>{}</p><p>— Skiff</p></body></html>",
        html_escape(&body)
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// A short name of a notice, for idempotency keys and logs.
pub fn notice_kind(notice: &Notice) -> &'static str {
    match notice {
        Notice::Confirmed { .. } => "confirmed",
        Notice::Renewed { .. } => "renewed",
        Notice::PaymentFailed { .. } => "payment_failed",
        Notice::PaymentFailedUrgent { .. } => "payment_failed_urgent",
        Notice::Suspended => "suspended",
        Notice::PlanChanged { .. } => "plan_changed",
        Notice::CancellationScheduled { .. } => "cancellation_scheduled",
        Notice::Canceled { .. } => "canceled",
        Notice::TrialExpired => "trial_expired",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_has_a_subject_text_and_escaped_html() {
        let c = Catalog::built_in();
        let n = Notice::PaymentFailed {
            attempt: 1,
            grace_ends_at: 0,
        };
        let e = render(&n, "a@b.c", &c, "http://x/pay?a=1&b=<2>");
        assert!(e.subject.contains("Payment failed"));
        assert!(e.text.contains("1970-01-01 00:00 UTC"));
        assert!(e.html.contains("&amp;b=&lt;2&gt;"));
        let e = render(
            &Notice::Confirmed {
                plan_id: "pro".into(),
                trial_end: None,
            },
            "a@b.c",
            &c,
            "u",
        );
        assert_eq!(e.subject, "Subscription confirmed: Pro");
    }
}
