//! The embedded item store: one SQLite database in WAL mode, one table of items.
//!
//! Writes go to one writer thread that owns the write connection ([`Writer`]): each
//! write reads the current item, evaluates the condition with [`Condition::holds`]
//! (the port's own semantics) and only then writes, inside the writer's transaction
//! — so conditional writes are atomic, and a refused one changes nothing (a
//! transaction checks all its conditions before its first change) — and writes
//! waiting together are committed together. Reads use a small pool of reader
//! connections on tokio's blocking pool (WAL lets them run beside the writer and see
//! every committed write); no SQLite work runs on the async executor. WAL
//! checkpoints run on a background thread, passively beside the writer, so a commit
//! never pays for copying pages back and fsyncing; only when the WAL passes ~128 MB
//! does the writer pause between groups to restart it, once the background thread
//! has made that restart cheap ([`settle`]). Expired items stay on disk until
//! [`ItemStore::purge_expired`] but are filtered out of every read and count as
//! absent for every condition, exactly as the DynamoDB adapter behaves.

use super::sqlite_writer::Writer;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use serde_json::{Map, Value};
use skiff_core::clock::SharedClock;
use skiff_core::ports::store::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Reader connections kept open (the machine has few cores; more buys nothing).
const READERS: usize = 4;
/// How much of the database file a reader maps into memory: its reads then come
/// straight from the OS page cache, with no `read` call and no copy per page (what
/// large scans, such as the operators' figures, spend most of their time on). Only
/// address space; the pages are the page cache's.
const READER_MMAP_BYTES: i64 = 1 << 30;
/// How long a connection waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements cached per connection (queries have a few dozen shapes).
const STATEMENT_CACHE: usize = 64;
/// How often the background thread copies the WAL back into the database (short
/// ticks keep each checkpoint's fsync small, so it competes less with commits).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(25);
/// WAL frames (pages) past which the WAL is restarted from its beginning (≈ 128 MB).
/// Readers keep the WAL from resetting by itself while writes never pause, so
/// without a restart it would grow without bound under sustained load. Each restart
/// pauses writes for a few milliseconds; a larger WAL makes them rarer.
const RESTART_FRAMES: i64 = 32_768;
/// Frames left to copy below which a restart is cheap (its pause is this copy plus
/// two fsyncs).
const RESTART_BACKLOG: i64 = 256;
/// Copy-and-flush rounds run before a restart, at most (see [`settle`]).
const SETTLE_ROUNDS: usize = 8;
/// A round this quick leaves the restart almost nothing to do.
const SETTLED: Duration = Duration::from_millis(2);
/// Size the WAL file is truncated to after a restart: above the restart point, so
/// under load the file is reused rather than cut and grown again.
const WAL_SIZE_LIMIT: i64 = 256 * 1024 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk     TEXT NOT NULL,
    sk     TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    ttl    INTEGER,          -- unix seconds; NULL = never expires
    v      INTEGER NOT NULL, -- the item's Version
    data   TEXT NOT NULL,    -- the attributes, a JSON object
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

const SELECT_ITEM: &str =
    "SELECT gsi1pk, gsi1sk, ttl, v, data FROM items WHERE pk = ?1 AND sk = ?2";
const UPSERT_ITEM: &str = "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, ttl, v, data) \
                           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const DELETE_ITEM: &str = "DELETE FROM items WHERE pk = ?1 AND sk = ?2";

/// The SQLite item store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    inner: Arc<Inner>,
    checkpointer: Checkpointer,
}

