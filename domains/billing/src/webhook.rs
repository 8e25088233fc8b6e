//! Stripe webhooks: `Stripe-Signature` verification and event parsing.
//!
//! The header is `t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]`; the signature is
//! HMAC-SHA256 keyed with the endpoint secret over `"<t>.<raw body>"`. Any `v1` may
//! match any configured secret (Stripe signs with old and new secrets while one is
//! being rolled), comparisons are constant-time (`Mac::verify_slice`), and `t` must be
//! within the tolerance of the injected clock in both directions (a far-future `t`
//! would make a captured request replayable later).
//!
//! Billing verifies this itself rather than through async-stripe-webhook: that
//! crate verifies only as part of parsing the body into its own event types, which
//! are generated for the one API version it pins (an endpoint on another version
//! sends events it refuses or misreads), and every event would be parsed twice. The
//! events are read by [`interpret`] below, in both API shapes Stripe renders.

use super::catalog::Catalog;
use super::subscription::Change;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use skiff_core::ids::{OrgId, SubscriptionId};

/// Stripe's default tolerance.
pub const TOLERANCE_SECS: i64 = 300;

/// Most `v1` values and header bytes considered (bounds the work of a bad request).
const MAX_SIGNATURES: usize = 8;
const MAX_HEADER_BYTES: usize = 4096;

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused (each answers 400; nothing is recorded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the Stripe-Signature header has no v1 signature")]
    NoSignature,
    #[error("the signature timestamp is outside the {TOLERANCE_SECS} s tolerance")]
    OutsideTolerance,
    #[error("no signature matches")]
    NoMatch,
}

/// Verify `header` over `body` against any of `secrets` at `now`; returns `t`.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    now: i64,
    tolerance: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > MAX_HEADER_BYTES {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut signatures = vec![];
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match k {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::Malformed);
                }
                timestamp = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            "v1" if signatures.len() < MAX_SIGNATURES => {
                // A value that is not hex cannot match; skip it rather than fail.
                if let Ok(bytes) = hex::decode(v) {
                    signatures.push(bytes);
                }
            }
            _ => {} // v0 (test-mode legacy) and future schemes
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    if (now - t).abs() > tolerance {
        return Err(SignatureError::OutsideTolerance);
    }
    let prefix = format!("{t}.");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
        mac.update(prefix.as_bytes());
        mac.update(body);
        for sig in &signatures {
            if mac.clone().verify_slice(sig).is_ok() {
                return Ok(t);
            }
        }
    }
    Err(SignatureError::NoMatch)
}

/// The `v1` signature of `body` at `t` (the simulator and tests sign with it).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A full `Stripe-Signature` header signed with every secret given.
pub fn signature_header(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let mut h = format!("t={t}");
    for s in secrets {
        h.push_str(",v1=");
        h.push_str(&signature(s, t, body));
    }
    h
}

/// A secret value may hold several secrets separated by commas or whitespace (the
/// old and the new one while an endpoint secret is rolled).
pub fn split_secrets(value: &str) -> Vec<&str> {
    value
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The parts of a Stripe event Skiff uses.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeEvent {
    pub id: String,
    pub kind: String,
    pub created: i64,
    pub livemode: bool,
    pub object: Value,
}

/// Parse an event envelope.
pub fn parse_event(body: &[u8]) -> Result<StripeEvent, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let id = v["id"].as_str().filter(|s| !s.is_empty() && s.len() <= 255);
    let kind = v["type"].as_str();
    let created = v["created"].as_i64();
    let object = &v["data"]["object"];
    match (id, kind, created) {
        (Some(id), Some(kind), Some(created)) if object.is_object() => Ok(StripeEvent {
            id: id.to_owned(),
            kind: kind.to_owned(),
            created,
            livemode: v["livemode"].as_bool().unwrap_or(false),
            object: object.clone(),
        }),
        _ => Err("an event needs id, type, created and data.object".into()),
    }
}

