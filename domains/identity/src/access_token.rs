//! Access tokens: JWTs signed with EdDSA (Ed25519), 15 minutes, a `kid`
//! header, claims `iss aud sub org role scope iat exp jti` (+ `sid`, the session
//! they came from, so logout needs nothing else).
//!
//! Verification trusts nothing in the token before its signature: only `EdDSA` is
//! accepted (so `alg: none` and the HS256-with-the-public-key trick fail), the
//! `kid` must name a current or previous key, then `iss`, `aud` and `exp` are
//! checked — `exp` against the injectable clock, with a small leeway, not the
//! system time, so tests that move the clock see tokens expire.

use super::signing_keys::KeySet;
use crate::{OrgId, Role, Scopes, SessionId, UserId};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Lifetime of an access token.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Tolerated clock skew between the issuer and a verifier.
pub const LEEWAY_SECS: i64 = 30;

/// The claims Skiff puts in an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub org: String,
    pub role: Role,
    /// Space-separated scopes (`*` for a user's own token).
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Who the verified token speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    pub scopes: Scopes,
    pub session_id: Option<SessionId>,
    pub expires_at: i64,
}

/// Why a token was refused (all answer 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed")]
    Malformed,
    #[error("the access token's algorithm is not accepted")]
    Algorithm,
    #[error("the access token names no known key")]
    UnknownKey,
    #[error("the access token is invalid")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
}

/// Issuer and audience every token carries and every verifier demands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub issuer: String,
    pub audience: String,
}

/// What an access token grants.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub user: &'a UserId,
    pub org: &'a OrgId,
    pub role: Role,
    pub scopes: &'a Scopes,
    pub session: Option<&'a SessionId>,
}

/// Sign an access token with the current key.
pub fn issue(keys: &KeySet, who: &Audience, now: i64, grant: Grant<'_>) -> String {
    let claims = Claims {
        iss: who.issuer.clone(),
        aud: who.audience.clone(),
        sub: grant.user.to_string(),
        org: grant.org.to_string(),
        role: grant.role,
        scope: grant.scopes.to_claim(),
        iat: now,
        exp: now + ACCESS_TOKEN_LIFETIME.as_secs() as i64,
        jti: uuid::Uuid::now_v7().simple().to_string(),
        sid: grant.session.map(ToString::to_string),
    };
    sign(keys, &claims)
}

/// Sign arbitrary claims with the current key (tests build odd tokens with it).
pub fn sign(keys: &KeySet, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(keys.current.kid.clone());
    jsonwebtoken::encode(&header, claims, &keys.current.encoding).expect("EdDSA signing")
}

/// The `kid` a token claims, if its header is an EdDSA header at all.
pub fn kid_of(token: &str) -> Result<String, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Algorithm);
    }
    header.kid.ok_or(TokenError::UnknownKey)
}

/// Verify a token against `keys` at `now`.
pub fn verify(
    keys: &KeySet,
    who: &Audience,
    now: i64,
    token: &str,
) -> Result<Verified, TokenError> {
    let kid = kid_of(token)?;
    let key = keys.verifying(&kid).ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false; // checked below against the injectable clock
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[&who.issuer]);
    validation.set_audience(&[&who.audience]);
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|_| TokenError::Invalid)?;
    let c = data.claims;
    if c.exp + LEEWAY_SECS <= now {
        return Err(TokenError::Expired);
    }
    if c.iat > now + LEEWAY_SECS {
        return Err(TokenError::Invalid);
    }
    Ok(Verified {
        user_id: UserId::parse(&c.sub).map_err(|_| TokenError::Invalid)?,
        org_id: OrgId::parse(&c.org).map_err(|_| TokenError::Invalid)?,
        role: c.role,
        scopes: Scopes::from_claim(&c.scope),
        session_id: match c.sid {
            Some(s) => Some(SessionId::parse(&s).map_err(|_| TokenError::Invalid)?),
            None => None,
        },
        expires_at: c.exp,
    })
}

/// Most tokens a key set remembers as verified.
pub const MEMO_CAPACITY: usize = 10_000;

/// Tokens already verified against one key set: SHA-256 of the token → the result
/// and the audience it was checked for. A client presents the same access token on
/// every request for up to 15 minutes, so a warm container verifies each signature
/// once; expiry is still checked on every use.
#[derive(Debug, Default)]
pub struct VerifiedMemo(Mutex<HashMap<[u8; 32], (Verified, Audience)>>);

