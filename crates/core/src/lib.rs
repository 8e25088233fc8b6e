//! Skiff's core: the ports every domain works through, the ids and value types
//! parsed once at the edge, the clock, the platform configuration, and the outbox
//! and scheduler machinery. It names no adapter, no HTTP type and no domain; see
//! ARCHITECTURE.md for the crates above it.

pub mod audit;
pub mod clock;
pub mod config;
pub mod email;
pub mod idempotency;
pub mod ids;
pub mod metrics;
pub mod org_data;
pub mod outbox;
pub mod ports;
pub mod rate_limit;
pub mod request_scope;
pub mod resources;
pub mod scheduler;
pub mod services;
pub mod settings;
pub mod validation;

pub use services::Services;
