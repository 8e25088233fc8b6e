//! What the licensing routes do, over [`Services`]: the HTTP layer parses and
//! authenticates, then calls these with the principal's org (never one from the
//! request). Answers are the JSON bodies the routes send.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};
use skiff_core::ids::{LicenseId, OrgId, SeatSessionId, UserId};
use skiff_core::ports::store::{Query, filtered_page};
use skiff_core::services::Services;
use skiff_http::error::{ApiError, Problem};
use skiff_licensing::audit::{self, Action, Actor};
use skiff_licensing::keys::{HardwareId, LicenseKey};
use skiff_licensing::model::{
    EndReason, HEARTBEAT_INTERVAL_SECS, License, LicenseRef, RequestMeta, SessionRecord, Status,
    Validity, licenses_pk,
};
use skiff_licensing::repo::{self, Activation};
use skiff_licensing::seats::{self, SeatError};
use skiff_licensing::signing::{PublicKeyInfo, SeatClaims};
use skiff_licensing::{license_file, rfc3339, signer, signing};

fn rfc3339_opt(unix: Option<i64>) -> Option<String> {
    unix.map(rfc3339)
}

/// `GET /licenses/public-key`.
pub async fn public_key(services: &Services) -> Result<PublicKeyInfo, ApiError> {
    Ok(signer(services).await?.public_key())
}

/// The answer for a seat error.
pub fn seat_error(e: SeatError) -> ApiError {
    match e {
        SeatError::NotFound => ApiError::not_found("no license with this key"),
        SeatError::NotActive(v) => not_active(v),
        SeatError::Exhausted {
            seats_used,
            max_seats,
        } => {
            let mut extra = Map::new();
            extra.insert("seats_used".into(), seats_used.into());
            extra.insert("max_seats".into(), max_seats.into());
            ApiError::Custom(Box::new(Problem {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "SEATS_EXHAUSTED".into(),
                title: "Seats exhausted".into(),
                detail: format!(
                    "All {max_seats} seats of this license are in use; retry when one is released."
                ),
                extra,
            }))
        }
        SeatError::SessionExpired => ApiError::gone(
            "SESSION_EXPIRED",
            "The seat session has expired or was released; acquire a seat again.",
        ),
        SeatError::Contention(why) => {
            tracing::warn!(%why, "seat operation gave up");
            ApiError::Unavailable("The license is busy; retry shortly.".into())
        }
        SeatError::Store(e) => e.into(),
    }
}

/// 403 naming why a license cannot be used.
fn not_active(v: Validity) -> ApiError {
    let code = match v {
        Validity::Suspended => "SUSPENDED",
        Validity::Inactive => "INACTIVE",
        Validity::Expired => "EXPIRED",
        _ => "LICENSE_NOT_ACTIVE",
    };
    ApiError::forbidden(code, v.detail())
}

pub(crate) fn parse_key(raw: &str) -> Result<LicenseKey, ApiError> {
    LicenseKey::parse(raw)
        .map_err(|e| ApiError::invalid_field("license_key", "INVALID_LICENSE_KEY", e.0))
}

pub(crate) fn parse_hardware(raw: &str) -> Result<HardwareId, ApiError> {
    HardwareId::parse(raw)
        .map_err(|e| ApiError::invalid_field("hardware_id", "INVALID_HARDWARE_ID", e))
}

/// The license summary validation discloses to a key holder.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ValidationLicense {
    pub status: Status,
    pub tier: String,
    pub expires_at: String,
    pub grace_period_ends_at: Option<String>,
    pub seats_used: i64,
    pub max_seats: i64,
}

/// `POST /licenses/validate` answer (always 200 for a well-formed request).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ValidateResponse {
    pub valid: bool,
    pub code: &'static str,
    pub detail: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<ValidationLicense>,
}

/// Validate a key (and optionally a machine). Malformed input → 422.
pub async fn validate(
    services: &Services,
    license_key: &str,
    hardware_id: Option<&str>,
) -> Result<ValidateResponse, ApiError> {
    validate_in(
        services.store.as_ref(),
        services.clock.as_ref(),
        license_key,
        hardware_id,
    )
    .await
}

