//! The service profile: an org's tier and mode with capability flags, derived from
//! its subscription and stored beside it in the same transaction, so the write-lock
//! middleware reads one item (see ARCHITECTURE.md, Write-locking). Only billing
//! changes it.

use super::catalog::{Catalog, Entitlements, FREE_PLAN};
use super::keys;
use super::subscription::{CancelReason, Status, Subscription};
use serde::{Deserialize, Serialize};
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{ItemStore, NewItem, StoreError};
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
}

impl Reason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::PaymentFailed => "payment_failed",
            Reason::TrialExpired => "trial_expired",
            Reason::Canceled => "canceled",
        }
    }
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
        }
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
        if self.reason == Some(Reason::TrialExpired) {
            "trial_expired"
        } else {
            "service_locked"
        }
    }

    /// What a person reads in a 423.
    pub fn lock_message(&self) -> &'static str {
        match (self.mode, self.reason) {
            (Mode::Active, _) => "The service is active.",
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
        let profile = load(services.store.as_ref(), org_id).await?;
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
