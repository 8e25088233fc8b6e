//! Ports: the small traits every stateful dependency hides behind (DESIGN §2).

pub mod blobs;
pub mod mail;
pub mod queue;
pub mod secrets;
pub mod store;
