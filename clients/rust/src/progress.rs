//! Progress of record and backup transfers: an upload body that reports each
//! chunk as hyper takes it, and a download read chunk by chunk.

use crate::error::{Error, Result};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use reqwest::Response;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// How large a piece of an upload is handed over (and reported) at a time.
const CHUNK: usize = 64 * 1024;

/// A callback told `(bytes done, total when known)`.
#[derive(Clone)]
pub(crate) struct Progress(Arc<dyn Fn(u64, Option<u64>) + Send + Sync>);

impl Progress {
    pub(crate) fn new(watch: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(watch))
    }

    fn report(&self, done: u64, total: Option<u64>) {
        (self.0)(done, total)
    }
}

/// The body of an upload: the bytes as they are without a watcher (one frame,
/// resent as is after a refreshed token), else in chunks that report as they go.
/// Either way its exact length is known, so it goes with a `Content-Length`.
pub(crate) fn upload_body(bytes: Bytes, progress: Option<&Progress>) -> reqwest::Body {
    match progress {
        None => reqwest::Body::from(bytes),
        Some(p) => reqwest::Body::wrap(Counted::new(bytes, p.clone())),
    }
}

/// An upload in chunks, each reported when hyper polls it out.
struct Counted {
    bytes: Bytes,
    sent: usize,
    progress: Progress,
}

impl Counted {
    fn new(bytes: Bytes, progress: Progress) -> Self {
        progress.report(0, Some(bytes.len() as u64));
        Self {
            bytes,
            sent: 0,
            progress,
        }
    }
}

impl Body for Counted {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let total = self.bytes.len();
        if self.sent >= total {
            return Poll::Ready(None);
        }
        let end = (self.sent + CHUNK).min(total);
        let chunk = self.bytes.slice(self.sent..end);
        self.sent = end;
        self.progress.report(end as u64, Some(total as u64));
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.bytes.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.bytes.len() - self.sent) as u64)
    }
}

/// Read an answer's body, reporting each chunk against its `Content-Length`.
pub(crate) async fn download(mut resp: Response, progress: Option<&Progress>) -> Result<Vec<u8>> {
    let Some(p) = progress else {
        return Ok(resp.bytes().await.map_err(Error::from_reqwest)?.to_vec());
    };
    let total = resp.content_length();
    let mut counter = Counter::new(p, total);
    let mut out = Vec::with_capacity(total.unwrap_or(0).min(64 << 20) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(Error::from_reqwest)? {
        out.extend_from_slice(&chunk);
        counter.add(chunk.len());
    }
    Ok(out)
}

/// Bytes received so far, reported on every chunk.
struct Counter<'a> {
    progress: &'a Progress,
    done: u64,
    total: Option<u64>,
}

impl<'a> Counter<'a> {
    fn new(progress: &'a Progress, total: Option<u64>) -> Self {
        progress.report(0, total);
        Self {
            progress,
            done: 0,
            total,
        }
    }

    fn add(&mut self, n: usize) {
        self.done += n as u64;
        self.progress.report(self.done, self.total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::sync::Mutex;

    type Seen = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

    fn recorder() -> (Progress, Seen) {
        let seen = Arc::new(Mutex::new(vec![]));
        let into = seen.clone();
        let p = Progress::new(move |done, total| into.lock().unwrap().push((done, total)));
        (p, seen)
    }

    #[tokio::test]
    async fn an_upload_reports_every_chunk_up_to_its_length() {
        let data: Vec<u8> = (0..(2 * CHUNK + 123)).map(|i| (i % 251) as u8).collect();
        let (p, seen) = recorder();
        let mut body = Counted::new(Bytes::from(data.clone()), p);
        assert_eq!(body.size_hint().exact(), Some(data.len() as u64));
        let mut got = vec![];
        while let Some(frame) = body.frame().await {
            got.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        assert!(body.is_end_stream());
        assert_eq!(got, data, "every byte once, in order");
        let total = Some(data.len() as u64);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (0, total),
                (CHUNK as u64, total),
                (2 * CHUNK as u64, total),
                (data.len() as u64, total)
            ]
        );
    }

    #[tokio::test]
    async fn an_empty_upload_reports_nothing_but_its_start() {
        let (p, seen) = recorder();
        let mut body = Counted::new(Bytes::new(), p);
        assert!(body.is_end_stream());
        assert!(body.frame().await.is_none());
        assert_eq!(*seen.lock().unwrap(), vec![(0, Some(0))]);
    }

    #[test]
    fn a_download_counts_what_arrived_against_the_announced_total() {
        let (p, seen) = recorder();
        let mut c = Counter::new(&p, Some(10));
        c.add(4);
        c.add(6);
        let mut unknown = Counter::new(&p, None);
        unknown.add(3);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (0, Some(10)),
                (4, Some(10)),
                (10, Some(10)),
                (0, None),
                (3, None)
            ]
        );
    }
}
