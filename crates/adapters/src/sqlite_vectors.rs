//! The embedded vector index: vectors stored in SQLite, searched in process.
//!
//! The vectors live in their own database (`vectors.db` in the data dir), not in
//! the item store's: a batch of 500 vectors of 384 dimensions is ~800 KB, which
//! would hold up the item store's single writer (and every small write queued
//! behind it), and dropping a namespace is then a delete in a file nothing else
//! uses. Each row keeps the vector as it was given (little-endian `f32`), its
//! metadata as JSON.
//!
//! Queries scan a per-namespace cache: every vector normalized to unit length, one
//! contiguous `Vec<f32>` per namespace, so cosine similarity is a dot product the
//! compiler vectorises (eight independent accumulators, see [`dot`]). A filter
//! first narrows the rows through the cache's metadata index (rows by string,
//! number and boolean value), so a selective filter scores only the rows it can
//! pass; what the index cannot decide is evaluated only for a vector that would
//! enter the current top k. A namespace is loaded on its first query and kept
//! within a memory budget (the least recently queried namespaces are dropped
//! first).
//!
//! Coherence: every write bumps a database-wide generation counter and stamps the
//! namespace with it, in the write's transaction. A query reads the namespace's
//! stamp (one indexed row) before it scans; a cache older than the stamp is
//! reloaded. So a query sees every write committed before it started — from this
//! process, or from another process sharing the data dir (the CLI beside
//! `skiff serve`). This process's own writes update the cache in place while they
//! hold the namespace's cache lock, so they never force a reload.

