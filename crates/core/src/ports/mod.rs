//! Ports: the small traits every stateful dependency hides behind, each with an
//! embedded and an AWS adapter (see ARCHITECTURE.md, Ports and adapters).

pub mod blobs;
pub mod dns;
pub mod embeddings;
pub mod keywords;
pub mod mail;
pub mod payments;
pub mod queue;
pub mod secrets;
pub mod store;
pub mod vectors;
