//! License files verify with an independent Ed25519 implementation (aws-lc-rs, not
//! the ed25519-dalek that signs them), following only the documented format, and a
//! file with one changed byte is refused.

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use skiff_core::ids::{LicenseId, OrgId};
use skiff_core::ports::secrets::SecretValue;
use skiff_licensing::signing::{FORMAT, LicensePayload, LicenseSigner};

fn payload() -> LicensePayload {
    LicensePayload {
        format: FORMAT.into(),
        license_id: LicenseId::parse("lic_0190f3b2c8d47a6b9e1f2a3b4c5d6e7f").unwrap(),
        key: "SKIFF-7KQ2-M9XD-4HVB-T0RW-ZP3N".into(),
        org_id: OrgId::parse("org_0190f3b2c8d47a6b9e1f2a3b4c5d6e70").unwrap(),
        plan_id: "pro".into(),
        tier: "pro".into(),
        features: vec!["sso".into(), "marketplace".into()],
        max_seats: 10,
        status: "active".into(),
        issued_at: 1_795_000_000,
        expires_at: 1_797_592_000,
        grace_period_ends_at: None,
        file_issued_at: 1_795_000_000,
        file_expires_at: 1_797_592_000,
        file_ttl_secs: 2_592_000,
        kid: String::new(),
    }
}

/// The documented verification, written from the format description alone.
pub fn independent_verify(file: &str, public_key: &[u8]) -> Result<serde_json::Value, String> {
    let lines: Vec<&str> = file.trim().lines().collect();
    if lines.first() != Some(&"-----BEGIN SKIFF LICENSE-----")
        || lines.last() != Some(&"-----END SKIFF LICENSE-----")
    {
        return Err("armor".into());
    }
    let body: String = lines[1..lines.len() - 1].concat();
    let envelope: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(body).map_err(|e| format!("base64: {e}"))?)
            .map_err(|e| format!("envelope: {e}"))?;
    if envelope["alg"] != "ed25519" {
        return Err("alg".into());
    }
    let field = |k: &str| {
        envelope[k]
            .as_str()
            .ok_or(format!("{k} missing"))
            .and_then(|s| STANDARD.decode(s).map_err(|e| format!("{k}: {e}")))
    };
    let payload = field("payload")?;
    let signature = field("signature")?;
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(&payload, &signature)
        .map_err(|_| "signature".to_string())?;
    serde_json::from_slice(&payload).map_err(|e| format!("payload: {e}"))
}

fn signer() -> LicenseSigner {
    LicenseSigner::from_secret(&SecretValue::new(hex::encode(rand::random::<[u8; 32]>())))
}

#[test]
fn a_license_file_verifies_with_aws_lc_rs() {
    let s = signer();
    let file = s.sign_file(&payload());
    let public = STANDARD.decode(s.public_key().public_key).unwrap();
    let got = independent_verify(&file, &public).expect("verifies");
    let mut expected = serde_json::to_value(payload()).unwrap();
    expected["kid"] = s.kid().into();
    assert_eq!(got, expected);
    assert_eq!(got["max_seats"], 10);
}

#[test]
fn one_changed_byte_anywhere_in_the_file_is_refused() {
    let s = signer();
    let file = s.sign_file(&payload());
    let public = STANDARD.decode(s.public_key().public_key).unwrap();
    let bytes = file.as_bytes();
    let mut checked = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || b == b'=' {
            continue; // line breaks and padding only frame the data
        }
        // Another character of the same class, so the armor still parses.
        let replacement = match b {
            b'A'..=b'Y' | b'a'..=b'y' | b'0'..=b'8' => b + 1,
            b'Z' => b'A',
            b'z' => b'a',
            b'9' => b'0',
            b'+' => b'/',
            b'/' => b'+',
            b'-' => b'_',
            _ => b'X',
        };
        let mut changed = bytes.to_vec();
        changed[i] = replacement;
        let changed = String::from_utf8(changed).unwrap();
        assert!(
            independent_verify(&changed, &public).is_err(),
            "a file changed at byte {i} ({:?} → {:?}) was accepted",
            b as char,
            replacement as char
        );
        checked += 1;
    }
    assert!(checked > 500, "checked {checked} positions");
}

#[test]
fn a_changed_payload_with_its_old_signature_is_refused() {
    let s = signer();
    let file = s.sign_file(&payload());
    let public = STANDARD.decode(s.public_key().public_key).unwrap();
    let body: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(body).unwrap()).unwrap();
    let mut p = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    // "max_seats":10 → "max_seats":90: one byte.
    let at = p.windows(13).position(|w| w == b"\"max_seats\":1").unwrap();
    p[at + 12] = b'9';
    envelope["payload"] = STANDARD.encode(&p).into();
    let forged = format!(
        "-----BEGIN SKIFF LICENSE-----\n{}\n-----END SKIFF LICENSE-----\n",
        STANDARD.encode(serde_json::to_vec(&envelope).unwrap())
    );
    assert_eq!(
        independent_verify(&forged, &public),
        Err("signature".into())
    );
    // And the signer's own verifier agrees.
    let key: [u8; 32] = public.try_into().unwrap();
    assert!(skiff_licensing::signing::verify_file(&forged, &key).is_err());
}
