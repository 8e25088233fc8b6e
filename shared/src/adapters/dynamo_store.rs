//! STUB — replaced by the store work. DynamoDB item store.
use crate::clock::SharedClock;
use crate::ports::store::*;
use async_trait::async_trait;

pub struct DynamoStore;

impl DynamoStore {
    pub fn new(_c: aws_sdk_dynamodb::Client, _table: String, _clock: SharedClock) -> Self {
        Self
    }
}

#[async_trait]
impl ItemStore for DynamoStore {
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
