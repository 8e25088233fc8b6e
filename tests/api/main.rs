//! Black-box API tests, one module per area.

mod blobs;
mod health;
mod outbox;
