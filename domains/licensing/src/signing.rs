//! Ed25519 signatures: offline-verifiable license files and seat tokens.
//!
//! One key pair signs both. Its 32-byte seed is the secret `license_signing_key`
//! (hex) when an operator has set it; until then it is derived with HMAC-SHA256,
//! under a label of its own, from the deployment's generated secret (`blob_url_key`,
//! the one key CloudFormation generates), so every container derives the same key
//! with no first-use write to race on ([`derived_seed`]). Setting
//! `license_signing_key` replaces the key: files signed before stop verifying with
//! the new public key (clients download a fresh file) and running seat tokens answer
//! 401 (clients acquire again). The public key is served at
//! `GET /api/v1/licenses/public-key`. The two formats cannot be confused for each
//! other: a license file signs the payload's JSON bytes (they start with `{`), a seat
//! token signs JWS's `base64url(header).base64url(claims)` (it starts with `eyJ`).
//!
//! ## License file format (`skiff-license/1`)
//!
//! ```text
//! -----BEGIN SKIFF LICENSE-----
//! base64( {"alg":"ed25519","payload":"<base64 payload>","signature":"<base64 sig>"} )
//! (standard base64, lines of 64 characters)
//! -----END SKIFF LICENSE-----
//! ```
//!
//! `payload` is the base64 of the exact bytes signed: a JSON object [`LicensePayload`].
//! `signature` is the 64-byte Ed25519 signature (RFC 8032) of those bytes. Everything
//! but `alg` is inside the signed payload (the key id too), so any changed byte of
//! the file makes it unreadable or fails the signature. A verifier
//! decodes the armor, checks `alg`, verifies the signature over the decoded payload
//! bytes with the published public key, then reads the payload and checks its
//! `expires_at` and `file_expires_at` against its clock.
//!
//! ## Seat tokens
//!
//! A JWT (RFC 7519) signed with EdDSA (RFC 8037): header
//! `{"alg":"EdDSA","typ":"JWT","kid":…}`, claims [`SeatClaims`]. It has no `exp`: it
//! is worth exactly as long as its session lives in the store, which the server checks
//! on every use. Rotating the signing key invalidates running tokens; a client that
//! gets 401 acquires again (the same machine gets its session back).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use skiff_core::ids::{LicenseId, OrgId, SeatSessionId, UserId};
use skiff_core::ports::secrets::{Generate, SecretName, SecretValue};
use std::sync::{Arc, Mutex};

/// Seed of the Ed25519 key that signs license files and seat tokens (32 bytes,
/// hex). Never generated: until an operator sets it, the seed is derived from
/// [`BLOB_URL_KEY`], the deployment's generated secret (see [`LicenseSigner`]).
pub const LICENSE_SIGNING_KEY: SecretName = SecretName {
    name: "license_signing_key",
    generate: Generate::Never,
};

/// Armor lines of a license file.
pub const BEGIN: &str = "-----BEGIN SKIFF LICENSE-----";
pub const END: &str = "-----END SKIFF LICENSE-----";
/// The `format` member of every payload this version writes.
pub const FORMAT: &str = "skiff-license/1";
/// The `alg` of license files.
pub const FILE_ALG: &str = "ed25519";
/// Audience of seat tokens.
pub const SEAT_AUDIENCE: &str = "skiff-seat";
pub const ISSUER: &str = "skiff";

/// What a license file asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensePayload {
    pub format: String,
    pub license_id: LicenseId,
    pub key: String,
    pub org_id: OrgId,
    pub plan_id: String,
    pub tier: String,
    pub features: Vec<String>,
    /// Concurrent seats; -1 = unlimited.
    pub max_seats: i64,
    /// Status when the file was made (`active`, `suspended`, …).
    pub status: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub grace_period_ends_at: Option<i64>,
    /// When this file was made, and until when a client may trust it offline.
    pub file_issued_at: i64,
    pub file_expires_at: i64,
    pub file_ttl_secs: i64,
    /// Id of the signing key (see [`key_id`]); set by [`LicenseSigner::sign_file`].
    #[serde(default)]
    pub kid: String,
}

/// The armored envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    alg: String,
    payload: String,
    signature: String,
}

