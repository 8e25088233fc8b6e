//! A client for [Skiff](https://github.com/skiff): sign-in, licenses with
//! self-healing floating seats, offline license-file checks, end-to-end encrypted
//! storage and backups (with progress, [`Client::with_progress`]), agent memory,
//! and scripts (apps, Rhai scripts, routes, runs and their logs).
//!
//! ```no_run
//! # async fn run() -> skiff_client::Result<()> {
//! use skiff_client::{Client, SeatOptions, crypto::EncryptionKey};
//!
//! let client = Client::new("http://127.0.0.1:3000")?;
//! client.login("ada@example.com", "Correct1horse").await?;
//!
//! // Hold a floating seat while the product runs (heartbeats, offline grace and
//! // re-acquiring happen in the background).
//! let seat = client
//!     .acquire(SeatOptions::new("SKIFF-XXXX-XXXX-XXXX-XXXX-XXXX", "machine-fingerprint-0001"))
//!     .await?;
//!
//! // Store a note the server cannot read.
//! let key = EncryptionKey::derive(b"a passphrase only the user knows", b"ada@example.com/notes")
//!     .expect("key");
//! let record = client.put_encrypted("notes", b"the launch moves to Tuesday", &key).await?;
//! assert_eq!(client.get_decrypted(&record.id, &key).await?, b"the launch moves to Tuesday");
//!
//! seat.release().await?;
//! # Ok(()) }
//! ```
//!
//! Every call returns [`Error`], which keeps the server's problem+json `code`,
//! `status` and `request_id`. With an API key instead of a user
//! ([`Client::use_api_key`]) everything but the seat routes works the same.

mod client;
pub mod crypto;
mod error;
pub mod license_file;
mod licensing;
mod memory;
mod progress;
mod scripts;
pub mod seat;
mod storage;
pub mod time;
pub mod types;

pub use client::{Client, ClientBuilder};
pub use error::{ApiError, Error, Result};
pub use seat::{LostReason, SeatEvent, SeatOptions, SeatSession, SeatState};
