//! STUB — replaced by the blob work.
use crate::adapters::fs_blobs::FsBlobStore;
use std::sync::Arc;

pub fn router(_buckets: Vec<(&'static str, Arc<FsBlobStore>)>) -> axum::Router {
    axum::Router::new()
}
