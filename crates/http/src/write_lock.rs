//! Write-locking (see ARCHITECTURE.md, Write-locking): a mutating request (not
//! GET/HEAD/OPTIONS) under one of [`LOCKED_PREFIXES`], from an org the write gate
//! refuses (billing's service profile: a lapsed trial or payment), is answered with
//! **423** and a problem body naming the mode, the tier, the reason code, an
//! `upgrade_url` and the capabilities — before the route runs.
//!
//! The policy is this one list, applied by [`layer`] to every HTTP surface (each
//! Lambda's through `lambda_app`, the local server's around all groups), so a route
//! is locked the same way everywhere. Only the org administration routes are
//! locked today: sign-in must work, billing must stay open so a locked org can pay,
//! and seat requests answer from the license's own status, which the same billing
//! events suspend. The org comes from the bearer credential (verified here as the
//! route's extractor will verify it again); a request without a valid credential
//! passes through untouched, so the route answers its own 401.

use crate::error::{ApiError, Problem};
use crate::principal;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use skiff_core::services::{Services, WriteRefusal};

/// Path prefix of the org administration routes (rename, members, invitations).
pub const ORG_ADMIN_PREFIX: &str = "/api/v1/orgs/current";

/// Path prefixes of the storage function's records and vectors, and of backups.
pub const STORAGE_PREFIX: &str = "/api/v1/storage";
pub const BACKUP_PREFIX: &str = "/api/v1/backup";

/// Every path prefix whose mutations obey the write gate. A new domain whose
/// writes a locked org must not make adds its prefix here.
pub const LOCKED_PREFIXES: &[&str] = &[
    ORG_ADMIN_PREFIX,
    STORAGE_PREFIX,
    BACKUP_PREFIX,
    SCRIPTS_APPS_PREFIX,
    SCRIPTS_PREFIX,
];

/// Scripts' admin routes: a locked org keeps reading its apps, scripts and logs,
/// but changes and runs nothing from the API (its public `/run` routes still answer),
/// except deleting what it keeps (see [`OPEN_MUTATIONS`]).
pub const SCRIPTS_APPS_PREFIX: &str = "/api/v1/apps";
pub const SCRIPTS_PREFIX: &str = "/api/v1/scripts";

/// Which paths an exception covers.
pub enum Paths {
    Exactly(&'static str),
    Under(&'static str),
    /// Under the prefix, but not a path holding the segment (`/members/`).
    UnderExcept(&'static str, &'static str),
}

impl Paths {
    fn covers(&self, path: &str) -> bool {
        match self {
            Paths::Exactly(p) => path == *p,
            Paths::Under(p) => path.starts_with(p),
            Paths::UnderExcept(p, segment) => path.starts_with(p) && !path.contains(segment),
        }
    }
}

/// Mutations under a locked prefix that a locked org may still make: removing its
/// own data, a search (a POST that only reads), and erasing the org (which must
/// never wait for a payment). Exports sit under no locked prefix: an org can
/// always take its data.
pub const OPEN_MUTATIONS: &[(Method, Paths)] = &[
    (Method::DELETE, Paths::Under(STORAGE_PREFIX)),
    (Method::DELETE, Paths::Under(BACKUP_PREFIX)),
    (
        Method::POST,
        Paths::Exactly("/api/v1/storage/vectors/search"),
    ),
    (Method::DELETE, Paths::Exactly(ORG_ADMIN_PREFIX)),
    // Scripts' apps, scripts, routes, triggers and hosts (deleting an app takes its
    // data); taking a member's app role away stays locked, as org members do.
    (Method::DELETE, Paths::Under(SCRIPTS_PREFIX)),
    (
        Method::DELETE,
        Paths::UnderExcept(SCRIPTS_APPS_PREFIX, "/members/"),
    ),
];

/// Does the write gate decide this request?
pub fn is_locked(method: &Method, path: &str) -> bool {
    is_mutating(method)
        && LOCKED_PREFIXES.iter().any(|p| path.starts_with(p))
        && !OPEN_MUTATIONS
            .iter()
            .any(|(m, paths)| m == method && paths.covers(path))
}

/// Wrap every route of `router` (apply after adding the routes).
pub fn layer<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    services: &Services,
) -> axum::Router<S> {
    router.layer(axum::middleware::from_fn_with_state(
        services.clone(),
        enforce,
    ))
}

/// Does this method change state?
pub fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn enforce(State(services): State<Services>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !is_locked(request.method(), path) {
        return next.run(request).await;
    }
    let credential = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, c)| c.trim().to_owned());
    let Some(credential) = credential else {
        return next.run(request).await;
    };
    let Ok(principal) = principal::authenticate(&services, &credential).await else {
        // The route's own extractor answers 401 with the precise reason.
        return next.run(request).await;
    };
    match services
        .write_gate
        .check(&services, &principal.org_id)
        .await
    {
        Ok(()) => next.run(request).await,
        Err(refusal) => refused(refusal).into_response(),
    }
}

/// The 423 problem for a refusal (or the store error that prevented the check).
pub fn refused(refusal: WriteRefusal) -> ApiError {
    match refusal {
        WriteRefusal::Locked {
            code,
            detail,
            extra,
        } => ApiError::Custom(Box::new(Problem {
            status: StatusCode::LOCKED,
            code,
            title: "Service locked".into(),
            detail,
            extra,
        })),
        WriteRefusal::Gone => ApiError::not_found("organization not found"),
        WriteRefusal::Store(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_locks_writes_and_leaves_reads_deletes_and_erasure_open() {
        let locked = |m: Method, p: &str| is_locked(&m, p);
        assert!(locked(Method::POST, "/api/v1/storage/records"));
        assert!(locked(Method::PUT, "/api/v1/storage/records/rec_1"));
        assert!(locked(Method::POST, "/api/v1/storage/uploads"));
        assert!(locked(Method::POST, "/api/v1/storage/vectors/upsert"));
        assert!(locked(Method::PUT, "/api/v1/backup"));
        assert!(locked(Method::PATCH, "/api/v1/orgs/current"));
        assert!(!locked(Method::GET, "/api/v1/storage/records"));
        assert!(!locked(Method::DELETE, "/api/v1/storage/records/rec_1"));
        assert!(!locked(Method::DELETE, "/api/v1/storage/vectors"));
        assert!(!locked(Method::DELETE, "/api/v1/backup/bak_1"));
        assert!(!locked(Method::POST, "/api/v1/storage/vectors/search"));
        assert!(!locked(Method::DELETE, "/api/v1/orgs/current"));
        assert!(locked(Method::DELETE, "/api/v1/orgs/current/members/usr_1"));
        assert!(!locked(Method::POST, "/api/v1/exports"));
        assert!(!locked(Method::DELETE, "/api/v1/apps/shop"));
        assert!(!locked(Method::DELETE, "/api/v1/apps/shop/triggers/trg_1"));
        assert!(!locked(
            Method::DELETE,
            "/api/v1/apps/shop/domains/a.example"
        ));
        assert!(!locked(Method::DELETE, "/api/v1/scripts/scr_1"));
        assert!(!locked(
            Method::DELETE,
            "/api/v1/scripts/scr_1/routes/rte_1"
        ));
        assert!(locked(Method::DELETE, "/api/v1/apps/shop/members/usr_1"));
        assert!(locked(Method::POST, "/api/v1/apps/shop/scripts"));
        assert!(locked(Method::PUT, "/api/v1/scripts/scr_1"));
        assert!(locked(Method::POST, "/api/v1/scripts/scr_1/execute"));
    }
}