/// [`verify`], remembering successes in the key set's memo.
pub fn verify_cached(
    keys: &KeySet,
    who: &Audience,
    now: i64,
    token: &str,
) -> Result<Verified, TokenError> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let memo = &keys.verified.0;
    if let Some((v, aud)) = memo.lock().unwrap_or_else(|p| p.into_inner()).get(&digest)
        && aud == who
    {
        return if v.expires_at + LEEWAY_SECS <= now {
            Err(TokenError::Expired)
        } else {
            Ok(v.clone())
        };
    }
    let verified = verify(keys, who, now, token)?;
    let mut map = memo.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MEMO_CAPACITY {
        map.retain(|_, (v, _)| v.expires_at + LEEWAY_SECS > now);
        if map.len() >= MEMO_CAPACITY {
            map.clear();
        }
    }
    map.insert(digest, (verified.clone(), who.clone()));
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::super::signing_keys::{KeySet, SigningKey};
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys(seed: u8) -> KeySet {
        KeySet::new(SigningKey::from_seed(&[seed; 32]).unwrap(), vec![])
    }

    fn who() -> Audience {
        Audience {
            issuer: "https://skiff.test".into(),
            audience: "skiff-api".into(),
        }
    }

    fn token(keys: &KeySet, now: i64) -> (String, UserId, OrgId) {
        let (u, o) = (UserId::new(), OrgId::new());
        let sid = SessionId::new();
        let grant = Grant {
            user: &u,
            org: &o,
            role: Role::Admin,
            scopes: &Scopes::all(),
            session: Some(&sid),
        };
        let t = issue(keys, &who(), now, grant);
        (t, u, o)
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn a_fresh_token_verifies_with_its_claims() {
        let k = keys(1);
        let (t, u, o) = token(&k, 1_000_000);
        let v = verify(&k, &who(), 1_000_010, &t).unwrap();
        assert_eq!((v.user_id, v.org_id, v.role), (u, o, Role::Admin));
        assert_eq!(v.expires_at, 1_000_000 + 900);
        assert!(v.scopes.allows("org:write"));
        assert!(v.session_id.is_some());
        assert_eq!(kid_of(&t).unwrap(), k.current.kid);
    }

    #[test]
    fn expiry_follows_the_given_clock_with_a_small_leeway() {
        let k = keys(1);
        let (t, ..) = token(&k, 1_000_000);
        assert!(verify(&k, &who(), 1_000_000 + 900 + 10, &t).is_ok());
        assert_eq!(
            verify(&k, &who(), 1_000_000 + 900 + 31, &t),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn wrong_audience_issuer_key_or_tampering_are_refused() {
        let k = keys(1);
        let (t, ..) = token(&k, 1_000_000);
        let mut other = who();
        other.audience = "someone-else".into();
        assert_eq!(verify(&k, &other, 1_000_000, &t), Err(TokenError::Invalid));
        let mut other = who();
        other.issuer = "https://evil.test".into();
        assert_eq!(verify(&k, &other, 1_000_000, &t), Err(TokenError::Invalid));
        assert_eq!(
            verify(&keys(2), &who(), 1_000_000, &t),
            Err(TokenError::UnknownKey)
        );
        // Same kid, different key: the signature fails.
        let mut impostor = keys(2);
        impostor.current.kid = k.current.kid.clone();
        let forged = sign(
            &impostor,
            &jsonwebtoken::decode::<Claims>(&t, &k.current.decoding, &{
                let mut v = Validation::new(Algorithm::EdDSA);
                v.validate_exp = false;
                v.validate_aud = false;
                v
            })
            .unwrap()
            .claims,
        );
        assert_eq!(
            verify(&k, &who(), 1_000_000, &forged),
            Err(TokenError::Invalid)
        );
        // A changed payload under the original signature.
        let parts: Vec<&str> = t.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["role"] = "owner".into();
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
        assert_eq!(
            verify(&k, &who(), 1_000_000, &tampered),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn the_memo_answers_like_verify_and_still_checks_expiry_and_audience() {
        let k = keys(1);
        let (t, u, _) = token(&k, 1_000_000);
        assert_eq!(verify_cached(&k, &who(), 1_000_001, &t).unwrap().user_id, u);
        assert_eq!(verify_cached(&k, &who(), 1_000_002, &t).unwrap().user_id, u);
        assert_eq!(k.verified.0.lock().unwrap().len(), 1);
        let mut other = who();
        other.audience = "someone-else".into();
        assert_eq!(
            verify_cached(&k, &other, 1_000_002, &t),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify_cached(&k, &who(), 1_000_000 + 900 + 31, &t),
            Err(TokenError::Expired)
        );
        // A different key set (after a reload or rotation) starts empty.
        assert_eq!(
            verify_cached(&keys(2), &who(), 1_000_001, &t),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn alg_none_and_hmac_with_the_public_key_are_refused() {
        let k = keys(1);
        let (t, ..) = token(&k, 1_000_000);
        let payload = t.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{payload}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": k.current.kid}))
        );
        assert!(verify(&k, &who(), 1_000_000, &none).is_err());
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(k.current.kid.clone());
        let claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let hs = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(k.current.public_key()),
        )
        .unwrap();
        assert_eq!(
            verify(&k, &who(), 1_000_000, &hs),
            Err(TokenError::Algorithm)
        );
        assert_eq!(
            verify(&k, &who(), 1_000_000, "not.a.jwt"),
            Err(TokenError::Malformed)
        );
    }
}
