//! Client-side encryption: AES-256-GCM (aws-lc-rs) with a fresh random nonce per
//! blob, under a key that never leaves the device — derived from a user secret
//! with Argon2id, or supplied raw.
//!
//! A sealed blob is `0x01 ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the
//! leading byte names the format so a later one can be told apart.
//!
//! ```
//! use skiff_client::crypto::{EncryptionKey, open, seal};
//!
//! let key = EncryptionKey::derive(b"correct horse battery staple", b"ada@example.com/notes").unwrap();
//! let blob = seal(&key, b"meeting notes").unwrap();
//! assert_ne!(&blob[..], b"meeting notes");
//! assert_eq!(open(&key, &blob).unwrap(), b"meeting notes");
//! ```

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// The format byte of a sealed blob.
const FORMAT_V1: u8 = 1;
/// Authenticated with every blob, so a blob of another format or product never opens.
const AAD: &[u8] = b"skiff-client/aes-256-gcm/1";
const TAG_LEN: usize = 16;

/// Why encryption or decryption failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The key was wrong, or the blob was changed (one flipped bit is enough).
    #[error("the blob does not decrypt with this key: wrong key, or the blob was tampered with")]
    Decrypt,
    /// Too short to be a sealed blob.
    #[error("the blob is too short to be encrypted data ({0} bytes)")]
    TooShort(usize),
    /// The leading byte names no format this client knows.
    #[error("unknown encrypted-blob format {0}")]
    UnknownFormat(u8),
    /// A raw key must be 32 bytes.
    #[error("an encryption key is 32 bytes, got {0}")]
    KeyLength(usize),
    /// Argon2id refused its input (e.g. a salt under 8 bytes).
    #[error("cannot derive a key: {0}")]
    KeyDerivation(String),
    /// The system's random source failed.
    #[error("no randomness available")]
    Random,
}

/// A 256-bit key, wiped from memory when dropped.
#[derive(Clone)]
pub struct EncryptionKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(…)")
    }
}

impl EncryptionKey {
    /// A raw 32-byte key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::KeyLength(bytes.len()))?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// A fresh random key (keep it: nothing else decrypts the data).
    pub fn generate() -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(key.as_mut())
            .map_err(|_| CryptoError::Random)?;
        Ok(Self(key))
    }

    /// Derive a key from a user secret with Argon2id (19 MiB, 2 passes, one lane:
    /// OWASP's baseline). The salt (at least 8 bytes) must be the same every time
    /// the key is derived — e.g. the user's e-mail and the product's name — and
    /// differ between users, so equal passwords give different keys.
    pub fn derive(secret: &[u8], salt: &[u8]) -> Result<Self, CryptoError> {
        let params = argon2::Params::new(19 * 1024, 2, 1, Some(32))
            .map_err(|e| CryptoError::KeyDerivation(e.to_string()))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(secret, salt, key.as_mut())
            .map_err(|e| CryptoError::KeyDerivation(e.to_string()))?;
        Ok(Self(key))
    }

    /// The raw bytes (to keep the key in the OS keyring, say).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn aead(&self) -> LessSafeKey {
        // A 32-byte key is always a valid AES-256 key.
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, self.0.as_ref()).expect("32-byte key"))
    }
}

/// Encrypt `plaintext` under `key` with a fresh random nonce.
pub fn seal(key: &EncryptionKey, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CryptoError::Random)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(AAD),
            &mut body,
        )
        .map_err(|_| CryptoError::Decrypt)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypt a blob made by [`seal`]; any change to it, or another key, is
/// [`CryptoError::Decrypt`].
pub fn open(key: &EncryptionKey, blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if blob.len() < 1 + NONCE_LEN + TAG_LEN {
        return Err(CryptoError::TooShort(blob.len()));
    }
    if blob[0] != FORMAT_V1 {
        return Err(CryptoError::UnknownFormat(blob[0]));
    }
    let nonce: [u8; NONCE_LEN] = blob[1..1 + NONCE_LEN].try_into().expect("length checked");
    let mut body = blob[1 + NONCE_LEN..].to_vec();
    let plain = key
        .aead()
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(AAD),
            &mut body,
        )
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(plain.to_vec())
}

/// Lowercase hex SHA-256, as the storage API's checksums are written.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_blob_hides_the_plaintext_and_opens_only_with_its_key() {
        let key = EncryptionKey::generate().unwrap();
        let other = EncryptionKey::generate().unwrap();
        let plain = b"the launch moves to Tuesday, the launch moves to Tuesday";
        let blob = seal(&key, plain).unwrap();
        assert!(!blob.windows(plain.len()).any(|w| w == plain));
        assert_eq!(blob.len(), 1 + NONCE_LEN + plain.len() + TAG_LEN);
        assert_eq!(open(&key, &blob).unwrap(), plain);
        assert_eq!(open(&other, &blob), Err(CryptoError::Decrypt));
    }

    #[test]
    fn every_seal_draws_a_new_nonce() {
        let key = EncryptionKey::generate().unwrap();
        let a = seal(&key, b"same").unwrap();
        let b = seal(&key, b"same").unwrap();
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn any_flipped_bit_is_a_decrypt_error() {
        let key = EncryptionKey::generate().unwrap();
        let blob = seal(&key, b"ledger").unwrap();
        for i in 1..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert_eq!(open(&key, &bad), Err(CryptoError::Decrypt), "byte {i}");
        }
        let mut other_format = blob.clone();
        other_format[0] = 2;
        assert_eq!(
            open(&key, &other_format),
            Err(CryptoError::UnknownFormat(2))
        );
        assert_eq!(open(&key, &blob[..20]), Err(CryptoError::TooShort(20)));
    }

    #[test]
    fn derived_keys_depend_on_secret_and_salt_and_are_stable() {
        let a = EncryptionKey::derive(b"hunter2-hunter2", b"ada@example.com").unwrap();
        let again = EncryptionKey::derive(b"hunter2-hunter2", b"ada@example.com").unwrap();
        let other_salt = EncryptionKey::derive(b"hunter2-hunter2", b"bob@example.com").unwrap();
        let other_secret = EncryptionKey::derive(b"hunter3-hunter3", b"ada@example.com").unwrap();
        assert_eq!(a.as_bytes(), again.as_bytes());
        assert_ne!(a.as_bytes(), other_salt.as_bytes());
        assert_ne!(a.as_bytes(), other_secret.as_bytes());
        let blob = seal(&a, b"x").unwrap();
        assert_eq!(open(&again, &blob).unwrap(), b"x");
        assert!(matches!(
            EncryptionKey::derive(b"pw", b"short"),
            Err(CryptoError::KeyDerivation(_))
        ));
        assert_eq!(
            EncryptionKey::from_bytes(&[0; 31]).unwrap_err(),
            CryptoError::KeyLength(31)
        );
    }

    #[test]
    fn checksums_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
