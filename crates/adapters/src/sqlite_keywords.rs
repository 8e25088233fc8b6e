//! The embedded keyword index: SQLite FTS5 in its own database file, tokenized with
//! `porter unicode61 remove_diacritics 2`, and searched through an in-memory index
//! per namespace.
//!
//! One FTS5 table holds every namespace. Each row carries its namespace as a single
//! token in a column of its own (`nskey`, weighted 0 in the ranking), and an FTS5
//! query is `nskey : <ns> AND body : (w1 OR w2 …)`, built from [`query_terms`]
//! only, each quoted, so no client text reaches FTS5's query syntax. A plain table
//! maps `(ns, id)` to the FTS row.
//!
//! Searches are answered from memory: FTS5's `bm25()` counts each query word's
//! documents by walking that word's posting list over the whole table (every
//! namespace), so its cost grows with the table, not with the namespace. Each
//! namespace's documents are loaded from the table on its first search into
//! [`Postings`] (posting lists with counts, BM25 per namespace), kept within a
//! memory budget (least recently searched dropped first); a namespace too large for
//! the budget is searched with FTS5 (`bm25`). The two paths stem differently (FTS5's
//! Porter, the index's Porter 2, as the item-store index does), so a word matched
//! only through a rare stem may differ between them.
//!
//! Coherence, as the embedded vector index keeps it: every write bumps a
//! database-wide generation counter and stamps the namespace with it, in the
//! write's transaction; a search reads the stamp first and reloads an older cache.
//! So a search sees every write committed before it started, from this process or
//! another sharing the data dir. This process's writes update a loaded index in
//! place while they hold its lock, so they never force a reload.
//!
//! Writes go through one connection, reads through a small pool, all on tokio's
//! blocking pool (WAL lets readers run beside the writer).

use crate::keyword_postings::Postings;
use crate::namespace_cache::NamespaceCaches;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use skiff_core::ports::keywords::*;
use skiff_core::ports::vectors::Namespace;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes the in-memory indexes may hold together, unless told otherwise.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;
/// A document's share of an in-memory index, estimated before loading one.
const DOC_BYTES_ESTIMATE: usize = 512;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    ns    TEXT NOT NULL,
    id    TEXT NOT NULL,
    UNIQUE (ns, id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    nskey, body, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS generations (
    ns         TEXT PRIMARY KEY,
    generation INTEGER NOT NULL  -- the counter's value at the namespace's last write
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counter (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO counter (one, generation) VALUES (1, 0);
";

/// The SQLite FTS5 keyword index. Cheap to share behind an `Arc`.
pub struct SqliteKeywords {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    caches: NamespaceCaches<Cached>,
    /// Namespaces loaded from the database so far (tests watch it).
    loads: AtomicU64,
}

struct Cached {
    /// The namespace's generation these documents reflect.
    generation: i64,
    postings: Postings,
}

/// Whether an index loaded at `cached` answers for the database at `current` (0:
/// the namespace has no stamp — never written, or dropped).
fn fresh(cached: i64, current: i64) -> bool {
    cached == current || (current != 0 && cached > current)
}

fn fatal(what: &str, e: impl std::fmt::Display) -> KeywordError {
    KeywordError::Fatal(format!("keyword index: {what}: {e}"))
}

fn sql_error(e: rusqlite::Error) -> KeywordError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            KeywordError::Unavailable(e.to_string())
        }
        _ => KeywordError::Fatal(e.to_string()),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The namespace as one token FTS5 keeps whole: hex digits between letters `ns`
/// and a trailing `0`, which no Porter rule strips.
fn ns_token(ns: &Namespace) -> String {
    format!("ns{}0", hex::encode(ns.as_str()))
}

fn open_connection(path: &Path) -> Result<Connection, KeywordError> {
    let conn = Connection::open(path).map_err(|e| fatal("opening", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| fatal("setting the busy timeout", e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| fatal("enabling WAL", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(fatal("enabling WAL", format!("journal mode is {mode}")));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| fatal("setting synchronous", e))?;
    Ok(conn)
}

impl SqliteKeywords {
    /// Open (creating if needed) the index at `path`, with
    /// [`DEFAULT_CACHE_BYTES`] for the in-memory indexes.
    pub fn open(path: &Path) -> Result<Self, KeywordError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Open with `cache_bytes` for the in-memory indexes (0: every search goes to
    /// FTS5).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self, KeywordError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fatal("creating its directory", e))?;
        }
        {
            // Memory contents are private: the file is created 0600 (the WAL and
            // shared-memory files take the same mode).
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| fatal("creating the file", e))?;
        }
        let writer = open_connection(path)?;
        writer
            .execute_batch(SCHEMA)
            .map_err(|e| fatal("creating the schema", e))?;
        let version: i64 = writer
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| fatal("reading the schema version", e))?;
        if version < 1 {
            // Namespaces written before stamps existed get one, so that a stamp of 0
            // always means "no documents".
            writer
                .execute_batch(
                    "BEGIN IMMEDIATE;
                     INSERT OR IGNORE INTO generations (ns, generation)
                         SELECT DISTINCT ns, 1 FROM docs;
                     UPDATE counter SET generation = 1 WHERE generation < 1;
                     PRAGMA user_version = 1;
                     COMMIT;",
                )
                .map_err(|e| fatal("stamping the namespaces", e))?;
        }
        let readers = (0..READERS)
            .map(|_| open_connection(path).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                caches: NamespaceCaches::new(cache_bytes),
                loads: AtomicU64::new(0),
            }),
        })
    }

    /// Run `f` on tokio's blocking pool: SQLite calls and searches never run on the
    /// executor.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, KeywordError> + Send + 'static,
    ) -> Result<T, KeywordError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| fatal("index task", e))?
    }
}

