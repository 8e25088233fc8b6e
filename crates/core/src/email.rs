//! E-mail addresses, normalized once at the edge: trimmed, domain lowercased, the
//! local part kept as typed so mail and screens show the address the person gave.
//! The account's identity is the whole address lowercased ([`EmailAddress::identity`]):
//! the RFC lets a local part be case-sensitive, but no mail provider people use
//! treats it so, and two accounts for `Ada@` and `ada@` are one person locked out
//! of the other.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// A syntactically valid, normalized e-mail address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEmail(pub &'static str);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidEmail("an e-mail address is required"));
        }
        if trimmed.len() > MAX_EMAIL_LEN {
            return Err(InvalidEmail("the e-mail address is too long"));
        }
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or(InvalidEmail("the e-mail address needs an @"))?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(InvalidEmail("the part before the @ is invalid"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','))
        {
            return Err(InvalidEmail(
                "the e-mail address contains invalid characters",
            ));
        }
        let domain = domain.to_ascii_lowercase();
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(InvalidEmail("the domain of the e-mail address is invalid"));
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    /// The display form (as typed, domain lowercased).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness and lookups compare: the whole address lowercased.
    pub fn identity(&self) -> String {
        self.0.to_lowercase()
    }

    /// Whether two addresses name the same account.
    pub fn same_account(&self, other: &EmailAddress) -> bool {
        self.identity() == other.identity()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_trims_and_lowercases_the_domain_only() {
        let e = EmailAddress::parse("  Alice.Smith@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "Alice.Smith@example.com");
        assert_eq!(
            EmailAddress::parse("alice@EXAMPLE.com").unwrap(),
            EmailAddress::parse("alice@example.com").unwrap()
        );
    }

    #[test]
    fn the_identity_ignores_case_and_the_display_form_keeps_it() {
        let typed = EmailAddress::parse("Ada.Lovelace@Example.com").unwrap();
        assert_eq!(typed.as_str(), "Ada.Lovelace@example.com");
        assert_eq!(typed.identity(), "ada.lovelace@example.com");
        let lower = EmailAddress::parse("ada.lovelace@example.com").unwrap();
        assert!(typed.same_account(&lower));
        assert_eq!(
            EmailAddress::parse("ÉLODIE@example.com")
                .unwrap()
                .identity(),
            "élodie@example.com"
        );
        assert!(!typed.same_account(&EmailAddress::parse("ada@example.com").unwrap()));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "   ",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "al ice@example.com",
            "alice@exa mple.com",
            "alice@-example.com",
            "alice@example..com",
            "<alice@example.com>",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }
}
