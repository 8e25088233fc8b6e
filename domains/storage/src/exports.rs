//! Exports: all of an org's data as one `.tar.gz` in the export bucket, made by a
//! resumable outbox job and downloaded through a signed URL.
//!
//! The job walks the registered parts ([`OrgDataParts`]) page by page and writes
//! the archive in chunks: each chunk is a gzip member holding whole tar entries,
//! streamed to the export bucket as it is made, and recorded (with the manifest
//! entries of its files) before the job's position moves past it. A step of the
//! job runs for a bounded time and then enqueues the next step, so a crash, a
//! redelivery or a Lambda timeout loses at most the chunk in progress. The last
//! step streams the chunks one after another into the archive and ends it with a
//! member holding `manifest.json` and tar's end marker. Concatenated gzip members
//! are one gzip stream (RFC 1952), so `tar -xzf` reads the archive as one.
//!
//! Memory stays bounded whatever the size: a page of metadata, one blob chunk,
//! the compressor's window and a few buffers in flight.

use crate::records::Ports;
use crate::{StorageError, StorageResult};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use skiff_core::ids::{ExportId, OrgId, UserId};
use skiff_core::org_data::{ExportFile, OrgDataParts};
use skiff_core::outbox::{self, Envelope, Handler, HandlerError, Message};
use skiff_core::ports::blobs::{
    BlobError, BlobKey, BlobStore, ByteStream, Expected, SignedOp, SignedUrl,
};
use skiff_core::ports::store::{Change, Condition, ItemStore, Key, NewItem, Query};
use skiff_core::services::Services;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Format of the archive (the manifest's `format`).
pub const FORMAT: &str = "skiff-export/1";
/// How long one step of the job works before it hands over to the next step:
/// well inside the outbox function's timeout and its message lease.
pub const STEP_BUDGET: Duration = Duration::from_secs(10);
/// Manifest entries one chunk holds at most (its record stays small).
const MAX_ENTRIES_PER_CHUNK: usize = 2000;
/// Compressed bytes gathered before they go to the bucket.
const FLUSH_BYTES: usize = 256 * 1024;

/// An export's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Complete,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Complete => "complete",
            Status::Failed => "failed",
        }
    }
}

/// Where the job stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Index of the part being exported (= the number of parts when all are done).
    pub part: usize,
    pub cursor: Option<String>,
    /// Chunks written.
    pub chunks: u32,
    /// Files written so far, and their bytes before compression.
    pub files: u64,
    pub bytes: u64,
}

/// An export's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub id: ExportId,
    pub org_id: OrgId,
    pub requested_by: UserId,
    pub status: Status,
    pub created_at: i64,
    pub position: Position,
    /// The job's step: messages of older steps are stale.
    pub step: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    /// Until when a finished export can be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<BlobKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Export {
    /// Done parts out of all (0 to 1; 1 only when complete).
    pub fn progress(&self, parts: usize) -> f64 {
        match self.status {
            Status::Complete => 1.0,
            Status::Queued => 0.0,
            _ => (self.position.part as f64 / (parts.max(1) + 1) as f64).min(0.99),
        }
    }
}

pub fn partition(org: &OrgId) -> String {
    format!("{org}#EXP")
}

fn export_key(org: &OrgId, id: &ExportId) -> Key {
    Key::new(partition(org), id.as_str())
}

fn chunk_key(org: &OrgId, id: &ExportId, n: u32) -> Key {
    Key::new(format!("{org}#EXP#{id}"), format!("CHUNK#{n:06}"))
}

/// The manifest's line for one data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub kind: String,
    pub count: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// A finished chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Chunk {
    blob: BlobKey,
    size: u64,
    entries: Vec<Entry>,
    /// Blob files per kind: (count, bytes).
    blobs: BTreeMap<String, (u64, u64)>,
    /// Blobs listed in metadata but gone by the time they were copied.
    missing: u64,
}

/// The job's message: run step `step` of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStep {
    pub org_id: OrgId,
    pub export_id: ExportId,
    pub step: u32,
}

impl Message for ExportStep {
    const KIND: &'static str = "storage_export";
}

/// Register the job's handler, walking `parts`.
pub fn register(registry: &mut skiff_core::outbox::Registry, parts: OrgDataParts) {
    registry.register(ExportStep::KIND, ExportHandler { parts });
}