fn rowid_of(conn: &Connection, ns: &str, id: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT rowid FROM docs WHERE ns = ?1 AND id = ?2")?
        .query_row(params![ns, id], |r| r.get(0))
        .optional()
}

/// The namespace's stamp (0: none).
fn generation(conn: &Connection, ns: &Namespace) -> Result<i64, KeywordError> {
    conn.prepare_cached("SELECT generation FROM generations WHERE ns = ?1")
        .and_then(|mut s| s.query_row([ns.as_str()], |r| r.get(0)).optional())
        .map(Option::unwrap_or_default)
        .map_err(sql_error)
}

/// The next value of the database-wide generation counter.
fn next_generation(conn: &Connection) -> Result<i64, KeywordError> {
    conn.prepare_cached("UPDATE counter SET generation = generation + 1 RETURNING generation")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(sql_error)
}

fn stamp(conn: &Connection, ns: &Namespace, generation: i64) -> Result<(), KeywordError> {
    conn.prepare_cached(
        "INSERT INTO generations (ns, generation) VALUES (?1, ?2) \
         ON CONFLICT (ns) DO UPDATE SET generation = excluded.generation",
    )
    .and_then(|mut s| s.execute(params![ns.as_str(), generation]))
    .map(drop)
    .map_err(sql_error)
}

fn count_docs(conn: &Connection, ns: &Namespace) -> Result<u64, KeywordError> {
    conn.prepare_cached("SELECT count(*) FROM docs WHERE ns = ?1")
        .and_then(|mut s| s.query_row([ns.as_str()], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(sql_error)
}

/// Read a whole namespace into memory, consistently (one read transaction).
fn load(conn: &mut Connection, ns: &Namespace) -> Result<Cached, KeywordError> {
    let tx = conn.transaction().map_err(sql_error)?;
    let generation = generation(&tx, ns)?;
    let mut postings = Postings::default();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT d.id, f.body FROM docs d JOIN fts f ON f.rowid = d.rowid \
                 WHERE d.ns = ?1",
            )
            .map_err(sql_error)?;
        let mut rows = stmt.query([ns.as_str()]).map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let id = DocId::parse(row.get::<_, String>(0).map_err(sql_error)?)?;
            let body = row.get_ref(1).map_err(sql_error)?;
            postings.put(id, body.as_str().map_err(|e| fatal("a stored text", e))?);
        }
    }
    tx.commit().map_err(sql_error)?;
    Ok(Cached {
        generation,
        postings,
    })
}

/// FTS5's own search and ranking (BM25), for a namespace held in no index.
fn fts_search(
    conn: &Connection,
    ns: &Namespace,
    terms: &[String],
    limit: usize,
) -> Result<Vec<KeywordHit>, KeywordError> {
    let words = terms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" OR ");
    let expr = format!("nskey : \"{}\" AND body : ({words})", ns_token(ns));
    let mut stmt = conn
        .prepare_cached(
            "SELECT d.id, bm25(fts, 0.0, 1.0) AS rank FROM fts \
             JOIN docs d ON d.rowid = fts.rowid \
             WHERE fts MATCH ?1 ORDER BY rank, d.id LIMIT ?2",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map(params![expr, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?))
        })
        .map_err(sql_error)?;
    rows.map(|row| {
        let (id, rank) = row.map_err(sql_error)?;
        Ok(KeywordHit {
            id: DocId::parse(id)?,
            // BM25 as FTS5 reports it is negative, lower is better.
            score: -rank,
        })
    })
    .collect()
}

