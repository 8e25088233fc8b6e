//! The floating-seat session: acquire once, then a background task keeps the seat
//! alive and heals what can be healed.
//!
//! * It heartbeats every `heartbeat_interval` the server asks for.
//! * A failed heartbeat is retried [`SeatOptions::retries`] times with exponential
//!   backoff and jitter (or after `Retry-After` when rate limited).
//! * `410 SESSION_EXPIRED` (the lease ran out, an admin unbound the machine) or a
//!   seat token the server no longer accepts: it acquires again.
//! * `429 SEATS_EXHAUSTED` on that re-acquire: a [`SeatEvent::SeatsExhausted`]
//!   event, then a try every [`SeatOptions::exhausted_retry`] until the grace ends.
//! * The server cannot be reached: **offline mode** — [`SeatEvent::Offline`], a
//!   try every [`SeatOptions::offline_retry`] (5 min), [`SeatEvent::Restored`] when
//!   one succeeds, [`SeatEvent::Lost`] after [`SeatOptions::offline_grace`] (30 min).
//! * The license can no longer be used (suspended, expired, deactivated):
//!   [`SeatEvent::Lost`] with the server's code.
//!
//! The seat is released by [`SeatSession::release`], and on drop (best effort,
//! bounded by [`SeatOptions::release_timeout`]).
//!
//! ```no_run
//! # async fn run() -> skiff_client::Result<()> {
//! use skiff_client::{Client, SeatEvent, SeatOptions};
//!
//! let client = Client::new("https://api.example.com")?;
//! client.login("ada@example.com", "Correct1horse").await?;
//! let mut seat = client
//!     .acquire(SeatOptions::new("SKIFF-XXXX-XXXX-XXXX-XXXX-XXXX", "machine-fingerprint-0001"))
//!     .await?; // Err with code SEATS_EXHAUSTED when every seat is taken
//! let mut events = seat.take_events().expect("first call");
//! tokio::spawn(async move {
//!     while let Some(event) = events.recv().await {
//!         match event {
//!             SeatEvent::Lost { reason } => eprintln!("license lost: {reason}"),
//!             other => println!("{other:?}"),
//!         }
//!     }
//! });
//! // … run the product …
//! seat.release().await?;
//! # Ok(()) }
//! ```

use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::Seat;
use rand::Rng;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How a seat session behaves; the defaults follow the protocol's advice.
#[derive(Debug, Clone)]
pub struct SeatOptions {
    pub license_key: String,
    /// A stable fingerprint of the machine (10–255 printable characters).
    pub hardware_id: String,
    /// Tries after a failed heartbeat before going offline (3).
    pub retries: u32,
    /// The first backoff (1 s); each retry doubles it, jittered to 50–100 %.
    pub retry_base: Duration,
    /// How long the session stays licensed without reaching the server (30 min).
    pub offline_grace: Duration,
    /// How often it tries while offline (5 min).
    pub offline_retry: Duration,
    /// How often it asks again for a seat when all were taken (60 s: the
    /// protocol asks for at most once a minute).
    pub exhausted_retry: Duration,
    /// The bound of the release on shutdown or drop (5 s).
    pub release_timeout: Duration,
}

impl SeatOptions {
    pub fn new(license_key: impl Into<String>, hardware_id: impl Into<String>) -> Self {
        Self {
            license_key: license_key.into(),
            hardware_id: hardware_id.into(),
            retries: 3,
            retry_base: Duration::from_secs(1),
            offline_grace: Duration::from_secs(30 * 60),
            offline_retry: Duration::from_secs(5 * 60),
            exhausted_retry: Duration::from_secs(60),
            release_timeout: Duration::from_secs(5),
        }
    }

    pub fn offline_grace(mut self, grace: Duration) -> Self {
        self.offline_grace = grace;
        self
    }

    pub fn offline_retry(mut self, every: Duration) -> Self {
        self.offline_retry = every;
        self
    }

    pub fn retries(mut self, retries: u32, base: Duration) -> Self {
        self.retries = retries;
        self.retry_base = base;
        self
    }
}

