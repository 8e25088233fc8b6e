//! The service profile: an org's tier and mode with capability flags, derived from
//! its subscription and stored beside it in the same transaction, so the write-lock
//! middleware reads one item (see ARCHITECTURE.md, Write-locking). Billing changes
//! the derived part; an operator's hold ([`OperatorHold`]) sits on the same item,
//! beside it, and billing's writes never touch it, so no payment event lifts a hold.

use super::catalog::{Catalog, Entitlements, FREE_PLAN};
use super::keys;
use super::subscription::{CancelReason, Status, Subscription};
use serde::{Deserialize, Serialize};
use skiff_core::ids::{OrgId, UserId};
use skiff_core::ports::store::{Change, Condition, ItemStore, NewItem, StoreError, Write};
use skiff_core::services::{Services, WriteGate, WriteRefusal};

/// What an org may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Active,
    /// Paid service lapsed: reads and exports only.
    ReadOnly,
    /// Never paid and the trial ended (or was canceled): reads and archive export only.
    Archived,
}

impl Mode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::Active => "active",
            Mode::ReadOnly => "read_only",
            Mode::Archived => "archived",
        }
    }
}

/// Why an org is not `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    PaymentFailed,
    TrialExpired,
    Canceled,
    /// A platform operator put the org on hold.
    OperatorHold,
}

impl Reason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::PaymentFailed => "payment_failed",
            Reason::TrialExpired => "trial_expired",
            Reason::Canceled => "canceled",
            Reason::OperatorHold => "operator_hold",
        }
    }
}

/// An operator's hold: the org is read-only, whatever its subscription, until an
/// operator releases it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorHold {
    /// Unix seconds.
    pub since: i64,
    /// The operator who placed it.
    pub by: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Capability flags of a mode (and plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub writes_enabled: bool,
    pub admin_mutations_enabled: bool,
    /// Download everything as an archive (always possible: the data is the customer's).
    pub archive_export_enabled: bool,
    /// Self-service exports (a plan feature), only while the service is not archived.
    pub self_service_export_enabled: bool,
}

/// The stored profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceProfile {
    pub org_id: OrgId,
    /// Tier = the plan id of the catalog (`free`, `starter`, ...).
    pub tier: String,
    pub mode: Mode,
    pub reason: Option<Reason>,
    pub trialing: bool,
    pub updated_at: i64,
    /// Set and cleared only by operators ([`set_hold`]); billing never writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<OperatorHold>,
}

impl ServiceProfile {
    /// An org without a subscription: free and active.
    pub fn default_for(org_id: &OrgId) -> Self {
        Self {
            org_id: org_id.to_owned(),
            tier: FREE_PLAN.to_owned(),
            mode: Mode::Active,
            reason: None,
            trialing: false,
            updated_at: 0,
            hold: None,
        }
    }

    /// The profile as it applies: a held org is read-only (an archived one stays
    /// archived) for the reason `operator_hold`, over what billing derived.
    pub fn effective(&self) -> Self {
        let mut p = self.clone();
        if p.hold.is_some() {
            if p.mode != Mode::Archived {
                p.mode = Mode::ReadOnly;
            }
            p.reason = Some(Reason::OperatorHold);
        }
        p
    }

    /// Derive the profile from the subscription (the only input).
    pub fn derive(org_id: &OrgId, sub: Option<&Subscription>, now: i64) -> Self {
        let mut p = Self::default_for(org_id);
        p.updated_at = now;
        let Some(s) = sub else { return p };
        match s.status {
            Status::Trialing | Status::Active | Status::PastDue => {
                p.tier = s.plan_id.clone();
                p.trialing = s.status == Status::Trialing;
                if s.suspended {
                    p.mode = Mode::ReadOnly;
                    p.reason = Some(Reason::PaymentFailed);
                }
            }
            Status::Canceled => {
                if s.ever_paid {
                    p.mode = Mode::ReadOnly;
                    p.reason = Some(Reason::Canceled);
                } else {
                    p.mode = Mode::Archived;
                    p.reason = Some(Reason::TrialExpired);
                }
                // An explicit note for operators: a trial the scheduler expired.
                if s.cancel_reason == Some(CancelReason::TrialExpired) {
                    p.reason = Some(Reason::TrialExpired);
                }
            }
        }
        p
    }

