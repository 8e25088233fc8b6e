//! Black-box API tests, one module per area.

mod access;
mod admin;
mod auth;
mod backup;
mod billing;
mod blobs;
mod console;
mod dev_routes;
mod edge;
mod health;
mod licensing;
mod mcp;
mod memory;
mod outbox;
mod pages;
mod pagination;
mod script_triggers;
mod scripts;
mod storage;
mod storage_data;
