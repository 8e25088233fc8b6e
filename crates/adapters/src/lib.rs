//! Adapters: one embedded and one AWS implementation per port of `skiff-core`
//! (and Stripe for payments), plus AWS provisioning and the test harness the
//! conformance suites share. Nothing here knows a domain.

pub mod aws;
pub mod aws_secrets;
pub mod dev_mailbox;
pub mod dynamo_store;
pub mod embeddings;
pub mod file_secrets;
pub mod fs_blobs;
mod keyword_postings;
mod metadata_index;
mod namespace_cache;
pub mod provision;
pub(crate) mod queue_rules;
pub mod s3_blobs;
pub mod s3_vectors;
pub(crate) mod sdk_retry;
pub mod ses_mail;
pub mod smtp_mail;
pub mod sqlite_keywords;
pub mod sqlite_queue;
pub mod sqlite_store;
pub mod sqlite_vectors;
mod sqlite_writer;
pub mod sqs_queue;
pub mod store_keywords;
pub mod stripe;
pub mod system_dns;
pub mod testing;
