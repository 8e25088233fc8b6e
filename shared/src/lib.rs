//! Skiff's shared library: configuration, ports and their adapters, HTTP plumbing,
//! the outbox and the scheduler's job registry. Function crates stay thin on top.

pub mod adapters;
pub mod alloc;
pub mod auth;
pub mod billing;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod licensing;
pub mod outbox;
pub mod ports;
pub mod provision;
pub mod rate_limit;
pub mod resources;
pub mod scheduler;
pub mod services;
pub mod telemetry;
pub mod testing;

pub use error::{ApiError, ApiResult};
pub use services::Services;