/// What happened to the seat, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SeatEvent {
    /// A seat is held: at the start, and after acquiring again.
    Acquired {
        session_id: String,
        expires_at: String,
        /// The machine already held this session (no new seat was used).
        refreshed: bool,
    },
    /// A heartbeat renewed the lease.
    Renewed { expires_at: String },
    /// The server could not be reached; the session runs on its offline grace.
    Offline { since: SystemTime, error: String },
    /// The server answers again and the seat is held.
    Restored { offline_for: Duration },
    /// Acquiring again found every seat taken; the session keeps asking.
    SeatsExhausted {
        seats_used: Option<i64>,
        max_seats: Option<i64>,
    },
    /// The session ended for good; stop using the product (or ask again later).
    Lost { reason: LostReason },
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LostReason {
    /// The server was unreachable for the whole offline grace.
    #[error("the server could not be reached since {since:?}, longer than the offline grace")]
    OfflineTooLong { since: SystemTime },
    /// The license cannot be used: `SUSPENDED`, `EXPIRED`, `INACTIVE`, `NOT_FOUND`.
    #[error("the license cannot be used: {code}: {detail}")]
    License { code: String, detail: String },
    /// Every seat stayed taken for the whole grace.
    #[error("every seat of the license stayed taken")]
    SeatsExhausted,
    /// The user's sign-in ended (signed out elsewhere, account suspended).
    #[error("the user's sign-in ended: {detail}")]
    Unauthorized { detail: String },
    /// Any other refusal of the server.
    #[error("the server refused the seat: {code}: {detail}")]
    Refused { code: String, detail: String },
}

/// Where the session stands now.
#[derive(Debug, Clone, PartialEq)]
pub enum SeatState {
    /// A seat is held and renewed.
    Active,
    /// The server cannot be reached; licensed until `since` + the offline grace.
    Offline { since: SystemTime },
    /// Every seat is taken; asking again.
    Waiting { since: SystemTime },
    /// Ended; see the reason.
    Lost(LostReason),
    /// Released by the application.
    Released,
}

#[derive(Clone)]
struct Credentials {
    session_id: String,
    signed_token: String,
}

/// A held floating seat, kept alive in the background. Release it with
/// [`SeatSession::release`]; dropping it releases it too, on a best-effort basis.
pub struct SeatSession {
    client: Client,
    credentials: Arc<Mutex<Credentials>>,
    state: watch::Receiver<SeatState>,
    events: Option<mpsc::UnboundedReceiver<SeatEvent>>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    release_timeout: Duration,
    released: bool,
}

impl Client {
    /// Acquire a floating seat and keep it alive in the background (needs a
    /// signed-in user with a verified e-mail). A full license is an `Err` whose
    /// [`Error::is_seats_exhausted`] is true; a suspended or expired one carries
    /// the server's code (`SUSPENDED`, `EXPIRED`, `INACTIVE`).
    ///
    /// Must be called within a tokio runtime (the heartbeat is a task on it).
    pub async fn acquire(&self, options: SeatOptions) -> Result<SeatSession> {
        let seat = self
            .acquire_seat(&options.license_key, &options.hardware_id)
            .await?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(SeatState::Active);
        let (stop_tx, stop_rx) = watch::channel(false);
        let credentials = Arc::new(Mutex::new(Credentials {
            session_id: seat.session_id.clone(),
            signed_token: seat.signed_token.clone(),
        }));
        let _ = events_tx.send(acquired(&seat));
        let release_timeout = options.release_timeout;
        let runner = Runner {
            client: self.clone(),
            interval: interval_of(seat.heartbeat_interval),
            options,
            credentials: credentials.clone(),
            events: events_tx,
            state: state_tx,
            stop: stop_rx,
        };
        let task = tokio::spawn(runner.run());
        Ok(SeatSession {
            client: self.clone(),
            credentials,
            state: state_rx,
            events: Some(events_rx),
            stop: stop_tx,
            task: Some(task),
            release_timeout,
            released: false,
        })
    }
}

impl SeatSession {
    /// The events of this session, starting with the first `Acquired`. Returns
    /// `None` after the first call: move the receiver to whoever watches.
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<SeatEvent>> {
        self.events.take()
    }