/// [`validate`] over the store and clock alone (what the benchmark measures).
pub async fn validate_in(
    store: &dyn skiff_core::ports::store::ItemStore,
    clock: &dyn skiff_core::clock::Clock,
    license_key: &str,
    hardware_id: Option<&str>,
) -> Result<ValidateResponse, ApiError> {
    let key = parse_key(license_key)?;
    let hardware = hardware_id.map(parse_hardware).transpose()?;
    let Some(license) = repo::by_key(store, &key).await? else {
        return Ok(ValidateResponse {
            valid: false,
            code: Validity::NotFound.code(),
            detail: Validity::NotFound.detail(),
            license: None,
        });
    };
    let now = clock.unix();
    let mut validity = license.validity(now);
    if validity.is_valid()
        && let Some(hw) = &hardware
        && !repo::is_bound(store, &license.reference(), hw).await?
    {
        validity = Validity::HardwareMismatch;
    }
    let live = seats::list_seats(store, &license.reference())
        .await?
        .iter()
        .filter(|s| s.is_live(now))
        .count() as i64;
    Ok(ValidateResponse {
        valid: validity.is_valid(),
        code: validity.code(),
        detail: validity.detail(),
        license: Some(ValidationLicense {
            status: license.effective_status(now),
            tier: license.tier.clone(),
            expires_at: rfc3339(license.expires_at),
            grace_period_ends_at: rfc3339_opt(license.grace_period_ends_at),
            seats_used: live,
            max_seats: license.max_seats,
        }),
    })
}

/// `GET /licenses/{license_key}/status` answer.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct KeyStatus {
    pub status: Status,
    pub code: &'static str,
    pub expires_at: String,
    pub grace_period_ends_at: Option<String>,
}

/// Status of a license by key; an unknown key is 404.
pub async fn status_by_key(services: &Services, license_key: &str) -> Result<KeyStatus, ApiError> {
    let key = parse_key(license_key)?;
    let license = repo::by_key(services.store.as_ref(), &key)
        .await?
        .ok_or_else(|| ApiError::not_found("no license with this key"))?;
    let now = services.clock.unix();
    Ok(KeyStatus {
        status: license.effective_status(now),
        code: license.validity(now).code(),
        expires_at: rfc3339(license.expires_at),
        grace_period_ends_at: rfc3339_opt(license.grace_period_ends_at),
    })
}

/// `POST /licenses/activate` answer.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ActivateResponse {
    pub license_id: LicenseId,
    pub hardware_id: HardwareId,
    pub activated_at: String,
    /// `false` when the machine was already bound (idempotent re-activation).
    pub newly_activated: bool,
    pub status: Status,
}

/// Bind a machine to the license of `license_key`.
pub async fn activate(
    services: &Services,
    license_key: &str,
    hardware_id: &str,
    meta: &RequestMeta,
) -> Result<ActivateResponse, ApiError> {
    let key = parse_key(license_key)?;
    let hw = parse_hardware(hardware_id)?;
    let store = services.store.as_ref();
    let license = repo::by_key(store, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("no license with this key"))?;
    let now = services.clock.unix();
    let validity = license.validity(now);
    if !validity.is_valid() {
        return Err(not_active(validity));
    }
    match repo::activate(store, services.clock.as_ref(), &license, &hw, meta).await? {
        Activation::Bound { machine, new } => {
            if new {
                audit::record_logged(
                    store,
                    services.clock.as_ref(),
                    &license.org_id,
                    &license.license_id,
                    Action::LicenseActivated,
                    &Actor::from_meta(meta),
                    meta,
                    json!({ "hardware_id": machine.hardware_id }),
                )
                .await;
            }
            Ok(ActivateResponse {
                license_id: license.license_id,
                hardware_id: machine.hardware_id,
                activated_at: rfc3339(machine.activated_at),
                newly_activated: new,
                status: license.status,
            })
        }
        Activation::LimitReached { limit } => Err(ApiError::conflict(
            "ACTIVATION_LIMIT",
            format!(
                "This license already binds {limit} machines, as many as it may; \
                 unbind one (POST /api/v1/licenses/deactivate from that machine, or an \
                 admin's DELETE /api/v1/licenses/{{id}}/machines/{{hardware_id}}) first."
            ),
        )),
    }
}