/// How an event names its org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    /// Skiff's own id (client reference or metadata we set).
    Org(OrgId),
    /// Only the Stripe customer (mapped when Skiff created it).
    Customer(String),
}

/// What an event means to billing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Change {
        org: OrgRef,
        change: Change,
    },
    /// A type billing does not handle (acknowledged and logged).
    Unhandled,
    /// A handled type that is not about a Skiff subscription (e.g. a one-off
    /// payment-mode checkout); acknowledged.
    Irrelevant(&'static str),
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    // Expanded objects carry their id.
    cur.as_str()
        .or_else(|| cur.get("id").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// The org an object names in its metadata (one Skiff wrote, so a value that is
/// not an org id is not taken for one), else its customer.
fn org_ref(obj: &Value, metadata_paths: &[&[&str]]) -> Option<OrgRef> {
    for path in metadata_paths {
        if let Some(org) = str_at(obj, path).and_then(|o| OrgId::parse(o).ok()) {
            return Some(OrgRef::Org(org));
        }
    }
    str_at(obj, &["customer"]).map(|c| OrgRef::Customer(c.to_owned()))
}

fn subscription_at(v: &Value, path: &[&str]) -> Option<SubscriptionId> {
    str_at(v, path).and_then(|s| SubscriptionId::parse(s).ok())
}

/// Translate a Stripe event into a billing change.
pub fn interpret(event: &StripeEvent, catalog: &Catalog) -> Result<Parsed, String> {
    let o = &event.object;
    let need = |what: &str| format!("{} without {what}", event.kind);
    match event.kind.as_str() {
        "checkout.session.completed" => {
            if o["mode"].as_str().is_some_and(|m| m != "subscription") {
                return Ok(Parsed::Irrelevant("not a subscription checkout"));
            }
            let Some(org) = str_at(o, &["client_reference_id"])
                .or_else(|| str_at(o, &["metadata", "org_id"]))
                .and_then(|o| OrgId::parse(o).ok())
            else {
                return Ok(Parsed::Irrelevant("checkout not started by Skiff"));
            };
            let subscription_id =
                subscription_at(o, &["subscription"]).ok_or_else(|| need("a subscription id"))?;
            let customer_id = str_at(o, &["customer"]).ok_or_else(|| need("customer"))?;
            let plan_id =
                str_at(o, &["metadata", "plan_id"]).ok_or_else(|| need("metadata.plan_id"))?;
            let trial_days = str_at(o, &["metadata", "trial_days"])
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(0);
            Ok(Parsed::Change {
                org: OrgRef::Org(org),
                change: Change::CheckoutCompleted {
                    subscription_id,
                    customer_id: customer_id.to_owned(),
                    plan_id: plan_id.to_owned(),
                    trial_days,
                },
            })
        }
        "invoice.payment_succeeded" | "invoice.paid" | "invoice.payment_failed" => {
            // Invoice → subscription: `subscription` before API 2025-03-31,
            // `parent.subscription_details.subscription` after.
            let Some(subscription_id) = subscription_at(o, &["subscription"]).or_else(|| {
                subscription_at(o, &["parent", "subscription_details", "subscription"])
            }) else {
                return Ok(Parsed::Irrelevant("invoice without a subscription"));
            };
            let org = org_ref(
                o,
                &[
                    &["subscription_details", "metadata", "org_id"],
                    &["parent", "subscription_details", "metadata", "org_id"],
                    &["metadata", "org_id"],
                ],
            )
            .ok_or_else(|| need("customer"))?;
            let change = if event.kind == "invoice.payment_failed" {
                Change::PaymentFailed { subscription_id }
            } else {
                let period_end = o["lines"]["data"].as_array().and_then(|lines| {
                    lines
                        .iter()
                        .filter_map(|l| l["period"]["end"].as_i64())
                        .max()
                });
                Change::PaymentSucceeded {
                    subscription_id,
                    amount_paid: o["amount_paid"].as_i64().unwrap_or(0),
                    period_end,
                }
            };
            Ok(Parsed::Change { org, change })
        }
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let subscription_id =
                subscription_at(o, &["id"]).ok_or_else(|| need("a subscription id"))?;
            let org = org_ref(o, &[&["metadata", "org_id"]]).ok_or_else(|| need("customer"))?;
            if event.kind == "customer.subscription.deleted" {
                return Ok(Parsed::Change {
                    org,
                    change: Change::SubscriptionDeleted { subscription_id },
                });
            }
            let item = o["items"]["data"].get(0).cloned().unwrap_or(Value::Null);
            let price = str_at(&item, &["price"]).or_else(|| str_at(&item, &["plan"]));
            let plan_id = price
                .and_then(|p| catalog.by_price_id(p))
                .map(|p| p.id.clone())
                .or_else(|| str_at(o, &["metadata", "plan_id"]).map(str::to_owned));
            Ok(Parsed::Change {
                org,
                change: Change::SubscriptionUpdated {
                    subscription_id,
                    plan_id,
                    quantity: item["quantity"].as_i64().or_else(|| o["quantity"].as_i64()),
                    // Top-level before API 2025-03-31, per item after.
                    current_period_end: o["current_period_end"]
                        .as_i64()
                        .or_else(|| item["current_period_end"].as_i64()),
                    trial_end: o["trial_end"].as_i64(),
                    cancel_at_period_end: o["cancel_at_period_end"].as_bool().unwrap_or(false),
                },
            })
        }
        _ => Ok(Parsed::Unhandled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::tests::{ORG1, org1, sub};
    use serde_json::json;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_correct_signature_verifies() {
        let body = br#"{"id":"evt_1"}"#;
        let h = signature_header(&[SECRET], 1_000, body);
        assert_eq!(
            verify(Some(&h), body, &[SECRET], 1_000, TOLERANCE_SECS),
            Ok(1_000)
        );
        // Within tolerance either way.
        assert!(verify(Some(&h), body, &[SECRET], 1_300, TOLERANCE_SECS).is_ok());
        assert!(verify(Some(&h), body, &[SECRET], 700, TOLERANCE_SECS).is_ok());
    }

    #[test]
    fn tampering_wrong_secret_and_stale_timestamps_are_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let h = signature_header(&[SECRET], 1_000, body);
        let v = |h: Option<&str>, body: &[u8], now| verify(h, body, &[SECRET], now, TOLERANCE_SECS);
        assert_eq!(
            v(Some(&h), br#"{"id":"evt_2"}"#, 1_000),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(Some(&h), body, &["whsec_other"], 1_000, TOLERANCE_SECS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            v(Some(&h), body, 1_301),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            v(Some(&h), body, 699),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(v(None, body, 1_000), Err(SignatureError::Missing));
        assert_eq!(
            v(Some("garbage"), body, 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            v(Some("t=1000"), body, 1_000),
            Err(SignatureError::NoSignature)
        );
        assert_eq!(
            v(Some("t=abc,v1=00"), body, 1_000),
            Err(SignatureError::Malformed)
        );
        // A replayed signature with a new timestamp does not match.
        let forged = h.replace("t=1000", "t=1200");
        assert_eq!(v(Some(&forged), body, 1_200), Err(SignatureError::NoMatch));
    }

    #[test]
    fn any_v1_may_match_any_configured_secret() {
        let body = b"{}";
        // Stripe rolling the endpoint secret: signed with the old and the new one.
        let h = signature_header(&["whsec_old", "whsec_new"], 5, body);
        assert!(verify(Some(&h), body, &["whsec_new"], 5, 300).is_ok());
        assert!(verify(Some(&h), body, &["whsec_old"], 5, 300).is_ok());
        // The receiver may also hold both while it rolls its configuration.
        let h = signature_header(&["whsec_new"], 5, body);
        assert!(
            verify(
                Some(&h),
                body,
                &split_secrets("whsec_old, whsec_new"),
                5,
                300
            )
            .is_ok()
        );
        // Junk v1 values and v0 are skipped, not fatal.
        let h = format!("t=5,v0=abc,v1=zz,v1={}", signature("whsec_new", 5, body));
        assert!(verify(Some(&h), body, &["whsec_new"], 5, 300).is_ok());
    }

    fn event(kind: &str, object: Value) -> StripeEvent {
        parse_event(
            json!({"id":"evt_1","type":kind,"created":10,"livemode":false,"data":{"object":object}})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn events_are_interpreted_in_both_api_shapes() {
        let c = Catalog::built_in();
        let e = event(
            "checkout.session.completed",
            json!({"mode":"subscription","client_reference_id":ORG1,"customer":"cus_1",
                   "subscription":"sub_1","metadata":{"org_id":ORG1,"plan_id":"pro","trial_days":"14"}}),
        );
        assert_eq!(
            interpret(&e, &c).unwrap(),
            Parsed::Change {
                org: OrgRef::Org(org1()),
                change: Change::CheckoutCompleted {
                    subscription_id: sub("sub_1"),
                    customer_id: "cus_1".into(),
                    plan_id: "pro".into(),
                    trial_days: 14
                }
            }
        );
        let old = event(
            "invoice.payment_failed",
            json!({"customer":"cus_1","subscription":"sub_1"}),
        );
        let new = event(
            "invoice.payment_failed",
            json!({"customer":"cus_1","parent":{"subscription_details":{"subscription":"sub_1","metadata":{"org_id":ORG1}}}}),
        );
        assert_eq!(
            interpret(&old, &c).unwrap(),
            Parsed::Change {
                org: OrgRef::Customer("cus_1".into()),
                change: Change::PaymentFailed {
                    subscription_id: sub("sub_1")
                }
            }
        );
        assert_eq!(
            interpret(&new, &c).unwrap(),
            Parsed::Change {
                org: OrgRef::Org(org1()),
                change: Change::PaymentFailed {
                    subscription_id: sub("sub_1")
                }
            }
        );
        let paid = event(
            "invoice.payment_succeeded",
            json!({"customer":"cus_1","subscription":"sub_1","amount_paid":9900,
                   "lines":{"data":[{"period":{"start":1,"end":2_000}}]}}),
        );
        assert!(matches!(
            interpret(&paid, &c).unwrap(),
            Parsed::Change {
                change: Change::PaymentSucceeded {
                    amount_paid: 9900,
                    period_end: Some(2_000),
                    ..
                },
                ..
            }
        ));
        let updated = event(
            "customer.subscription.updated",
            json!({"id":"sub_1","customer":"cus_1","metadata":{"org_id":ORG1,"plan_id":"pro"},
                   "items":{"data":[{"price":{"id":"price_unknown"},"quantity":2,"current_period_end":3_000}]},
                   "cancel_at_period_end":true}),
        );
        assert!(matches!(
            interpret(&updated, &c).unwrap(),
            Parsed::Change {
                change: Change::SubscriptionUpdated {
                    quantity: Some(2),
                    current_period_end: Some(3_000),
                    cancel_at_period_end: true,
                    ..
                },
                ..
            }
        ));
        assert_eq!(
            interpret(&event("charge.refunded", json!({})), &c).unwrap(),
            Parsed::Unhandled
        );
        assert!(matches!(
            interpret(
                &event("checkout.session.completed", json!({"mode":"payment"})),
                &c
            )
            .unwrap(),
            Parsed::Irrelevant(_)
        ));
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        assert!(parse_event(b"nope").is_err());
        assert!(parse_event(br#"{"id":"evt_1","type":"x","created":1}"#).is_err());
        assert!(parse_event(br#"{"id":"","type":"x","created":1,"data":{"object":{}}}"#).is_err());
    }
}
