//! MCP sessions: the id `initialize` hands out (`Mcp-Session-Id`), bound to the org
//! that opened it and the protocol version agreed, kept in the item store so any
//! Lambda container can serve the next request. A session expires after a day
//! without `initialize`; an unknown, expired or ended session — or another org's —
//! is simply not found.

use crate::{MemoryResult, keys};
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::ports::store::{Condition, NewItem};

/// How long a session lives.
pub const TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub org: OrgId,
    pub protocol_version: String,
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Open a session for `org`.
pub async fn open(
    services: &Services,
    org: &OrgId,
    protocol_version: &str,
) -> MemoryResult<Session> {
    let session = Session {
        id: uuid::Uuid::new_v4().simple().to_string(),
        org: org.clone(),
        protocol_version: protocol_version.to_owned(),
    };
    services
        .store
        .put(
            NewItem::from_record(keys::mcp_session(org, &session.id), &session)?
                .expires_at(services.clock.unix() + TTL_SECS),
            Some(Condition::Absent),
        )
        .await?;
    Ok(session)
}

/// The org's live session with this id.
pub async fn find(services: &Services, org: &OrgId, id: &str) -> MemoryResult<Option<Session>> {
    if !valid_id(id) {
        return Ok(None);
    }
    let Some(item) = services.store.get(&keys::mcp_session(org, id)).await? else {
        return Ok(None);
    };
    let session: Session = item.parse()?;
    Ok((session.org == *org).then_some(session))
}

/// End the org's session; `false` when there was none.
pub async fn end(services: &Services, org: &OrgId, id: &str) -> MemoryResult<bool> {
    if find(services, org, id).await?.is_none() {
        return Ok(false);
    }
    services
        .store
        .delete(&keys::mcp_session(org, id), None)
        .await?;
    Ok(true)
}