impl Inner {
    /// A free reader if there is one, else wait for the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        (0..n)
            .find_map(|i| self.readers[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| lock(&self.readers[start % n]))
    }

    /// Run `change` in a write transaction on `ns` (it answers whether it changed
    /// anything), stamp the namespace, and bring a loaded index along with `apply`
    /// (or drop it when it was older than the database).
    fn write(
        &self,
        ns: &Namespace,
        change: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<bool, KeywordError>,
        apply: impl FnOnce(&mut Postings),
    ) -> Result<(), KeywordError> {
        let entry = self.caches.slot(ns);
        let mut slot = entry.write();
        let (before, after) = {
            let mut conn = lock(&self.writer);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_error)?;
            let before = generation(&tx, ns)?;
            if !change(&tx)? {
                return Ok(());
            }
            let after = next_generation(&tx)?;
            stamp(&tx, ns, after)?;
            tx.commit().map_err(sql_error)?;
            (before, after)
        };
        // No stamp before means no documents: the index starts warm, as the write.
        let created = slot.is_none() && before == 0;
        if created {
            *slot = Some(Cached {
                generation: 0,
                postings: Postings::default(),
            });
        }
        match slot.as_mut() {
            Some(cached) if cached.generation == before => {
                apply(&mut cached.postings);
                cached.generation = after;
                entry.weigh(cached.postings.bytes());
            }
            _ => {
                *slot = None;
                entry.weigh(0);
            }
        }
        drop(slot);
        if created {
            self.caches.evict_beyond_budget(&entry);
        }
        Ok(())
    }

    fn search(
        &self,
        ns: &Namespace,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KeywordHit>, KeywordError> {
        let terms = query_terms(query);
        if terms.is_empty() || limit == 0 {
            return Ok(vec![]);
        }
        let limit = limit.min(MAX_HITS);
        let current = generation(&self.reader(), ns)?;
        let entry = self.caches.slot(ns);
        self.caches.touch(&entry);
        loop {
            {
                let slot = entry.read();
                if let Some(cached) = slot.as_ref().filter(|c| fresh(c.generation, current)) {
                    return Ok(cached.postings.search(query, limit));
                }
            }
            let mut slot = entry.write();
            if slot.as_ref().is_some_and(|c| fresh(c.generation, current)) {
                continue;
            }
            let mut conn = self.reader();
            let docs = count_docs(&conn, ns)? as usize;
            if docs.saturating_mul(DOC_BYTES_ESTIMATE) > self.caches.budget() {
                *slot = None;
                entry.weigh(0);
                drop(slot);
                return fts_search(&conn, ns, &terms, limit);
            }
            let cached = load(&mut conn, ns)?;
            drop(conn);
            self.loads.fetch_add(1, Ordering::Relaxed);
            let hits = cached.postings.search(query, limit);
            entry.weigh(cached.postings.bytes());
            *slot = Some(cached);
            drop(slot);
            self.caches.evict_beyond_budget(&entry);
            return Ok(hits);
        }
    }
}

#[async_trait]
impl KeywordIndex for SqliteKeywords {
    async fn upsert(&self, ns: &Namespace, docs: Vec<KeywordDoc>) -> Result<(), KeywordError> {
        validate_docs(&docs)?;
        if docs.is_empty() {
            return Ok(());
        }
        let ns = ns.clone();
        self.blocking(move |inner| {
            let token = ns_token(&ns);
            inner.write(
                &ns,
                |tx| {
                    for doc in &docs {
                        let rowid =
                            match rowid_of(tx, ns.as_str(), doc.id.as_str()).map_err(sql_error)? {
                                Some(rowid) => {
                                    tx.prepare_cached("DELETE FROM fts WHERE rowid = ?1")
                                        .and_then(|mut s| s.execute([rowid]))
                                        .map_err(sql_error)?;
                                    rowid
                                }
                                None => {
                                    tx.prepare_cached("INSERT INTO docs (ns, id) VALUES (?1, ?2)")
                                        .and_then(|mut s| {
                                            s.execute(params![ns.as_str(), doc.id.as_str()])
                                        })
                                        .map_err(sql_error)?;
                                    tx.last_insert_rowid()
                                }
                            };
                        tx.prepare_cached(
                            "INSERT INTO fts (rowid, nskey, body) VALUES (?1, ?2, ?3)",
                        )
                        .and_then(|mut s| s.execute(params![rowid, token, doc.text]))
                        .map_err(sql_error)?;
                    }
                    Ok(true)
                },
                |postings| {
                    for doc in &docs {
                        postings.put(doc.id.clone(), &doc.text);
                    }
                },
            )
        })
        .await
    }

