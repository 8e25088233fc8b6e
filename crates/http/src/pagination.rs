//! Pagination at the edge: a bounded page size and opaque, tamper-evident cursors.
//!
//! A store cursor names a position in a partition; handed to a client as is, a
//! forged one would reach the store (a 500 at best, another org's rows at worst).
//! So the edge seals it: `base64url(position) "." base64url(HMAC-SHA256)` under a
//! key derived from the deployment's generated secret, over the list's name, the
//! org and the list's own scope (a license id, a filter). A cursor of another list,
//! another org or with one byte changed is a 400 `INVALID_CURSOR`.

use crate::error::{ApiError, FieldError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use skiff_core::ports::secrets::{BLOB_URL_KEY, Secrets};

/// Page size when the client names none.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: usize = 200;
/// Longest cursor accepted (sealed store cursors are far shorter).
const MAX_CURSOR_LEN: usize = 2048;
/// Domain separation from the other keys derived from the same secret.
const KEY_LABEL: &[u8] = b"skiff/page-cursor/v1";

/// A page size in `1..=MAX_LIMIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(usize);

impl PageLimit {
    /// The client's `limit` parameter, or the default.
    pub fn parse(raw: Option<usize>) -> Result<Self, ApiError> {
        match raw {
            None => Ok(Self(DEFAULT_LIMIT)),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Self(n)),
            Some(_) => Err(ApiError::validation(vec![FieldError::new(
                "limit",
                "OUT_OF_RANGE",
                format!("`limit` is between 1 and {MAX_LIMIT}"),
            )])),
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

/// Which list a cursor belongs to: its name, the org, and the list's own scope.
#[derive(Debug, Clone, Copy)]
pub struct CursorScope<'a> {
    pub list: &'static str,
    pub org: &'a str,
    pub scope: &'a str,
}

impl<'a> CursorScope<'a> {
    pub fn new(list: &'static str, org: &'a str) -> Self {
        Self {
            list,
            org,
            scope: "",
        }
    }

    pub fn within(mut self, scope: &'a str) -> Self {
        self.scope = scope;
        self
    }
}

/// The key that seals cursors.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl CursorKey {
    /// Derived from the deployment's generated secret, so every container agrees.
    pub async fn load(secrets: &dyn Secrets) -> Result<Self, ApiError> {
        let master = secrets.get(BLOB_URL_KEY).await?;
        Ok(Self::derive(master.expose().as_bytes()))
    }

    pub fn derive(master: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes keys of any length");
        mac.update(KEY_LABEL);
        Self(mac.finalize().into_bytes().into())
    }

    fn mac(&self, scope: &CursorScope<'_>, position: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in [
            scope.list.as_bytes(),
            scope.org.as_bytes(),
            scope.scope.as_bytes(),
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(position);
        mac
    }

    /// The client-facing cursor for a store position.
    pub fn seal(&self, scope: &CursorScope<'_>, position: &str) -> String {
        let tag = self.mac(scope, position.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(position),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The store position of a cursor this list issued; anything else is refused.
    pub fn open(&self, scope: &CursorScope<'_>, cursor: &str) -> Result<String, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "INVALID_CURSOR",
                "`cursor` is not one this list returned; start again without it",
            )
        };
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(invalid());
        }
        let (position, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let position = URL_SAFE_NO_PAD.decode(position).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        // `verify_slice` compares in constant time.
        self.mac(scope, &position)
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        String::from_utf8(position).map_err(|_| invalid())
    }

    /// `open` for an optional cursor.
    pub fn open_opt(
        &self,
        scope: &CursorScope<'_>,
        cursor: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        cursor.map(|c| self.open(scope, c)).transpose()
    }

    /// `seal` for an optional next position.
    pub fn seal_opt(&self, scope: &CursorScope<'_>, position: Option<&str>) -> Option<String> {
        position.map(|p| self.seal(scope, p))
    }
}

/// One list request at the edge, parsed once: the page size, the store position
/// its cursor names, and what seals the cursor of the next page.
pub struct PageRequest<'a> {
    pub limit: usize,
    pub position: Option<String>,
    key: CursorKey,
    scope: CursorScope<'a>,
}

impl<'a> PageRequest<'a> {
    /// A bad `limit` is a 422; a cursor this list did not issue, a 400.
    pub async fn open(
        secrets: &dyn Secrets,
        scope: CursorScope<'a>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<Self, ApiError> {
        let limit = PageLimit::parse(limit)?.get();
        let key = CursorKey::load(secrets).await?;
        let position = key.open_opt(&scope, cursor)?;
        Ok(Self {
            limit,
            position,
            key,
            scope,
        })
    }

    /// The client's cursor for the store's next position, if there is one.
    pub fn next_cursor(&self, next: Option<&str>) -> Option<String> {
        self.key.seal_opt(&self.scope, next)
    }

    /// Read the page: `fetch(limit, position)` answers the items and the store's
    /// next position (its error mapped by `problem`); this answers the items and
    /// the client's next cursor.
    pub async fn read<T, E, Fut>(
        mut self,
        fetch: impl FnOnce(usize, Option<String>) -> Fut,
        problem: impl FnOnce(E) -> ApiError,
    ) -> Result<(Vec<T>, Option<String>), ApiError>
    where
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), E>>,
    {
        let (items, next) = fetch(self.limit, self.position.take())
            .await
            .map_err(problem)?;
        Ok((items, self.next_cursor(next.as_deref())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_cursor_opens_only_in_its_own_list_and_org() {
        let key = CursorKey::derive(b"deployment secret");
        let scope = CursorScope::new("licenses", "org_a");
        let cursor = key.seal(&scope, "position-1");
        assert_eq!(key.open(&scope, &cursor).unwrap(), "position-1");
        for other in [
            CursorScope::new("members", "org_a"),
            CursorScope::new("licenses", "org_b"),
            CursorScope::new("licenses", "org_a").within("lic_1"),
        ] {
            assert_eq!(
                key.open(&other, &cursor).unwrap_err().code(),
                "INVALID_CURSOR"
            );
        }
        let other_key = CursorKey::derive(b"another deployment");
        assert!(other_key.open(&scope, &cursor).is_err());
    }

    #[test]
    fn tampered_or_garbage_cursors_are_refused() {
        let key = CursorKey::derive(b"k");
        let scope = CursorScope::new("audit", "org");
        let cursor = key.seal(&scope, "p");
        let (pos, tag) = cursor.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("q"));
        for bad in [
            "garbage".to_owned(),
            forged,
            format!("{pos}.{}", &tag[1..]),
            "x".repeat(5000),
            String::new(),
        ] {
            let e = key.open(&scope, &bad).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(PageLimit::parse(None).unwrap().get(), DEFAULT_LIMIT);
        assert_eq!(PageLimit::parse(Some(200)).unwrap().get(), 200);
        for bad in [0, 201] {
            assert_eq!(
                PageLimit::parse(Some(bad)).unwrap_err().status(),
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            );
        }
    }
}
