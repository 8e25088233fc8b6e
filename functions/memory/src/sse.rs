//! `GET /api/v1/memory/stream`: AutoMem's Server-Sent Events feed of the caller's
//! org (`memory.store`, `memory.recall`), a `: keepalive` comment every 30 s, and
//! the response closed after `SKIFF_MEMORY_STREAM_MAX_SECS` with a `retry:` hint,
//! so a client's EventSource reconnects. See `skiff_memory::stream` for what a
//! subscriber sees.

use crate::auth::Caller;
use crate::error::Result;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use skiff_core::Services;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// What one step of the stream yields.
enum Step {
    Event(String),
    Keepalive,
    End,
}

pub async fn stream(State(s): State<Services>, caller: Caller) -> Result<Response> {
    caller.can_read()?;
    let settings = skiff_memory::settings(&s);
    let (keepalive, until) = (
        settings.stream_keepalive,
        Instant::now() + settings.stream_max,
    );
    let rx = skiff_memory::stream::subscribe(&s, caller.org());
    let opening = futures::stream::once(async {
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"retry: 3000\n: connected\n\n"))
    });
    let events = futures::stream::unfold((rx, false), move |(mut rx, done)| async move {
        if done {
            return None;
        }
        let left = until.saturating_duration_since(Instant::now());
        let step = if left.is_zero() {
            Step::End
        } else {
            match tokio::time::timeout(keepalive.min(left), rx.recv()).await {
                Ok(Ok(event)) => Step::Event(event),
                Ok(Err(RecvError::Lagged(_))) => Step::Keepalive,
                Ok(Err(RecvError::Closed)) => Step::End,
                Err(_) if left <= keepalive => Step::End,
                Err(_) => Step::Keepalive,
            }
        };
        let (chunk, done) = match step {
            Step::Event(e) => (format!("data: {e}\n\n"), false),
            Step::Keepalive => (": keepalive\n\n".to_owned(), false),
            Step::End => (": stream window ended; reconnect\n\n".to_owned(), true),
        };
        Some((
            Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)),
            (rx, done),
        ))
    });
    let mut response =
        Body::from_stream(futures::StreamExt::chain(opening, events)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
