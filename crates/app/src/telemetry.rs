//! Logs through `tracing`: JSON lines by default (Lambda, files, pipes), where every
//! line of a request carries its request id (the request span's fields are
//! flattened into each event); human-readable lines when stderr is a terminal, so
//! `scripts/serve` reads well. `SKIFF_LOG_FORMAT=json|pretty` overrides the choice.

use skiff_core::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Install the global subscriber once, JSON unless stderr is a terminal; later calls
/// are no-ops (tests call it freely).
pub fn init(filter: &str) {
    init_with_format(filter, LogFormat::Auto);
}

/// [`init`] with the configured format.
pub fn init_with_format(filter: &str, format: LogFormat) {
    if pretty(format, std::io::stderr().is_terminal()) {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(env_filter(filter))
            .with_target(false)
            .with_writer(std::io::stderr)
            .try_init();
    } else {
        let _ = try_init_with_writer(filter, std::io::stderr);
    }
}

/// Whether lines are written for a person: asked for, or chosen for a terminal.
pub fn pretty(format: LogFormat, stderr_is_terminal: bool) -> bool {
    match format {
        LogFormat::Json => false,
        LogFormat::Pretty => true,
        LogFormat::Auto => stderr_is_terminal,
    }
}

fn env_filter(filter: &str) -> EnvFilter {
    EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Install the global subscriber writing the same JSON lines to `writer`; `false`
/// if a subscriber was already installed. Tests that read the server's own log use
/// it to capture exactly what production would print.
pub fn try_init_with_writer<W>(filter: &str, writer: W) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(env_filter(filter))
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .try_init()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_unless_a_terminal_or_asked_otherwise() {
        assert!(!pretty(LogFormat::Auto, false));
        assert!(pretty(LogFormat::Auto, true));
        assert!(!pretty(LogFormat::Json, true));
        assert!(pretty(LogFormat::Pretty, false));
    }
}
