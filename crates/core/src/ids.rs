//! Prefixed identifiers (`usr_…`, `org_…`, `key_…`, `ses_…`, `inv_…`, `lic_…`, `seat_…`): a UUIDv7 in simple
//! form behind a type prefix, so an id says what it names and ids of different
//! kinds can never be swapped by mistake. Parsing checks the shape, so an id that
//! reaches a repository is well-formed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id (time-ordered).
            pub fn new() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Accept only `<prefix><32 lowercase hex>`.
            pub fn parse(raw: &str) -> Result<Self, InvalidId> {
                let hex = raw.strip_prefix($prefix).ok_or(InvalidId($prefix))?;
                if hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(InvalidId($prefix))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "[0-9a-f]{32}$")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

prefixed_id!(
    /// A user (a person who signs in).
    UserId,
    "usr_"
);
prefixed_id!(
    /// An organization: the tenant.
    OrgId,
    "org_"
);
prefixed_id!(
    /// An API key (its public id; the secret is separate).
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// A session: one family of rotated refresh tokens.
    SessionId,
    "ses_"
);

prefixed_id!(
    /// An invitation to join an organization.
    InvitationId,
    "inv_"
);

prefixed_id!(
    /// A license.
    LicenseId,
    "lic_"
);

prefixed_id!(
    /// A seat session: one machine's use of a floating seat, from acquire to end.
    SeatSessionId,
    "seat_"
);

prefixed_id!(
    /// A stored record (storage): one client-encrypted blob and its metadata.
    RecordId,
    "rec_"
);

prefixed_id!(
    /// A backup (storage): one client-encrypted snapshot.
    BackupId,
    "bak_"
);

prefixed_id!(
    /// An export of an org's data.
    ExportId,
    "exp_"
);

/// A subscription at the payment provider (`sub_…`): the provider chooses the rest,
/// so only the prefix and a bounded alphanumeric tail are checked. It is the
/// idempotency key of license issuance, so a malformed one never reaches the store.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SubscriptionId(String);

impl SubscriptionId {
    pub const PREFIX: &'static str = "sub_";

    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        let tail = raw
            .strip_prefix(Self::PREFIX)
            .ok_or(InvalidId(Self::PREFIX))?;
        if (1..=250).contains(&tail.len())
            && tail.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidId(Self::PREFIX))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for SubscriptionId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        Self::parse(s)
    }
}

impl utoipa::PartialSchema for SubscriptionId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^sub_[A-Za-z0-9_]{1,250}$"))
            .into()
    }
}

impl utoipa::ToSchema for SubscriptionId {}

impl<'de> Deserialize<'de> for SubscriptionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// An id of the wrong kind or shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid `{0}…` id")]
pub struct InvalidId(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_round_trip_and_carry_their_prefix() {
        let id = UserId::new();
        assert!(id.as_str().starts_with("usr_"));
        assert_eq!(UserId::parse(id.as_str()).unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
    }

    #[test]
    fn ids_of_another_kind_or_shape_are_refused() {
        let org = OrgId::new();
        assert!(UserId::parse(org.as_str()).is_err());
        assert!(UserId::parse("usr_").is_err());
        assert!(UserId::parse("usr_0123456789abcdef0123456789ABCDEF").is_err());
        assert!(UserId::parse("usr_0123456789abcdef0123456789abcdef").is_ok());
        assert!(serde_json::from_str::<OrgId>("\"org_nope\"").is_err());
    }

    #[test]
    fn subscription_ids_take_the_providers_alphabet_behind_the_prefix() {
        assert!(SubscriptionId::parse("sub_1MowQVLkdIwHu7ixeRlqHVzs").is_ok());
        assert!(SubscriptionId::parse("sub_sim_0123abcd").is_ok());
        assert!(SubscriptionId::parse("sub_").is_err());
        assert!(SubscriptionId::parse("cus_123").is_err());
        assert!(SubscriptionId::parse("sub_a#b").is_err());
        assert!(SubscriptionId::parse(&format!("sub_{}", "a".repeat(251))).is_err());
    }
}
