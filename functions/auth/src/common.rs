//! Small helpers shared by the handlers.

use serde::Serialize;
use skiff_core::email::EmailAddress;
use skiff_http::error::ApiError;
use skiff_http::error::FieldError;
use skiff_identity::one_time::ConsumeError;
use utoipa::ToSchema;

/// Collects every failed rule of a request, then answers 422 with all of them.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn email(&mut self, field: &str, raw: &str) -> Option<EmailAddress> {
        match EmailAddress::parse(raw) {
            Ok(e) => Some(e),
            Err(e) => {
                self.0.push(FieldError::new(field, "INVALID_EMAIL", e.0));
                None
            }
        }
    }

    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    pub fn check_all<T>(&mut self, r: Result<T, Vec<FieldError>>) -> Option<T> {
        r.map_err(|e| self.0.extend(e)).ok()
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// 422 listing every failure, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// Map a refused one-time token to its answer.
pub fn token_refusal(e: ConsumeError) -> ApiError {
    match e {
        ConsumeError::Invalid => ApiError::bad_request("TOKEN_INVALID", "the token is invalid"),
        ConsumeError::Expired => ApiError::gone("TOKEN_EXPIRED", "the token has expired"),
        ConsumeError::Used => ApiError::gone("TOKEN_USED", "the token has already been used"),
        ConsumeError::Revoked => ApiError::gone(
            "INVITATION_REVOKED",
            "this invitation has been revoked; ask the organization for a new one",
        ),
        ConsumeError::Store(e) => e.into(),
    }
}

pub use skiff_core::clock::rfc3339;

/// A 202 answer that says nothing about whether anything happened.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub status: &'static str,
    pub message: &'static str,
}