    /// Where the session stands now.
    pub fn state(&self) -> SeatState {
        self.state.borrow().clone()
    }

    /// May the product run: a seat is held, or the server is unreachable and the
    /// offline grace has not run out.
    pub fn is_licensed(&self) -> bool {
        matches!(self.state(), SeatState::Active | SeatState::Offline { .. })
    }

    /// The server's id of the current session (it changes when the session
    /// acquires again).
    pub fn session_id(&self) -> String {
        lock(&self.credentials).session_id.clone()
    }

    /// Wait until the state satisfies `pred` (e.g. to block until `Lost`).
    pub async fn wait_for(&mut self, pred: impl FnMut(&SeatState) -> bool) -> SeatState {
        let reached = self.state.wait_for(pred).await.map(|s| s.clone());
        reached.unwrap_or_else(|_| self.state())
    }

    /// Stop heartbeating and give the seat back, bounded by the release timeout.
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(self.release_timeout, task).await;
        }
        let creds = lock(&self.credentials).clone();
        match tokio::time::timeout(
            self.release_timeout,
            self.client
                .release_seat(&creds.session_id, &creds.signed_token),
        )
        .await
        {
            Ok(answer) => answer,
            Err(_) => Err(Error::Decode(format!(
                "the release did not finish within {:?}",
                self.release_timeout
            ))),
        }
    }
}

impl Drop for SeatSession {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if self.released {
            return;
        }
        // Best effort: a release on the runtime we run on, if it still runs.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let client = self.client.clone();
            let creds = lock(&self.credentials).clone();
            let bound = self.release_timeout;
            handle.spawn(async move {
                let _ = tokio::time::timeout(
                    bound,
                    client.release_seat(&creds.session_id, &creds.signed_token),
                )
                .await;
            });
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn acquired(seat: &Seat) -> SeatEvent {
    SeatEvent::Acquired {
        session_id: seat.session_id.clone(),
        expires_at: seat.expires_at.clone(),
        refreshed: seat.refreshed,
    }
}

fn interval_of(secs: u64) -> Duration {
    Duration::from_secs(secs.max(1))
}

/// The delay before retry `attempt` (0-based): `base · 2^attempt`, jittered to a
/// uniform 50–100 % of it so many clients that failed together do not retry
/// together.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(1u32 << attempt.min(16));
    let half = full / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

/// The session ended or was asked to stop.
enum Stop {
    Requested,
    Lost(LostReason),
}

/// How one try went, classified for the state machine.
enum Outcome<T> {
    Ok(T),
    /// The session is gone or its token refused: acquire again.
    Gone,
    /// Every seat is taken.
    Exhausted(Error),
    /// Worth trying again later (unreachable, 5xx, rate limited).
    Transient(Error),
    /// The session cannot go on.
    Fatal(LostReason),
}

fn classify<T>(answer: Result<T>) -> Outcome<T> {
    let e = match answer {
        Ok(v) => return Outcome::Ok(v),
        Err(e) => e,
    };
    if e.is_transient() {
        return Outcome::Transient(e);
    }
    if e.is_seats_exhausted() {
        return Outcome::Exhausted(e);
    }
    let Some(api) = e.api() else {
        return Outcome::Fatal(LostReason::Refused {
            code: "CLIENT".into(),
            detail: e.to_string(),
        });
    };
    match (api.status, api.code.as_str()) {
        (410, _) | (404, "SESSION_NOT_FOUND") | (401, "INVALID_SEAT_TOKEN") => Outcome::Gone,
        (401, _) => Outcome::Fatal(LostReason::Unauthorized {
            detail: api.detail.clone(),
        }),
        (403 | 404, code) => Outcome::Fatal(LostReason::License {
            code: code.to_owned(),
            detail: api.detail.clone(),
        }),
        (_, code) => Outcome::Fatal(LostReason::Refused {
            code: code.to_owned(),
            detail: api.detail.clone(),
        }),
    }
}

/// The background task.
struct Runner {
    client: Client,
    options: SeatOptions,
    interval: Duration,
    credentials: Arc<Mutex<Credentials>>,
    events: mpsc::UnboundedSender<SeatEvent>,
    state: watch::Sender<SeatState>,
    stop: watch::Receiver<bool>,
}

impl Runner {
    async fn run(mut self) {
        match self.keep_alive().await {
            Stop::Requested => {
                self.state.send_replace(SeatState::Released);
            }
            Stop::Lost(reason) => {
                tracing::warn!(%reason, "seat session lost");
                self.state.send_replace(SeatState::Lost(reason.clone()));
                self.emit(SeatEvent::Lost { reason });
            }
        }
    }