/// Unbind a machine and end its session, recording who did it. A machine that is
/// not bound is not an error (unbinding twice answers the same).
async fn unbind(
    services: &Services,
    license: &License,
    hardware_id: &HardwareId,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let unbound = seats::unbind_machine(
        services.store.as_ref(),
        services.clock.as_ref(),
        &license.reference(),
        hardware_id,
        meta,
    )
    .await
    .map_err(seat_error)?;
    if unbound.changed() {
        tracing::info!(
            license_id = %license.license_id,
            was_bound = unbound.machine.is_some(),
            ended_session = unbound.ended.is_some(),
            "machine unbound"
        );
    }
    Ok(())
}

/// `DELETE /licenses/{id}/machines/{hardware_id}`: an org admin unbinds a machine of
/// one of the org's licenses (another org's license is 404).
pub async fn deactivate_machine(
    services: &Services,
    org_id: &OrgId,
    license_id: &LicenseId,
    hardware_id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let hw = parse_hardware(hardware_id)?;
    let license = owned(services, org_id, license_id).await?;
    unbind(services, &license, &hw, meta).await
}

/// `POST /licenses/deactivate`: the machine unbinds itself with the license key, as
/// it activated. Any status of the license allows it (leaving is always possible).
pub async fn deactivate_by_key(
    services: &Services,
    license_key: &str,
    hardware_id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let key = parse_key(license_key)?;
    let hw = parse_hardware(hardware_id)?;
    let license = repo::by_key(services.store.as_ref(), &key)
        .await?
        .ok_or_else(|| ApiError::not_found("no license with this key"))?;
    unbind(services, &license, &hw, meta).await
}

/// `POST /licenses/acquire` answer.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct AcquireResponse {
    pub session_id: SeatSessionId,
    pub signed_token: String,
    pub expires_at: String,
    pub heartbeat_interval: i64,
    pub license_id: LicenseId,
    /// The machine already held this session: refreshed, no new seat used.
    pub refreshed: bool,
}

/// Take a seat of the license of `license_key` for a machine, as a member of
/// `org_id` (a license of another org is 404).
pub async fn acquire(
    services: &Services,
    org_id: &OrgId,
    key: &LicenseKey,
    hw: &HardwareId,
    meta: &RequestMeta,
) -> Result<AcquireResponse, ApiError> {
    let store = services.store.as_ref();
    let clock = services.clock.as_ref();
    let license = repo::by_key(store, key)
        .await?
        .filter(|l| l.org_id == *org_id)
        .ok_or_else(|| ApiError::not_found("no license with this key"))?;
    let signer = signer(services).await?;
    let lic = license.reference();
    let acquired = seats::acquire(store, clock, &lic, hw, meta)
        .await
        .map_err(seat_error)?;
    let seat = &acquired.seat;
    let token = signer.seat_token(&SeatClaims {
        iss: signing::ISSUER.into(),
        aud: signing::SEAT_AUDIENCE.into(),
        sub: meta.user_id.clone(),
        org: seat.org_id.clone(),
        lic: seat.license_id.clone(),
        sid: seat.session_id.clone(),
        hw: seat.hw_hash.clone(),
        iat: clock.unix(),
    });
    Ok(AcquireResponse {
        session_id: seat.session_id.clone(),
        signed_token: token,
        expires_at: rfc3339(seat.lease_until),
        heartbeat_interval: HEARTBEAT_INTERVAL_SECS,
        license_id: seat.license_id.clone(),
        refreshed: acquired.refreshed,
    })
}