use crate::metadata_index::MetadataIndex;
use crate::namespace_cache::NamespaceCaches;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use skiff_core::ports::vectors::*;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long a connection waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reader connections kept open between queries.
const READERS: usize = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS namespaces (
    ns         TEXT PRIMARY KEY,
    dim        INTEGER NOT NULL,
    generation INTEGER NOT NULL  -- the counter's value at the namespace's last write
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vectors (
    ns       TEXT NOT NULL,
    id       TEXT NOT NULL,
    vector   BLOB NOT NULL,      -- f32, little-endian, as given
    metadata TEXT NOT NULL       -- a JSON object
);
CREATE UNIQUE INDEX IF NOT EXISTS vectors_key ON vectors (ns, id);
CREATE TABLE IF NOT EXISTS counter (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO counter (one, generation) VALUES (1, 0);
";

/// The SQLite vector index. Cheap to share behind an `Arc`.
pub struct SqliteVectors {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    caches: NamespaceCaches<Cached>,
    /// Namespaces loaded from the database so far (tests watch it).
    loads: AtomicU64,
}

/// A namespace's vectors, ready to scan.
struct Cached {
    /// The namespace's generation these rows reflect.
    generation: i64,
    dim: usize,
    ids: Vec<VectorId>,
    /// `ids.len() × dim` floats: vector `i`, normalized, at `i*dim..(i+1)*dim`.
    units: Vec<f32>,
    metadata: Vec<Metadata>,
    slots: HashMap<VectorId, usize>,
    /// The rows by metadata value, for filtered queries.
    index: MetadataIndex,
}

impl Cached {
    fn empty(generation: i64, dim: usize) -> Self {
        Self {
            generation,
            dim,
            ids: vec![],
            units: vec![],
            metadata: vec![],
            slots: HashMap::new(),
            index: MetadataIndex::default(),
        }
    }

    fn bytes(&self) -> usize {
        self.units.len() * 4 + self.ids.len() * 64 + self.index.bytes()
    }

    fn put(&mut self, id: VectorId, vector: &[f32], metadata: Metadata) {
        match self.slots.get(&id) {
            Some(&i) => {
                normalize_into(vector, &mut self.units[i * self.dim..(i + 1) * self.dim]);
                self.index.remove(i as u32, &self.metadata[i]);
                self.index.insert(i as u32, &metadata);
                self.metadata[i] = metadata;
            }
            None => {
                let start = self.units.len();
                self.units.resize(start + self.dim, 0.0);
                normalize_into(vector, &mut self.units[start..]);
                self.index.insert(self.ids.len() as u32, &metadata);
                self.slots.insert(id.clone(), self.ids.len());
                self.ids.push(id);
                self.metadata.push(metadata);
            }
        }
    }

    fn remove(&mut self, id: &VectorId) {
        let Some(i) = self.slots.remove(id) else {
            return;
        };
        let last = self.ids.len() - 1;
        self.index.remove(i as u32, &self.metadata[i]);
        if i != last {
            self.index
                .renumber(last as u32, i as u32, &self.metadata[last]);
            let (dim, moved) = (self.dim, self.ids[last].clone());
            self.units
                .copy_within(last * dim..(last + 1) * dim, i * dim);
            self.slots.insert(moved, i);
        }
        self.ids.swap_remove(i);
        self.metadata.swap_remove(i);
        self.units.truncate(last * self.dim);
    }

    /// The `top_k` best matches, nearest first (ties by id).
    fn search(&self, query: &[f32], top_k: usize, filter: Option<&MetadataFilter>) -> Vec<Hit> {
        let mut q = vec![0.0; self.dim];
        normalize_into(query, &mut q);
        // A min-heap of the best so far: its top is the one to beat.
        let mut best: BinaryHeap<Candidate> = BinaryHeap::with_capacity(top_k + 1);
        // The rows the filter can pass, when the metadata index narrows it; a row
        // outside an exact set needs no `matches`.
        let candidates = filter.and_then(|f| self.index.candidates(f, self.ids.len()));
        let check = match &candidates {
            Some(c) if c.exact => None,
            _ => filter,
        };
        let mut consider = |i: usize| {
            let score = dot(&q, &self.units[i * self.dim..(i + 1) * self.dim]);
            if best.len() == top_k && best.peek().is_some_and(|worst| score <= worst.score) {
                return;
            }
            if check.is_some_and(|f| !f.matches(&self.metadata[i])) {
                return;
            }
            best.push(Candidate { score, index: i });
            if best.len() > top_k {
                best.pop();
            }
        };
        match &candidates {
            Some(c) => c.rows().for_each(&mut consider),
            None => (0..self.ids.len()).for_each(&mut consider),
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .map(|c| Hit {
                id: self.ids[c.index].clone(),
                score: c.score.clamp(-1.0, 1.0),
                metadata: self.metadata[c.index].clone(),
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits
    }
}

/// A scored row; ordered so that the `BinaryHeap` keeps the lowest score on top.
struct Candidate {
    score: f32,
    index: usize,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.score.total_cmp(&self.score)
    }
}

/// Dot product in eight independent lanes: without them the compiler keeps one
/// running sum (float addition is not associative) and cannot vectorise.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `v / |v|` into `out` (validated vectors are never all zeros).
fn normalize_into(v: &[f32], out: &mut [f32]) {
    let norm = v
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    for (o, x) in out.iter_mut().zip(v) {
        *o = (f64::from(*x) / norm) as f32;
    }
}

fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode_vector(bytes: &[u8]) -> Result<Vec<f32>, VectorError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(VectorError::Fatal("a stored vector is malformed".into()));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn decode_metadata(text: &str) -> Result<Metadata, VectorError> {
    serde_json::from_str(text)
        .map_err(|e| VectorError::Fatal(format!("stored vector metadata is malformed: {e}")))
}

/// Lock contention past the busy timeout is transient; anything else is not.
fn db_err(e: rusqlite::Error) -> VectorError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            VectorError::Unavailable(format!("sqlite: {e}"))
        }
        _ => VectorError::Fatal(format!("sqlite: {e}")),
    }
}

fn open_connection(path: &Path) -> Result<Connection, VectorError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| VectorError::Fatal(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    Ok(conn)
}

/// A namespace's row: dimension and generation.
fn namespace_row(conn: &Connection, ns: &Namespace) -> Result<Option<(usize, i64)>, VectorError> {
    conn.prepare_cached("SELECT dim, generation FROM namespaces WHERE ns = ?1")
        .map_err(db_err)?
        .query_row([ns.as_str()], |r| {
            Ok((r.get::<_, i64>(0)? as usize, r.get(1)?))
        })
        .optional()
        .map_err(db_err)
}

/// The next value of the database-wide generation counter.
fn next_generation(conn: &Connection) -> Result<i64, VectorError> {
    conn.prepare_cached("UPDATE counter SET generation = generation + 1 RETURNING generation")
        .map_err(db_err)?
        .query_row([], |r| r.get(0))
        .map_err(db_err)
}

fn stamp(
    conn: &Connection,
    ns: &Namespace,
    dim: usize,
    generation: i64,
) -> Result<(), VectorError> {
    conn.prepare_cached(
        "INSERT INTO namespaces (ns, dim, generation) VALUES (?1, ?2, ?3) \
         ON CONFLICT (ns) DO UPDATE SET generation = excluded.generation",
    )
    .map_err(db_err)?
    .execute(params![ns.as_str(), dim as i64, generation])
    .map_err(db_err)?;
    Ok(())
}

/// Read a whole namespace, consistently (one read transaction).
fn load(conn: &mut Connection, ns: &Namespace) -> Result<Option<Cached>, VectorError> {
    let tx = conn.transaction().map_err(db_err)?;
    let Some((dim, generation)) = namespace_row(&tx, ns)? else {
        return Ok(None);
    };
    let mut cached = Cached::empty(generation, dim);
    {
        let mut stmt = tx
            .prepare_cached("SELECT id, vector, metadata FROM vectors WHERE ns = ?1")
            .map_err(db_err)?;
        let mut rows = stmt.query([ns.as_str()]).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            let id = VectorId::parse(row.get::<_, String>(0).map_err(db_err)?)
                .map_err(|e| VectorError::Fatal(format!("a stored vector id is malformed: {e}")))?;
            let vector =
                decode_vector(row.get_ref(1).map_err(db_err)?.as_blob().map_err(|e| {
                    VectorError::Fatal(format!("a stored vector is malformed: {e}"))
                })?)?;
            if vector.len() != dim {
                return Err(VectorError::Fatal(format!(
                    "namespace `{ns}` holds a vector of {} dimensions, not {dim}",
                    vector.len()
                )));
            }
            let metadata =
                decode_metadata(row.get_ref(2).map_err(db_err)?.as_str().map_err(|e| {
                    VectorError::Fatal(format!("stored vector metadata is malformed: {e}"))
                })?)?;
            cached.put(id, &vector, metadata);
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(Some(cached))
}

/// What a write did to a namespace, for the cache.
struct Written {
    /// The namespace's generation before the write (`None`: it did not exist).
    before: Option<i64>,
    /// Its generation after (`None`: unchanged).
    after: Option<i64>,
    /// The dimension of the namespace this write created, if it did.
    created: Option<usize>,
}

impl SqliteVectors {
    /// Open (creating if needed) the database at `path`; the caches hold at most
    /// `cache_bytes` of vectors together (a namespace being queried is always
    /// loaded, whatever its size).
    pub fn open(path: &Path, cache_bytes: usize) -> Result<Self, VectorError> {
        let writer = open_connection(path)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(VectorError::Fatal(format!(
                "{} cannot use WAL mode (got `{mode}`)",
                path.display()
            )));
        }
        writer.execute_batch(SCHEMA).map_err(db_err)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(vec![]),
                caches: NamespaceCaches::new(cache_bytes),
                loads: AtomicU64::new(0),
            }),
        })
    }

    /// Run `f` on the blocking pool: SQLite calls and scans never run on the executor.
    async fn blocking<T, F>(&self, f: F) -> Result<T, VectorError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, VectorError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| VectorError::Fatal(format!("vector index task failed: {e}")))?
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Run `f` on a reader connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, VectorError>,
    ) -> Result<T, VectorError> {
        let conn = lock(&self.readers).pop();
        let mut conn = match conn {
            Some(c) => c,
            None => open_connection(&self.path)?,
        };
        let out = f(&mut conn);
        let mut pool = lock(&self.readers);
        if pool.len() < READERS {
            pool.push(conn);
        }
        out
    }

    /// Run `f` in a write transaction on `ns` and bring the namespace's cache along
    /// with `apply` (or drop it when it was stale).
    fn write(
        &self,
        ns: &Namespace,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<Written, VectorError>,
        apply: impl FnOnce(&mut Cached),
    ) -> Result<(), VectorError> {
        let entry = self.caches.slot(ns);
        let mut slot = entry.write();
        let written = {
            let mut conn = lock(&self.writer);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let written = f(&tx)?;
            tx.commit().map_err(db_err)?;
            written
        };
        let Some(after) = written.after else {
            return Ok(());
        };
        match (slot.as_mut(), written.created) {
            (Some(cached), _) if Some(cached.generation) == written.before => {
                apply(cached);
                cached.generation = after;
                entry.weigh(cached.bytes());
            }
            // A namespace this write created starts warm: its cache is the write.
            (None, Some(dim)) => {
                let mut cached = Cached::empty(after, dim);
                apply(&mut cached);
                entry.weigh(cached.bytes());
                *slot = Some(cached);
                drop(slot);
                self.caches.evict_beyond_budget(&entry);
            }
            _ => {
                *slot = None;
                entry.weigh(0);
            }
        }
        Ok(())
    }

    /// Answer `query` from the namespace's cache, loading it first if it is missing
    /// or older than the database.
    fn query(&self, ns: &Namespace, query: &VectorQuery) -> Result<Vec<Hit>, VectorError> {
        let Some((dim, generation)) = self.read(|c| namespace_row(c, ns))? else {
            return Ok(vec![]);
        };
        if dim != query.vector.len() {
            return Err(VectorError::DimensionMismatch {
                expected: dim,
                got: query.vector.len(),
            });
        }
        let entry = self.caches.slot(ns);
        self.caches.touch(&entry);
        loop {
            {
                let slot = entry.read();
                if let Some(cached) = slot.as_ref().filter(|c| c.generation >= generation) {
                    return Ok(cached.search(&query.vector, query.top_k, query.filter.as_ref()));
                }
            }
            let mut slot = entry.write();
            if slot.as_ref().is_some_and(|c| c.generation >= generation) {
                continue;
            }
            // Dropped since the first read: nothing to find.
            let Some(cached) = self.read(|c| load(c, ns))? else {
                return Ok(vec![]);
            };
            self.loads.fetch_add(1, Ordering::Relaxed);
            let hits = cached.search(&query.vector, query.top_k, query.filter.as_ref());
            entry.weigh(cached.bytes());
            *slot = Some(cached);
            drop(slot);
            self.caches.evict_beyond_budget(&entry);
            return Ok(hits);
        }
    }
}