    /// Send an event; callers set the state first, so whoever reads the event
    /// finds the state it led to.
    fn emit(&self, event: SeatEvent) {
        let _ = self.events.send(event);
    }

    fn now(&self) -> SystemTime {
        self.client.timer().now()
    }

    /// Sleep on the client's timer, unless asked to stop first.
    async fn sleep(&mut self, d: Duration) -> Result<(), Stop> {
        let sleep = self.client.timer().sleep(d);
        tokio::select! {
            _ = sleep => Ok(()),
            _ = self.stop.wait_for(|s| *s) => Err(Stop::Requested),
        }
    }

    /// Run a call, unless asked to stop first.
    async fn call<T>(
        &mut self,
        f: impl std::future::Future<Output = Result<T>>,
    ) -> Result<Outcome<T>, Stop> {
        tokio::select! {
            answer = f => Ok(classify(answer)),
            _ = self.stop.wait_for(|s| *s) => Err(Stop::Requested),
        }
    }

    async fn heartbeat_once(&mut self) -> Result<Outcome<crate::types::Heartbeat>, Stop> {
        let creds = lock(&self.credentials).clone();
        let client = self.client.clone();
        self.call(async move {
            client
                .heartbeat_seat(&creds.session_id, &creds.signed_token)
                .await
        })
        .await
    }

    async fn acquire_once(&mut self) -> Result<Outcome<Seat>, Stop> {
        let client = self.client.clone();
        let (key, hw) = (
            self.options.license_key.clone(),
            self.options.hardware_id.clone(),
        );
        self.call(async move { client.acquire_seat(&key, &hw).await })
            .await
    }

    fn take(&mut self, seat: &Seat) {
        *lock(&self.credentials) = Credentials {
            session_id: seat.session_id.clone(),
            signed_token: seat.signed_token.clone(),
        };
        self.interval = interval_of(seat.heartbeat_interval);
        self.emit(acquired(seat));
    }

    async fn keep_alive(&mut self) -> Stop {
        loop {
            if let Err(stop) = self.sleep(self.interval).await {
                return stop;
            }
            if let Err(stop) = self.beat().await {
                return stop;
            }
        }
    }

    /// One heartbeat with its retries, and whatever its failure leads to.
    async fn beat(&mut self) -> Result<(), Stop> {
        let mut attempt = 0;
        let mut first_failure = None;
        loop {
            let outcome = self.heartbeat_once().await?;
            if matches!(outcome, Outcome::Transient(_)) {
                first_failure.get_or_insert(self.now());
            }
            match outcome {
                Outcome::Ok(hb) => {
                    self.interval = interval_of(hb.heartbeat_interval);
                    self.emit(SeatEvent::Renewed {
                        expires_at: hb.expires_at,
                    });
                    return Ok(());
                }
                Outcome::Gone => return self.acquire_again().await,
                Outcome::Transient(e) if attempt < self.options.retries => {
                    let wait = e
                        .api()
                        .and_then(|a| a.retry_after)
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| backoff(self.options.retry_base, attempt));
                    tracing::debug!(error = %e, attempt, ?wait, "heartbeat failed; retrying");
                    attempt += 1;
                    self.sleep(wait).await?;
                }
                Outcome::Transient(e) | Outcome::Exhausted(e) => {
                    let since = first_failure.unwrap_or_else(|| self.now());
                    return self.offline(since, e).await;
                }
                Outcome::Fatal(reason) => return Err(Stop::Lost(reason)),
            }
        }
    }

