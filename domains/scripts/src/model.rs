//! The records of scripts and the names they are known by, parsed once at the edge.

use crate::sandbox::Overrides;
use serde::{Deserialize, Serialize};
use skiff_core::ids::{AppId, OrgId, ScriptId, UserId};
use std::fmt;

/// An invalid name, with why (for a 422 naming the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidName(pub String);

/// An app's slug: `[a-z0-9-]{3,40}`, unique across the deployment; the first
/// segment of the app's URLs (`/run/<slug>/…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let ok = (3..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidName(
                "a slug is 3 to 40 characters of a-z, 0-9 and `-`".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidName;
    fn try_from(s: String) -> Result<Self, InvalidName> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A script's (or module's) name: `[A-Za-z0-9_-]{1,64}`, unique within its app;
/// modules are imported by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScriptName(String);

impl ScriptName {
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidName(
                "a script name is 1 to 64 characters of A-Z, a-z, 0-9, `_` and `-`".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ScriptName {
    type Error = InvalidName;
    fn try_from(s: String) -> Result<Self, InvalidName> {
        ScriptName::parse(&s)
    }
}

impl From<ScriptName> for String {
    fn from(s: ScriptName) -> String {
        s.0
    }
}

impl fmt::Display for ScriptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An app's display name: 1 to 100 characters, trimmed, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, InvalidName> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(InvalidName(
            "a name is 1 to 100 characters without control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScriptKind {
    /// Runs: executed directly, by routes and by triggers.
    Endpoint,
    /// Imported by other scripts of the app: constants, functions and imports only.
    Module,
}

/// An app: the isolation unit of scripts inside an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub id: AppId,
    pub org_id: OrgId,
    pub name: String,
    pub slug: Slug,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A script: its source and the limits it asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub id: ScriptId,
    pub org_id: OrgId,
    pub app_id: AppId,
    pub name: ScriptName,
    pub kind: ScriptKind,
    pub source: String,
    #[serde(default)]
    pub overrides: Overrides,
    /// Bumped on every change; compiled scripts are cached by (id, version).
    pub version: u64,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserId>,
}

/// Longest script source accepted.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_names_keep_to_their_alphabets() {
        assert!(Slug::parse("my-app-1").is_ok());
        for bad in ["ab", "My-App", "a_b_c", &"a".repeat(41), "app/x", ""] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(ScriptName::parse("greet_v2-x").is_ok());
        for bad in ["", "a b", "a.b", &"a".repeat(65), "é"] {
            assert!(ScriptName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_display_name("  Shop  ").unwrap(), "Shop");
        assert!(parse_display_name(" \n").is_err());
    }
}