/// The records of a batch, the later of two with one id winning.
fn last_of_each(records: Vec<VectorRecord>) -> Vec<VectorRecord> {
    let mut position: HashMap<VectorId, usize> = HashMap::new();
    let mut out: Vec<VectorRecord> = Vec::with_capacity(records.len());
    for record in records {
        match position.get(&record.id) {
            Some(&i) => out[i] = record,
            None => {
                position.insert(record.id.clone(), out.len());
                out.push(record);
            }
        }
    }
    out
}

fn encode_cursor(id: &VectorId) -> String {
    URL_SAFE_NO_PAD.encode(id.as_str())
}

fn decode_cursor(cursor: &str) -> Result<String, VectorError> {
    let bad = || VectorError::Invalid("malformed vector list cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let id = String::from_utf8(bytes).map_err(|_| bad())?;
    VectorId::parse(id)
        .map(|id| id.as_str().to_owned())
        .map_err(|_| bad())
}

#[async_trait::async_trait]
impl VectorIndex for SqliteVectors {
    async fn upsert(&self, ns: &Namespace, records: Vec<VectorRecord>) -> Result<(), VectorError> {
        validate_batch(records.len())?;
        records.iter().try_for_each(VectorRecord::validate)?;
        if records.is_empty() {
            return Ok(());
        }
        let records = last_of_each(records);
        let ns = ns.clone();
        self.blocking(move |inner| {
            let rows = records
                .iter()
                .map(|r| {
                    let meta = serde_json::to_string(&r.metadata)
                        .map_err(|e| VectorError::Invalid(format!("metadata: {e}")))?;
                    Ok((encode_vector(&r.vector), meta))
                })
                .collect::<Result<Vec<_>, VectorError>>()?;
            inner.write(
                &ns,
                |tx| {
                    let current = namespace_row(tx, &ns)?;
                    let dim = current.map_or(records[0].vector.len(), |(d, _)| d);
                    if let Some(r) = records.iter().find(|r| r.vector.len() != dim) {
                        return Err(VectorError::DimensionMismatch {
                            expected: dim,
                            got: r.vector.len(),
                        });
                    }
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT INTO vectors (ns, id, vector, metadata) VALUES (?1, ?2, ?3, ?4) \
                             ON CONFLICT (ns, id) DO UPDATE \
                             SET vector = excluded.vector, metadata = excluded.metadata",
                        )
                        .map_err(db_err)?;
                    for (r, (vector, meta)) in records.iter().zip(&rows) {
                        stmt.execute(params![ns.as_str(), r.id.as_str(), vector, meta])
                            .map_err(db_err)?;
                    }
                    let after = next_generation(tx)?;
                    stamp(tx, &ns, dim, after)?;
                    Ok(Written {
                        before: current.map(|(_, g)| g),
                        after: Some(after),
                        created: current.is_none().then_some(dim),
                    })
                },
                |cached| {
                    for r in &records {
                        cached.put(r.id.clone(), &r.vector, r.metadata.clone());
                    }
                },
            )
        })
        .await
    }

    async fn get(
        &self,
        ns: &Namespace,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorError> {
        validate_batch(ids.len())?;
        let (ns, ids) = (ns.clone(), ids.to_vec());
        self.blocking(move |inner| {
            inner.read(|conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT vector, metadata FROM vectors WHERE ns = ?1 AND id = ?2",
                    )
                    .map_err(db_err)?;
                let mut out = vec![];
                let mut seen = std::collections::HashSet::new();
                for id in ids.into_iter().filter(|id| seen.insert(id.clone())) {
                    let row = stmt
                        .query_row(params![ns.as_str(), id.as_str()], |r| {
                            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
                        })
                        .optional()
                        .map_err(db_err)?;
                    if let Some((vector, meta)) = row {
                        out.push(VectorRecord {
                            id,
                            vector: decode_vector(&vector)?,
                            metadata: decode_metadata(&meta)?,
                        });
                    }
                }
                Ok(out)
            })
        })
        .await
    }

    async fn delete(&self, ns: &Namespace, ids: &[VectorId]) -> Result<(), VectorError> {
        validate_batch(ids.len())?;
        if ids.is_empty() {
            return Ok(());
        }
        let (ns, ids) = (ns.clone(), ids.to_vec());
        self.blocking(move |inner| {
            inner.write(
                &ns,
                |tx| {
                    let Some((dim, before)) = namespace_row(tx, &ns)? else {
                        return Ok(Written {
                            before: None,
                            after: None,
                            created: None,
                        });
                    };
                    let mut stmt = tx
                        .prepare_cached("DELETE FROM vectors WHERE ns = ?1 AND id = ?2")
                        .map_err(db_err)?;
                    let mut deleted = 0;
                    for id in &ids {
                        deleted += stmt
                            .execute(params![ns.as_str(), id.as_str()])
                            .map_err(db_err)?;
                    }
                    if deleted == 0 {
                        return Ok(Written {
                            before: Some(before),
                            after: None,
                            created: None,
                        });
                    }
                    let after = next_generation(tx)?;
                    stamp(tx, &ns, dim, after)?;
                    Ok(Written {
                        before: Some(before),
                        after: Some(after),
                        created: None,
                    })
                },
                |cached| ids.iter().for_each(|id| cached.remove(id)),
            )
        })
        .await
    }

    async fn query(&self, ns: &Namespace, query: &VectorQuery) -> Result<Vec<Hit>, VectorError> {
        query.validate()?;
        let (ns, query) = (ns.clone(), query.clone());
        self.blocking(move |inner| inner.query(&ns, &query)).await
    }

    async fn list(
        &self,
        ns: &Namespace,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<VectorPage, VectorError> {
        validate_page_size(limit)?;
        let after = cursor.map(decode_cursor).transpose()?;
        let ns = ns.clone();
        self.blocking(move |inner| {
            inner.read(|conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT id, vector, metadata FROM vectors \
                         WHERE ns = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                    )
                    .map_err(db_err)?;
                let rows = stmt
                    .query_map(
                        params![ns.as_str(), after.unwrap_or_default(), limit as i64 + 1],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, Vec<u8>>(1)?,
                                r.get::<_, String>(2)?,
                            ))
                        },
                    )
                    .map_err(db_err)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db_err)?;
                let more = rows.len() > limit;
                let records = rows
                    .into_iter()
                    .take(limit)
                    .map(|(id, vector, meta)| {
                        Ok(VectorRecord {
                            id: VectorId::parse(id).map_err(|e| {
                                VectorError::Fatal(format!("a stored vector id is malformed: {e}"))
                            })?,
                            vector: decode_vector(&vector)?,
                            metadata: decode_metadata(&meta)?,
                        })
                    })
                    .collect::<Result<Vec<_>, VectorError>>()?;
                let next = if more {
                    records.last().map(|r| encode_cursor(&r.id))
                } else {
                    None
                };
                Ok(VectorPage { records, next })
            })
        })
        .await
    }

    async fn dimension(&self, ns: &Namespace) -> Result<Option<usize>, VectorError> {
        let ns = ns.clone();
        self.blocking(move |inner| Ok(inner.read(|c| namespace_row(c, &ns))?.map(|(d, _)| d)))
            .await
    }

    async fn count(&self, ns: &Namespace) -> Result<u64, VectorError> {
        let ns = ns.clone();
        self.blocking(move |inner| {
            inner.read(|c| {
                c.prepare_cached("SELECT count(*) FROM vectors WHERE ns = ?1")
                    .map_err(db_err)?
                    .query_row([ns.as_str()], |r| r.get::<_, i64>(0))
                    .map(|n| n as u64)
                    .map_err(db_err)
            })
        })
        .await
    }

    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), VectorError> {
        let ns = ns.clone();
        self.blocking(move |inner| {
            inner.write(
                &ns,
                |tx| {
                    let before = namespace_row(tx, &ns)?.map(|(_, g)| g);
                    tx.execute("DELETE FROM vectors WHERE ns = ?1", [ns.as_str()])
                        .map_err(db_err)?;
                    tx.execute("DELETE FROM namespaces WHERE ns = ?1", [ns.as_str()])
                        .map_err(db_err)?;
                    // Caches loaded elsewhere become older than the database.
                    let after = next_generation(tx)?;
                    // No `before` matches a loaded cache: this process's is emptied.
                    Ok(Written {
                        before: None,
                        after: before.map(|_| after),
                        created: None,
                    })
                },
                |_| {},
            )?;
            inner.caches.forget(&ns);
            Ok(())
        })
        .await
    }

    async fn check(&self) -> Result<(), VectorError> {
        self.blocking(|inner| {
            inner.read(|c| {
                c.prepare_cached("SELECT generation FROM counter")
                    .map_err(db_err)?
                    .query_row([], |_| Ok(()))
                    .map_err(db_err)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(name: &str) -> Namespace {
        Namespace::parse(name).unwrap()
    }

    fn record(id: &str, vector: &[f32]) -> VectorRecord {
        VectorRecord {
            id: VectorId::parse(id).unwrap(),
            vector: vector.to_vec(),
            metadata: json!({"id": id}).as_object().unwrap().clone(),
        }
    }

    async fn nearest(index: &SqliteVectors, ns: &Namespace, vector: &[f32]) -> Vec<String> {
        let query = VectorQuery {
            vector: vector.to_vec(),
            top_k: 10,
            filter: None,
        };
        let hits = index.query(ns, &query).await.unwrap();
        hits.into_iter().map(|h| h.id.as_str().to_owned()).collect()
    }

    #[test]
    fn dot_equals_a_plain_sum_at_every_length() {
        for n in 1..40 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "length {n}");
        }
    }

    #[test]
    fn the_cache_moves_the_last_row_into_a_removed_one() {
        let mut cached = Cached::empty(0, 2);
        for (id, v) in [("a", [1.0, 0.0]), ("b", [0.0, 2.0]), ("c", [3.0, 3.0])] {
            cached.put(VectorId::parse(id).unwrap(), &v, Metadata::new());
        }
        cached.remove(&VectorId::parse("a").unwrap());
        assert_eq!(cached.ids.len(), 2);
        assert_eq!(cached.units.len(), 4);
        let c = cached.slots[&VectorId::parse("c").unwrap()];
        assert_eq!(cached.ids[c].as_str(), "c");
        let s = std::f32::consts::FRAC_1_SQRT_2;
        assert!((cached.units[c * 2] - s).abs() < 1e-6);
        let hits = cached.search(&[0.0, 1.0], 5, None);
        let order: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(order, ["b", "c"]);
    }

    /// The metadata index follows rows that move and change: a filtered search
    /// finds what filtering every row finds.
    #[test]
    fn filtered_search_agrees_with_a_full_scan_after_moves_and_updates() {
        let mut cached = Cached::empty(0, 2);
        let tagged = |i: usize, tag: &str| {
            let meta = json!({"tx": [tag, format!("n{i}")], "odd": i % 2 == 1});
            (
                VectorId::parse(format!("v{i}")).unwrap(),
                [1.0, i as f32 / 10.0],
                meta.as_object().unwrap().clone(),
            )
        };
        for i in 0..40 {
            let (id, v, meta) = tagged(i, if i % 3 == 0 { "red" } else { "blue" });
            cached.put(id, &v, meta);
        }
        for i in [0, 7, 13, 39] {
            cached.remove(&VectorId::parse(format!("v{i}")).unwrap());
        }
        for i in [3, 5, 21] {
            let (id, v, meta) = tagged(i, "green");
            cached.put(id, &v, meta);
        }
        use MetadataFilter::*;
        for filter in [
            Eq("tx".into(), "red".into()),
            In("tx".into(), vec!["green".into(), "n8".into()]),
            And(vec![
                Eq("tx".into(), "blue".into()),
                Eq("odd".into(), true.into()),
            ]),
            Or(vec![Eq("tx".into(), "green".into()), Gte("x".into(), 1.0)]),
        ] {
            let hits = cached.search(&[1.0, 0.5], 100, Some(&filter));
            let mut expected: Vec<&str> = (0..cached.ids.len())
                .filter(|i| filter.matches(&cached.metadata[*i]))
                .map(|i| cached.ids[i].as_str())
                .collect();
            let mut found: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
            expected.sort_unstable();
            found.sort_unstable();
            assert!(!expected.is_empty());
            assert_eq!(found, expected, "{filter:?}");
        }
    }

    /// Two handles on one file stand for two processes sharing a data dir: each has
    /// its own cache, and each sees the other's writes at its next query.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_on_one_database_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.db");
        let a = SqliteVectors::open(&path, 1 << 30).unwrap();
        let b = SqliteVectors::open(&path, 1 << 30).unwrap();
        let n = ns("org_1.shared");

        a.upsert(&n, vec![record("x", &[1.0, 0.0])]).await.unwrap();
        assert_eq!(nearest(&b, &n, &[1.0, 0.0]).await, ["x"]);
        a.upsert(&n, vec![record("y", &[1.0, 0.1])]).await.unwrap();
        assert_eq!(nearest(&b, &n, &[1.0, 0.2]).await, ["y", "x"]);
        b.delete(&n, &[VectorId::parse("y").unwrap()])
            .await
            .unwrap();
        assert_eq!(nearest(&a, &n, &[1.0, 0.2]).await, ["x"]);
        a.drop_namespace(&n).await.unwrap();
        assert!(nearest(&b, &n, &[1.0, 0.0]).await.is_empty());
        // Recreated with another dimension: the old cache must not answer.
        a.upsert(&n, vec![record("z", &[0.0, 0.0, 1.0])])
            .await
            .unwrap();
        assert_eq!(nearest(&b, &n, &[0.0, 0.1, 1.0]).await, ["z"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn own_writes_update_a_loaded_cache_without_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let index = SqliteVectors::open(&dir.path().join("vectors.db"), 1 << 30).unwrap();
        let n = ns("org_1.mem");
        index
            .upsert(&n, vec![record("a", &[1.0, 0.0])])
            .await
            .unwrap();
        assert_eq!(nearest(&index, &n, &[1.0, 0.0]).await, ["a"]);
        assert_eq!(
            index.inner.loads.load(Ordering::Relaxed),
            0,
            "the write that created the namespace left its cache warm"
        );
        // Dropped (as after an eviction), the next query loads it.
        *index.inner.caches.slot(&n).write() = None;
        assert_eq!(nearest(&index, &n, &[1.0, 0.0]).await, ["a"]);
        assert_eq!(index.inner.loads.load(Ordering::Relaxed), 1);
        index
            .upsert(&n, vec![record("b", &[0.0, 1.0])])
            .await
            .unwrap();
        index
            .delete(&n, &[VectorId::parse("a").unwrap()])
            .await
            .unwrap();
        assert_eq!(nearest(&index, &n, &[1.0, 1.0]).await, ["b"]);
        assert_eq!(
            index.inner.loads.load(Ordering::Relaxed),
            1,
            "the writes updated the cache in place"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn caches_beyond_the_budget_are_dropped_least_recently_queried_first() {
        let dir = tempfile::tempdir().unwrap();
        let v = record("v", &[1.0, 2.0, 3.0, 4.0]);
        let mut cached = Cached::empty(0, 4);
        cached.put(v.id.clone(), &v.vector, v.metadata.clone());
        let one = cached.bytes();
        // Room for two namespaces of one vector each.
        let index = SqliteVectors::open(&dir.path().join("vectors.db"), 2 * one).unwrap();
        let names = [ns("a.v"), ns("b.v"), ns("c.v")];
        for n in &names {
            index.upsert(n, vec![v.clone()]).await.unwrap();
        }
        let loaded = |n: &Namespace| index.inner.caches.slot(n).read().is_some();
        nearest(&index, &names[0], &[1.0; 4]).await;
        nearest(&index, &names[1], &[1.0; 4]).await;
        assert!(loaded(&names[0]) && loaded(&names[1]));
        nearest(&index, &names[2], &[1.0; 4]).await;
        assert!(!loaded(&names[0]), "the least recently queried went");
        assert!(loaded(&names[1]) && loaded(&names[2]));
        // An evicted namespace still answers (it is loaded again).
        assert_eq!(nearest(&index, &names[0], &[1.0; 4]).await, ["v"]);
    }
}
