//! Offline license verification: the signed license file (`skiff-license/1`)
//! checked against the deployment's Ed25519 public key, the license's expiry and
//! the file's own time to live — no network.
//!
//! ```no_run
//! use skiff_client::license_file::{parse_public_key, verify};
//! use std::time::SystemTime;
//!
//! // Shipped inside the product (`GET /api/v1/licenses/public-key`).
//! let public_key = parse_public_key("2qxxH0K…base64 or hex or PEM…").unwrap();
//! let file = std::fs::read_to_string("acme.skiff-license").unwrap();
//! match verify(&file, &public_key, SystemTime::now()) {
//!     Ok(license) if license.in_grace_period(SystemTime::now()) => println!("payment overdue"),
//!     Ok(license) => println!("licensed to {} ({})", license.org_id, license.tier),
//!     Err(e) => eprintln!("not licensed: {e}"),
//! }
//! ```

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BEGIN: &str = "-----BEGIN SKIFF LICENSE-----";
const END: &str = "-----END SKIFF LICENSE-----";
const FORMAT: &str = "skiff-license/1";

/// Why a license file is not a valid license now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseFileError {
    /// Not a license file (armor, base64 or JSON broken).
    #[error("not a Skiff license file: {0}")]
    Malformed(String),
    /// Signed with an algorithm this client does not verify.
    #[error("unsupported license-file algorithm {0:?}")]
    Algorithm(String),
    /// The signature does not match: the file was changed, or it was signed by
    /// another key (another deployment, or a rotated key: download a fresh file).
    #[error("the license file's signature does not verify with this public key")]
    BadSignature,
    /// The public key is not a 32-byte Ed25519 key in base64, hex or PEM.
    #[error("not an Ed25519 public key: {0}")]
    PublicKey(String),
    /// The license was not active when the file was made.
    #[error("the license is {0}")]
    NotActive(String),
    /// The license's period (and any grace period) is over.
    #[error("the license expired at {0} (unix seconds)")]
    Expired(i64),
    /// The file is older than its time to live: download a fresh one.
    #[error("this license file expired at {0} (unix seconds): download a fresh one")]
    FileExpired(i64),
}

/// What a verified license file asserts (times in unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedLicense {
    pub format: String,
    pub license_id: String,
    pub key: String,
    pub org_id: String,
    pub plan_id: String,
    pub tier: String,
    pub features: Vec<String>,
    /// `-1`: unlimited.
    pub max_seats: i64,
    pub status: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub grace_period_ends_at: Option<i64>,
    pub file_issued_at: i64,
    pub file_expires_at: i64,
    pub file_ttl_secs: i64,
    /// The signing key's id (as `GET /licenses/public-key` names it).
    #[serde(default)]
    pub kid: String,
}

impl VerifiedLicense {
    /// The end of the license's use: its grace period's end, else its expiry.
    pub fn valid_until(&self) -> i64 {
        self.grace_period_ends_at
            .unwrap_or(self.expires_at)
            .max(self.expires_at)
    }

    /// Valid only by the grace period (a payment is overdue: tell the user).
    pub fn in_grace_period(&self, now: SystemTime) -> bool {
        unix(now) >= self.expires_at && unix(now) < self.valid_until()
    }

    /// Does the product include `feature`?
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    alg: String,
    payload: String,
    signature: String,
}