/// A seat token that does not belong to the session it is presented for (or a
/// session id that names no session at all: no token can be valid for it).
pub fn invalid_seat_token() -> ApiError {
    ApiError::unauthorized(
        "INVALID_SEAT_TOKEN",
        "The seat token is not valid for this session.",
    )
}

/// A license id from the path: one that cannot exist is as absent as another org's.
pub fn license_id(raw: &str) -> Result<LicenseId, ApiError> {
    LicenseId::parse(raw).map_err(|_| ApiError::not_found("no such license"))
}

/// Check a seat token against the session it is presented for.
pub async fn seat_claims(
    services: &Services,
    org_id: &OrgId,
    session_id: &SeatSessionId,
    token: &str,
) -> Result<SeatClaims, ApiError> {
    let claims = signer(services)
        .await?
        .verify_seat_token(token)
        .map_err(|_| invalid_seat_token())?;
    if claims.sid != *session_id || claims.org != *org_id {
        return Err(invalid_seat_token());
    }
    Ok(claims)
}

/// `POST /licenses/heartbeat` answer.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct HeartbeatResponse {
    pub session_id: SeatSessionId,
    pub expires_at: String,
    pub heartbeat_interval: i64,
}

/// Extend the lease of the session a verified seat token names ([`seat_claims`]).
pub async fn heartbeat(
    services: &Services,
    claims: &SeatClaims,
) -> Result<HeartbeatResponse, ApiError> {
    let seat = seats::heartbeat(
        services.store.as_ref(),
        services.clock.as_ref(),
        &LicenseRef::new(&claims.org, &claims.lic),
        &claims.hw,
        &claims.sid,
    )
    .await
    .map_err(seat_error)?;
    Ok(HeartbeatResponse {
        session_id: seat.session_id,
        expires_at: rfc3339(seat.lease_until),
        heartbeat_interval: HEARTBEAT_INTERVAL_SECS,
    })
}

/// End a session (idempotent: an ended session answers the same).
pub async fn release(
    services: &Services,
    org_id: &OrgId,
    session_id: &SeatSessionId,
    token: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let claims = seat_claims(services, org_id, session_id, token).await?;
    seats::release(
        services.store.as_ref(),
        services.clock.as_ref(),
        &LicenseRef::new(&claims.org, &claims.lic),
        &claims.hw,
        &claims.sid,
        meta,
    )
    .await
    .map_err(seat_error)?;
    Ok(())
}

/// A license as its org's members see it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct LicenseView {
    pub id: LicenseId,
    pub key: String,
    pub org_id: OrgId,
    pub plan_id: String,
    pub tier: String,
    pub features: Vec<String>,
    pub status: Status,
    pub max_seats: i64,
    /// Live sessions.
    pub seats_used: i64,
    /// `null` when unlimited.
    pub seats_remaining: Option<i64>,
    pub issued_at: String,
    pub activated_at: Option<String>,
    pub suspended_at: Option<String>,
    pub deactivated_at: Option<String>,
    pub grace_period_ends_at: Option<String>,
    pub expires_at: String,
    pub hardware_ids: Vec<HardwareId>,
}

async fn view(services: &Services, license: &License) -> Result<LicenseView, ApiError> {
    let store = services.store.as_ref();
    let now = services.clock.unix();
    let lic = license.reference();
    let live = seats::list_seats(store, &lic)
        .await?
        .iter()
        .filter(|s| s.is_live(now))
        .count() as i64;
    let machines = repo::machines(store, &lic).await?;
    Ok(LicenseView {
        id: license.license_id.clone(),
        key: license.key.clone(),
        org_id: license.org_id.clone(),
        plan_id: license.plan_id.clone(),
        tier: license.tier.clone(),
        features: license.features.clone(),
        status: license.effective_status(now),
        max_seats: license.max_seats,
        seats_used: live,
        seats_remaining: (!license.is_unlimited()).then(|| (license.max_seats - live).max(0)),
        issued_at: rfc3339(license.issued_at),
        activated_at: rfc3339_opt(license.activated_at),
        suspended_at: rfc3339_opt(license.suspended_at),
        deactivated_at: rfc3339_opt(license.deactivated_at),
        grace_period_ends_at: rfc3339_opt(license.grace_period_ends_at),
        expires_at: rfc3339(license.expires_at),
        hardware_ids: machines.into_iter().map(|m| m.hardware_id).collect(),
    })
}