/// Enqueue step `step` under an id derived from it, so a step enqueued twice
/// (a retried step re-enqueues its successor) runs once.
async fn enqueue_step(services: &Services, export: &Export, step: u32) -> StorageResult<()> {
    let message = ExportStep {
        org_id: export.org_id.clone(),
        export_id: export.id.clone(),
        step,
    };
    let mut envelope = outbox::envelope(services, &message)?;
    envelope.id = format!("export-{}-{step}", export.id);
    let body =
        serde_json::to_string(&envelope).map_err(|e| StorageError::Internal(e.to_string()))?;
    services.queue.send(body).await?;
    Ok(())
}

/// Start an export of the caller's org: 202 with the id; the job does the rest.
pub async fn request(services: &Services, org: &OrgId, user: &UserId) -> StorageResult<Export> {
    let export = Export {
        id: ExportId::new(),
        org_id: org.clone(),
        requested_by: user.clone(),
        status: Status::Queued,
        created_at: services.clock.unix(),
        position: Position::default(),
        step: 0,
        completed_at: None,
        expires_at: None,
        size: None,
        sha256: None,
        archive: None,
        error: None,
    };
    services
        .store
        .put(
            NewItem::from_record(export_key(org, &export.id), &export)?,
            Some(Condition::Absent),
        )
        .await?;
    enqueue_step(services, &export, 0).await?;
    crate::EXPORTS.inc(&["requested"]);
    Ok(export)
}

/// An export of the org (`NotFound` for another org's, or one whose download
/// expired).
pub async fn get(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &ExportId,
    now: i64,
) -> StorageResult<Export> {
    let export: Export = match store.get(&export_key(org, id)).await? {
        Some(item) => item.parse()?,
        None => return Err(StorageError::NotFound("export")),
    };
    if export.expires_at.is_some_and(|e| e <= now) {
        return Err(StorageError::NotFound("export"));
    }
    Ok(export)
}

/// A signed URL of a complete export's archive; `ExportNotReady` before.
pub async fn download_url(
    ports: Ports<'_>,
    exports: &dyn BlobStore,
    org: &OrgId,
    id: &ExportId,
    ttl: Duration,
) -> StorageResult<SignedUrl> {
    let export = get(ports.store, org, id, ports.clock.unix()).await?;
    match (&export.status, &export.archive) {
        (Status::Complete, Some(archive)) => {
            Ok(exports.signed_url(archive, SignedOp::Get, ttl).await?)
        }
        (status, _) => Err(StorageError::ExportNotReady {
            status: status.as_str(),
        }),
    }
}

struct ExportHandler {
    parts: OrgDataParts,
}

#[async_trait::async_trait]
impl Handler for ExportHandler {
    async fn handle(&self, services: &Services, envelope: &Envelope) -> Result<(), HandlerError> {
        let step: ExportStep = outbox::payload(envelope)?;
        run_step(services, &self.parts, &step, STEP_BUDGET)
            .await
            .map_err(HandlerError::new)
    }

    /// The job keeps failing: the export ends `failed` (the cause stays in the logs
    /// and the dead letter; the caller may request a new export).
    async fn given_up(&self, services: &Services, envelope: &Envelope, _why: &str) {
        let Ok(step) = outbox::payload::<ExportStep>(envelope) else {
            return;
        };
        let why = "the export could not be completed; request a new one";
        crate::EXPORTS.inc(&["failed"]);
        if let Err(e) = fail(services.store.as_ref(), &step.org_id, &step.export_id, why).await {
            tracing::warn!(export = %step.export_id, error = %e, "could not mark the export failed");
        }
    }
}

