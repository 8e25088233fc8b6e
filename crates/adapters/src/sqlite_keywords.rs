//! The embedded keyword index: SQLite FTS5 in its own database file, tokenized with
//! `porter unicode61 remove_diacritics 2` (lowercase, diacritics folded, Porter
//! stems) and ranked by BM25.
//!
//! One FTS5 table holds every namespace. Each row carries its namespace as a single
//! token in a column of its own (`nskey`, weighted 0 in the ranking), and every
//! query is `nskey : <ns> AND body : (w1 OR w2 …)`, so FTS5 intersects the
//! namespace's posting list with the words' — a namespace never sees another's
//! documents, and a query's cost follows its own namespace's size. A plain table maps
//! `(ns, id)` to the FTS row. Queries are built from [`query_terms`] only, each
//! quoted, so no client text reaches FTS5's query syntax.
//!
//! Writes go through one connection, reads through a small pool, all on tokio's
//! blocking pool (WAL lets readers run beside the writer).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use skiff_core::ports::keywords::*;
use skiff_core::ports::vectors::Namespace;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
";

/// The SQLite FTS5 keyword index. Cheap to share behind an `Arc`.
pub struct SqliteKeywords {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
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
    pub fn open(path: &Path) -> Result<Self, KeywordError> {
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
        let readers = (0..READERS)
            .map(|_| open_connection(path).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        })
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, KeywordError> + Send + 'static,
    ) -> Result<T, KeywordError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| fatal("writer task", e))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, KeywordError> + Send + 'static,
    ) -> Result<T, KeywordError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A free reader if there is one, else wait for the next in turn.
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            let n = inner.readers.len();
            let conn = (0..n)
                .find_map(|i| inner.readers[(start + i) % n].try_lock().ok())
                .unwrap_or_else(|| {
                    inner.readers[start % n]
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                });
            f(&conn)
        })
        .await
        .map_err(|e| fatal("reader task", e))?
    }
}

fn rowid_of(conn: &Connection, ns: &str, id: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT rowid FROM docs WHERE ns = ?1 AND id = ?2")?
        .query_row(params![ns, id], |r| r.get(0))
        .optional()
}

#[async_trait]
impl KeywordIndex for SqliteKeywords {
    async fn upsert(&self, ns: &Namespace, docs: Vec<KeywordDoc>) -> Result<(), KeywordError> {
        validate_docs(&docs)?;
        if docs.is_empty() {
            return Ok(());
        }
        let (ns, token) = (ns.as_str().to_owned(), ns_token(ns));
        self.write(move |conn| {
            let tx = conn.transaction().map_err(sql_error)?;
            for doc in &docs {
                let rowid = match rowid_of(&tx, &ns, doc.id.as_str()).map_err(sql_error)? {
                    Some(rowid) => {
                        tx.prepare_cached("DELETE FROM fts WHERE rowid = ?1")
                            .and_then(|mut s| s.execute([rowid]))
                            .map_err(sql_error)?;
                        rowid
                    }
                    None => {
                        tx.prepare_cached("INSERT INTO docs (ns, id) VALUES (?1, ?2)")
                            .and_then(|mut s| s.execute(params![ns, doc.id.as_str()]))
                            .map_err(sql_error)?;
                        tx.last_insert_rowid()
                    }
                };
                tx.prepare_cached("INSERT INTO fts (rowid, nskey, body) VALUES (?1, ?2, ?3)")
                    .and_then(|mut s| s.execute(params![rowid, token, doc.text]))
                    .map_err(sql_error)?;
            }
            tx.commit().map_err(sql_error)
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
        let ns = ns.as_str().to_owned();
        let ids: Vec<String> = ids.iter().map(|i| i.as_str().to_owned()).collect();
        self.write(move |conn| {
            let tx = conn.transaction().map_err(sql_error)?;
            for id in &ids {
                if let Some(rowid) = rowid_of(&tx, &ns, id).map_err(sql_error)? {
                    tx.execute("DELETE FROM fts WHERE rowid = ?1", [rowid])
                        .map_err(sql_error)?;
                    tx.execute("DELETE FROM docs WHERE rowid = ?1", [rowid])
                        .map_err(sql_error)?;
                }
            }
            tx.commit().map_err(sql_error)
        })
        .await
    }

    async fn search(
        &self,
        ns: &Namespace,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KeywordHit>, KeywordError> {
        let terms = query_terms(query);
        if terms.is_empty() || limit == 0 {
            return Ok(vec![]);
        }
        let words = terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        let expr = format!("nskey : \"{}\" AND body : ({words})", ns_token(ns));
        let limit = limit.min(MAX_HITS) as i64;
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT d.id, bm25(fts, 0.0, 1.0) AS rank FROM fts \
                     JOIN docs d ON d.rowid = fts.rowid \
                     WHERE fts MATCH ?1 ORDER BY rank, d.id LIMIT ?2",
                )
                .map_err(sql_error)?;
            let rows = stmt
                .query_map(params![expr, limit], |r| {
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
        })
        .await
    }

    async fn count(&self, ns: &Namespace) -> Result<u64, KeywordError> {
        let ns = ns.as_str().to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT count(*) FROM docs WHERE ns = ?1")
                .and_then(|mut s| s.query_row([ns], |r| r.get::<_, i64>(0)))
                .map(|n| n as u64)
                .map_err(sql_error)
        })
        .await
    }

    async fn drop_namespace(&self, ns: &Namespace) -> Result<(), KeywordError> {
        let ns = ns.as_str().to_owned();
        self.write(move |conn| {
            let tx = conn.transaction().map_err(sql_error)?;
            tx.execute(
                "DELETE FROM fts WHERE rowid IN (SELECT rowid FROM docs WHERE ns = ?1)",
                [&ns],
            )
            .map_err(sql_error)?;
            tx.execute("DELETE FROM docs WHERE ns = ?1", [&ns])
                .map_err(sql_error)?;
            tx.commit().map_err(sql_error)
        })
        .await
    }

    async fn check(&self) -> Result<(), KeywordError> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM docs LIMIT 1", [], |_| Ok(()))
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
}
