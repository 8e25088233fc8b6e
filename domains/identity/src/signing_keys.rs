//! Token-signing keys: Ed25519, kept in the secrets port under
//! [`TOKEN_SIGNING_KEYS`], published (public halves only) at
//! `/.well-known/jwks.json`.
//!
//! Before the first rotation the secret is absent and the first key's seed is
//! derived from the deployment's generated secret ([`BLOB_URL_KEY`], the one key
//! CloudFormation generates) with HMAC-SHA256 under a label of its own: every
//! container derives the same key, with no first-use write to race on. A rotation
//! stores a key set `{"current": "<hex seed>", "previous": ["<hex seed>", …]}`
//! (a bare 64-hex seed is accepted too), and from then on the keys are independent
//! random ones. Each key's `kid` is derived from its public key, so every container
//! names a key the same way.
//!
//! Rotation (operators; `skiff admin rotate-signing-key` / `retire-signing-keys`):
//! 1. **rotate**: a new key becomes current and signs every new token; the old
//!    current key moves to `previous` and still verifies the tokens it signed.
//! 2. wait at least the access-token lifetime (15 min) plus the key cache's
//!    refresh interval ([`CACHE_TTL`]), so no live token needs the old key;
//! 3. **retire**: `previous` is emptied; tokens signed with it stop verifying.
//!
//! Containers cache the parsed key set per secrets instance for [`CACHE_TTL`], and
//! re-read it at once (at most every [`UNKNOWN_KID_REFRESH`]) when a token names a
//! `kid` they do not know — so a token signed by a freshly rotated key verifies
//! everywhere without waiting for the cache to expire.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use skiff_core::ports::secrets::{
    BLOB_URL_KEY, Generate, SecretName, SecretValue, Secrets, SecretsError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Ed25519 keys that sign access tokens, once rotated: a key set (JSON) naming the
/// current key and the previous ones still accepted. Never generated: until the
/// first `skiff admin rotate-signing-key`, the first key is derived from
/// [`BLOB_URL_KEY`], the deployment's generated secret (see this module).
pub const TOKEN_SIGNING_KEYS: SecretName = SecretName {
    name: "token_signing_keys",
    generate: Generate::Never,
};

/// How long a container trusts its cached key set.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// Least time between two re-reads triggered by unknown `kid`s (a flood of forged
/// kids must not turn into a flood of secret reads).
pub const UNKNOWN_KID_REFRESH: Duration = Duration::from_secs(5);

/// One Ed25519 key.
pub struct SigningKey {
    pub kid: String,
    public: [u8; 32],
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
}

impl SigningKey {
    /// The key for a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| KeyError::Malformed)?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| KeyError::Malformed)?;
        let public: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| KeyError::Malformed)?;
        let kid = hex::encode(&Sha256::digest(public)[..8]);
        Ok(Self {
            kid,
            public,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            decoding: DecodingKey::from_ed_der(&public),
        })
    }

    /// The public JWK (RFC 8037).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.public),
        })
    }

    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}

/// The current key and every key still accepted for verification, with the
/// tokens already verified against exactly this set (see
/// [`access_token::verify_cached`](super::access_token::verify_cached)). A reload
/// or rotation builds a new set, so the memo never outlives the keys it trusted.
#[derive(Debug)]
pub struct KeySet {
    pub current: SigningKey,
    pub previous: Vec<SigningKey>,
    pub(crate) verified: super::access_token::VerifiedMemo,
}

impl KeySet {
    pub fn new(current: SigningKey, previous: Vec<SigningKey>) -> Self {
        Self {
            current,
            previous,
            verified: Default::default(),
        }
    }

    /// The key named `kid`, if it still verifies.
    pub fn verifying(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
    }

    /// `{"keys": [...]}`, current key first.
    pub fn jwks(&self) -> Value {
        json!({
            "keys": std::iter::once(&self.current)
                .chain(&self.previous)
                .map(SigningKey::jwk)
                .collect::<Vec<_>>()
        })
    }
}

