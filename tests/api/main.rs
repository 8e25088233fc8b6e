//! Black-box API tests, one module per area.

mod auth;
mod billing;
mod blobs;
mod edge;
mod health;
mod licensing;
mod outbox;
mod pagination;
