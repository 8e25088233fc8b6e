//! JSON logs through `tracing`; every line of a request carries its request id
//! (the request span's fields are flattened into each event).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Install the global subscriber once; later calls are no-ops (tests call it freely).
pub fn init(filter: &str) {
    let _ = try_init_with_writer(filter, std::io::stderr);
}

/// Install the global subscriber writing the same JSON lines to `writer`; `false`
/// if a subscriber was already installed. Tests that read the server's own log use
/// it to capture exactly what production would print.
pub fn try_init_with_writer<W>(filter: &str, writer: W) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .try_init()
        .is_ok()
}
