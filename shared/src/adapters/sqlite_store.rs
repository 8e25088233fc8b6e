//! STUB — replaced by the store work. SQLite (WAL) item store.
use crate::clock::SharedClock;
use crate::ports::store::*;
use async_trait::async_trait;
use std::path::Path;

pub struct SqliteStore;

impl SqliteStore {
    pub fn open(_path: &Path, _clock: SharedClock) -> Result<Self, StoreError> {
        Err(StoreError::Fatal("not implemented".into()))
    }
}

#[async_trait]
impl ItemStore for SqliteStore {
    async fn get(&self, _key: &Key) -> Result<Option<Item>, StoreError> {
        todo!()
    }
    async fn put(&self, _item: NewItem, _c: Option<Condition>) -> Result<Item, StoreError> {
        todo!()
    }
    async fn update(
        &self,
        _key: &Key,
        _ch: Vec<Change>,
        _c: Option<Condition>,
    ) -> Result<Item, StoreError> {
        todo!()
    }
    async fn delete(&self, _key: &Key, _c: Option<Condition>) -> Result<Option<Item>, StoreError> {
        todo!()
    }
    async fn add(
        &self,
        _key: &Key,
        _n: &str,
        _d: i64,
        _m: Option<i64>,
        _e: Option<i64>,
    ) -> Result<Counter, StoreError> {
        todo!()
    }
    async fn transact(&self, _w: Vec<Write>) -> Result<(), StoreError> {
        todo!()
    }
    async fn query(&self, _q: Query) -> Result<Page, StoreError> {
        todo!()
    }
    async fn purge_expired(&self, _max: usize) -> Result<usize, StoreError> {
        todo!()
    }
    async fn check(&self) -> Result<(), StoreError> {
        todo!()
    }
}
