//! Black-box API tests, one module per area.

mod auth;
mod health;
mod outbox;
