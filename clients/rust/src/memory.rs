//! Agent memory calls (AutoMem's contract): store, recall, associate.

use crate::client::{Client, decode};
use crate::error::{Error, Result};
use crate::types::{NewMemory, RecallHit, RecallQuery, StoredMemory};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

impl Client {
    /// Store one memory; its id is in the answer.
    pub async fn store_memory(&self, memory: &NewMemory) -> Result<StoredMemory> {
        let resp = self
            .send_authorized(Method::POST, "/api/v1/memory/memory", |r| r.json(memory))
            .await?;
        decode(resp).await
    }

    /// Recall memories by text and tags (AutoMem's hybrid scoring), best first.
    pub async fn recall(&self, query: &RecallQuery) -> Result<Vec<RecallHit>> {
        let mut params: Vec<(&str, String)> = vec![];
        if let Some(q) = &query.query {
            params.push(("query", q.clone()));
        }
        for t in &query.tags {
            params.push(("tags", t.clone()));
        }
        if let Some(l) = query.limit {
            params.push(("limit", l.to_string()));
        }
        #[derive(Deserialize)]
        struct Recalled {
            results: Vec<RecallHit>,
        }
        let resp = self
            .send_authorized(Method::GET, "/api/v1/memory/recall", |r| r.query(&params))
            .await?;
        Ok(decode::<Recalled>(resp).await?.results)
    }

    /// Relate two memories (`relation`: one of AutoMem's types, e.g.
    /// `RELATES_TO`, `LEADS_TO`, `PREFERS_OVER`; `strength` 0 to 1).
    pub async fn associate(
        &self,
        from: &str,
        to: &str,
        relation: &str,
        strength: f64,
    ) -> Result<Value> {
        if !(0.0..=1.0).contains(&strength) {
            return Err(Error::InvalidInput(format!(
                "strength must be between 0 and 1, got {strength}"
            )));
        }
        let body =
            json!({"memory1_id": from, "memory2_id": to, "type": relation, "strength": strength});
        let resp = self
            .send_authorized(Method::POST, "/api/v1/memory/associate", |r| r.json(&body))
            .await?;
        decode(resp).await
    }
}
