//! One error type for every call, carrying what the server said.

use serde_json::Value;

/// Everything a call can fail with.
///
/// Server answers keep the problem+json `code`, the HTTP `status` and the
/// `request_id` (quote it when you ask the operators about a failure); read them
/// with [`Error::code`], [`Error::status`] and [`Error::request_id`] whatever the
/// variant.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error (problem+json, or AutoMem's shape on the
    /// memory routes).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The server could not be reached: connection refused or reset, DNS, or a
    /// timeout. The seat session treats it as "offline".
    #[error("cannot reach the server: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// Any other transport failure (a malformed URL, a redirect loop, TLS).
    #[error("HTTP transport: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server's answer was not what its API promises.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// The call needs a signed-in user or an API key, and the client has neither.
    #[error("not signed in: log in or use an API key first")]
    NotSignedIn,
    /// Downloaded bytes do not match the SHA-256 the server or the caller expected.
    #[error("checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch { expected: String, actual: String },
    /// Client-side encryption or decryption failed.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A license file did not verify or is no longer valid.
    #[error(transparent)]
    LicenseFile(#[from] crate::license_file::LicenseFileError),
    /// The caller passed something the API cannot take (said before any request).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// An error answer of the server.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The machine-readable code (`SEATS_EXHAUSTED`, `SESSION_EXPIRED`, …);
    /// `HTTP_<status>` when the answer carried none.
    pub code: String,
    /// What a person reads.
    pub detail: String,
    /// The server's request id (`x-request-id`), for support.
    pub request_id: Option<String>,
    /// `Retry-After`, in seconds, when the server sent one.
    pub retry_after: Option<u64>,
    /// The whole answer body (extra members such as `seats_used`, `errors`).
    pub body: Value,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

impl ApiError {
    /// Build from a status, the `x-request-id` and `Retry-After` headers and the body.
    pub(crate) fn from_answer(
        status: u16,
        request_id: Option<String>,
        retry_after: Option<u64>,
        body: &[u8],
    ) -> Self {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        let code = text("code").unwrap_or_else(|| format!("HTTP_{status}"));
        let detail = text("detail")
            .or_else(|| text("message"))
            .or_else(|| text("title"))
            .unwrap_or_else(|| format!("the server answered {status}"));
        let request_id = request_id.or_else(|| text("request_id"));
        Self {
            status,
            code,
            detail,
            request_id,
            retry_after,
            body,
        }
    }
}

impl Error {
    /// The server's error answer, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The machine-readable code of a server answer (`SEATS_EXHAUSTED`, …).
    pub fn code(&self) -> Option<&str> {
        self.api().map(|e| e.code.as_str())
    }

    /// The HTTP status of a server answer.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|e| e.status)
    }

    /// The server's request id of a server answer.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(|e| e.request_id.as_deref())
    }

    /// Where in a script's source the server found the error: `(line, column)`,
    /// both from 1, of a 422 `COMPILE_ERROR` when saving or of a run that failed
    /// (`SCRIPT_RUNTIME_ERROR`, `SCRIPT_ERROR`).
    pub fn source_position(&self) -> Option<(u32, u32)> {
        let body = &self.api()?.body;
        let n = |k: &str| body.get(k)?.as_u64().and_then(|v| u32::try_from(v).ok());
        Some((n("line")?, n("column")?))
    }

    /// Every seat of the license is held by a live session (429 `SEATS_EXHAUSTED`).
    pub fn is_seats_exhausted(&self) -> bool {
        self.code() == Some("SEATS_EXHAUSTED")
    }

    /// Worth trying again later: the server was unreachable, overloaded (5xx) or
    /// asked the client to slow down (429 `RATE_LIMITED`).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable(_) => true,
            Error::Api(e) => e.status >= 500 || e.code == "RATE_LIMITED",
            _ => false,
        }
    }

    /// The server cannot be reached, or a gateway in front of it answers that it
    /// cannot (502, 503, 504): what makes a seat session go offline.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Unreachable(_) => true,
            Error::Api(e) => matches!(e.status, 502..=504),
            _ => false,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_connect() || e.is_timeout() || e.is_request() && !e.is_builder() {
            Error::Unreachable(e)
        } else if e.is_decode() {
            Error::Decode(e.to_string())
        } else {
            Error::Transport(e)
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
