//! Identity and organizations: the domain types and the repositories over the
//! item store. Item layout (one table; tenant items sit in the org's partition):
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `USER#<usr>` | `PROFILE` | a user ([`users`]) |
//! | `EMAIL#<lowercased>` | `EMAIL` | e-mail uniqueness → user id |
//! | `ORG#<org>` | `META` | an organization, with its owner count ([`orgs`]) |
//! | `ORG#<org>` | `MEMBER#<usr>` | a membership; gsi1 `USER#<usr>` / `ORG#<org>` |
//! | `ORG#<org>` | `APIKEY#<key>` | an API key's listing ([`api_keys`]) |
//! | `APIKEY#<lookup>` | `APIKEY` | an API key's hashed secret |
//! | `SESSION#<ses>` | `SESSION` | a refresh-token family; gsi1 `USER#<usr>` / `SESSION#<ses>` |
//! | `REFRESH#<sha256>` | `REFRESH` | one refresh token ([`sessions`]) |
//! | `ORG#<org>` | `INVITE#<inv>` | an invitation, naming its token by hash ([`invitations`]) |
//! | `TOKEN#<sha256>` | `TOKEN` | a one-time e-mailed token ([`one_time`]) |

pub mod api_keys;
pub mod email;
pub mod ids;
pub mod invitations;
pub mod mail;
pub mod names;
pub mod one_time;
pub mod orgs;
pub mod password;
pub mod roles;
pub mod secrets;
pub mod sessions;
pub mod users;

pub use email::EmailAddress;
pub use ids::{ApiKeyId, InvitationId, OrgId, SessionId, UserId};
pub use password::Password;
pub use roles::{Role, Scope, Scopes};
