//! Roles within an organization and scopes of API keys.
//!
//! A role is what a person may do in their org: `owner` ⊃ `admin` ⊃ `member`.
//! A scope is one permission a machine credential carries (`resource:action`);
//! a user's own tokens carry every scope ([`Scopes::all`]) and are limited by role
//! only, an API key by its scopes and by the role it was created with (at most
//! `admin`: keys never act as owners).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A member's role, ordered by power.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    /// Whether a member of this role may give someone `to` in place of `from`
    /// (`None`: a new member): admins manage members and admins, and only owners
    /// grant or take away the owner role.
    pub fn may_assign(self, from: Option<Role>, to: Role) -> bool {
        self >= Role::Admin
            && (self == Role::Owner || (to != Role::Owner && from != Some(Role::Owner)))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }

    /// Whether this role includes `required`'s powers.
    pub fn at_least(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every scope an API key may be granted. Later endpoint groups add theirs here.
pub const KNOWN_SCOPES: &[&str] = &[
    "org:read",
    "org:write",
    "members:read",
    "members:write",
    "billing:read",
    "billing:write",
    "licenses:read",
    "licenses:write",
    "storage:read",
    "storage:write",
    "memory:read",
    "memory:write",
    "memory:admin",
    "scripts:read",
    "scripts:write",
];

/// Wildcard carried by users' own access tokens.
pub const ALL_SCOPES: &str = "*";

/// One known scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(&'static str);

impl Scope {
    pub fn parse(raw: &str) -> Option<Self> {
        KNOWN_SCOPES.iter().find(|s| **s == raw).map(|s| Scope(s))
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// A set of scopes, or every scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    All,
    Some(BTreeSet<Scope>),
}

impl Scopes {
    pub fn all() -> Self {
        Scopes::All
    }

    /// Parse a list of scope names; unknown names are returned as errors.
    pub fn parse_list<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Self, Vec<String>> {
        let mut set = BTreeSet::new();
        let mut unknown = vec![];
        for s in raw {
            match Scope::parse(s) {
                Some(scope) => {
                    set.insert(scope);
                }
                None => unknown.push(s.to_owned()),
            }
        }
        if unknown.is_empty() {
            Ok(Scopes::Some(set))
        } else {
            Err(unknown)
        }
    }

    /// From the space-separated `scope` claim (`*` = all); unknown names are dropped
    /// (never widened).
    pub fn from_claim(claim: &str) -> Self {
        if claim.split(' ').any(|s| s == ALL_SCOPES) {
            return Scopes::All;
        }
        Scopes::Some(claim.split(' ').filter_map(Scope::parse).collect())
    }

    /// The space-separated claim form.
    pub fn to_claim(&self) -> String {
        match self {
            Scopes::All => ALL_SCOPES.to_owned(),
            Scopes::Some(set) => set.iter().map(Scope::as_str).collect::<Vec<_>>().join(" "),
        }
    }

    pub fn allows(&self, scope: &str) -> bool {
        match self {
            Scopes::All => true,
            Scopes::Some(set) => set.iter().any(|s| s.as_str() == scope),
        }
    }

    /// Names, for responses.
    pub fn names(&self) -> Vec<String> {
        match self {
            Scopes::All => vec![ALL_SCOPES.to_owned()],
            Scopes::Some(set) => set.iter().map(|s| s.as_str().to_owned()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_owners_touch_the_owner_role_and_members_assign_nothing() {
        use Role::*;
        assert!(Owner.may_assign(None, Owner));
        assert!(Owner.may_assign(Some(Owner), Member));
        assert!(Admin.may_assign(None, Admin));
        assert!(Admin.may_assign(Some(Member), Admin));
        assert!(!Admin.may_assign(None, Owner));
        assert!(!Admin.may_assign(Some(Owner), Admin));
        assert!(!Member.may_assign(None, Member));
    }
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Admin));
        assert!(!Role::Member.at_least(Role::Admin));
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(serde_json::to_string(&Role::Owner).unwrap(), "\"owner\"");
    }

    #[test]
    fn scopes_parse_strictly_and_round_trip_through_the_claim() {
        let s = Scopes::parse_list(["org:read", "members:read"]).unwrap();
        assert!(s.allows("org:read"));
        assert!(!s.allows("org:write"));
        assert_eq!(Scopes::from_claim(&s.to_claim()), s);
        assert_eq!(
            Scopes::parse_list(["org:read", "root:all", "*"]).unwrap_err(),
            ["root:all", "*"]
        );
        assert!(Scopes::from_claim("*").allows("anything"));
        assert_eq!(
            Scopes::from_claim("org:read bogus"),
            Scopes::parse_list(["org:read"]).unwrap()
        );
    }
}
