//! JSON logs through `tracing`; every line of a request carries its request id
//! (the request span's fields are flattened into each event).

use tracing_subscriber::EnvFilter;

/// Install the global subscriber once; later calls are no-ops (tests call it freely).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .with_writer(std::io::stderr)
        .try_init();
}