/// The signal that stops the background checkpoint thread.
struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl Checkpointer {
    /// Checkpoint through `conn`. Passive checkpoints (and their fsyncs) run beside
    /// the writer. When the WAL is due for a restart, this thread first settles it
    /// ([`settle`]), then asks the writer (`restart_wal`), which restarts it between
    /// groups — a pause of a few milliseconds.
    fn start(
        conn: Connection,
        files: Files,
        restart_wal: Arc<AtomicBool>,
    ) -> Result<Self, StoreError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        std::thread::Builder::new()
            .name("skiff-store-checkpoint".into())
            .spawn(move || {
                let (flag, wake) = &*signal;
                loop {
                    // The flag's lock is released before any work, so `drop` never waits.
                    let stopped = wake
                        .wait_timeout_while(
                            flag.lock().unwrap_or_else(PoisonError::into_inner),
                            CHECKPOINT_EVERY,
                            |stopped| !*stopped,
                        )
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    if *stopped {
                        return;
                    }
                    drop(stopped);
                    // A failure is logged and retried on the next tick.
                    match passive_checkpoint(&conn) {
                        Ok(wal) if wal.frames > RESTART_FRAMES => {
                            if let Err(e) = settle(&conn, &files) {
                                tracing::warn!(error = %e, "item store checkpoint failed");
                            }
                            restart_wal.store(true, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "item store checkpoint failed"),
                    }
                }
            })
            .map_err(|e| StoreError::Fatal(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { stop })
    }
}

/// The database file and its WAL, opened for flushing only.
struct Files {
    db: std::fs::File,
    wal: PathBuf,
}

/// Make the coming restart cheap. A restart copies what is left of the WAL into the
/// database and flushes both files before it may start over, all while the writer
/// waits. A flush costs in proportion to what is dirty (≈ 0.5 ms per MB on our CI
/// disks), and a passive checkpoint flushes the database only when it copies the
/// whole WAL, which under load it never does: left alone, the restart would flush
/// everything copied since the last one (~10 ms). So this thread copies and flushes
/// both files itself, round after round while the rounds get quicker, until the
/// writer's restart finds only the last few milliseconds of work to redo.
fn settle(conn: &Connection, files: &Files) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Fatal(format!("cannot flush the item store: {e}"));
    let wal = std::fs::File::open(&files.wal).map_err(io)?;
    let mut previous = Duration::MAX;
    for _ in 0..SETTLE_ROUNDS {
        let started = Instant::now();
        let backlog = passive_checkpoint(conn)?.backlog();
        files.db.sync_data().map_err(io)?;
        wal.sync_data().map_err(io)?;
        let took = started.elapsed();
        if backlog < RESTART_BACKLOG && (took < SETTLED || took >= previous) {
            break;
        }
        previous = took;
    }
    Ok(())
}

/// The WAL's state after a checkpoint.
struct WalState {
    /// Frames in the WAL.
    frames: i64,
    /// Frames copied into the database.
    copied: i64,
}

impl WalState {
    /// Frames still to copy (readers on older snapshots hold some back).
    fn backlog(&self) -> i64 {
        self.frames - self.copied
    }
}

/// Copy what can be copied without waiting for anyone.
fn passive_checkpoint(conn: &Connection) -> Result<WalState, StoreError> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(WalState {
            frames: row.get(1)?,
            copied: row.get(2)?,
        })
    })
    .map_err(db_err)
}

impl Drop for SqliteStore {
    /// Stop the checkpoint thread; it exits within one tick. Not joined, so a drop never
    /// blocks the executor. (The writer thread stops when its last handle is gone.)
    fn drop(&mut self) {
        *self
            .checkpointer
            .stop
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.checkpointer.stop.1.notify_all();
    }
}

/// Reader connections are guarded by tokio's mutex: it is fair (FIFO), and waiting
/// for it occupies no blocking-pool thread.
type Shared = Arc<tokio::sync::Mutex<Connection>>;

