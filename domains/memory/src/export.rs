//! Memory exports (AutoMem's `/admin/exports`), asynchronous here: the request
//! records a queued job and an outbox message; the handler writes one gzipped JSON
//! bundle — AutoMem's layout: the graph's nodes and relationships, the vectors as
//! points — to the export bucket and completes the manifest. Allowed in every
//! service mode: a locked org can always take its data.
//!
//! The bundle is built page by page into the compressor, so only the compressed
//! bundle and one page of memories are held at once.

use crate::model::{Memory, MemoryId};
use crate::repo::{self, Direction};
use crate::{MemoryError, MemoryResult, keys, namespace, stats};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::ids::OrgId;
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message, Registry};
use skiff_core::ports::blobs::{BlobKey, SignedOp, SignedUrl};
use skiff_core::ports::store::{Condition, NewItem};
use std::io::Write;
use std::time::Duration;

/// How long a download link stays valid.
pub const DOWNLOAD_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a finished export's record is kept.
pub const RETENTION_SECS: i64 = 7 * 24 * 3600;

/// An export job's record: AutoMem's manifest fields plus where the bundle is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub export_id: String,
    /// `queued`, `running`, `complete` or `failed`.
    pub status: String,
    pub created_at: String,
    pub reason: Option<String>,
    pub include_vectors: bool,
    #[serde(default)]
    pub service: Value,
    #[serde(default)]
    pub graph: Value,
    #[serde(default)]
    pub qdrant: Value,
    #[serde(default)]
    pub bundle: Value,
    #[serde(default)]
    pub error: Option<String>,
}

/// Build one export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunExport {
    pub org: OrgId,
    pub export_id: String,
}

impl Message for RunExport {
    const KIND: &'static str = "memory_export";
}

pub fn register(registry: &mut Registry) {
    registry.register(RunExport::KIND, ExportHandler);
}

fn bundle_key(org: &OrgId, id: &str) -> BlobKey {
    BlobKey::parse(format!("memory/{org}/{id}.json.gz"))
        .expect("org ids and export ids are safe keys")
}

/// A new export id: 32 lowercase hex, as AutoMem's `uuid4().hex`.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn check_id(id: &str) -> MemoryResult<()> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(MemoryError::NotFound("Export not found".into()))
    }
}

/// `POST /admin/exports`: record the job and queue it.
pub async fn start(services: &Services, org: &OrgId, payload: &Value) -> MemoryResult<Manifest> {
    let body = payload.as_object().cloned().unwrap_or_default();
    let include_vectors = body
        .get("include_vectors")
        .map(|v| v.as_bool().unwrap_or(true))
        .unwrap_or(true);
    let reason = body
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(500).collect());
    let manifest = Manifest {
        export_id: new_id(),
        status: "queued".into(),
        created_at: crate::model::Timestamp::from_offset(services.clock.now()).render(),
        reason,
        include_vectors,
        service: Value::Null,
        graph: Value::Null,
        qdrant: Value::Null,
        bundle: Value::Null,
        error: None,
    };
    services
        .store
        .put(
            NewItem::from_record(keys::export(org, &manifest.export_id), &manifest)?
                .expires_at(services.clock.unix() + RETENTION_SECS),
            Some(Condition::Absent),
        )
        .await?;
    outbox::enqueue(
        services,
        &RunExport {
            org: org.clone(),
            export_id: manifest.export_id.clone(),
        },
    )
    .await?;
    Ok(manifest)
}

/// The job's manifest; 404 for an unknown id (or another org's).
pub async fn get(services: &Services, org: &OrgId, id: &str) -> MemoryResult<Manifest> {
    check_id(id)?;
    match services.store.get(&keys::export(org, id)).await? {
        Some(item) => Ok(item.parse()?),
        None => Err(MemoryError::NotFound("Export not found".into())),
    }
}

/// A signed link to a complete export's bundle; 409 before it is complete.
pub async fn download(services: &Services, org: &OrgId, id: &str) -> MemoryResult<SignedUrl> {
    let manifest = get(services, org, id).await?;
    if manifest.status != "complete" {
        return Err(MemoryError::Conflict(format!(
            "Export is {}; download it once its status is complete",
            manifest.status
        )));
    }
    services
        .exports
        .signed_url(&bundle_key(org, id), SignedOp::Get, DOWNLOAD_TTL)
        .await
        .map_err(|e| MemoryError::Unavailable(e.to_string()))
}

async fn save(services: &Services, org: &OrgId, m: &Manifest) -> MemoryResult<()> {
    services
        .store
        .put(
            NewItem::from_record(keys::export(org, &m.export_id), m)?
                .expires_at(services.clock.unix() + RETENTION_SECS),
            None,
        )
        .await?;
    Ok(())
}

fn write(gz: &mut GzEncoder<Vec<u8>>, bytes: &[u8]) -> MemoryResult<()> {
    gz.write_all(bytes).map_err(MemoryError::internal)
}

/// Stream a JSON array of `items` into the bundle.
fn write_item(gz: &mut GzEncoder<Vec<u8>>, first: &mut bool, item: &Value) -> MemoryResult<()> {
    if !*first {
        write(gz, b",")?;
    }
    *first = false;
    write(gz, item.to_string().as_bytes())
}

