//! Passwords: the policy (checked when a [`Password`] is built, every failed rule
//! reported at once) and argon2id hashing with OWASP's parameters.
//!
//! Hashing is CPU-bound (~tens of ms by design): async callers go through
//! [`hash_blocking`] / [`verify_blocking`], which run it on tokio's blocking pool.
//! Unknown accounts are answered after [`verify_dummy`], which costs the same as a
//! real verification, so response time does not reveal whether an e-mail exists.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use skiff_core::validation::FieldError;
use std::fmt;
use std::sync::LazyLock;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// OWASP's argon2id recommendation (Password Storage Cheat Sheet): 19 MiB, 2 passes,
/// 1 lane.
pub const ARGON2_M_COST_KIB: u32 = 19_456;
pub const ARGON2_T_COST: u32 = 2;
pub const ARGON2_P_COST: u32 = 1;

/// A password that satisfies the policy. `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Check every rule; `field` names the request field in the errors.
    pub fn new(raw: &str, field: &str) -> Result<Self, Vec<FieldError>> {
        let errors = policy_violations(raw, field);
        if errors.is_empty() {
            Ok(Self(raw.to_owned()))
        } else {
            Err(errors)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Every rule `raw` breaks (empty when it is acceptable).
pub fn policy_violations(raw: &str, field: &str) -> Vec<FieldError> {
    let chars = raw.chars().count();
    let mut errors = vec![];
    if chars < MIN_PASSWORD_CHARS {
        errors.push(FieldError::new(
            field,
            "PASSWORD_TOO_SHORT",
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            field,
            "PASSWORD_TOO_LONG",
            format!("the password may have at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if !raw.chars().any(char::is_uppercase) {
        errors.push(FieldError::new(
            field,
            "PASSWORD_NEEDS_UPPERCASE",
            "the password needs an uppercase letter",
        ));
    }
    if !raw.chars().any(char::is_lowercase) {
        errors.push(FieldError::new(
            field,
            "PASSWORD_NEEDS_LOWERCASE",
            "the password needs a lowercase letter",
        ));
    }
    if !raw.chars().any(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            field,
            "PASSWORD_NEEDS_DIGIT",
            "the password needs a digit",
        ));
    }
    errors
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None)
        .expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh 16-byte salt.
pub fn hash(password: &Password) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16-byte salt");
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters")
        .to_string()
}

/// Whether `candidate` matches the stored PHC string (parameters are read from it,
/// so hashes made with older parameters still verify). The comparison inside is
/// constant-time.
pub fn verify(phc: &str, candidate: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            tracing::error!("a stored password hash does not parse");
            false
        }
    }
}

/// A hash of nothing anyone knows, made once with the current parameters.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash(&Password(format!("dummy-{}", uuid::Uuid::new_v4()))));

/// Spend what a real verification costs, for an account that does not exist.
pub fn verify_dummy(candidate: &str) {
    let _ = verify(&DUMMY_HASH, candidate);
}

/// [`hash`] on the blocking pool.
pub async fn hash_blocking(password: Password) -> String {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .expect("password hashing task")
}

/// [`verify`] on the blocking pool; with `phc = None`, [`verify_dummy`] and `false`.
pub async fn verify_blocking(phc: Option<String>, candidate: String) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&phc, &candidate),
        None => {
            verify_dummy(&candidate);
            false
        }
    })
    .await
    .expect("password verification task")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(raw: &str) -> Vec<String> {
        policy_violations(raw, "password")
            .into_iter()
            .map(|e| e.code)
            .collect()
    }

    #[test]
    fn every_failed_rule_is_reported() {
        assert_eq!(
            codes("abc"),
            [
                "PASSWORD_TOO_SHORT",
                "PASSWORD_NEEDS_UPPERCASE",
                "PASSWORD_NEEDS_DIGIT"
            ]
        );
        assert_eq!(
            codes(""),
            [
                "PASSWORD_TOO_SHORT",
                "PASSWORD_NEEDS_UPPERCASE",
                "PASSWORD_NEEDS_LOWERCASE",
                "PASSWORD_NEEDS_DIGIT"
            ]
        );
        assert_eq!(
            codes(&"A1".repeat(65)),
            ["PASSWORD_TOO_LONG", "PASSWORD_NEEDS_LOWERCASE"]
        );
        assert!(codes("Correct1horse").is_empty());
        assert!(codes(&format!("Aa1{}", "x".repeat(125))).is_empty());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(codes("Ää1ääää").contains(&"PASSWORD_TOO_SHORT".to_owned()));
        assert!(codes("Ää1äääää").is_empty());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let p = Password::new("Correct1horse", "password").unwrap();
        let phc = hash(&p);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(&phc, "Correct1horse"));
        assert!(!verify(&phc, "Correct1hors"));
        assert_ne!(phc, hash(&p), "salts differ");
        assert!(!verify("not a hash", "Correct1horse"));
    }

    #[test]
    fn debug_never_prints_the_password() {
        let p = Password::new("Correct1horse", "password").unwrap();
        assert!(!format!("{p:?}").contains("Correct"));
    }
}
