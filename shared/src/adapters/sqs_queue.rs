//! STUB — replaced by the queue work. SQS queue.

use crate::ports::queue::*;
use async_trait::async_trait;

use std::time::Duration;

pub struct SqsQueue;

impl SqsQueue {
    pub fn new(_c: aws_sdk_sqs::Client, _queue_url: String, _dlq_url: String) -> Self {
        Self
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, _b: String) -> Result<String, QueueError> {
        todo!()
    }
    async fn send_batch(&self, _b: Vec<String>) -> Result<Vec<String>, QueueError> {
        todo!()
    }
    async fn receive(
        &self,
        _m: usize,
        _v: Duration,
        _w: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        todo!()
    }
    async fn delete(&self, _r: &str) -> Result<(), QueueError> {
        todo!()
    }
    async fn change_visibility(&self, _r: &str, _v: Duration) -> Result<(), QueueError> {
        todo!()
    }
    async fn dead_letters(&self, _m: usize) -> Result<Vec<DeadLetter>, QueueError> {
        todo!()
    }
    async fn redrive(&self, _id: &str) -> Result<String, QueueError> {
        todo!()
    }
    async fn resolve(&self, _id: &str) -> Result<(), QueueError> {
        todo!()
    }
    async fn depth(&self) -> Result<u64, QueueError> {
        todo!()
    }
    async fn check(&self) -> Result<(), QueueError> {
        todo!()
    }
}
