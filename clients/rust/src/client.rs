//! The client: one base URL, one credential, and the request plumbing every call
//! shares (bearer token, transparent refresh, error answers → [`Error`]).

use crate::error::{ApiError, Error, Result};
use crate::progress::Progress;
use crate::time::{SystemTimer, Timer};
use crate::types::{Me, TokenPair};
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// Refresh the access token when it has less than this left, so a request never
/// leaves with a token that expires on the way.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// A Skiff API client. Cheap to clone: clones share the credential, so a token
/// refreshed by one is used by all.
///
/// ```no_run
/// # async fn run() -> skiff_client::Result<()> {
/// use skiff_client::Client;
///
/// let client = Client::new("https://api.example.com")?;
/// client.login("ada@example.com", "Correct1horse").await?;
/// let me = client.me().await?;
/// println!("signed in as {} in {}", me.email, me.org.name);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Told how record and backup transfers advance (see [`Client::with_progress`]).
    pub(crate) progress: Option<Progress>,
}

pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) timer: Arc<dyn Timer>,
    credential: Mutex<Credential>,
}

enum Credential {
    None,
    ApiKey(Zeroizing<String>),
    Session(Session),
}

struct Session {
    access: Zeroizing<String>,
    refresh: Zeroizing<String>,
    expires_at: SystemTime,
}

/// Options of a [`Client`].
pub struct ClientBuilder {
    base: String,
    timer: Arc<dyn Timer>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
}

