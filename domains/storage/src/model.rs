//! The values storage parses once at the edge: table names, checksums, the blob
//! of a JSON body, and the owner (org and user) every record belongs to.

use crate::StorageError;
use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use skiff_core::ids::{OrgId, UserId};
use subtle::ConstantTimeEq;

/// Whose data: a user inside an org, both from the authenticated principal (an
/// API key acts for its creator). Another user of the same org owns nothing here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub org: OrgId,
    pub user: UserId,
}

/// A record's table: `[a-z0-9_-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TableName(String);

impl TableName {
    pub fn parse(raw: &str) -> Result<Self, StorageError> {
        let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
        if (1..=64).contains(&raw.len()) && raw.bytes().all(ok) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(StorageError::invalid(
                "table",
                "INVALID_TABLE",
                "`table` must be 1 to 64 of a-z, 0-9, `_` and `-`",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TableName {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        TableName::parse(&raw).map_err(|e| e.to_string())
    }
}

impl From<TableName> for String {
    fn from(t: TableName) -> String {
        t.0
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A lowercase hex SHA-256, as the client announces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Checksum(String);

impl Checksum {
    /// 64 lowercase hex digits; `field` names the field in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, StorageError> {
        if raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(StorageError::invalid(
                field,
                "INVALID_CHECKSUM",
                format!("`{field}` must be the lowercase hex SHA-256 of the bytes (64 digits)"),
            ))
        }
    }

    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(skiff_core::ports::blobs::sha256_hex(bytes))
    }

    /// Equal to the SHA-256 of these bytes? Compared in constant time.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.same_as(&Self::of(bytes))
    }

    /// Equal to another checksum? Compared in constant time.
    pub fn same_as(&self, other: &Checksum) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }

    /// Equal to a hex SHA-256 a store reported (any letter case)?
    pub fn same_as_hex(&self, hex: &str) -> bool {
        self.0
            .as_bytes()
            .ct_eq(hex.to_ascii_lowercase().as_bytes())
            .into()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Checksum {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Checksum::parse(&raw, "checksum").map_err(|e| e.to_string())
    }
}

impl From<Checksum> for String {
    fn from(c: Checksum) -> String {
        c.0
    }
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decode the base64 `blob` of a JSON body (standard alphabet, padding optional).
pub fn decode_blob(raw: &str, field: &str) -> Result<Bytes, StorageError> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(raw.trim()).map(Bytes::from).map_err(|_| {
        StorageError::invalid(
            field,
            "INVALID_BASE64",
            format!("`{field}` must be base64 (standard alphabet) of the encrypted bytes"),
        )
    })
}

/// A blob with the checksum the client sent for it, verified: the bytes' SHA-256
/// equals the checksum (constant-time), else `ChecksumMismatch`.
pub fn verified(bytes: Bytes, checksum: &Checksum) -> Result<Bytes, StorageError> {
    if checksum.matches(&bytes) {
        Ok(bytes)
    } else {
        Err(StorageError::ChecksumMismatch)
    }
}

/// `limit_gb` of a plan in bytes (`None`: unlimited). A plan's GB are GiB.
pub fn gb_to_bytes(limit_gb: Option<i64>) -> Option<u64> {
    limit_gb.map(|gb| (gb.max(0) as u64).saturating_mul(1 << 30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_small_lowercase_words() {
        assert!(TableName::parse("notes_2024-a").is_ok());
        for bad in ["", "Notes", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checksums_are_lowercase_hex_sha256_compared_in_full() {
        let c = Checksum::of(b"hello");
        assert!(Checksum::parse(c.as_str(), "checksum").is_ok());
        assert!(Checksum::parse(&c.as_str().to_uppercase(), "checksum").is_err());
        assert!(Checksum::parse("abc", "checksum").is_err());
        assert!(c.matches(b"hello"));
        assert!(!c.matches(b"hellp"));
        assert!(c.same_as_hex(&c.as_str().to_uppercase()));
        assert!(verified(Bytes::from_static(b"x"), &c).is_err());
    }

    #[test]
    fn blobs_are_base64_with_or_without_padding() {
        assert_eq!(&decode_blob("aGk=", "blob").unwrap()[..], b"hi");
        assert_eq!(&decode_blob("aGk", "blob").unwrap()[..], b"hi");
        assert!(decode_blob("not base64!", "blob").is_err());
    }

    #[test]
    fn plan_gigabytes_are_gibibytes() {
        assert_eq!(gb_to_bytes(Some(1)), Some(1 << 30));
        assert_eq!(gb_to_bytes(None), None);
        assert_eq!(gb_to_bytes(Some(0)), Some(0));
    }
}
