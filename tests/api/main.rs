//! Black-box API tests, one module per area.

mod health;
mod outbox;
