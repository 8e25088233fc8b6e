//! Opaque bearer secrets (e-mail verification, password reset, invitation and
//! refresh tokens): 256 random bits, URL-safe, shown once and stored only as their
//! SHA-256, so a leaked table grants nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Length of an encoded token (32 bytes, base64url without padding).
pub const TOKEN_CHARS: usize = 43;

/// A fresh token: `(raw, sha256_hex(raw))`.
pub fn generate() -> (String, String) {
    let raw = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = hash(&raw);
    (raw, hash)
}

/// The stored form of a token.
pub fn hash(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// Whether `raw` has a token's shape (cheap rejection before any store read).
pub fn well_formed(raw: &str) -> bool {
    raw.len() == TOKEN_CHARS
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_url_safe_and_hashed() {
        let (raw, h) = generate();
        assert!(well_formed(&raw));
        assert_eq!(URL_SAFE_NO_PAD.decode(&raw).unwrap().len(), 32);
        assert_eq!(h, hash(&raw));
        assert_eq!(h.len(), 64);
        assert_ne!(generate().0, raw);
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}!", &raw[..42])));
    }
}
