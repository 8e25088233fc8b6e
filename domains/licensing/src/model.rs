//! The licensing records and where they live in the item store.
//!
//! Layout (every tenant partition starts with the org id):
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `{org}#LIC` | `{license_id}` | the license, with the seat counter `seats_used`; gsi1 `LICENSES` / `{license_id}` (the operators' directory) |
//! | `{org}#LIC#{license_id}#SEAT` | `{sha256(hardware id)}` | one live seat session per machine (no store TTL: its lease is an attribute) |
//! | `{org}#LIC#{license_id}#HIST` | `{session_id}` | an ended session (kept [`HISTORY_RETENTION_SECS`]) |
//! | `{org}#LIC#{license_id}#MACHINE` | `{sha256(hardware id)}` | a bound (activated) machine |
//! | `{org}#LICSUB` | `{subscription_id}` | which license a subscription issued (exactly-once issuance) |
//! | `{org}#LICAUDIT` | `{uuid v7}` | audit entries, oldest first |
//! | `LICKEY#{sha256(key)}` | `LICKEY` | key hash → org and license (validation without a principal) |
//!
//! Seat items also sit in `gsi1` under `SEATEXP#{shard}` sorted by lease end, so the
//! scheduler finds expired sessions without scanning.

use crate::keys::HardwareId;
use serde::{Deserialize, Serialize};
use skiff_core::ids::{LicenseId, OrgId, SeatSessionId, SubscriptionId, UserId};
use skiff_core::ports::store::{IndexKey, Key};

/// Seconds a seat lease lasts after the last acquire or heartbeat.
pub const LEASE_SECS: i64 = 360;
/// Seconds between heartbeats a client should keep (a minute of slack in the lease).
pub const HEARTBEAT_INTERVAL_SECS: i64 = 300;
/// How long ended sessions stay listed.
pub const HISTORY_RETENTION_SECS: i64 = 90 * 24 * 3600;
/// How long audit entries are kept.
pub const AUDIT_RETENTION_SECS: i64 = 400 * 24 * 3600;
/// Partitions of the expiry index (spreads heartbeat writes over the index).
pub const SWEEP_SHARDS: u32 = 16;

/// A license's stored status. `expired` by time is also derived on read from
/// `expires_at` (see [`License::validity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
    Inactive,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Inactive => "inactive",
            Status::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Status::Active),
            "suspended" => Some(Status::Suspended),
            "inactive" => Some(Status::Inactive),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }
}

/// What validation says about a license (the `code` of `POST /licenses/validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Validity {
    Valid,
    /// Valid, but a payment is overdue until `grace_period_ends_at`.
    GracePeriod,
    NotFound,
    Suspended,
    Expired,
    Inactive,
    HardwareMismatch,
}

impl Validity {
    pub fn code(self) -> &'static str {
        match self {
            Validity::Valid => "VALID",
            Validity::GracePeriod => "GRACE_PERIOD",
            Validity::NotFound => "NOT_FOUND",
            Validity::Suspended => "SUSPENDED",
            Validity::Expired => "EXPIRED",
            Validity::Inactive => "INACTIVE",
            Validity::HardwareMismatch => "HARDWARE_MISMATCH",
        }
    }

    /// Whether software may run under this answer.
    pub fn is_valid(self) -> bool {
        matches!(self, Validity::Valid | Validity::GracePeriod)
    }

    pub fn detail(self) -> &'static str {
        match self {
            Validity::Valid => "The license is valid.",
            Validity::GracePeriod => {
                "The license is valid, but a payment is overdue; it will be suspended when the grace period ends."
            }
            Validity::NotFound => "No license has this key.",
            Validity::Suspended => "The license is suspended (payment failed).",
            Validity::Expired => "The license has expired.",
            Validity::Inactive => "The license is no longer active (subscription canceled).",
            Validity::HardwareMismatch => "This machine is not activated for the license.",
        }
    }
}

/// The license item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct License {
    pub license_id: LicenseId,
    pub org_id: OrgId,
    /// The key itself: shown to the org's members and carried by the license file.
    pub key: String,
    pub key_hash: String,
    pub plan_id: String,
    pub tier: String,
    pub features: Vec<String>,
    /// Concurrent seats; -1 = unlimited.
    pub max_seats: i64,
    /// Seat items that exist (live or expired-but-not-yet-reclaimed). Changed only in
    /// the same transaction as the seat items, so it always equals their number.
    pub seats_used: i64,
    /// Bound machines (activations): changes only together with the machine items,
    /// in one transaction, so it always equals their number.
    #[serde(default)]
    pub activations: i64,
    pub status: Status,
    pub issued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_ends_at: Option<i64>,
    pub expires_at: i64,
    pub subscription_id: SubscriptionId,
    pub updated_at: i64,
    /// Set by a platform operator (unix seconds): the license is suspended whatever
    /// its status says, which billing keeps moving; only an operator lifts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_hold: Option<i64>,
}

impl License {
    pub fn reference(&self) -> LicenseRef {
        LicenseRef::new(&self.org_id, &self.license_id)
    }

    /// Validity at `now`, without the machine check.
    pub fn validity(&self, now: i64) -> Validity {
        if self.operator_hold.is_some() && self.status != Status::Inactive {
            return Validity::Suspended;
        }
        match self.status {
            Status::Suspended => Validity::Suspended,
            Status::Inactive => Validity::Inactive,
            Status::Expired => Validity::Expired,
            Status::Active => {
                if self.grace_period_ends_at.is_some_and(|g| g > now) {
                    Validity::GracePeriod
                } else if self.expires_at <= now {
                    Validity::Expired
                } else {
                    Validity::Valid
                }
            }
        }
    }