/// Claims of a seat token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatClaims {
    pub iss: String,
    pub aud: String,
    /// The user who acquired the seat.
    pub sub: Option<UserId>,
    pub org: OrgId,
    pub lic: LicenseId,
    /// Session id.
    pub sid: SeatSessionId,
    /// SHA-256 of the hardware id, hex.
    pub hw: String,
    pub iat: i64,
}

/// Why a license file or token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("unsupported algorithm `{0}`")]
    Algorithm(String),
    #[error("signature does not verify")]
    BadSignature,
}

/// The key pair behind license files and seat tokens.
pub struct LicenseSigner {
    key: SigningKey,
    kid: String,
}

impl std::fmt::Debug for LicenseSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LicenseSigner(kid={})", self.kid)
    }
}

/// The public key in the forms clients use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicKeyInfo {
    pub alg: String,
    pub kid: String,
    /// The 32-byte raw public key, standard base64.
    pub public_key: String,
    /// The same, hex.
    pub public_key_hex: String,
    /// SubjectPublicKeyInfo PEM (`openssl pkey -pubin` reads it).
    pub public_key_pem: String,
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Key id of a public key: the first 8 bytes of its SHA-256, hex.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

impl LicenseSigner {
    /// From the secret's value: 32 bytes hex are the seed itself; anything else is
    /// hashed to a seed (a configured passphrase-like value still works).
    pub fn from_secret(value: &SecretValue) -> Self {
        let raw = value.expose().trim();
        let seed: [u8; 32] = match hex::decode(raw) {
            Ok(bytes) if bytes.len() == 32 => bytes.try_into().expect("32 bytes"),
            _ => Sha256::digest(raw.as_bytes()).into(),
        };
        Self::from_seed(&seed)
    }

    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let kid = key_id(&key.verifying_key());
        Self { key, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn public_key(&self) -> PublicKeyInfo {
        let public = self.key.verifying_key();
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(public.as_bytes());
        PublicKeyInfo {
            alg: FILE_ALG.into(),
            kid: self.kid.clone(),
            public_key: STANDARD.encode(public.as_bytes()),
            public_key_hex: hex::encode(public.as_bytes()),
            public_key_pem: format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                STANDARD.encode(der)
            ),
        }
    }

    /// The armored, signed license file of `payload` (its `kid` set to this key's).
    pub fn sign_file(&self, payload: &LicensePayload) -> String {
        let mut payload = payload.clone();
        payload.kid = self.kid.clone();
        let bytes = serde_json::to_vec(&payload).expect("payload serializes");
        let signature = self.key.sign(&bytes);
        let envelope = Envelope {
            alg: FILE_ALG.into(),
            payload: STANDARD.encode(&bytes),
            signature: STANDARD.encode(signature.to_bytes()),
        };
        let body = STANDARD.encode(serde_json::to_vec(&envelope).expect("envelope serializes"));
        let mut out = String::with_capacity(body.len() + 80);
        out.push_str(BEGIN);
        out.push('\n');
        for line in body.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            out.push('\n');
        }
        out.push_str(END);
        out.push('\n');
        out
    }

    /// A seat token for `claims`.
    pub fn seat_token(&self, claims: &SeatClaims) -> String {
        let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"))
        );
        let signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    /// Verify a seat token's signature and shape. Whether its session still lives is
    /// the caller's check.
    pub fn verify_seat_token(&self, token: &str) -> Result<SeatClaims, SignatureError> {
        let malformed = |what: &str| SignatureError::Malformed(what.to_owned());
        let mut parts = token.trim().split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a token has three dot-separated parts"));
        };
        let header: serde_json::Value = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| malformed("header"))?;
        match header.get("alg").and_then(|a| a.as_str()) {
            Some("EdDSA") => {}
            other => {
                return Err(SignatureError::Algorithm(
                    other.unwrap_or("none").to_owned(),
                ));
            }
        }
        let signature = URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or_else(|| malformed("signature"))?;
        let signing_input = &token.trim()[..h.len() + 1 + c.len()];
        self.key
            .verifying_key()
            .verify_strict(signing_input.as_bytes(), &signature)
            .map_err(|_| SignatureError::BadSignature)?;
        let claims: SeatClaims = URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| malformed("claims"))?;
        if claims.aud != SEAT_AUDIENCE || claims.iss != ISSUER {
            return Err(malformed("not a seat token"));
        }
        Ok(claims)
    }
}