    async fn delete(&self, ns: &Namespace, ids: &[DocId]) -> Result<(), KeywordError> {
        if ids.len() > MAX_BATCH {
            return Err(KeywordError::Invalid(format!(
                "a batch holds at most {MAX_BATCH} documents"
            )));
        }
        if ids.is_empty() {
            return Ok(());
        }
        let (ns, ids) = (ns.clone(), ids.to_vec());
        self.blocking(move |inner| {
            inner.write(
                &ns,
                |tx| {
                    let mut deleted = false;
                    for id in &ids {
                        if let Some(rowid) =
                            rowid_of(tx, ns.as_str(), id.as_str()).map_err(sql_error)?
                        {
                            tx.execute("DELETE FROM fts WHERE rowid = ?1", [rowid])
                                .map_err(sql_error)?;
                            tx.execute("DELETE FROM docs WHERE rowid = ?1", [rowid])
                                .map_err(sql_error)?;
                            deleted = true;
                        }
                    }
                    Ok(deleted)
                },
                |postings| ids.iter().for_each(|id| postings.remove(id)),
            )
        })
        .await
    }

    async fn search(
        &self,
        ns: &Namespace,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KeywordHit>, KeywordError> {
        let (ns, query) = (ns.clone(), query.to_owned());
        self.blocking(move |inner| inner.search(&ns, &query, limit))
            .await
    }

    async fn count(&self, ns: &Namespace) -> Result<u64, KeywordError> {
        let ns = ns.clone();
        self.blocking(move |inner| count_docs(&inner.reader(), &ns))
            .await
    }

    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), KeywordError> {
        let ns = ns.clone();
        self.blocking(move |inner| {
            let entry = inner.caches.slot(&ns);
            let mut slot = entry.write();
            {
                let mut conn = lock(&inner.writer);
                let tx = conn.transaction().map_err(sql_error)?;
                tx.execute(
                    "DELETE FROM fts WHERE rowid IN (SELECT rowid FROM docs WHERE ns = ?1)",
                    [ns.as_str()],
                )
                .map_err(sql_error)?;
                tx.execute("DELETE FROM docs WHERE ns = ?1", [ns.as_str()])
                    .map_err(sql_error)?;
                // Unstamped: an index loaded elsewhere is no longer fresh.
                tx.execute("DELETE FROM generations WHERE ns = ?1", [ns.as_str()])
                    .map_err(sql_error)?;
                tx.commit().map_err(sql_error)?;
            }
            *slot = None;
            entry.weigh(0);
            drop(slot);
            inner.caches.forget(&ns);
            Ok(())
        })
        .await
    }

