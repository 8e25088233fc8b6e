//! The identity domain: users, organizations and their members, roles, API keys,
//! sessions, invitations, and the access tokens (with their signing keys) that
//! carry an identity to every function. Repositories over the item store.
//!
//! Item layout (one table; tenant items sit in the org's partition):
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `USER#<usr>` | `PROFILE` | a user ([`users`]); gsi1 `USERS` / `<created_at>#<usr>` (the operators' directory) |
//! | `EMAIL#<lowercased>` | `EMAIL` | e-mail uniqueness → user id |
//! | `ORG#<org>` | `META` | an organization, with its owner count ([`orgs`]); gsi1 `ORGS` / `<created_at>#<org>` |
//! | `ORG#<org>` | `MEMBER#<usr>` | a membership; gsi1 `USER#<usr>` / `ORG#<org>` |
//! | `ORG#<org>` | `APIKEY#<key>` | an API key's listing ([`api_keys`]) |
//! | `APIKEY#<lookup>` | `APIKEY` | an API key's hashed secret |
//! | `SESSION#<ses>` | `SESSION` | a refresh-token family; gsi1 `USER#<usr>` / `SESSION#<ses>` |
//! | `REFRESH#<sha256>` | `REFRESH` | one refresh token ([`sessions`]) |
//! | `ORG#<org>` | `INVITE#<inv>` | an invitation, naming its token by hash ([`invitations`]) |
//! | `TOKEN#<sha256>` | `TOKEN` | a one-time e-mailed token ([`one_time`]) |

pub mod access_token;
pub mod api_keys;
pub mod audit;
pub mod erasure;
pub mod invitations;
pub mod mail;
pub mod names;
pub mod one_time;
pub mod orgs;
pub mod password;
pub mod registration;
pub mod roles;
pub mod secrets;
pub mod sessions;
pub mod signing_keys;
pub mod suspension;
pub mod users;

pub use ids::{ApiKeyId, InvitationId, OrgId, SessionId, UserId};
pub use password::Password;
pub use roles::{Role, Scope, Scopes};
pub use skiff_core::email::{self, EmailAddress};
pub use skiff_core::ids;

/// The secrets identity reads (the wiring crate lists every domain's).
pub const SECRETS: &[skiff_core::ports::secrets::SecretName] = &[signing_keys::TOKEN_SIGNING_KEYS];