/// Decode an armored license file into (envelope, payload bytes, signature bytes).
fn unarmor(text: &str) -> Result<(Envelope, Vec<u8>, Vec<u8>), SignatureError> {
    let malformed = |what: &str| SignatureError::Malformed(what.to_owned());
    let text = text.trim();
    let inner = text
        .strip_prefix(BEGIN)
        .and_then(|t| t.strip_suffix(END))
        .ok_or_else(|| malformed("missing the SKIFF LICENSE armor lines"))?;
    let body: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    let json = STANDARD
        .decode(body)
        .map_err(|_| malformed("armor body is not base64"))?;
    let envelope: Envelope =
        serde_json::from_slice(&json).map_err(|_| malformed("armor body is not the envelope"))?;
    let payload = STANDARD
        .decode(&envelope.payload)
        .map_err(|_| malformed("payload is not base64"))?;
    let signature = STANDARD
        .decode(&envelope.signature)
        .map_err(|_| malformed("signature is not base64"))?;
    Ok((envelope, payload, signature))
}

/// The signed bytes and signature of a license file, for verifiers that bring their
/// own Ed25519 implementation (tests use an independent one).
pub fn file_parts(text: &str) -> Result<(String, Vec<u8>, Vec<u8>), SignatureError> {
    let (envelope, payload, signature) = unarmor(text)?;
    Ok((envelope.alg, payload, signature))
}

/// Verify a license file offline with the public key; returns its payload. The
/// caller still checks `expires_at` / `file_expires_at` against its clock.
pub fn verify_file(text: &str, public_key: &[u8; 32]) -> Result<LicensePayload, SignatureError> {
    let (envelope, payload, signature) = unarmor(text)?;
    if envelope.alg != FILE_ALG {
        return Err(SignatureError::Algorithm(envelope.alg));
    }
    let key = VerifyingKey::from_bytes(public_key)
        .map_err(|_| SignatureError::Malformed("public key".into()))?;
    let signature = Signature::from_slice(&signature)
        .map_err(|_| SignatureError::Malformed("signature length".into()))?;
    key.verify_strict(&payload, &signature)
        .map_err(|_| SignatureError::BadSignature)?;
    serde_json::from_slice(&payload).map_err(|_| SignatureError::Malformed("payload".into()))
}

/// Label of the derived seed (change it and every license file stops verifying).
const DERIVED_SEED_LABEL: &[u8] = b"skiff/license-signing-key/initial/v1";