    async fn check(&self) -> Result<(), KeywordError> {
        self.blocking(|inner| {
            inner
                .reader()
                .query_row("SELECT count(*) FROM docs LIMIT 1", [], |_| Ok(()))
                .map_err(sql_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_tokens_survive_the_stemmer_whole() {
        let t = ns_token(&Namespace::parse("mem.org_0190abcd").unwrap());
        assert!(t.starts_with("ns") && t.ends_with('0'));
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    fn ns(name: &str) -> Namespace {
        Namespace::parse(name).unwrap()
    }

    fn doc(id: &str, text: &str) -> KeywordDoc {
        KeywordDoc {
            id: DocId::parse(id).unwrap(),
            text: text.into(),
        }
    }

    async fn found(index: &SqliteKeywords, ns: &Namespace, query: &str) -> Vec<String> {
        let hits = index.search(ns, query, 10).await.unwrap();
        hits.into_iter().map(|h| h.id.as_str().to_owned()).collect()
    }

    #[test]
    fn a_stamp_of_zero_is_fresh_only_for_an_index_loaded_at_zero() {
        assert!(fresh(0, 0) && fresh(7, 7) && fresh(8, 7));
        assert!(!fresh(7, 0), "dropped elsewhere");
        assert!(!fresh(7, 9), "written elsewhere");
    }

    /// Two handles on one file stand for two processes sharing a data dir: each
    /// has its own in-memory indexes, and each sees the other's writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_on_one_file_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keywords.db");
        let a = SqliteKeywords::open(&path).unwrap();
        let b = SqliteKeywords::open(&path).unwrap();
        let n = ns("org_1.mem");
        a.upsert(&n, vec![doc("x", "alpha beta")]).await.unwrap();
        assert_eq!(found(&b, &n, "alpha").await, ["x"]);
        a.upsert(&n, vec![doc("y", "alpha gamma")]).await.unwrap();
        assert_eq!(found(&b, &n, "gamma").await, ["y"]);
        b.delete(&n, &[DocId::parse("x").unwrap()]).await.unwrap();
        assert_eq!(found(&a, &n, "alpha").await, ["y"]);
        a.drop_namespace(&n).await.unwrap();
        assert!(found(&b, &n, "alpha").await.is_empty());
        b.upsert(&n, vec![doc("z", "alpha again")]).await.unwrap();
        assert_eq!(found(&a, &n, "alpha").await, ["z"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn own_writes_update_a_loaded_index_without_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let index = SqliteKeywords::open(&dir.path().join("keywords.db")).unwrap();
        let n = ns("org_1.mem");
        index.upsert(&n, vec![doc("a", "alpha")]).await.unwrap();
        assert_eq!(found(&index, &n, "alpha").await, ["a"]);
        assert_eq!(
            index.inner.loads.load(Ordering::Relaxed),
            0,
            "the write that created the namespace left its index warm"
        );
        // Dropped (as after an eviction), the next search loads it.
        *index.inner.caches.slot(&n).write() = None;
        assert_eq!(found(&index, &n, "alpha").await, ["a"]);
        assert_eq!(index.inner.loads.load(Ordering::Relaxed), 1);
        index
            .upsert(&n, vec![doc("b", "alpha beta")])
            .await
            .unwrap();
        index
            .delete(&n, &[DocId::parse("a").unwrap()])
            .await
            .unwrap();
        assert_eq!(found(&index, &n, "alpha").await, ["b"]);
        assert_eq!(
            index.inner.loads.load(Ordering::Relaxed),
            1,
            "the writes updated the index in place"
        );
    }

    /// A file written before namespaces were stamped: its namespaces get a stamp,
    /// so a drop seen from another handle is noticed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn namespaces_written_before_stamps_get_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keywords.db");
        let n = ns("org_1.mem");
        {
            let old = SqliteKeywords::open(&path).unwrap();
            old.upsert(&n, vec![doc("x", "alpha")]).await.unwrap();
            let conn = lock(&old.inner.writer);
            conn.execute_batch("DELETE FROM generations; PRAGMA user_version = 0;")
                .unwrap();
        }
        let a = SqliteKeywords::open(&path).unwrap();
        let b = SqliteKeywords::open(&path).unwrap();
        assert_eq!(found(&a, &n, "alpha").await, ["x"]);
        b.drop_namespace(&n).await.unwrap();
        assert!(found(&a, &n, "alpha").await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn indexes_beyond_the_budget_are_dropped_least_recently_searched_first() {
        let dir = tempfile::tempdir().unwrap();
        let text = (0..40).map(|i| format!("w{i}x ")).collect::<String>();
        let mut one = Postings::default();
        one.put(DocId::parse("d").unwrap(), &text);
        // Room for two one-document namespaces, not three.
        let budget = 5 * one.bytes() / 2;
        assert!(budget >= DOC_BYTES_ESTIMATE);
        let index = SqliteKeywords::open_with_cache(&dir.path().join("k.db"), budget).unwrap();
        let names = [ns("a.k"), ns("b.k"), ns("c.k")];
        for n in &names {
            index.upsert(n, vec![doc("d", &text)]).await.unwrap();
        }
        let loaded = |n: &Namespace| index.inner.caches.slot(n).read().is_some();
        for n in &names[..2] {
            assert_eq!(found(&index, n, "w1x").await, ["d"]);
        }
        assert!(loaded(&names[0]) && loaded(&names[1]));
        assert_eq!(found(&index, &names[2], "w1x").await, ["d"]);
        assert!(!loaded(&names[0]), "the least recently searched went");
        assert!(loaded(&names[1]) && loaded(&names[2]));
        assert_eq!(found(&index, &names[0], "w1x").await, ["d"]);
    }
}