    pub fn capabilities(&self, catalog: &Catalog) -> Capabilities {
        let self_service = catalog
            .get(&self.tier)
            .is_some_and(|p| p.has_feature("self_service_export"));
        match self.mode {
            Mode::Active => Capabilities {
                writes_enabled: true,
                admin_mutations_enabled: true,
                archive_export_enabled: true,
                self_service_export_enabled: self_service,
            },
            Mode::ReadOnly => Capabilities {
                writes_enabled: false,
                admin_mutations_enabled: false,
                archive_export_enabled: true,
                self_service_export_enabled: self_service,
            },
            Mode::Archived => Capabilities {
                writes_enabled: false,
                admin_mutations_enabled: false,
                archive_export_enabled: true,
                self_service_export_enabled: false,
            },
        }
    }

    /// The plan limits of the tier (the free plan's for an unknown tier).
    pub fn entitlements(&self, catalog: &Catalog) -> Entitlements {
        catalog
            .get(&self.tier)
            .unwrap_or_else(|| catalog.free())
            .entitlements
    }

    /// The code a locked org's 423 carries.
    pub fn lock_code(&self) -> &'static str {
        match self.reason {
            Some(Reason::TrialExpired) => "trial_expired",
            Some(Reason::OperatorHold) => "operator_hold",
            _ => "service_locked",
        }
    }

    /// What a person reads in a 423.
    pub fn lock_message(&self) -> &'static str {
        match (self.mode, self.reason) {
            (Mode::Active, _) => "The service is active.",
            (_, Some(Reason::OperatorHold)) => {
                "The service's operators have put this organization on hold: it is read-only until they release it."
            }
            (_, Some(Reason::TrialExpired)) => {
                "Your trial has ended. Your data is archived and can be exported; choose a plan to continue."
            }
            (_, Some(Reason::PaymentFailed)) => {
                "Payment failed and the grace period is over: the service is read-only until the balance is paid."
            }
            _ => {
                "Your subscription has ended: the service is read-only. Choose a plan to continue."
            }
        }
    }

    pub fn to_item(&self) -> Result<NewItem, StoreError> {
        NewItem::from_record(keys::profile(&self.org_id), self)
    }

    /// Billing's write of a derived profile: every field but the operator's hold,
    /// which stays as it is.
    pub fn derived_write(&self) -> Result<Write, StoreError> {
        let mut changes = vec![
            Change::set("org_id", self.org_id.as_str()),
            Change::set("tier", self.tier.clone()),
            Change::set("mode", self.mode.as_str()),
            Change::set("trialing", self.trialing),
            Change::set("updated_at", self.updated_at),
        ];
        changes.push(match self.reason {
            Some(r) => Change::set("reason", r.as_str()),
            None => Change::set("reason", serde_json::Value::Null),
        });
        Ok(Write::Update {
            key: keys::profile(&self.org_id),
            changes,
            condition: None,
        })
    }
}

/// Put an operator's hold on the org (`Some`) or release it (`None`); returns the
/// stored profile after the change and whether it changed anything. An org without
/// a stored profile gets the free/active default with the hold.
pub async fn set_hold(
    store: &dyn ItemStore,
    org_id: &OrgId,
    hold: Option<OperatorHold>,
    now: i64,
) -> Result<(ServiceProfile, bool), StoreError> {
    for _ in 0..5 {
        let current = store.get(&keys::profile(org_id)).await?;
        let profile: ServiceProfile = match &current {
            Some(item) => item.parse()?,
            None => ServiceProfile::default_for(org_id),
        };
        if profile.hold.is_some() == hold.is_some() {
            return Ok((profile, false));
        }
        let mut next = profile.clone();
        next.hold = hold.clone();
        let write = match &current {
            None => {
                next.updated_at = now;
                store.put(next.to_item()?, Some(Condition::Absent)).await
            }
            Some(item) => {
                let change = match &hold {
                    Some(h) => Change::set(
                        "hold",
                        serde_json::to_value(h).map_err(|e| StoreError::Invalid(e.to_string()))?,
                    ),
                    None => Change::Remove("hold".into()),
                };
                store
                    .update(
                        &keys::profile(org_id),
                        vec![change],
                        Some(Condition::VersionIs(item.version)),
                    )
                    .await
            }
        };
        match write {
            Ok(item) => return Ok((item.parse()?, true)),
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "the service profile kept changing; retry".into(),
    ))
}