    /// The status to show: `expired` once `expires_at` passed outside a grace period,
    /// `suspended` while an operator holds it.
    pub fn effective_status(&self, now: i64) -> Status {
        match self.validity(now) {
            Validity::Expired => Status::Expired,
            Validity::Suspended => Status::Suspended,
            _ => self.status,
        }
    }

    pub fn is_unlimited(&self) -> bool {
        self.max_seats < 0
    }
}

/// Names one license.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenseRef {
    pub org_id: OrgId,
    pub license_id: LicenseId,
}

impl LicenseRef {
    pub fn new(org_id: &OrgId, license_id: &LicenseId) -> Self {
        Self {
            org_id: org_id.clone(),
            license_id: license_id.clone(),
        }
    }

    pub fn key(&self) -> Key {
        license_key(&self.org_id, &self.license_id)
    }

    pub fn seats_pk(&self) -> String {
        format!("{}#LIC#{}#SEAT", self.org_id, self.license_id)
    }

    pub fn seat_key(&self, hw_hash: &str) -> Key {
        Key::new(self.seats_pk(), hw_hash)
    }

    pub fn history_pk(&self) -> String {
        format!("{}#LIC#{}#HIST", self.org_id, self.license_id)
    }

    pub fn history_key(&self, session_id: &SeatSessionId) -> Key {
        Key::new(self.history_pk(), session_id.as_str())
    }

    pub fn machines_pk(&self) -> String {
        format!("{}#LIC#{}#MACHINE", self.org_id, self.license_id)
    }

    pub fn machine_key(&self, hw_hash: &str) -> Key {
        Key::new(self.machines_pk(), hw_hash)
    }
}

/// Index partition listing every license, newest first by id (ids are
/// time-ordered): the operators' directory and analytics read it.
pub const DIRECTORY_PK: &str = "LICENSES";

/// Partition of an org's licenses.
pub fn licenses_pk(org_id: &OrgId) -> String {
    format!("{org_id}#LIC")
}

pub fn license_key(org_id: &OrgId, license_id: &LicenseId) -> Key {
    Key::new(licenses_pk(org_id), license_id.as_str())
}

/// Key-hash index item.
pub fn key_index_key(key_hash: &str) -> Key {
    Key::new(format!("LICKEY#{key_hash}"), "LICKEY")
}

/// Issuance record of a subscription.
pub fn subscription_key(org_id: &OrgId, subscription_id: &SubscriptionId) -> Key {
    Key::new(format!("{org_id}#LICSUB"), subscription_id.as_str())
}

pub fn audit_pk(org_id: &OrgId) -> String {
    format!("{org_id}#LICAUDIT")
}

/// Expiry-index entry of a seat: shard by machine, sorted by lease end.
pub fn seat_expiry_index(hw_hash: &str, lease_until: i64, session_id: &SeatSessionId) -> IndexKey {
    let shard =
        u32::from_str_radix(&hw_hash[..2.min(hw_hash.len())], 16).unwrap_or(0) % SWEEP_SHARDS;
    IndexKey::new(
        format!("SEATEXP#{shard}"),
        format!("{lease_until:012}#{session_id}"),
    )
}

/// Who and where a request came from (sessions and audit entries record it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMeta {
    /// The acting user, when authenticated.
    pub user_id: Option<UserId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A live (or expired, not yet reclaimed) seat session: the seat item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seat {
    /// Time-ordered, so a license's history sorts by start.
    pub session_id: SeatSessionId,
    pub org_id: OrgId,
    pub license_id: LicenseId,
    pub hardware_id: HardwareId,
    pub hw_hash: String,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    pub started_at: i64,
    pub last_heartbeat_at: i64,
    /// The lease: the session counts as used until this instant, no longer.
    pub lease_until: i64,
}

impl Seat {
    pub fn is_live(&self, now: i64) -> bool {
        self.lease_until > now
    }

    pub fn license(&self) -> LicenseRef {
        LicenseRef::new(&self.org_id, &self.license_id)
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The client released it.
    Released,
    /// Its lease ran out (reclaimed by an acquire or swept).
    Expired,
    /// The license was suspended.
    Suspended,
    /// The license was deactivated.
    Deactivated,
    /// A plan downgrade lowered the seat limit below the sessions in use.
    Downgraded,
    /// The machine was unbound from the license.
    MachineDeactivated,
}

/// An ended session (the history item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub session_id: SeatSessionId,
    pub license_id: LicenseId,
    pub hardware_id: HardwareId,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    pub started_at: i64,
    pub ended_at: i64,
    pub end_reason: EndReason,
}

impl SessionRecord {
    /// The record of `seat` ending at `now` for `reason`; a session whose lease was
    /// already over ended then, as expired, whatever ends it now.
    pub fn ended(seat: &Seat, reason: EndReason, now: i64) -> Self {
        let ended_at = if seat.lease_until <= now {
            seat.lease_until
        } else {
            now
        };
        let end_reason = if seat.lease_until <= now {
            EndReason::Expired
        } else {
            reason
        };
        Self {
            session_id: seat.session_id.clone(),
            license_id: seat.license_id.clone(),
            hardware_id: seat.hardware_id.clone(),
            user_id: seat.user_id.clone(),
            ip: seat.ip.clone(),
            user_agent: seat.user_agent.clone(),
            started_at: seat.started_at,
            ended_at,
            end_reason,
        }
    }
}

/// A bound machine (the activation item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hardware_id: HardwareId,
    pub activated_at: i64,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}