/// The seed (hex, as the secret would hold it) derived from the deployment's
/// generated secret, for deployments that never set `license_signing_key`.
pub fn derived_seed(master: &SecretValue) -> SecretValue {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(master.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(DERIVED_SEED_LABEL);
    SecretValue::new(hex::encode(mac.finalize().into_bytes()))
}

/// Signers derived from a secret value, remembered by a digest of that value, so a
/// rotated secret takes effect at once and an unchanged one costs a hash.
static CACHE: Mutex<Option<([u8; 32], Arc<LicenseSigner>)>> = Mutex::new(None);

/// The signer for the current value of the secret.
pub fn signer_for(value: &SecretValue) -> Arc<LicenseSigner> {
    let digest: [u8; 32] = Sha256::digest(value.expose().as_bytes()).into();
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((d, signer)) = cache.as_ref()
        && *d == digest
    {
        return signer.clone();
    }
    let signer = Arc::new(LicenseSigner::from_secret(value));
    *cache = Some((digest, signer.clone()));
    signer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> LicensePayload {
        LicensePayload {
            format: FORMAT.into(),
            license_id: LicenseId::parse("lic_0190f3b2c8d47a6b9e1f2a3b4c5d6e7f").unwrap(),
            key: "SKIFF-ABCD-EFGH-JKMN-PQRS-TVWX".into(),
            org_id: OrgId::parse("org_0190f3b2c8d47a6b9e1f2a3b4c5d6e70").unwrap(),
            plan_id: "pro".into(),
            tier: "pro".into(),
            features: vec!["sso".into()],
            max_seats: 10,
            status: "active".into(),
            issued_at: 1,
            expires_at: 2,
            grace_period_ends_at: None,
            file_issued_at: 1,
            file_expires_at: 3,
            file_ttl_secs: 2,
            kid: String::new(),
        }
    }

    fn signer() -> LicenseSigner {
        LicenseSigner::from_secret(&SecretValue::new(hex::encode([7u8; 32])))
    }

    #[test]
    fn a_signed_file_verifies_and_round_trips() {
        let s = signer();
        let file = s.sign_file(&payload());
        assert!(file.starts_with(BEGIN) && file.trim_end().ends_with(END));
        assert!(
            file.lines()
                .all(|l| l.len() <= 64 || l.starts_with("-----"))
        );
        let got = verify_file(&file, s.verifying_key().as_bytes()).unwrap();
        assert_eq!(got.kid, s.kid());
        assert_eq!(
            LicensePayload {
                kid: String::new(),
                ..got
            },
            payload()
        );
    }

    #[test]
    fn a_file_with_a_changed_payload_or_another_key_is_refused() {
        let s = signer();
        let file = s.sign_file(&payload());
        let (_, mut bytes, sig) = file_parts(&file).unwrap();
        let pos = bytes.iter().position(|b| *b == b'1').unwrap();
        bytes[pos] = b'9';
        let forged = Envelope {
            alg: FILE_ALG.into(),
            payload: STANDARD.encode(&bytes),
            signature: STANDARD.encode(&sig),
        };
        let forged = format!(
            "{BEGIN}\n{}\n{END}\n",
            STANDARD.encode(serde_json::to_vec(&forged).unwrap())
        );
        assert_eq!(
            verify_file(&forged, s.verifying_key().as_bytes()),
            Err(SignatureError::BadSignature)
        );
        let other = LicenseSigner::from_seed(&[8u8; 32]);
        assert_eq!(
            verify_file(&file, other.verifying_key().as_bytes()),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn seat_tokens_verify_and_refuse_tampering_and_other_algorithms() {
        let s = signer();
        let claims = SeatClaims {
            iss: ISSUER.into(),
            aud: SEAT_AUDIENCE.into(),
            sub: Some(UserId::new()),
            org: OrgId::new(),
            lic: LicenseId::new(),
            sid: SeatSessionId::new(),
            hw: "ab".repeat(32),
            iat: 5,
        };
        let token = s.seat_token(&claims);
        assert_eq!(s.verify_seat_token(&token).unwrap(), claims);

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut other = claims.clone();
        other.sid = SeatSessionId::new();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap());
        assert_eq!(
            s.verify_seat_token(&parts.join(".")),
            Err(SignatureError::BadSignature)
        );

        parts[0] = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            s.verify_seat_token(&format!("{}.{}.", parts[0], parts[1])),
            Err(SignatureError::Algorithm("none".into()))
        );
        let foreign = LicenseSigner::from_seed(&[9u8; 32]).seat_token(&claims);
        assert_eq!(
            s.verify_seat_token(&foreign),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn the_pem_is_an_ed25519_spki() {
        let info = signer().public_key();
        let b64: String = info
            .public_key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(b64).unwrap();
        assert_eq!(der.len(), 44);
        assert_eq!(&der[..12], &SPKI_PREFIX);
        assert_eq!(hex::encode(&der[12..]), info.public_key_hex);
    }

    #[test]
    fn the_derived_seed_is_deterministic_and_apart_from_its_master() {
        let master = SecretValue::new(hex::encode([3u8; 32]));
        let a = derived_seed(&master);
        assert_eq!(a, derived_seed(&master));
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a.expose(), master.expose());
        assert_ne!(a, derived_seed(&SecretValue::new(hex::encode([4u8; 32]))));
    }

    #[test]
    fn the_signer_cache_follows_the_secret() {
        let a = signer_for(&SecretValue::new(hex::encode([1u8; 32])));
        let b = signer_for(&SecretValue::new(hex::encode([1u8; 32])));
        assert!(Arc::ptr_eq(&a, &b));
        let c = signer_for(&SecretValue::new(hex::encode([2u8; 32])));
        assert_ne!(a.kid(), c.kid());
    }
}