/// The org's stored profile, or the free/active default.
pub async fn load(store: &dyn ItemStore, org_id: &OrgId) -> Result<ServiceProfile, StoreError> {
    match store.get(&keys::profile(org_id)).await? {
        Some(item) => item.parse(),
        None => Ok(ServiceProfile::default_for(org_id)),
    }
}

/// The service profile as the write gate: an org whose mode is not `active` may
/// not write; the refusal carries what a client shows (see ARCHITECTURE.md,
/// Write-locking).
pub struct ServiceProfileGate;

#[async_trait::async_trait]
impl WriteGate for ServiceProfileGate {
    async fn check(&self, services: &Services, org_id: &OrgId) -> Result<(), WriteRefusal> {
        let profile = load(services.store.as_ref(), org_id).await?.effective();
        if profile.mode == Mode::Active {
            return Ok(());
        }
        let settings = crate::settings(services);
        let mut extra = serde_json::Map::new();
        extra.insert("mode".into(), profile.mode.as_str().into());
        extra.insert("tier".into(), profile.tier.clone().into());
        extra.insert("reason".into(), profile.reason.map(|r| r.as_str()).into());
        extra.insert("message".into(), profile.lock_message().into());
        extra.insert("upgrade_url".into(), settings.upgrade_url.clone().into());
        extra.insert(
            "capabilities".into(),
            serde_json::json!(profile.capabilities(&settings.catalog)),
        );
        Err(WriteRefusal::Locked {
            code: profile.lock_code().to_owned(),
            detail: profile.lock_message().to_owned(),
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::tests::{active, org1};

    #[test]
    fn derivation_follows_the_subscription() {
        let c = Catalog::built_in();
        assert_eq!(ServiceProfile::derive(&org1(), None, 1).mode, Mode::Active);
        assert_eq!(ServiceProfile::derive(&org1(), None, 1).tier, "free");

        let mut s = active();
        let p = ServiceProfile::derive(&org1(), Some(&s), 1);
        assert_eq!((p.tier.as_str(), p.mode), ("pro", Mode::Active));
        assert!(p.capabilities(&c).writes_enabled);

        s.status = Status::PastDue;
        s.failed_count = 2;
        assert_eq!(
            ServiceProfile::derive(&org1(), Some(&s), 1).mode,
            Mode::Active
        );
        s.suspended = true;
        let p = ServiceProfile::derive(&org1(), Some(&s), 1);
        assert_eq!(
            (p.mode, p.reason),
            (Mode::ReadOnly, Some(Reason::PaymentFailed))
        );
        assert_eq!(p.lock_code(), "service_locked");
        let caps = p.capabilities(&c);
        assert!(!caps.writes_enabled && !caps.admin_mutations_enabled);
        assert!(caps.archive_export_enabled && caps.self_service_export_enabled);

        s.status = Status::Canceled;
        let p = ServiceProfile::derive(&org1(), Some(&s), 1);
        assert_eq!((p.tier.as_str(), p.mode), ("free", Mode::ReadOnly));
        s.ever_paid = false;
        let p = ServiceProfile::derive(&org1(), Some(&s), 1);
        assert_eq!(
            (p.mode, p.reason),
            (Mode::Archived, Some(Reason::TrialExpired))
        );
        assert_eq!(p.lock_code(), "trial_expired");
        assert!(!p.capabilities(&c).self_service_export_enabled);
        assert_eq!(p.entitlements(&c).max_seats.0, 1);
    }
}
