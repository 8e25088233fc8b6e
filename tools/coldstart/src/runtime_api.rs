//! Just enough of the Lambda Runtime API to see a function finish its init: the
//! first `GET …/invocation/next` is the moment it is ready for an event. That
//! request is held open, never answered, so the function stays idle until it is
//! killed. An `init/error` is answered as Lambda does and reported.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

pub const NEXT: &str = "/2018-06-01/runtime/invocation/next";
pub const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// What a function asked of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A `/next` poll arrived at this instant.
    Next(Instant),
    /// The function reported that its init failed: the error type header and the body.
    InitError { error_type: String, body: String },
    /// A request the meter never expects before the first event (method and path).
    Unexpected(String),
}

/// One HTTP request, as far as the emulator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub error_type: Option<String>,
    pub body: String,
}

/// The emulator, listening on a random loopback port.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: Receiver<Event>,
}

impl RuntimeApi {
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                std::thread::spawn(move || serve(stream, &tx));
            }
        });
        Ok(Self { addr, events })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Forget what earlier (killed) processes sent.
    pub fn drain(&self) {
        while self.events.try_recv().is_ok() {}
    }

    pub fn recv_timeout(&self, wait: Duration) -> Result<Event, RecvTimeoutError> {
        self.events.recv_timeout(wait)
    }
}

fn serve(stream: TcpStream, tx: &Sender<Event>) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some((request, at))) = read_request(&mut reader) {
        let event = match (request.method.as_str(), request.path.as_str()) {
            ("GET", NEXT) => {
                let _ = tx.send(Event::Next(at));
                // Hold the poll until the process dies and closes the connection.
                let _ = io::copy(&mut reader, &mut io::sink());
                return;
            }
            ("POST", INIT_ERROR) => Event::InitError {
                error_type: request.error_type.unwrap_or_default(),
                body: request.body,
            },
            (method, path) => Event::Unexpected(format!("{method} {path}")),
        };
        let status = match event {
            Event::InitError { .. } => "202 Accepted",
            _ => "404 Not Found",
        };
        let _ = tx.send(event);
        let body = r#"{"status":"OK"}"#;
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The next request on a connection, with the instant its request line arrived;
/// `None` at a clean end of the connection.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Option<(Request, Instant)>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => (m.to_owned(), p.to_owned()),
        _ => return Err(io::Error::new(io::ErrorKind::InvalidData, line)),
    };
    let (mut length, mut error_type) = (0usize, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => {
                    length = value
                        .parse()
                        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, header))?;
                }
                "lambda-runtime-function-error-type" => error_type = Some(value.to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Request {
        method,
        path,
        error_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Ok(Some((request, at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_one_after_another() {
        let raw = "POST /2018-06-01/runtime/init/error HTTP/1.1\r\n\
                   Content-Length: 5\r\nLambda-Runtime-Function-Error-Type: Runtime.Boom\r\n\r\nhello\
                   GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n";
        let mut reader = raw.as_bytes();
        let (first, _) = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(first.method, "POST");
        assert_eq!(first.path, INIT_ERROR);
        assert_eq!(first.error_type.as_deref(), Some("Runtime.Boom"));
        assert_eq!(first.body, "hello");
        let (second, _) = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(
            (second.method.as_str(), second.path.as_str()),
            ("GET", NEXT)
        );
        assert!(read_request(&mut reader).unwrap().is_none());
    }

    #[test]
    fn reports_the_first_poll_and_an_init_error() {
        let api = RuntimeApi::start().unwrap();
        let wait = Duration::from_secs(5);
        let mut conn = TcpStream::connect(api.addr()).unwrap();
        let body = r#"{"errorMessage":"no"}"#;
        write!(
            conn,
            "POST {INIT_ERROR} HTTP/1.1\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        match api.recv_timeout(wait).unwrap() {
            Event::InitError { body: got, .. } => assert_eq!(got, body),
            other => panic!("{other:?}"),
        }
        let before = Instant::now();
        let mut poll = TcpStream::connect(api.addr()).unwrap();
        write!(poll, "GET {NEXT} HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        match api.recv_timeout(wait).unwrap() {
            Event::Next(at) => assert!(at >= before),
            other => panic!("{other:?}"),
        }
    }
}