/// Check the signature only, and return what the file asserts (whatever its dates).
pub fn verify_signature(
    text: &str,
    public_key: &[u8; 32],
) -> Result<VerifiedLicense, LicenseFileError> {
    let malformed = |what: &str| LicenseFileError::Malformed(what.to_owned());
    let inner = text
        .trim()
        .strip_prefix(BEGIN)
        .and_then(|t| t.strip_suffix(END))
        .ok_or_else(|| malformed("missing the SKIFF LICENSE armor lines"))?;
    let body: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    let json = STANDARD
        .decode(body)
        .map_err(|_| malformed("the body is not base64"))?;
    let envelope: Envelope =
        serde_json::from_slice(&json).map_err(|_| malformed("the body is not an envelope"))?;
    if envelope.alg != "ed25519" {
        return Err(LicenseFileError::Algorithm(envelope.alg));
    }
    let payload = STANDARD
        .decode(&envelope.payload)
        .map_err(|_| malformed("the payload is not base64"))?;
    let signature = STANDARD
        .decode(&envelope.signature)
        .map_err(|_| malformed("the signature is not base64"))?;
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(&payload, &signature)
        .map_err(|_| LicenseFileError::BadSignature)?;
    let license: VerifiedLicense =
        serde_json::from_slice(&payload).map_err(|_| malformed("the payload is not a license"))?;
    if license.format != FORMAT {
        return Err(malformed(&format!("unknown format {:?}", license.format)));
    }
    Ok(license)
}

/// Verify a license file offline: the signature, then that the license is
/// active, not past its expiry (or grace period) and the file not past its time
/// to live at `now`.
pub fn verify(
    text: &str,
    public_key: &[u8; 32],
    now: SystemTime,
) -> Result<VerifiedLicense, LicenseFileError> {
    let license = verify_signature(text, public_key)?;
    let now = unix(now);
    if license.status != "active" {
        return Err(LicenseFileError::NotActive(license.status));
    }
    if now >= license.valid_until() {
        return Err(LicenseFileError::Expired(license.valid_until()));
    }
    if now >= license.file_expires_at {
        return Err(LicenseFileError::FileExpired(license.file_expires_at));
    }
    Ok(license)
}

