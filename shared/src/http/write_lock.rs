//! Write-locking (see ARCHITECTURE.md, Write-locking): every mutating request (not
//! GET/HEAD/OPTIONS) of an org whose service mode is not `active` is answered with
//! **423** and a problem body naming the mode, the tier, the reason code
//! (`service_locked` or `trial_expired`), an `upgrade_url` and the capabilities —
//! before the route runs.
//!
//! A group whose writes obey the service profile wraps its router where the
//! services exist (the local server's `api_router` and the group's `app()`, which
//! its Lambda `main` runs):
//!
//! ```ignore
//! // every route of a group:
//! write_lock::protect(router, &services)
//! // only the routes under a prefix (the auth group's org administration):
//! write_lock::protect_org_admin(skiff_auth::router(), &services)
//! // a whole group except the routes that must stay open inside it:
//! write_lock::WriteLock::new(&services).exempt("/api/v1/<group>/<open>").apply(router)
//! ```
//!
//! Only the org administration routes (`/api/v1/orgs/current…`) are locked.
//! The rest of auth (sign-in must work), billing (so a locked org can pay),
//! licensing (seat requests answer from the license's own status, which the same
//! billing events suspend), health and every read stay open. The org comes from the
//! bearer credential (verified here as the route's extractor will verify it again);
//! a request without a valid credential passes through untouched, so the route
//! answers its own 401.

use crate::auth::principal;
use crate::billing::service_profile::{self, Mode};
use crate::error::{ApiError, Problem};
use crate::services::Services;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, json};
use std::sync::Arc;

/// The write lock with its exempt path prefixes.
#[derive(Clone)]
pub struct WriteLock {
    services: Services,
    exempt: Arc<Vec<String>>,
    only: Arc<Vec<String>>,
}

impl WriteLock {
    pub fn new(services: &Services) -> Self {
        Self {
            services: services.clone(),
            exempt: Arc::new(vec![]),
            only: Arc::new(vec![]),
        }
    }

    /// Lock only paths starting with `prefix` (e.g. the org administration routes
    /// of the auth group, whose sign-in routes must stay open).
    pub fn only(mut self, prefix: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.only).push(prefix.into());
        self
    }

    /// Leave paths starting with `prefix` open (e.g. export routes).
    pub fn exempt(mut self, prefix: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.exempt).push(prefix.into());
        self
    }

    /// Wrap every route of `router` (apply after adding the routes).
    pub fn apply<S: Clone + Send + Sync + 'static>(
        self,
        router: axum::Router<S>,
    ) -> axum::Router<S> {
        router.layer(axum::middleware::from_fn_with_state(self, enforce))
    }
}

/// Path prefix of the org administration routes (rename, members, invitations):
/// the auth group's admin mutations, locked while the rest of auth stays open.
pub const ORG_ADMIN_PREFIX: &str = "/api/v1/orgs/current";

/// The auth group's router with its org administration mutations write-locked.
pub fn protect_org_admin<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    services: &Services,
) -> axum::Router<S> {
    WriteLock::new(services)
        .only(ORG_ADMIN_PREFIX)
        .apply(router)
}

/// Write-lock every route of `router`, with no exemptions.
pub fn protect<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    services: &Services,
) -> axum::Router<S> {
    WriteLock::new(services).apply(router)
}

/// Does this method change state?
pub fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn enforce(State(lock): State<WriteLock>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !is_mutating(request.method())
        || lock.exempt.iter().any(|p| path.starts_with(p.as_str()))
        || (!lock.only.is_empty() && !lock.only.iter().any(|p| path.starts_with(p.as_str())))
    {
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
    let Ok(principal) = principal::authenticate(&lock.services, &credential).await else {
        // The route's own extractor answers 401 with the precise reason.
        return next.run(request).await;
    };
    match check(&lock.services, principal.org_id.as_str()).await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// `Ok` if the org may write now, else the 423 (or a store error).
pub async fn check(services: &Services, org_id: &str) -> Result<(), ApiError> {
    let profile = service_profile::load(services.store.as_ref(), org_id).await?;
    if profile.mode == Mode::Active {
        return Ok(());
    }
    Err(locked(services, &profile))
}

/// The 423 problem for a locked profile.
pub fn locked(services: &Services, profile: &service_profile::ServiceProfile) -> ApiError {
    let catalog = &services.config.billing.catalog;
    let mut extra = Map::new();
    extra.insert("mode".into(), profile.mode.as_str().into());
    extra.insert("tier".into(), profile.tier.clone().into());
    extra.insert("reason".into(), profile.reason.map(|r| r.as_str()).into());
    extra.insert("message".into(), profile.lock_message().into());
    extra.insert(
        "upgrade_url".into(),
        services.config.billing.upgrade_url.clone().into(),
    );
    extra.insert("capabilities".into(), json!(profile.capabilities(catalog)));
    ApiError::Custom(Box::new(Problem {
        status: StatusCode::LOCKED,
        code: profile.lock_code().to_owned(),
        title: "Service locked".into(),
        detail: profile.lock_message().to_owned(),
        extra,
    }))
}