/// Build the bundle and complete the manifest (safe to run again: it rewrites the
/// same bundle).
pub async fn run(services: &Services, org: &OrgId, id: &str) -> MemoryResult<()> {
    let mut manifest = get(services, org, id).await?;
    if manifest.status == "complete" {
        return Ok(());
    }
    manifest.status = "running".into();
    save(services, org, &manifest).await?;

    let profile = skiff_billing::service_profile::load(services.store.as_ref(), org).await?;
    let service = json!({"tier": profile.tier, "mode": profile.mode.as_str()});
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    let head = json!({
        "export_id": manifest.export_id,
        "created_at": manifest.created_at,
        "reason": manifest.reason,
        "service": service,
    });
    let head = head.to_string();
    write(&mut gz, &head.as_bytes()[..head.len() - 1])?;
    write(&mut gz, br#","graph":{"graph_name":"memories","nodes":["#)?;

    // Nodes, then each memory's outgoing edges as relationships.
    let mut nodes = Vec::new();
    let (node_count, _) = stats::scan(services, org, usize::MAX, |m| nodes.push(m.id)).await?;
    let mut first = true;
    for chunk in nodes.chunks(200) {
        for m in repo::get_many(services.store.as_ref(), org, chunk).await? {
            let props = m.to_json();
            write_item(
                &mut gz,
                &mut first,
                &json!({"labels": ["Memory"], "properties": props}),
            )?;
        }
    }
    write(&mut gz, br#"],"relationships":["#)?;
    let mut first = true;
    let mut rel_count = 0usize;
    for id in &nodes {
        for (_, e) in repo::edges(services.store.as_ref(), org, id, Direction::Out, 0).await? {
            let mut props = e.props.clone();
            props.insert("strength".into(), json!(e.strength));
            props.insert("updated_at".into(), json!(e.updated_at));
            write_item(
                &mut gz,
                &mut first,
                &json!({"source_id": id.to_string(), "type": e.relation, "target_id": e.other.to_string(), "properties": props}),
            )?;
            rel_count += 1;
        }
    }
    let graph_stats = json!({"node_count": node_count, "relationship_count": rel_count});
    write(
        &mut gz,
        format!(r#"],"stats":{graph_stats}}},"qdrant":"#).as_bytes(),
    )?;

    let mut qdrant_stats = Value::Null;
    if manifest.include_vectors {
        let ns = namespace(org);
        write(
            &mut gz,
            format!(r#"{{"collection_name":"{ns}","points":["#).as_bytes(),
        )?;
        let mut first = true;
        let mut points = 0usize;
        let mut cursor: Option<String> = None;
        loop {
            let page = services.vectors.list(&ns, cursor.as_deref(), 500).await?;
            let ids: Vec<MemoryId> = page
                .records
                .iter()
                .filter_map(|r| MemoryId::parse(r.id.as_str()).ok())
                .collect();
            let payloads: std::collections::HashMap<MemoryId, Memory> =
                repo::get_many(services.store.as_ref(), org, &ids)
                    .await?
                    .into_iter()
                    .map(|m| (m.id, m))
                    .collect();
            for r in &page.records {
                let payload = MemoryId::parse(r.id.as_str())
                    .ok()
                    .and_then(|id| payloads.get(&id))
                    .map_or(Value::Null, Memory::to_json);
                write_item(
                    &mut gz,
                    &mut first,
                    &json!({"id": r.id.as_str(), "vector": r.vector, "payload": payload}),
                )?;
                points += 1;
            }
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        qdrant_stats = json!({"points_count": points});
        write(
            &mut gz,
            format!(r#"],"stats":{qdrant_stats}}}}}"#).as_bytes(),
        )?;
    } else {
        write(&mut gz, b"null}")?;
    }
    let bytes = gz.finish().map_err(MemoryError::internal)?;
    let key = bundle_key(org, id);
    let size = bytes.len();
    services
        .exports
        .put(&key, Bytes::from(bytes), "application/gzip")
        .await
        .map_err(|e| MemoryError::Unavailable(e.to_string()))?;
    manifest.status = "complete".into();
    manifest.service = service;
    manifest.graph = graph_stats;
    manifest.qdrant = qdrant_stats;
    manifest.bundle = json!({"filename": format!("{id}.json.gz"), "bytes": size});
    save(services, org, &manifest).await
}

struct ExportHandler;

#[async_trait::async_trait]
impl Handler for ExportHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let msg: RunExport =
            serde_json::from_value(envelope.payload.clone()).map_err(HandlerError::new)?;
        match run(services, &msg.org, &msg.export_id).await {
            Ok(()) => Ok(()),
            Err(MemoryError::NotFound(_)) => Ok(()),
            Err(e) => {
                if let Ok(mut m) = get(services, &msg.org, &msg.export_id).await {
                    m.error = Some("the export failed and will be retried".into());
                    let _ = save(services, &msg.org, &m).await;
                }
                Err(HandlerError::new(e))
            }
        }
    }
}