/// Read a public key as `GET /licenses/public-key` gives it: `public_key`
/// (base64), `public_key_hex` or `public_key_pem`.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], LicenseFileError> {
    let text = text.trim();
    let bad = |why: &str| LicenseFileError::PublicKey(why.to_owned());
    let bytes = if let Some(pem) = text.strip_prefix("-----BEGIN PUBLIC KEY-----") {
        let body: String = pem
            .strip_suffix("-----END PUBLIC KEY-----")
            .ok_or_else(|| bad("unterminated PEM"))?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| bad("PEM body is not base64"))?;
        // SubjectPublicKeyInfo of Ed25519: a fixed 12-byte prefix, then the key.
        const SPKI_PREFIX: [u8; 12] = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        match der.strip_prefix(&SPKI_PREFIX[..]) {
            Some(key) => key.to_vec(),
            None => return Err(bad("PEM is not an Ed25519 SubjectPublicKeyInfo")),
        }
    } else if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|_| bad("bad hex"))?
    } else {
        STANDARD
            .decode(text)
            .map_err(|_| bad("neither base64, hex nor PEM"))?
    };
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| bad(&format!("{} bytes, not 32", bytes.len())))
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    /// Sign a payload the way the server's signer writes license files.
    fn signed(key: &Ed25519KeyPair, payload: &serde_json::Value) -> String {
        let bytes = serde_json::to_vec(payload).unwrap();
        let envelope = json!({
            "alg": "ed25519",
            "payload": STANDARD.encode(&bytes),
            "signature": STANDARD.encode(key.sign(&bytes).as_ref()),
        });
        let body = STANDARD.encode(serde_json::to_vec(&envelope).unwrap());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!("{BEGIN}\n{}\n{END}\n", lines.join("\n"))
    }

    fn payload() -> serde_json::Value {
        json!({
            "format": "skiff-license/1", "license_id": "lic_1", "key": "SKIFF-AAAA",
            "org_id": "org_1", "plan_id": "pro", "tier": "pro", "features": ["sync"],
            "max_seats": 3, "status": "active", "issued_at": NOW - 100,
            "expires_at": NOW + 1000, "grace_period_ends_at": null,
            "file_issued_at": NOW - 100, "file_expires_at": NOW + 500,
            "file_ttl_secs": 600, "kid": "k1",
        })
    }

    fn keypair() -> (Ed25519KeyPair, [u8; 32]) {
        let pair = Ed25519KeyPair::generate().unwrap();
        let public: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
        (pair, public)
    }

    #[test]
    fn a_file_verifies_until_its_ttl_and_the_license_until_its_expiry() {
        let (pair, public) = keypair();
        let file = signed(&pair, &payload());
        let license = verify(&file, &public, at(NOW)).unwrap();
        assert_eq!(
            (license.license_id.as_str(), license.max_seats),
            ("lic_1", 3)
        );
        assert!(license.has_feature("sync"));
        assert_eq!(
            verify(&file, &public, at(NOW + 500)),
            Err(LicenseFileError::FileExpired(NOW + 500))
        );
        let mut long_file = payload();
        long_file["file_expires_at"] = json!(NOW + 5000);
        let file = signed(&pair, &long_file);
        assert_eq!(
            verify(&file, &public, at(NOW + 1000)),
            Err(LicenseFileError::Expired(NOW + 1000))
        );
    }

    #[test]
    fn the_grace_period_extends_validity_and_says_so() {
        let (pair, public) = keypair();
        let mut p = payload();
        p["grace_period_ends_at"] = json!(NOW + 3000);
        p["file_expires_at"] = json!(NOW + 5000);
        let file = signed(&pair, &p);
        let license = verify(&file, &public, at(NOW + 2000)).unwrap();
        assert!(license.in_grace_period(at(NOW + 2000)));
        assert!(!license.in_grace_period(at(NOW)));
        assert_eq!(
            verify(&file, &public, at(NOW + 3000)),
            Err(LicenseFileError::Expired(NOW + 3000))
        );
    }

    #[test]
    fn a_changed_file_or_another_key_fails_the_signature() {
        let (pair, public) = keypair();
        let (_, other) = keypair();
        let file = signed(&pair, &payload());
        assert_eq!(
            verify(&file, &other, at(NOW)),
            Err(LicenseFileError::BadSignature)
        );
        // Raise the seats inside the signed payload: the signature no longer fits.
        let mut forged = payload();
        forged["max_seats"] = json!(1000);
        let forged_file = signed(&pair, &forged);
        let swap_payload = |donor: &str, target: &str| -> String {
            let decode = |t: &str| -> serde_json::Value {
                let inner: String = t.lines().filter(|l| !l.starts_with("-----")).collect();
                serde_json::from_slice(&STANDARD.decode(inner).unwrap()).unwrap()
            };
            let mut env = decode(target);
            env["payload"] = decode(donor)["payload"].clone();
            format!(
                "{BEGIN}\n{}\n{END}\n",
                STANDARD.encode(serde_json::to_vec(&env).unwrap())
            )
        };
        assert_eq!(
            verify(&swap_payload(&forged_file, &file), &public, at(NOW)),
            Err(LicenseFileError::BadSignature)
        );
        assert!(matches!(
            verify("hello", &public, at(NOW)),
            Err(LicenseFileError::Malformed(_))
        ));
    }

    #[test]
    fn a_suspended_license_file_is_not_active() {
        let (pair, public) = keypair();
        let mut p = payload();
        p["status"] = json!("suspended");
        assert_eq!(
            verify(&signed(&pair, &p), &public, at(NOW)),
            Err(LicenseFileError::NotActive("suspended".into()))
        );
    }

    #[test]
    fn public_keys_read_in_base64_hex_and_pem() {
        let (_, public) = keypair();
        let b64 = STANDARD.encode(public);
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(&public);
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        );
        assert_eq!(parse_public_key(&b64).unwrap(), public);
        assert_eq!(parse_public_key(&hex::encode(public)).unwrap(), public);
        assert_eq!(parse_public_key(&pem).unwrap(), public);
        assert!(parse_public_key("AAAA").is_err());
    }
}
