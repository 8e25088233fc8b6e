//! Black-box API tests, one module per area.

mod auth;
mod billing;
mod health;
mod outbox;