/// Run one step of an export's job: chunks until `budget` is spent, then either
/// the next step's message or the archive.
pub async fn run_step(
    services: &Services,
    parts: &OrgDataParts,
    step: &ExportStep,
    budget: Duration,
) -> StorageResult<()> {
    let store = services.store.as_ref();
    let key = export_key(&step.org_id, &step.export_id);
    let Some(item) = store.get(&key).await? else {
        return Ok(()); // erased with its org
    };
    let mut export: Export = item.parse()?;
    if matches!(export.status, Status::Complete | Status::Failed) {
        return Ok(());
    }
    if step.step < export.step {
        // This step finished before; make sure its successor is on its way.
        return enqueue_step(services, &export, export.step).await;
    }
    let mut version = item.version;
    let started = Instant::now();
    let settings = crate::settings(services);
    while export.position.part < parts.len() {
        let (chunk, position) =
            write_chunk(services, parts, &export, settings.export_chunk_bytes).await?;
        // The chunk's record first, then the position past it (a crash between
        // the two redoes the chunk; its record is overwritten, never doubled).
        store
            .put(
                NewItem::from_record(
                    chunk_key(&export.org_id, &export.id, export.position.chunks),
                    &chunk,
                )?,
                None,
            )
            .await?;
        export.position = position;
        export.status = Status::Running;
        let more = export.position.part < parts.len();
        if more && started.elapsed() >= budget {
            // Hand over: this step's work is recorded, the next step goes on.
            export.step += 1;
            store
                .put(
                    NewItem::from_record(key.clone(), &export)?,
                    Some(Condition::VersionIs(version)),
                )
                .await?;
            return enqueue_step(services, &export, export.step).await;
        }
        version = store
            .put(
                NewItem::from_record(key.clone(), &export)?,
                Some(Condition::VersionIs(version)),
            )
            .await?
            .version;
    }
    finish(services, parts, &mut export, version).await
}

