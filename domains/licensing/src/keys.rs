//! License keys and hardware ids: parse-don't-validate newtypes.
//!
//! A key is `<PREFIX>-XXXX-XXXX-XXXX-XXXX-XXXX`: 20 Crockford base32 characters
//! (100 bits) from the operating system's CSPRNG behind a configurable prefix. The
//! store never looks a key up by its text: lookups go through the SHA-256 of the
//! normalized key, so an index item does not reveal the key.

use rand::TryRngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// Crockford's base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Groups of four characters after the prefix.
pub const KEY_GROUPS: usize = 5;
const GROUP_LEN: usize = 4;
/// Longest accepted prefix.
pub const MAX_PREFIX_LEN: usize = 16;

/// A well-formed license key, normalized (upper case, Crockford aliases resolved).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LicenseKey(String);

/// Why a text is not a license key (or a prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidKey(pub String);

/// Check a configured prefix: 1–16 characters `A-Z 0-9`.
pub fn validate_prefix(prefix: &str) -> Result<(), InvalidKey> {
    if prefix.is_empty()
        || prefix.len() > MAX_PREFIX_LEN
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(InvalidKey(format!(
            "a license key prefix is 1 to {MAX_PREFIX_LEN} characters A-Z or 0-9, not `{prefix}`"
        )));
    }
    Ok(())
}

impl LicenseKey {
    /// A fresh random key with `prefix` (already validated by configuration).
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; KEY_GROUPS * GROUP_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random source works");
        let mut out = String::with_capacity(prefix.len() + KEY_GROUPS * (GROUP_LEN + 1));
        out.push_str(prefix);
        for (i, b) in bytes.iter().enumerate() {
            if i % GROUP_LEN == 0 {
                out.push('-');
            }
            // 256 is a multiple of 32: the low five bits are uniform.
            out.push(CROCKFORD[(b & 31) as usize] as char);
        }
        Self(out)
    }

    /// Accept `<PREFIX>-XXXX-XXXX-XXXX-XXXX-XXXX` in any case, with Crockford's
    /// aliases (`I`/`L` → `1`, `O` → `0`) in the random part. Any well-formed prefix
    /// is accepted, so keys issued before a prefix change keep working.
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        let bad = || {
            InvalidKey(
                "a license key looks like PREFIX-XXXX-XXXX-XXXX-XXXX-XXXX (Crockford base32)"
                    .into(),
            )
        };
        let raw = raw.trim();
        let mut parts = raw.split('-');
        let prefix = parts.next().ok_or_else(bad)?.to_ascii_uppercase();
        validate_prefix(&prefix).map_err(|_| bad())?;
        let mut out = prefix;
        let mut groups = 0;
        for group in parts {
            groups += 1;
            if groups > KEY_GROUPS || group.len() != GROUP_LEN {
                return Err(bad());
            }
            out.push('-');
            for c in group.chars() {
                let c = match c.to_ascii_uppercase() {
                    'I' | 'L' => '1',
                    'O' => '0',
                    c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c,
                    _ => return Err(bad()),
                };
                out.push(c);
            }
        }
        if groups != KEY_GROUPS {
            return Err(bad());
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the normalized key, hex: what the store indexes.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The key with its random part masked, for logs and audit entries.
    pub fn masked(&self) -> String {
        let (head, tail) = self.0.split_at(self.0.len() - GROUP_LEN);
        let head: String = head
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i < head.find('-').unwrap_or(0) || c == '-' {
                    c
                } else {
                    '*'
                }
            })
            .collect();
        format!("{head}{tail}")
    }
}

impl fmt::Display for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LicenseKey({})", self.masked())
    }
}

/// A machine's hardware id: 10–255 printable characters, chosen by the client
/// (a fingerprint of the machine).
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct HardwareId(String);

/// Shortest and longest hardware id, in characters.
pub const HARDWARE_ID_LEN: std::ops::RangeInclusive<usize> = 10..=255;

impl HardwareId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let n = raw.chars().count();
        if !HARDWARE_ID_LEN.contains(&n) {
            return Err(format!(
                "a hardware id is {} to {} characters, not {n}",
                HARDWARE_ID_LEN.start(),
                HARDWARE_ID_LEN.end()
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err("a hardware id holds printable characters only".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the id, hex: the seat's sort key, so ids of any content make
    /// well-formed keys of one length.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl<'de> serde::Deserialize<'de> for HardwareId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for HardwareId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(*HARDWARE_ID_LEN.start()))
            .max_length(Some(*HARDWARE_ID_LEN.end()))
            .into()
    }
}

impl utoipa::ToSchema for HardwareId {}

impl fmt::Display for HardwareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape_and_parse_back() {
        let k = LicenseKey::generate("SKIFF");
        let s = k.as_str();
        assert_eq!(s.len(), 5 + 5 * 5);
        let groups: Vec<_> = s.split('-').collect();
        assert_eq!(groups[0], "SKIFF");
        assert_eq!(groups.len(), 6);
        for g in &groups[1..] {
            assert_eq!(g.len(), 4);
            assert!(g.bytes().all(|b| CROCKFORD.contains(&b)), "{g}");
        }
        assert_eq!(LicenseKey::parse(s).unwrap(), k);
        assert_ne!(LicenseKey::generate("SKIFF"), k, "keys are random");
    }

    #[test]
    fn parsing_normalizes_case_and_crockford_aliases() {
        let a = LicenseKey::parse("skiff-abcd-efgh-jkmn-pqrs-tvwx").unwrap();
        assert_eq!(a.as_str(), "SKIFF-ABCD-EFGH-JKMN-PQRS-TVWX");
        let b = LicenseKey::parse("ACME-0I0L-OOOO-1111-2222-3333").unwrap();
        assert_eq!(b.as_str(), "ACME-0101-0000-1111-2222-3333");
        assert_eq!(
            LicenseKey::parse("acme-oioL-oooo-1111-2222-3333")
                .unwrap()
                .hash(),
            b.hash()
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "SKIFF",
            "SKIFF-ABCD-EFGH-JKMN-PQRS",
            "SKIFF-ABCD-EFGH-JKMN-PQRS-TVWX-YZ00",
            "SKIFF-ABCU-EFGH-JKMN-PQRS-TVWX",
            "SKIFF-ABC-EFGH-JKMN-PQRS-TVWXY",
            "SK_FF-ABCD-EFGH-JKMN-PQRS-TVWX",
            "SKIFF-ABCD-EFGH-JKMN-PQRS-TVWÄ",
            "SKIFFSKIFFSKIFFSK-ABCD-EFGH-JKMN-PQRS-TVWX",
        ] {
            assert!(LicenseKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn masking_hides_the_random_part_but_the_last_group() {
        let k = LicenseKey::parse("SKIFF-ABCD-EFGH-JKMN-PQRS-TVWX").unwrap();
        assert_eq!(k.masked(), "SKIFF-****-****-****-****-TVWX");
        assert!(!format!("{k:?}").contains("ABCD"));
    }

    #[test]
    fn hardware_ids_are_bounded_and_printable() {
        assert!(HardwareId::parse("short").is_err());
        assert!(HardwareId::parse(&"x".repeat(256)).is_err());
        assert!(HardwareId::parse("machine\n-0001").is_err());
        assert!(HardwareId::parse("machine-0001").is_ok());
        assert!(HardwareId::parse(&"é".repeat(255)).is_ok());
        assert_eq!(HardwareId::parse("machine-0001").unwrap().hash().len(), 64);
    }
}