/// The stored form of a rotated key set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredKeySet {
    current: String,
    #[serde(default)]
    previous: Vec<String>,
}

impl StoredKeySet {
    fn parse(value: &str) -> Result<Self, KeyError> {
        let value = value.trim();
        if value.starts_with('{') {
            serde_json::from_str(value).map_err(|_| KeyError::Malformed)
        } else {
            Ok(Self {
                current: value.to_owned(),
                previous: vec![],
            })
        }
    }

    fn load(&self) -> Result<KeySet, KeyError> {
        Ok(KeySet::new(
            SigningKey::from_seed(&seed(&self.current)?)?,
            self.previous
                .iter()
                .map(|s| SigningKey::from_seed(&seed(s)?))
                .collect::<Result<_, _>>()?,
        ))
    }
}

fn seed(hex_seed: &str) -> Result<[u8; 32], KeyError> {
    hex::decode(hex_seed.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(KeyError::Malformed)
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the token-signing key secret is malformed")]
    Malformed,
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Parse a secret value into a key set.
pub fn parse(value: &SecretValue) -> Result<KeySet, KeyError> {
    StoredKeySet::parse(value.expose())?.load()
}

/// Label of the first key's derivation (change it and every token dies).
const INITIAL_KEY_LABEL: &[u8] = b"skiff/token-signing-key/initial/v1";

/// The first key's seed (hex), derived from the deployment's generated secret.
fn initial_seed(master: &SecretValue) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(master.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(INITIAL_KEY_LABEL);
    hex::encode(mac.finalize().into_bytes())
}

/// The stored key set, or the derived first key before any rotation.
async fn stored(secrets: &Arc<dyn Secrets>) -> Result<StoredKeySet, KeyError> {
    match secrets.get(TOKEN_SIGNING_KEYS).await {
        Ok(value) => StoredKeySet::parse(value.expose()),
        Err(SecretsError::Missing(_)) => Ok(StoredKeySet {
            current: initial_seed(&secrets.get(BLOB_URL_KEY).await?),
            previous: vec![],
        }),
        Err(e) => Err(e.into()),
    }
}

struct Cached {
    owner: Weak<dyn Secrets>,
    keys: Arc<KeySet>,
    loaded: Instant,
}

/// Parsed key sets per secrets instance (one per process in Lambda, one per test
/// server in tests). Keyed by the instance's address, which cannot be reused while
/// the entry's `Weak` keeps the allocation alive.
static CACHE: Mutex<Option<HashMap<usize, Cached>>> = Mutex::new(None);

fn cache_id(secrets: &Arc<dyn Secrets>) -> usize {
    Arc::as_ptr(secrets) as *const () as usize
}

fn cached(secrets: &Arc<dyn Secrets>, max_age: Duration) -> Option<Arc<KeySet>> {
    let guard = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let entry = guard.as_ref()?.get(&cache_id(secrets))?;
    (entry.loaded.elapsed() < max_age).then(|| entry.keys.clone())
}

fn store_cached(secrets: &Arc<dyn Secrets>, keys: Arc<KeySet>) {
    let mut guard = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    map.retain(|_, c| c.owner.strong_count() > 0);
    map.insert(
        cache_id(secrets),
        Cached {
            owner: Arc::downgrade(secrets),
            keys,
            loaded: Instant::now(),
        },
    );
}

/// Forget the cached key set of `secrets` (after a rotation in this process).
pub fn invalidate(secrets: &Arc<dyn Secrets>) {
    let mut guard = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(map) = guard.as_mut() {
        map.remove(&cache_id(secrets));
    }
}

async fn reload(secrets: &Arc<dyn Secrets>) -> Result<Arc<KeySet>, KeyError> {
    let keys = Arc::new(stored(secrets).await?.load()?);
    store_cached(secrets, keys.clone());
    Ok(keys)
}

/// The key set (cached for [`CACHE_TTL`]).
pub async fn current(secrets: &Arc<dyn Secrets>) -> Result<Arc<KeySet>, KeyError> {
    match cached(secrets, CACHE_TTL) {
        Some(keys) => Ok(keys),
        None => reload(secrets).await,
    }
}

/// The key set, re-read if it does not know `kid` and was not re-read within
/// [`UNKNOWN_KID_REFRESH`].
pub async fn for_kid(secrets: &Arc<dyn Secrets>, kid: &str) -> Result<Arc<KeySet>, KeyError> {
    let keys = current(secrets).await?;
    if keys.verifying(kid).is_some() || cached(secrets, UNKNOWN_KID_REFRESH).is_some() {
        return Ok(keys);
    }
    reload(secrets).await
}

/// Make a new key current; the old current key keeps verifying. Returns the new kid.
pub async fn rotate(secrets: &Arc<dyn Secrets>) -> Result<String, KeyError> {
    let stored = stored(secrets).await?;
    let new_seed = hex::encode(rand::random::<[u8; 32]>());
    let kid = SigningKey::from_seed(&seed(&new_seed)?)?.kid;
    let mut previous = vec![stored.current];
    previous.extend(stored.previous);
    let next = StoredKeySet {
        current: new_seed,
        previous,
    };
    secrets
        .set(
            TOKEN_SIGNING_KEYS,
            SecretValue::new(serde_json::to_string(&next).expect("key set serializes")),
        )
        .await?;
    invalidate(secrets);
    Ok(kid)
}

/// Stop accepting every previous key; returns the retired kids.
pub async fn retire_previous(secrets: &Arc<dyn Secrets>) -> Result<Vec<String>, KeyError> {
    let stored = stored(secrets).await?;
    let retired = stored
        .previous
        .iter()
        .map(|s| Ok(SigningKey::from_seed(&seed(s)?)?.kid))
        .collect::<Result<Vec<_>, KeyError>>()?;
    let next = StoredKeySet {
        current: stored.current,
        previous: vec![],
    };
    secrets
        .set(
            TOKEN_SIGNING_KEYS,
            SecretValue::new(serde_json::to_string(&next).expect("key set serializes")),
        )
        .await?;
    invalidate(secrets);
    Ok(retired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_seed_is_a_one_key_set_with_a_stable_kid() {
        let value = SecretValue::new(hex::encode([7u8; 32]));
        let a = parse(&value).unwrap();
        let b = parse(&value).unwrap();
        assert_eq!(a.current.kid, b.current.kid);
        assert_eq!(a.current.kid.len(), 16);
        assert!(a.previous.is_empty());
        let jwks = a.jwks();
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert_eq!(jwks["keys"][0]["kid"], a.current.kid.as_str());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(jwks["keys"][0]["x"].as_str().unwrap())
                .unwrap(),
            a.current.public_key()
        );
    }

    #[test]
    fn a_rotated_set_verifies_with_current_and_previous() {
        let stored = StoredKeySet {
            current: hex::encode([1u8; 32]),
            previous: vec![hex::encode([2u8; 32])],
        };
        let set = parse(&SecretValue::new(serde_json::to_string(&stored).unwrap())).unwrap();
        let old = SigningKey::from_seed(&[2u8; 32]).unwrap();
        assert!(set.verifying(&set.current.kid).is_some());
        assert!(set.verifying(&old.kid).is_some());
        assert!(set.verifying("0000000000000000").is_none());
        assert_eq!(set.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_first_key_is_derived_deterministically_and_apart_from_its_master() {
        let master = SecretValue::new(hex::encode([9u8; 32]));
        let seed = initial_seed(&master);
        assert_eq!(seed, initial_seed(&master));
        assert_eq!(seed.len(), 64);
        assert_ne!(seed, master.expose());
        assert_ne!(
            seed,
            initial_seed(&SecretValue::new(hex::encode([8u8; 32])))
        );
        assert!(parse(&SecretValue::new(seed)).is_ok());
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert!(parse(&SecretValue::new("zz")).is_err());
        assert!(parse(&SecretValue::new("{\"current\": 3}")).is_err());
        assert!(parse(&SecretValue::new(hex::encode([1u8; 31]))).is_err());
    }
}