/// Filters of `GET /licenses`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub tier: Option<String>,
    /// Unix seconds: only licenses expiring before.
    pub expires_before: Option<i64>,
}

/// One page of the org's licenses matching `filter`, oldest first, and the store
/// position after it (filters apply after a bounded read, so a page may be short).
pub async fn list(
    services: &Services,
    org_id: &OrgId,
    filter: &ListFilter,
    limit: usize,
    position: Option<String>,
) -> Result<(Vec<LicenseView>, Option<String>), ApiError> {
    let now = services.clock.unix();
    let (licenses, next) = filtered_page(
        services.store.as_ref(),
        Query::partition(licenses_pk(org_id)).after(position),
        limit,
        |item| {
            let license: License = item.parse()?;
            let skip = filter
                .status
                .is_some_and(|s| license.effective_status(now) != s)
                || filter.tier.as_ref().is_some_and(|t| &license.tier != t)
                || filter
                    .expires_before
                    .is_some_and(|t| license.expires_at >= t);
            Ok((!skip).then_some(license))
        },
    )
    .await?;
    let mut out = Vec::with_capacity(licenses.len());
    for license in &licenses {
        out.push(view(services, license).await?);
    }
    Ok((out, next))
}

async fn owned(
    services: &Services,
    org_id: &OrgId,
    license_id: &LicenseId,
) -> Result<License, ApiError> {
    repo::get(
        services.store.as_ref(),
        &LicenseRef::new(org_id, license_id),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("no such license"))
}

/// One license of the org (another org's id is 404).
pub async fn get(
    services: &Services,
    org_id: &OrgId,
    license_id: &LicenseId,
) -> Result<LicenseView, ApiError> {
    let license = owned(services, org_id, license_id).await?;
    view(services, &license).await
}

/// `GET /licenses/{id}/download`: (file name, armored file).
pub async fn download(
    services: &Services,
    org_id: &OrgId,
    license_id: &LicenseId,
) -> Result<(String, String), ApiError> {
    let license = owned(services, org_id, license_id).await?;
    let file = license_file(services, &license).await?;
    Ok((format!("{}.skiff-license", license.license_id), file))
}

/// One session in `GET /licenses/{id}/sessions`.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SessionView {
    pub session_id: SeatSessionId,
    /// `active`, or how it ended: `released`, `expired`, `suspended`, `deactivated`,
    /// `downgraded`, `machine_deactivated`.
    pub status: String,
    pub machine: HardwareId,
    pub user_id: Option<UserId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Lease end of an active session.
    pub expires_at: Option<String>,
    pub duration_secs: i64,
}

/// `GET /licenses/{id}/sessions` answer.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SessionsView {
    pub active: Vec<SessionView>,
    pub past: Vec<SessionView>,
}

