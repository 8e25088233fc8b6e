//! STUB — replaced by the queue work. SQLite queue.
use crate::clock::SharedClock;
use crate::ports::queue::*;
use async_trait::async_trait;
use std::path::Path;
use std::time::Duration;

pub struct SqliteQueue;

impl SqliteQueue {
    pub fn open(_path: &Path, _max_receives: u32, _clock: SharedClock) -> Result<Self, QueueError> {
        Err(QueueError::Fatal("not implemented".into()))
    }
}

#[async_trait]
impl Queue for SqliteQueue {
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