impl ClientBuilder {
    /// The clock and sleeper (token expiry, seat heartbeats, backoff); tests
    /// inject [`crate::time::ManualTime`].
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = timer;
        self
    }

    /// The bound of one request, from connecting to the last byte (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bound of connecting (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` the server records with seat sessions (default
    /// `skiff-client/<version>`): name your product here.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    pub fn build(self) -> Result<Client> {
        // reqwest's rustls takes the process-wide crypto provider; install
        // aws-lc-rs unless the application chose one already.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(Error::Transport)?;
        let base = self.base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::InvalidInput(format!(
                "the server URL must start with http:// or https://, got {base:?}"
            )));
        }
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                http,
                timer: self.timer,
                credential: Mutex::new(Credential::None),
            }),
            progress: None,
        })
    }
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:3000`), not
    /// signed in.
    pub fn new(base_url: impl Into<String>) -> Result<Self> {
        Self::builder(base_url).build()
    }

    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base: base_url.into(),
            timer: Arc::new(SystemTimer),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("skiff-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// A clone of this client (the same credential) whose record and backup
    /// transfers report how far they are: `watch(done, total)` is called as the
    /// bytes go out or come in, `total` when it is known (an upload's body, a
    /// download's `Content-Length`). An upload sent again after a refreshed token
    /// starts again from 0.
    ///
    /// ```no_run
    /// # async fn run(client: skiff_client::Client, sealed: Vec<u8>) -> skiff_client::Result<()> {
    /// let watched = client.with_progress(|done, total| eprintln!("{done} of {total:?} bytes"));
    /// watched.push_backup("2.1.0", 1_700_000_000_000, sealed).await?;
    /// # Ok(()) }
    /// ```
    pub fn with_progress(
        &self,
        watch: impl Fn(u64, Option<u64>) + Send + Sync + 'static,
    ) -> Client {
        Client {
            inner: self.inner.clone(),
            progress: Some(Progress::new(watch)),
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub(crate) fn timer(&self) -> &Arc<dyn Timer> {
        &self.inner.timer
    }

    /// Act with an API key (`sk_live_…`) from now on: it never expires on its own
    /// and needs no refresh; seat routes need a signed-in user instead.
    pub async fn use_api_key(&self, key: impl Into<String>) {
        *self.inner.credential.lock().await = Credential::ApiKey(Zeroizing::new(key.into()));
    }

    /// Sign in with e-mail and password; the client keeps the tokens and refreshes
    /// them before they expire.
    pub async fn login(&self, email: &str, password: &str) -> Result<()> {
        let pair: TokenPair = self
            .send_json(
                self.raw(Method::POST, "/api/v1/auth/login")
                    .json(&serde_json::json!({"email": email, "password": password})),
            )
            .await?;
        self.keep(pair).await;
        Ok(())
    }

    /// Resume a signed-in session from a refresh token kept from an earlier run
    /// (see [`Client::refresh_token`]): exchanges it for a new pair at once.
    pub async fn resume(&self, refresh_token: &str) -> Result<()> {
        let pair = self.exchange(refresh_token).await?;
        self.keep(pair).await;
        Ok(())
    }

    /// The current refresh token, to keep for the next run (it rotates: keep the
    /// newest). `None` with an API key or when not signed in.
    pub async fn refresh_token(&self) -> Option<String> {
        match &*self.inner.credential.lock().await {
            Credential::Session(s) => Some(s.refresh.to_string()),
            _ => None,
        }
    }

    /// Sign out: the server revokes this session's refresh token, and the client
    /// forgets its tokens (also when the server cannot be reached).
    pub async fn logout(&self) -> Result<()> {
        let answer = match self.authorized(Method::POST, "/api/v1/auth/logout").await {
            Ok(req) => self.send_empty(req).await,
            Err(Error::NotSignedIn) => Ok(()),
            Err(e) => Err(e),
        };
        *self.inner.credential.lock().await = Credential::None;
        answer
    }

    /// The signed-in user and the org the token acts in.
    pub async fn me(&self) -> Result<Me> {
        self.get_json("/api/v1/auth/me").await
    }

    async fn keep(&self, pair: TokenPair) {
        let expires_at = self.inner.timer.now() + Duration::from_secs(pair.expires_in);
        *self.inner.credential.lock().await = Credential::Session(Session {
            access: Zeroizing::new(pair.access_token),
            refresh: Zeroizing::new(pair.refresh_token),
            expires_at,
        });
    }

    async fn exchange(&self, refresh_token: &str) -> Result<TokenPair> {
        self.send_json(
            self.raw(Method::POST, "/api/v1/auth/refresh")
                .json(&serde_json::json!({"refresh_token": refresh_token})),
        )
        .await
    }

    /// The bearer credential, refreshed first when it is about to expire (or when
    /// `force`). The lock is held across the refresh: refresh tokens rotate, and
    /// two refreshes with one token would have the server revoke the session.
    async fn bearer(&self, force: bool) -> Result<Zeroizing<String>> {
        let mut cred = self.inner.credential.lock().await;
        match &mut *cred {
            Credential::None => Err(Error::NotSignedIn),
            Credential::ApiKey(k) => Ok(k.clone()),
            Credential::Session(s) => {
                let now = self.inner.timer.now();
                let due = s
                    .expires_at
                    .duration_since(now)
                    .map(|left| left < REFRESH_BEFORE_EXPIRY)
                    .unwrap_or(true);
                if force || due {
                    let pair = self.exchange(&s.refresh).await?;
                    s.access = Zeroizing::new(pair.access_token);
                    s.refresh = Zeroizing::new(pair.refresh_token);
                    s.expires_at = now + Duration::from_secs(pair.expires_in);
                }
                Ok(s.access.clone())
            }
        }
    }

    async fn is_session(&self) -> bool {
        matches!(&*self.inner.credential.lock().await, Credential::Session(_))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.base, path)
    }

    /// A request without credentials (public routes).
    pub(crate) fn raw(&self, method: Method, path: &str) -> RequestBuilder {
        self.inner.http.request(method, self.url(path))
    }

    /// A request with the bearer credential.
    pub(crate) async fn authorized(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let token = self.bearer(false).await?;
        Ok(self.raw(method, path).bearer_auth(token.as_str()))
    }

    /// Send an authorized request; a 401 with a session (the access token was
    /// revoked or the signing key rotated) refreshes once and sends it again — a
    /// request answered 401 did nothing, so sending it again is safe.
    pub(crate) async fn send_authorized(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response> {
        Self::checked(self.send_authorized_answer(method, path, build).await?).await
    }

    /// As [`Client::send_authorized`], but any answer but that first 401 is the
    /// caller's to read (a script's own answer may be a 404).
    pub(crate) async fn send_authorized_answer(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response> {
        let first = build(self.authorized(method.clone(), path).await?);
        let resp = first.send().await.map_err(Error::from_reqwest)?;
        if resp.status() == StatusCode::UNAUTHORIZED && self.is_session().await {
            let token = self.bearer(true).await?;
            let again = build(self.raw(method, path).bearer_auth(token.as_str()));
            return again.send().await.map_err(Error::from_reqwest);
        }
        Ok(resp)
    }

    /// Send; a non-2xx answer becomes [`Error::Api`].
    pub(crate) async fn send(&self, req: RequestBuilder) -> Result<Response> {
        Self::checked(req.send().await.map_err(Error::from_reqwest)?).await
    }

    async fn checked(resp: Response) -> Result<Response> {
        if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(resp);
        }
        Err(Self::api_error(resp).await)
    }

    /// A non-2xx answer as [`Error::Api`].
    pub(crate) async fn api_error(resp: Response) -> Error {
        let status = resp.status().as_u16();
        let header_text = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header_text("x-request-id");
        let retry_after = header_text(header::RETRY_AFTER.as_str()).and_then(|v| v.parse().ok());
        let body = resp.bytes().await.unwrap_or_default();
        Error::Api(Box::new(ApiError::from_answer(
            status,
            request_id,
            retry_after,
            &body,
        )))
    }

    pub(crate) async fn send_json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        decode(self.send(req).await?).await
    }

    pub(crate) async fn send_empty(&self, req: RequestBuilder) -> Result<()> {
        self.send(req).await.map(drop)
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        decode(self.send_authorized(Method::GET, path, |r| r).await?).await
    }
}

/// Read a JSON answer.
pub(crate) async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T> {
    let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))
}

/// Percent-encode one path segment (license keys, hardware ids, record ids).
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
