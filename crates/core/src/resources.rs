//! The AWS resources Skiff needs, declared once. `skiff provision` creates them from
//! these values, and a test checks that `template.yaml` declares the same.

/// The single DynamoDB table.
pub mod table {
    pub const PARTITION_KEY: &str = "pk";
    pub const SORT_KEY: &str = "sk";
    /// The one overloaded secondary index.
    pub const GSI1: &str = "gsi1";
    pub const GSI1_PARTITION_KEY: &str = "gsi1pk";
    pub const GSI1_SORT_KEY: &str = "gsi1sk";
    /// TTL attribute (unix seconds).
    pub const TTL_ATTRIBUTE: &str = "ttl";
}

/// The outbox queue and its dead-letter queue.
pub mod queue {
    /// Deliveries before a message moves to the dead-letter queue.
    pub const MAX_RECEIVE_COUNT: u32 = 5;
    /// Outbox consumer timeout (the outbox function's `Timeout`).
    pub const CONSUMER_TIMEOUT_SECS: u32 = 30;
    /// ≥ 6× the consumer timeout, as AWS recommends for Lambda event sources.
    pub const VISIBILITY_TIMEOUT_SECS: u32 = 6 * CONSUMER_TIMEOUT_SECS;
    /// Dead letters are kept for the SQS maximum (14 days).
    pub const DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;
    pub const RETENTION_SECS: u32 = 4 * 24 * 3600;
}

/// The vector index's S3 Vectors buckets.
pub mod vectors {
    /// Vector buckets of a deployment. A bucket holds at most 10,000 indexes (one
    /// per namespace), and a namespace's bucket is `hash(namespace) mod BUCKETS`,
    /// so this is chosen when a deployment is created: changing it later moves
    /// most namespaces to another bucket.
    pub const BUCKETS: usize = 4;
}

/// Buckets, with the lifecycle rules the template declares.
pub mod buckets {
    /// Incomplete multipart uploads are aborted after this many days.
    pub const ABORT_INCOMPLETE_UPLOAD_DAYS: i32 = 1;
    /// Generated exports are deleted after this many days.
    pub const EXPORT_EXPIRATION_DAYS: i32 = 7;
    /// Old versions of user blobs are kept this many days.
    pub const NONCURRENT_VERSION_EXPIRATION_DAYS: i32 = 30;
}
