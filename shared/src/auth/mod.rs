//! Authentication shared by every function: access tokens, their signing keys, and
//! the extractor that turns a bearer credential into a [`Principal`].

pub mod access_token;
pub mod principal;
pub mod signing_keys;

pub use principal::{CurrentMember, PlatformAdmin, Principal};