/// Write the next chunk from the export's position; returns it and the position
/// after it.
async fn write_chunk(
    services: &Services,
    parts: &OrgDataParts,
    export: &Export,
    chunk_bytes: u64,
) -> StorageResult<(Chunk, Position)> {
    let mut position = export.position.clone();
    let blob = BlobKey::parse(format!(
        "{}/{}/chunks/{:06}-{}",
        export.org_id,
        export.id,
        position.chunks,
        hex::encode(rand::random::<[u8; 6]>())
    ))
    .expect("ids make a valid blob key");
    let (mut writer, upload) = ArchiveWriter::start(services.exports.clone(), blob.clone());
    let mut chunk = Chunk {
        blob,
        size: 0,
        entries: vec![],
        blobs: BTreeMap::new(),
        missing: 0,
    };
    let written: StorageResult<()> = async {
        while position.part < parts.len() {
            let part = &parts.parts()[position.part];
            let page = part
                .export_page(services, &export.org_id, position.cursor.clone())
                .await
                .map_err(|e| StorageError::Internal(format!("export of {}: {e}", part.name())))?;
            for file in page.files {
                match file {
                    ExportFile::Data {
                        path,
                        kind,
                        count,
                        bytes,
                    } => {
                        let path = format!("{}/{path}", part.name());
                        writer.entry(&path, &bytes).await?;
                        position.bytes += bytes.len() as u64;
                        chunk.entries.push(Entry {
                            sha256: hex::encode(Sha256::digest(&bytes)),
                            bytes: bytes.len() as u64,
                            path,
                            kind: kind.to_owned(),
                            count,
                        });
                    }
                    ExportFile::Blob {
                        path,
                        key,
                        size,
                        sha256,
                    } => {
                        let path = format!("{}/{path}", part.name());
                        match services.blobs.get_stream(&key).await {
                            Ok(reader) if reader.meta.size == size => {
                                writer
                                    .stream_entry(&path, size, &sha256, reader.body)
                                    .await?;
                                let e = chunk.blobs.entry(part.name().to_owned()).or_default();
                                e.0 += 1;
                                e.1 += size;
                                position.bytes += size;
                            }
                            // Deleted (or replaced) since its metadata was read.
                            Ok(_) | Err(BlobError::NotFound(_)) => chunk.missing += 1,
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                position.files += 1;
            }
            match page.next {
                Some(next) => position.cursor = Some(next),
                None => {
                    position.part += 1;
                    position.cursor = None;
                }
            }
            if writer.raw_bytes >= chunk_bytes || chunk.entries.len() >= MAX_ENTRIES_PER_CHUNK {
                break;
            }
        }
        Ok(())
    }
    .await;
    let meta = writer.finish(written, false, upload).await?;
    chunk.size = meta.size;
    position.chunks += 1;
    Ok((chunk, position))
}

/// Assemble the archive from the chunks and the manifest, mark the export
/// complete, and remove the chunks.
async fn finish(
    services: &Services,
    parts: &OrgDataParts,
    export: &mut Export,
    version: skiff_core::ports::store::Version,
) -> StorageResult<()> {
    let store = services.store.as_ref();
    let mut chunks = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(Query::partition(format!("{}#EXP#{}", export.org_id, export.id)).after(cursor))
            .await?;
        for item in &page.items {
            chunks.push(item.parse::<Chunk>()?);
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let now = services.clock.unix();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut blob_counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut entries = vec![];
    let mut missing = 0;
    for c in &chunks {
        for e in &c.entries {
            *counts.entry(e.kind.clone()).or_default() += e.count;
            entries.push(e.clone());
        }
        for (k, (n, b)) in &c.blobs {
            let t = blob_counts.entry(k.clone()).or_default();
            t.0 += n;
            t.1 += b;
        }
        missing += c.missing;
    }
    let manifest = json!({
        "format": FORMAT,
        "org_id": export.org_id,
        "export_id": export.id,
        "created_at": skiff_core::clock::rfc3339(export.created_at),
        "completed_at": skiff_core::clock::rfc3339(now),
        "parts": parts.names(),
        "counts": counts,
        "files": entries,
        "blobs": blob_counts.iter().map(|(part, (count, bytes))| json!({
            "part": part,
            "count": count,
            "bytes": bytes,
            "sha256": "each blob's SHA-256 is the checksum its metadata file lists",
        })).collect::<Vec<_>>(),
        "blobs_missing": missing,
    });
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let archive =
        BlobKey::parse(format!("{}/{}.tar.gz", export.org_id, export.id)).expect("valid key");
    let (mut writer, upload) = ArchiveWriter::start(services.exports.clone(), archive.clone());
    let written: StorageResult<()> = async {
        for c in &chunks {
            let reader = services.exports.get_stream(&c.blob).await?;
            writer.raw(reader.body).await?;
        }
        writer.entry("manifest.json", &manifest).await?;
        Ok(())
    }
    .await;
    let meta = writer.finish(written, true, upload).await?;
    export.status = Status::Complete;
    export.completed_at = Some(now);
    export.expires_at = Some(now + crate::settings(services).export_retention_secs);
    export.size = Some(meta.size);
    export.sha256 = Some(meta.sha256);
    export.archive = Some(archive);
    store
        .put(
            NewItem::from_record(export_key(&export.org_id, &export.id), &*export)?,
            Some(Condition::VersionIs(version)),
        )
        .await?;
    // The chunks (and any a crashed attempt left) are no longer needed.
    let leftovers = services
        .exports
        .list(&format!("{}/{}/chunks/", export.org_id, export.id), 10_000)
        .await?;
    for k in leftovers {
        services.exports.delete(&k).await?;
    }
    skiff_core::org_data::purge_partition(
        store,
        Query::partition(format!("{}#EXP#{}", export.org_id, export.id)),
        10_000,
    )
    .await?;
    crate::EXPORTS.inc(&["complete"]);
    tracing::info!(export = %export.id, size = export.size, "export complete");
    Ok(())
}

/// Mark an export failed (its job was given up).
pub async fn fail(
    store: &dyn ItemStore,
    org: &OrgId,
    id: &ExportId,
    why: &str,
) -> StorageResult<()> {
    store
        .update(
            &export_key(org, id),
            vec![Change::set("status", "failed"), Change::set("error", why)],
            Some(Condition::Exists),
        )
        .await?;
    Ok(())
}

/// A tar stream, gzip-compressed, going to the bucket as it is made.
struct ArchiveWriter {
    gz: flate2::write::GzEncoder<Vec<u8>>,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, BlobError>>,
    /// Bytes of tar written (before compression).
    raw_bytes: u64,
}

type Upload = tokio::task::JoinHandle<Result<skiff_core::ports::blobs::BlobMeta, BlobError>>;

impl ArchiveWriter {
    fn start(bucket: std::sync::Arc<dyn BlobStore>, key: BlobKey) -> (Self, Upload) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BlobError>>(4);
        let body: ByteStream = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }));
        let upload = tokio::spawn(async move {
            bucket
                .put_stream(&key, body, "application/gzip", Expected::default())
                .await
        });
        let writer = Self {
            gz: flate2::write::GzEncoder::new(
                Vec::with_capacity(FLUSH_BYTES * 2),
                flate2::Compression::fast(),
            ),
            tx,
            raw_bytes: 0,
        };
        (writer, upload)
    }

    async fn write(&mut self, bytes: &[u8]) -> StorageResult<()> {
        use std::io::Write;
        self.gz
            .write_all(bytes)
            .map_err(|e| StorageError::Internal(format!("compressing: {e}")))?;
        self.raw_bytes += bytes.len() as u64;
        if self.gz.get_ref().len() >= FLUSH_BYTES {
            let out = std::mem::take(self.gz.get_mut());
            self.send(Bytes::from(out)).await?;
        }
        Ok(())
    }

    async fn send(&mut self, bytes: Bytes) -> StorageResult<()> {
        self.tx.send(Ok(bytes)).await.map_err(|_| {
            StorageError::Internal("the export bucket stopped taking the archive".into())
        })
    }

    fn header(path: &str, size: u64) -> StorageResult<[u8; 512]> {
        let mut header = tar::Header::new_gnu();
        header
            .set_path(path)
            .map_err(|e| StorageError::Internal(format!("tar path `{path}`: {e}")))?;
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        Ok(*header.as_bytes())
    }

    async fn pad(&mut self, size: u64) -> StorageResult<()> {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.write(&vec![0u8; 512 - rem]).await?;
        }
        Ok(())
    }

    /// A whole file.
    async fn entry(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()> {
        let header = Self::header(path, bytes.len() as u64)?;
        self.write(&header).await?;
        self.write(bytes).await?;
        self.pad(bytes.len() as u64).await
    }

    /// A file streamed from the blob store, checked against `sha256` as it passes.
    async fn stream_entry(
        &mut self,
        path: &str,
        size: u64,
        sha256: &str,
        mut body: ByteStream,
    ) -> StorageResult<()> {
        let header = Self::header(path, size)?;
        self.write(&header).await?;
        let mut hasher = Sha256::new();
        let mut seen = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            seen += chunk.len() as u64;
            if seen > size {
                return Err(BlobError::SizeMismatch {
                    expected: size,
                    actual: seen,
                }
                .into());
            }
            hasher.update(&chunk);
            self.write(&chunk).await?;
        }
        if seen != size || hex::encode(hasher.finalize()) != sha256.to_ascii_lowercase() {
            return Err(StorageError::ChecksumMismatch);
        }
        self.pad(size).await
    }

    /// Bytes already compressed (a chunk), passed through as they are.
    async fn raw(&mut self, mut body: ByteStream) -> StorageResult<()> {
        // Whatever this writer compressed so far ends its own gzip member first.
        while let Some(chunk) = body.next().await {
            self.send(chunk?).await?;
        }
        Ok(())
    }

    /// End the stream: the tar end marker when `last`, the gzip trailer, then
    /// wait for the bucket. On failure nothing is stored.
    async fn finish(
        mut self,
        written: StorageResult<()>,
        last: bool,
        upload: Upload,
    ) -> StorageResult<skiff_core::ports::blobs::BlobMeta> {
        let ended = match written {
            Ok(()) => {
                let end = if last {
                    self.write(&[0u8; 1024]).await
                } else {
                    Ok(())
                };
                match end {
                    Ok(()) => match self.gz.finish() {
                        Ok(tail) => self.tx.send(Ok(Bytes::from(tail))).await.map_err(|_| {
                            StorageError::Internal(
                                "the export bucket stopped taking the archive".into(),
                            )
                        }),
                        Err(e) => Err(StorageError::Internal(format!("compressing: {e}"))),
                    },
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        match ended {
            Ok(()) => {
                drop(self.tx);
                Ok(upload
                    .await
                    .map_err(|e| StorageError::Internal(format!("export upload task: {e}")))??)
            }
            Err(e) => {
                // A failing body makes the store drop what it received.
                let _ = self.tx.send(Err(BlobError::Body(e.to_string()))).await;
                drop(self.tx);
                let _ = upload.await;
                Err(e)
            }
        }
    }
}