struct Inner {
    writer: Writer,
    readers: Vec<Shared>,
    next_reader: AtomicUsize,
    clock: SharedClock,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path`. The clock decides expiry.
    pub fn open(path: &Path, clock: SharedClock) -> Result<Self, StoreError> {
        let writer = open_connection(path)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Fatal(format!(
                "{} cannot use WAL mode (got `{mode}`)",
                path.display()
            )));
        }
        writer.execute_batch(SCHEMA).map_err(db_err)?;
        // A statement that must be undone on its own keeps its journal in memory.
        writer
            .pragma_update(None, "temp_store", "MEMORY")
            .map_err(db_err)?;
        // Commits never checkpoint; the background thread does.
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db_err)?;
        writer
            .pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(db_err)?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = open_connection(path)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(db_err)?;
                conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)
                    .map_err(db_err)?;
                Ok(Arc::new(tokio::sync::Mutex::new(conn)))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let restart_wal = Arc::new(AtomicBool::new(false));
        let files = Files {
            db: std::fs::File::open(path)
                .map_err(|e| StoreError::Fatal(format!("cannot open {}: {e}", path.display())))?,
            wal: PathBuf::from(format!("{}-wal", path.display())),
        };
        let checkpointer = Checkpointer::start(open_connection(path)?, files, restart_wal.clone())?;
        let writer = Writer::start(writer, clock.clone(), restart_wal)?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer,
                readers,
                next_reader: AtomicUsize::new(0),
                clock,
            }),
            checkpointer,
        })
    }

    /// Run `f` as one atomic write on the writer thread. `f` checks its conditions
    /// before it changes a row ([`Writer::write`]).
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, i64) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    /// Run `f` on a reader connection, off the executor.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let conn = inner.reader().await;
        blocking(move || {
            let now = inner.clock.unix();
            f(&conn, now)
        })
        .await
    }
}

impl SqliteStore {
    /// `read_one` over each part, on one reader connection in one read transaction
    /// (each statement would otherwise take and drop the read lock by itself);
    /// no trip to the blocking pool for none.
    async fn read_each<P, T>(
        &self,
        parts: Vec<P>,
        read_one: fn(&Connection, &P, i64) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError>
    where
        P: Send + 'static,
        T: Send + 'static,
    {
        if parts.is_empty() {
            return Ok(vec![]);
        }
        self.read(move |conn, now| {
            let tx = conn.unchecked_transaction().map_err(db_err)?;
            let out = parts.iter().map(|p| read_one(&tx, p, now)).collect();
            tx.commit().map_err(db_err)?;
            out
        })
        .await
    }
}

impl Inner {
    /// A free reader if there is one, else wait for the next in turn.
    async fn reader(&self) -> tokio::sync::OwnedMutexGuard<Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(conn) = self.readers[(start + i) % n].clone().try_lock_owned() {
                return conn;
            }
        }
        self.readers[start % n].clone().lock_owned().await
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Fatal(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Fatal(format!("store task failed: {e}")))?
}

/// Lock contention past the busy timeout is transient; anything else is not.
pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("sqlite: {e}"))
        }
        _ => StoreError::Fatal(format!("sqlite: {e}")),
    }
}

fn is_live(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|t| t > now)
}

fn row_item(key: Key, row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RawItem> {
    Ok(RawItem {
        key,
        gsi1pk: row.get(first)?,
        gsi1sk: row.get(first + 1)?,
        ttl: row.get(first + 2)?,
        v: row.get(first + 3)?,
        data: row.get(first + 4)?,
    })
}

/// A row as stored, before its JSON is parsed.
struct RawItem {
    key: Key,
    gsi1pk: Option<String>,
    gsi1sk: Option<String>,
    ttl: Option<i64>,
    v: i64,
    data: String,
}

impl RawItem {
    fn into_item(self) -> Result<Item, StoreError> {
        let attrs: Map<String, Value> = serde_json::from_str(&self.data).map_err(|e| {
            StoreError::Fatal(format!(
                "item {}/{} holds malformed JSON: {e}",
                self.key.pk, self.key.sk
            ))
        })?;
        Ok(Item {
            gsi1: self
                .gsi1pk
                .zip(self.gsi1sk)
                .map(|(pk, sk)| IndexKey { pk, sk }),
            expires_at: self.ttl,
            version: Version(self.v as u64),
            attrs,
            key: self.key,
        })
    }
}

/// The live item at `key`, if any.
fn load(conn: &Connection, key: &Key, now: i64) -> Result<Option<Item>, StoreError> {
    load_raw(conn, key, now)?
        .map(RawItem::into_item)
        .transpose()
}

/// The live item at `key`, if any, its attributes as stored.
fn load_text(conn: &Connection, key: &Key, now: i64) -> Result<Option<ItemText>, StoreError> {
    Ok(load_raw(conn, key, now)?.map(|raw| ItemText {
        key: raw.key,
        version: Version(raw.v as u64),
        attrs: raw.data,
    }))
}

fn load_raw(conn: &Connection, key: &Key, now: i64) -> Result<Option<RawItem>, StoreError> {
    let raw = conn
        .prepare_cached(SELECT_ITEM)
        .map_err(db_err)?
        .query_row(params![key.pk, key.sk], |row| row_item(key.clone(), row, 0))
        .optional()
        .map_err(db_err)?;
    Ok(raw.filter(|raw| is_live(raw.ttl, now)))
}

/// An item ready to store: its attributes already encoded as `data` (by
/// [`encode_new_item`]).
struct Row {
    item: Item,
    data: String,
}

/// Store the row's item.
fn save(conn: &Connection, Row { item, data }: &Row) -> Result<(), StoreError> {
    conn.prepare_cached(UPSERT_ITEM)
        .map_err(db_err)?
        .execute(params![
            item.key.pk,
            item.key.sk,
            item.gsi1.as_ref().map(|g| &g.pk),
            item.gsi1.as_ref().map(|g| &g.sk),
            item.expires_at,
            item.version.0 as i64,
            data,
        ])
        .map_err(db_err)?;
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.prepare_cached(DELETE_ITEM)
        .map_err(db_err)?
        .execute(params![key.pk, key.sk])
        .map_err(db_err)?;
    Ok(())
}

fn check(condition: Option<&Condition>, current: Option<&Item>) -> Result<(), StoreError> {
    match condition {
        Some(c) if !c.holds(current) => Err(StoreError::CONDITION_FAILED),
        _ => Ok(()),
    }
}

/// A validated put, its attributes already encoded by the caller: JSON encoding runs
/// on the caller's thread, not on the writer every write waits for.
struct EncodedPut {
    item: NewItem,
    data: String,
}

impl EncodedPut {
    fn new(item: NewItem) -> Result<Self, StoreError> {
        let data = encode_new_item(&item)?;
        Ok(Self { item, data })
    }
}

/// One write of a transaction, validated; a put comes encoded ([`EncodedPut`]).
enum Op {
    Put(EncodedPut, Option<Condition>),
    Update(Key, Vec<Change>, Option<Condition>),
    Delete(Key, Option<Condition>),
    Check(Key, Condition),
}

impl Op {
    fn new(write: Write) -> Result<Self, StoreError> {
        if !matches!(write, Write::Put { .. }) {
            validate_write(&write)?;
        }
        Ok(match write {
            Write::Put { item, condition } => Op::Put(EncodedPut::new(item)?, condition),
            Write::Update {
                key,
                changes,
                condition,
            } => Op::Update(key, changes, condition),
            Write::Delete { key, condition } => Op::Delete(key, condition),
            Write::Check { key, condition } => Op::Check(key, condition),
        })
    }

    /// Check its condition and decide what it will change, changing nothing yet.
    fn prepare(self, conn: &Connection, now: i64) -> Result<Prepared, StoreError> {
        Ok(match self {
            Op::Put(put, condition) => Prepared::Save(put_row(conn, now, put, condition.as_ref())?),
            Op::Update(key, changes, condition) => {
                Prepared::Save(updated_row(conn, now, &key, changes, condition.as_ref())?)
            }
            Op::Delete(key, condition) => {
                deletable(conn, now, &key, condition.as_ref())?;
                Prepared::Remove(key)
            }
            Op::Check(key, condition) => {
                check(Some(&condition), load(conn, &key, now)?.as_ref())?;
                Prepared::Nothing
            }
        })
    }
}

/// A transaction's write once its condition held: what is left is to make it.
enum Prepared {
    Save(Row),
    Remove(Key),
    Nothing,
}

impl Prepared {
    fn make(&self, conn: &Connection) -> Result<(), StoreError> {
        match self {
            Prepared::Save(row) => save(conn, row),
            Prepared::Remove(key) => remove(conn, key),
            Prepared::Nothing => Ok(()),
        }
    }
}

/// Store the row and return its item (what a put or an update answers).
fn saved(conn: &Connection, row: Row) -> Result<Item, StoreError> {
    save(conn, &row)?;
    Ok(row.item)
}

/// The row a put stores, if its condition holds.
fn put_row(
    conn: &Connection,
    now: i64,
    EncodedPut { item, data }: EncodedPut,
    condition: Option<&Condition>,
) -> Result<Row, StoreError> {
    let key = item.key.expect("validated: the item has a key");
    if condition.is_some() {
        check(condition, load(conn, &key, now)?.as_ref())?;
    }
    let item = Item {
        key,
        gsi1: item.gsi1,
        expires_at: item.expires_at,
        version: Version::fresh(),
        attrs: item.attrs,
    };
    Ok(Row { item, data })
}

/// `attrs[name] + delta`, a missing attribute counting as 0.
fn added(attrs: &Map<String, Value>, name: &str, delta: i64) -> Result<Value, StoreError> {
    let not_number = || StoreError::Invalid(format!("attribute `{name}` is not a number"));
    match attrs.get(name) {
        None => Ok(delta.into()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => i
                .checked_add(delta)
                .map(Value::from)
                .ok_or_else(|| StoreError::Invalid(format!("attribute `{name}` would overflow"))),
            None => n
                .as_f64()
                .and_then(|f| serde_json::Number::from_f64(f + delta as f64))
                .map(Value::Number)
                .ok_or_else(not_number),
        },
        Some(_) => Err(not_number()),
    }
}

/// The row an update stores, if its condition holds.
fn updated_row(
    conn: &Connection,
    now: i64,
    key: &Key,
    changes: Vec<Change>,
    condition: Option<&Condition>,
) -> Result<Row, StoreError> {
    let current = load(conn, key, now)?;
    check(condition, current.as_ref())?;
    // An absent or expired item starts empty, as if it had never existed.
    let mut item = current.unwrap_or_else(|| Item {
        key: key.clone(),
        gsi1: None,
        expires_at: None,
        version: Version(0),
        attrs: Map::new(),
    });
    for change in changes {
        match change {
            Change::Set(name, value) => {
                item.attrs.insert(name, value);
            }
            Change::Remove(name) => {
                item.attrs.remove(&name);
            }
            Change::Add(name, delta) => {
                let value = added(&item.attrs, &name, delta)?;
                item.attrs.insert(name, value);
            }
            Change::SetIndex(gsi1) => item.gsi1 = gsi1,
            Change::SetExpiry(expires_at) => item.expires_at = expires_at,
        }
    }
    // The result must obey the same size limit as a put.
    let sized = NewItem {
        key: Some(item.key),
        gsi1: item.gsi1,
        expires_at: item.expires_at,
        attrs: item.attrs,
    };
    let data = encode_new_item(&sized)?;
    let item = Item {
        key: sized.key.expect("set above"),
        gsi1: sized.gsi1,
        expires_at: sized.expires_at,
        version: Version::fresh(),
        attrs: sized.attrs,
    };
    Ok(Row { item, data })
}

fn apply_delete(
    conn: &Connection,
    now: i64,
    key: &Key,
    condition: Option<&Condition>,
) -> Result<Option<Item>, StoreError> {
    let current = deletable(conn, now, key, condition)?;
    remove(conn, key)?;
    Ok(current)
}

/// The item a delete removes (if any), if its condition holds.
fn deletable(
    conn: &Connection,
    now: i64,
    key: &Key,
    condition: Option<&Condition>,
) -> Result<Option<Item>, StoreError> {
    let current = load(conn, key, now)?;
    check(condition, current.as_ref())?;
    Ok(current)
}

/// Whether `value` is within the bound of a bounded add (see [`ItemStore::add`]).
fn within_bound(value: i64, delta: i64, max: Option<i64>) -> bool {
    match max {
        None => true,
        Some(max) => value <= max && (delta >= 0 || value >= 0),
    }
}

fn apply_add(
    conn: &Connection,
    now: i64,
    key: &Key,
    name: &str,
    delta: i64,
    max: Option<i64>,
    expires_at: Option<i64>,
) -> Result<Counter, StoreError> {
    let mut item = match load(conn, key, now)? {
        Some(item) => item,
        // Absent or expired: a fresh counter.
        None => Item {
            key: key.clone(),
            gsi1: None,
            expires_at,
            version: Version(0),
            attrs: Map::new(),
        },
    };
    let value = added(&item.attrs, name, delta)?;
    let Some(value_i64) = value.as_i64() else {
        return Err(StoreError::Invalid(format!(
            "attribute `{name}` is not an integer"
        )));
    };
    if !within_bound(value_i64, delta, max) {
        return Err(StoreError::CONDITION_FAILED);
    }
    item.attrs.insert(name.to_owned(), value);
    item.version = Version::fresh();
    let data = encode_attrs(&item.attrs)?;
    save(conn, &Row { item, data })?;
    Ok(Counter { value: value_i64 })
}

/// Smallest string greater than every string that starts with `prefix`, or `None`
/// when there is none (the prefix is all U+10FFFF). Strings compare by UTF-8 bytes,
/// which is code-point order, so incrementing the last code point is enough.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last as u32 {
            0xD7FF => Some('\u{E000}'),
            c => char::from_u32(c + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A bound on the sort key: value and whether it is inclusive.
type Bound = Option<(String, bool)>;

fn sort_bounds(sort: &SortKey) -> (Bound, Bound) {
    match sort {
        SortKey::Any => (None, None),
        SortKey::Prefix(p) if p.is_empty() => (None, None),
        SortKey::Prefix(p) => (Some((p.clone(), true)), prefix_end(p).map(|e| (e, false))),
        SortKey::Between(a, b) => (Some((a.clone(), true)), Some((b.clone(), true))),
        SortKey::Lt(b) => (None, Some((b.clone(), false))),
        SortKey::Le(b) => (None, Some((b.clone(), true))),
        SortKey::Gt(a) => (Some((a.clone(), false)), None),
        SortKey::Ge(a) => (Some((a.clone(), true)), None),
    }
}

/// The cursor names the last item returned, in the shape of DynamoDB's
/// `LastEvaluatedKey`: base64url of a JSON object of the key attributes.
fn encode_cursor(index: Index, item: &Item) -> String {
    let mut m = Map::new();
    m.insert("pk".into(), item.key.pk.clone().into());
    m.insert("sk".into(), item.key.sk.clone().into());
    if index == Index::Gsi1
        && let Some(g) = &item.gsi1
    {
        m.insert("gsi1pk".into(), g.pk.clone().into());
        m.insert("gsi1sk".into(), g.sk.clone().into());
    }
    URL_SAFE_NO_PAD.encode(Value::Object(m).to_string())
}

fn decode_cursor(cursor: &str, index: Index) -> Result<Vec<String>, StoreError> {
    let bad = || StoreError::Invalid("malformed query cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let m: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let field = |name: &str| m.get(name).and_then(Value::as_str).map(str::to_owned);
    let fields: &[&str] = match index {
        Index::Primary => &["sk"],
        Index::Gsi1 => &["gsi1sk", "pk", "sk"],
    };
    fields.iter().map(|f| field(f).ok_or_else(bad)).collect()
}

/// `WHERE …` of a query's partition, sort-key range and liveness, with its
/// arguments; what `run_query` reads and `run_count` counts.
fn query_filter(q: &Query, now: i64) -> (String, Vec<SqlValue>) {
    let (pk_col, sk_col) = match q.index {
        Index::Primary => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
    };
    // `+?`, here and in `LIMIT +?`: a bare parameter compared with the key column
    // (or bounding a sorted read) lets SQLite's planner peek at its bound value, and
    // a statement planned that way is prepared again whenever the value changes —
    // that is, on every use from the statement cache. `+?` is the same value.
    let mut sql = format!("WHERE {pk_col} = +? AND (ttl IS NULL OR ttl > ?)");
    let mut args: Vec<SqlValue> = vec![q.pk.clone().into(), now.into()];
    let (lo, hi) = sort_bounds(&q.sort);
    if let Some((v, inclusive)) = lo {
        sql.push_str(&format!(
            " AND {sk_col} {} ?",
            if inclusive { ">=" } else { ">" }
        ));
        args.push(v.into());
    }
    if let Some((v, inclusive)) = hi {
        sql.push_str(&format!(
            " AND {sk_col} {} ?",
            if inclusive { "<=" } else { "<" }
        ));
        args.push(v.into());
    }
    (sql, args)
}

/// The statement that counts a query's items, and its arguments.
fn count_statement(q: &Query, now: i64) -> (String, Vec<SqlValue>) {
    let (filter, args) = query_filter(q, now);
    (format!("SELECT count(*) FROM items {filter}"), args)
}

fn run_count(conn: &Connection, q: &Query, now: i64) -> Result<u64, StoreError> {
    let (sql, args) = count_statement(q, now);
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let n: i64 = stmt
        .query_row(rusqlite::params_from_iter(args), |row| row.get(0))
        .map_err(db_err)?;
    Ok(n as u64)
}

/// The statement that reads a query's page, its arguments, and the page size.
fn query_statement(q: &Query, now: i64) -> Result<(String, Vec<SqlValue>, usize), StoreError> {
    let limit = q.limit.unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE);
    let (filter, mut args) = query_filter(q, now);
    let mut sql = format!("SELECT pk, sk, gsi1pk, gsi1sk, ttl, v, data FROM items {filter}");
    let (after, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(cursor) = &q.cursor {
        let fields = decode_cursor(cursor, q.index)?;
        match q.index {
            Index::Primary => sql.push_str(&format!(" AND sk {after} ?")),
            // Index keys need not be unique: the primary key breaks ties.
            Index::Gsi1 => sql.push_str(&format!(" AND (gsi1sk, pk, sk) {after} (?, ?, ?)")),
        }
        args.extend(fields.into_iter().map(SqlValue::from));
    }
    match q.index {
        Index::Primary => sql.push_str(&format!(" ORDER BY sk {dir}")),
        Index::Gsi1 => sql.push_str(&format!(" ORDER BY gsi1sk {dir}, pk {dir}, sk {dir}")),
    }
    sql.push_str(" LIMIT +?");
    // One more than asked, to know whether another page follows.
    args.push((limit as i64 + 1).into());
    Ok((sql, args, limit))
}

fn run_query(conn: &Connection, q: &Query, now: i64) -> Result<Page, StoreError> {
    let (sql, args, limit) = query_statement(q, now)?;
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let raws = stmt
        .query_map(rusqlite::params_from_iter(args), |row| {
            let key = Key {
                pk: row.get(0)?,
                sk: row.get(1)?,
            };
            row_item(key, row, 2)
        })
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    let more = raws.len() > limit;
    let items = raws
        .into_iter()
        .take(limit)
        .map(RawItem::into_item)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if more {
        items.last().map(|last| encode_cursor(q.index, last))
    } else {
        None
    };
    Ok(Page { items, next })
}

#[async_trait]
impl ItemStore for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate_key(key)?;
        let key = key.clone();
        self.read(move |conn, now| load(conn, &key, now)).await
    }

    /// One reader connection and one trip to the blocking pool for all the keys.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        validate_batch_get(keys)?;
        self.read_each(keys.to_vec(), load).await
    }

    /// As `get_many`; the attributes are the stored text, unparsed.
    async fn get_many_text(&self, keys: &[Key]) -> Result<Vec<Option<ItemText>>, StoreError> {
        validate_batch_get(keys)?;
        self.read_each(keys.to_vec(), load_text).await
    }

    async fn put(&self, item: NewItem, condition: Option<Condition>) -> Result<Item, StoreError> {
        let put = EncodedPut::new(item)?;
        self.write(move |conn, now| saved(conn, put_row(conn, now, put, condition.as_ref())?))
            .await
    }

    async fn update(
        &self,
        key: &Key,
        changes: Vec<Change>,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        validate_key(key)?;
        validate_changes(&changes)?;
        let key = key.clone();
        self.write(move |conn, now| {
            saved(
                conn,
                updated_row(conn, now, &key, changes, condition.as_ref())?,
            )
        })
        .await
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        validate_key(key)?;
        let key = key.clone();
        self.write(move |conn, now| apply_delete(conn, now, &key, condition.as_ref()))
            .await
    }

    async fn add(
        &self,
        key: &Key,
        name: &str,
        delta: i64,
        max: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<Counter, StoreError> {
        validate_key(key)?;
        validate_attr_name(name)?;
        let key = key.clone();
        let name = name.to_owned();
        self.write(move |conn, now| apply_add(conn, now, &key, &name, delta, max, expires_at))
            .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction_keys(&writes)?;
        let ops = writes
            .into_iter()
            .map(Op::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(move |conn, now| {
            // Every condition first, against the state before the transaction (its
            // keys are distinct), then every change: a refused transaction changes
            // nothing, which the writer relies on.
            let prepared = ops
                .into_iter()
                .enumerate()
                .map(|(i, op)| {
                    op.prepare(conn, now).map_err(|e| match e {
                        StoreError::ConditionFailed { .. } => {
                            StoreError::ConditionFailed { index: Some(i) }
                        }
                        e => e,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            prepared.iter().try_for_each(|p| p.make(conn))
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        validate_query(&query)?;
        self.read(move |conn, now| run_query(conn, &query, now))
            .await
    }

    /// One reader connection, one read transaction and one trip to the blocking
    /// pool for all the queries.
    async fn query_many(&self, queries: Vec<Query>) -> Result<Vec<Page>, StoreError> {
        validate_batch_query(&queries)?;
        self.read_each(queries, run_query).await
    }

    async fn count(&self, query: Query) -> Result<u64, StoreError> {
        validate_query(&query)?;
        self.read(move |conn, now| run_count(conn, &query, now))
            .await
    }

    async fn purge_expired(&self, max: usize) -> Result<usize, StoreError> {
        if max == 0 {
            return Ok(0);
        }
        self.write(move |conn, now| {
            conn.prepare_cached(
                "DELETE FROM items WHERE (pk, sk) IN \
                 (SELECT pk, sk FROM items WHERE ttl <= ?1 LIMIT ?2)",
            )
            .map_err(db_err)?
            .execute(params![now, max as i64])
            .map_err(db_err)
        })
        .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.read(|conn, _| {
            conn.prepare_cached("SELECT count(*) FROM (SELECT 1 FROM items LIMIT 1)")
                .map_err(db_err)?
                .query_row([], |_| Ok(()))
                .map_err(db_err)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_code_point() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    /// A cached query statement runs again with new values as it is: SQLite does not
    /// prepare it again (it does when the plan depends on a bound value).
    #[test]
    fn cached_queries_are_not_prepared_again_for_new_values() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let queries = |i: usize| {
            [
                Query::partition(format!("pk{i}")).limit(i + 1),
                Query::partition(format!("pk{i}")).prefix("s").descending(),
                Query::gsi1(format!("g{i}")).limit(i + 2),
            ]
        };
        for i in 0..5 {
            for q in queries(i) {
                run_query(&conn, &q, i as i64).unwrap();
                run_count(&conn, &q, i as i64).unwrap();
            }
        }
        for q in queries(0) {
            let (read, _, _) = query_statement(&q, 0).unwrap();
            let (count, _) = count_statement(&q, 0);
            for sql in [read, count] {
                let stmt = conn.prepare_cached(&sql).unwrap();
                assert_eq!(
                    stmt.get_status(rusqlite::StatementStatus::RePrepare),
                    0,
                    "{sql}"
                );
            }
        }
    }

    /// `settle` copies the WAL into the database (and flushes both), so the restart
    /// that follows has little left to do.
    #[test]
    fn settle_copies_the_wal_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.db");
        let writer = open_connection(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch(SCHEMA).unwrap();
        for i in 0..200 {
            writer
                .execute(
                    UPSERT_ITEM,
                    params![
                        format!("pk{i}"),
                        "sk",
                        None::<String>,
                        None::<String>,
                        None::<i64>,
                        1,
                        "{}"
                    ],
                )
                .unwrap();
        }
        let files = Files {
            db: std::fs::File::open(&path).unwrap(),
            wal: PathBuf::from(format!("{}-wal", path.display())),
        };
        let db_len = || std::fs::metadata(&path).unwrap().len();
        let before = db_len();
        let conn = open_connection(&path).unwrap();
        settle(&conn, &files).unwrap();
        assert!(
            db_len() > before + 4096,
            "the WAL's pages were copied into the database ({before} → {} bytes)",
            db_len()
        );
    }

    #[test]
    fn settle_without_a_wal_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.db");
        let conn = open_connection(&path).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let files = Files {
            db: std::fs::File::open(&path).unwrap(),
            wal: dir.path().join("missing-wal"),
        };
        let err = settle(&conn, &files).unwrap_err();
        assert!(
            err.to_string().contains("cannot flush the item store"),
            "{err}"
        );
    }
}