    /// The session is gone: acquire a seat again.
    async fn acquire_again(&mut self) -> Result<(), Stop> {
        match self.acquire_once().await? {
            Outcome::Ok(seat) => {
                self.state.send_replace(SeatState::Active);
                self.take(&seat);
                Ok(())
            }
            Outcome::Exhausted(e) => self.exhausted(e).await,
            Outcome::Transient(e) => self.offline(self.now(), e).await,
            Outcome::Gone => Err(Stop::Lost(LostReason::Refused {
                code: "SESSION_EXPIRED".into(),
                detail: "a fresh seat was refused at once".into(),
            })),
            Outcome::Fatal(reason) => Err(Stop::Lost(reason)),
        }
    }

    /// Every seat is taken: say so, then ask again every `exhausted_retry` within
    /// the grace.
    async fn exhausted(&mut self, e: Error) -> Result<(), Stop> {
        let since = self.now();
        let count = |k: &str| e.api().and_then(|a| a.body.get(k)).and_then(|v| v.as_i64());
        self.state.send_replace(SeatState::Waiting { since });
        self.emit(SeatEvent::SeatsExhausted {
            seats_used: count("seats_used"),
            max_seats: count("max_seats"),
        });
        loop {
            let elapsed = self.now().duration_since(since).unwrap_or_default();
            if elapsed >= self.options.offline_grace {
                return Err(Stop::Lost(LostReason::SeatsExhausted));
            }
            let wait = self
                .options
                .exhausted_retry
                .min(self.options.offline_grace - elapsed);
            self.sleep(wait).await?;
            match self.acquire_once().await? {
                Outcome::Ok(seat) => {
                    self.state.send_replace(SeatState::Active);
                    self.take(&seat);
                    return Ok(());
                }
                Outcome::Exhausted(_) | Outcome::Transient(_) | Outcome::Gone => {}
                Outcome::Fatal(reason) => return Err(Stop::Lost(reason)),
            }
        }
    }

    /// The server cannot be reached: stay licensed for the grace, trying every
    /// `offline_retry`.
    async fn offline(&mut self, since: SystemTime, e: Error) -> Result<(), Stop> {
        tracing::warn!(error = %e, "seat session offline");
        self.state.send_replace(SeatState::Offline { since });
        self.emit(SeatEvent::Offline {
            since,
            error: e.to_string(),
        });
        loop {
            let elapsed = self.now().duration_since(since).unwrap_or_default();
            if elapsed >= self.options.offline_grace {
                return Err(Stop::Lost(LostReason::OfflineTooLong { since }));
            }
            let wait = self
                .options
                .offline_retry
                .min(self.options.offline_grace - elapsed);
            self.sleep(wait).await?;
            let restored = match self.heartbeat_once().await? {
                Outcome::Ok(hb) => {
                    self.interval = interval_of(hb.heartbeat_interval);
                    true
                }
                // The lease ran out while away: take a seat again.
                Outcome::Gone => match self.acquire_once().await? {
                    Outcome::Ok(seat) => {
                        self.take(&seat);
                        true
                    }
                    Outcome::Exhausted(e) => {
                        self.restored(since);
                        return self.exhausted(e).await;
                    }
                    Outcome::Transient(_) | Outcome::Gone => false,
                    Outcome::Fatal(reason) => return Err(Stop::Lost(reason)),
                },
                Outcome::Transient(_) | Outcome::Exhausted(_) => false,
                Outcome::Fatal(reason) => return Err(Stop::Lost(reason)),
            };
            if restored {
                self.state.send_replace(SeatState::Active);
                self.restored(since);
                return Ok(());
            }
        }
    }

    fn restored(&self, since: SystemTime) {
        self.emit(SeatEvent::Restored {
            offline_for: self.now().duration_since(since).unwrap_or_default(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_jitters_within_half_to_full() {
        let base = Duration::from_secs(1);
        for attempt in 0..4 {
            let full = base * (1 << attempt);
            for _ in 0..200 {
                let d = backoff(base, attempt);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
        let draws: std::collections::HashSet<_> = (0..50).map(|_| backoff(base, 3)).collect();
        assert!(draws.len() > 1, "jittered");
    }
}