fn reason_label(r: EndReason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Where a sessions page starts: in the seat partition (live and expired sessions),
/// then in the history (ended ones, newest first). The position is `s:<store
/// cursor>` or `h:[<store cursor>]`.
enum SessionsFrom {
    Seats(Option<String>),
    History(Option<String>),
}

impl SessionsFrom {
    fn parse(position: Option<String>) -> Result<Self, ApiError> {
        let Some(p) = position else {
            return Ok(Self::Seats(None));
        };
        let some = |c: &str| (!c.is_empty()).then(|| c.to_owned());
        if let Some(c) = p.strip_prefix("s:") {
            Ok(Self::Seats(some(c)))
        } else if let Some(c) = p.strip_prefix("h:") {
            Ok(Self::History(some(c)))
        } else {
            Err(ApiError::bad_request(
                "INVALID_CURSOR",
                "`cursor` is not one this list returned; start again without it",
            ))
        }
    }
}

/// One page of a license's sessions: the seats (live ones in `active`, expired ones
/// not yet reclaimed in `past`) first, then the ended sessions newest first. Reads
/// at most `limit` items; returns the store position after the page.
pub async fn sessions(
    services: &Services,
    org_id: &OrgId,
    license_id: &LicenseId,
    limit: usize,
    position: Option<String>,
) -> Result<(SessionsView, Option<String>), ApiError> {
    let license = owned(services, org_id, license_id).await?;
    let lic = license.reference();
    let store = services.store.as_ref();
    let now = services.clock.unix();
    let limit = limit.max(1);
    let mut active = vec![];
    let mut past = vec![];
    let mut from = SessionsFrom::parse(position)?;
    if let SessionsFrom::Seats(cursor) = from {
        let page = store
            .query(Query::partition(lic.seats_pk()).limit(limit).after(cursor))
            .await?;
        for item in &page.items {
            let seat: skiff_licensing::model::Seat = item.parse()?;
            if seat.is_live(now) {
                active.push(SessionView {
                    session_id: seat.session_id.clone(),
                    status: "active".into(),
                    machine: seat.hardware_id.clone(),
                    user_id: seat.user_id.clone(),
                    ip: seat.ip.clone(),
                    user_agent: seat.user_agent.clone(),
                    started_at: rfc3339(seat.started_at),
                    ended_at: None,
                    expires_at: Some(rfc3339(seat.lease_until)),
                    duration_secs: now - seat.started_at,
                });
            } else {
                // Expired, not yet reclaimed: over, though not yet in the history.
                past.push(past_view(&SessionRecord::ended(
                    &seat,
                    EndReason::Expired,
                    now,
                )));
            }
        }
        active.sort_by(|a, b| b.started_at.cmp(&a.started_at));
        let read = page.items.len();
        if let Some(next) = page.next {
            return Ok((SessionsView { active, past }, Some(format!("s:{next}"))));
        }
        if read >= limit {
            return Ok((SessionsView { active, past }, Some("h:".into())));
        }
        from = SessionsFrom::History(None);
    }
    let SessionsFrom::History(cursor) = from else {
        unreachable!("the seat phase returns or moves on to the history")
    };
    let room = limit - active.len() - past.len();
    let page = store
        .query(
            Query::partition(lic.history_pk())
                .descending()
                .limit(room.max(1))
                .after(cursor),
        )
        .await?;
    for item in &page.items {
        past.push(past_view(&item.parse::<SessionRecord>()?));
    }
    Ok((
        SessionsView { active, past },
        page.next.map(|n| format!("h:{n}")),
    ))
}

fn past_view(r: &SessionRecord) -> SessionView {
    SessionView {
        session_id: r.session_id.clone(),
        status: reason_label(r.end_reason),
        machine: r.hardware_id.clone(),
        user_id: r.user_id.clone(),
        ip: r.ip.clone(),
        user_agent: r.user_agent.clone(),
        started_at: rfc3339(r.started_at),
        ended_at: Some(rfc3339(r.ended_at)),
        expires_at: None,
        duration_secs: (r.ended_at - r.started_at).max(0),
    }
}

/// One audit entry as served.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct AuditView {
    pub id: String,
    pub action: Action,
    pub license_id: LicenseId,
    pub actor: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: String,
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// `GET /licenses/audit` answer.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditView>,
}

/// One page of the org's audit entries, newest first, and the store position after it.
pub async fn audit_log(
    services: &Services,
    org_id: &OrgId,
    license_id: Option<&LicenseId>,
    limit: usize,
    cursor: Option<String>,
) -> Result<(AuditPage, Option<String>), ApiError> {
    let (entries, next) =
        audit::list(services.store.as_ref(), org_id, license_id, limit, cursor).await?;
    let page = AuditPage {
        entries: entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id,
                action: e.action,
                license_id: e.license_id,
                actor: e.actor,
                ip: e.ip,
                user_agent: e.user_agent,
                at: rfc3339(e.at),
                detail: e.detail,
            })
            .collect(),
    };
    Ok((page, next))
}
