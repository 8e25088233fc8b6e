//! The embedded outbox queue: SQLite (WAL) in its own file, with SQS's semantics —
//! a visibility timeout per delivery, a fresh receipt per delivery (older receipts
//! are stale), a receive count, and redrive to a dead-letter table once a message
//! has been delivered `max_receives` times without being deleted.
//!
//! Visibility is measured on the injected clock, so tests move time instead of
//! sleeping; long polling (`wait`) is real time. Every SQLite call runs on the
//! blocking pool, one at a time per queue (a mutex around the connection), each
//! write in an `IMMEDIATE` transaction so another process on the same file cannot
//! interleave either.

use crate::queue_rules::{check_batch, check_body, check_delay, check_receive, check_visibility};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use skiff_core::clock::SharedClock;
use skiff_core::ports::queue::*;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often a long poll looks again for messages whose visibility timeout ran out
/// (new messages wake it at once).
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long a write waits for another connection's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    body          TEXT    NOT NULL,
    sent_at_ms    INTEGER NOT NULL,
    visible_at_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT    UNIQUE
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (visible_at_ms);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    body          TEXT    NOT NULL,
    sent_at_ms    INTEGER NOT NULL,
    dead_at_ms    INTEGER NOT NULL,
    receive_count INTEGER NOT NULL
);
PRAGMA user_version = 1;
";

/// The SQLite-backed queue. Cheap to share behind an `Arc`.
pub struct SqliteQueue {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    max_receives: u32,
    clock: SharedClock,
    /// Signalled whenever a message may have become receivable (send, redrive,
    /// visibility set to now), so long polls answer without waiting for the next tick.
    arrivals: Notify,
}

fn db_error(e: rusqlite::Error) -> QueueError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            QueueError::Unavailable(format!("queue database is busy: {e}"))
        }
        _ => QueueError::Fatal(format!("queue database: {e}")),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn millis(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl SqliteQueue {
    /// Open (or create) the queue file at `path`. A message delivered `max_receives`
    /// times without being deleted moves to the dead-letter table on its next receive.
    pub fn open(path: &Path, max_receives: u32, clock: SharedClock) -> Result<Self, QueueError> {
        if max_receives == 0 {
            return Err(QueueError::Invalid(
                "max_receives must be at least 1".into(),
            ));
        }
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            QueueError::Fatal(format!("queue database {}: {what}: {e}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail("creating its directory", &e))?;
        }
        // Bodies carry tokens (e-mail links): the file is private from the start;
        // SQLite gives its -wal and -shm files the same mode.
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| fail("creating the file", &e))?;
        }
        let conn = Connection::open(path).map_err(|e| fail("opening", &e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("setting the busy timeout", &e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| fail("enabling WAL", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail("enabling WAL", &format!("journal mode is {mode}")));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail("setting synchronous", &e))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| fail("creating the schema", &e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                max_receives,
                clock,
                arrivals: Notify::new(),
            }),
        })
    }

    /// Run `f` on the blocking pool with the connection and the clock's now (ms).
    async fn run<T, F>(&self, f: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Connection, i64) -> Result<T, QueueError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner
                .conn
                .lock()
                .map_err(|_| QueueError::Fatal("queue connection lock poisoned".into()))?;
            let now_ms = (inner.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
            f(&inner, &mut conn, now_ms)
        })
        .await
        .map_err(|e| QueueError::Fatal(format!("queue task failed: {e}")))?
    }

    async fn insert(&self, bodies: Vec<String>) -> Result<Vec<String>, QueueError> {
        self.insert_after(bodies, Duration::ZERO).await
    }

    /// Insert messages that become visible `delay` from now.
    async fn insert_after(
        &self,
        bodies: Vec<String>,
        delay: Duration,
    ) -> Result<Vec<String>, QueueError> {
        let delay_ms = millis(delay);
        let ids = self
            .run(move |_, conn, now| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db_error)?;
                let mut ids = Vec::with_capacity(bodies.len());
                {
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT INTO messages (id, body, sent_at_ms, visible_at_ms)
                             VALUES (?1, ?2, ?3, ?4)",
                        )
                        .map_err(db_error)?;
                    for body in &bodies {
                        let id = new_id();
                        stmt.execute(params![id, body, now, now + delay_ms])
                            .map_err(db_error)?;
                        ids.push(id);
                    }
                }
                tx.commit().map_err(db_error)?;
                Ok(ids)
            })
            .await?;
        self.inner.arrivals.notify_waiters();
        Ok(ids)
    }

    /// One non-waiting receive: deliver up to `max` visible messages, moving those
    /// that already used up their receives to the dead-letter table.
    async fn receive_now(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        self.run(move |inner, conn, now| {
            let max_receives = i64::from(inner.max_receives);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_error)?;
            let mut delivered = Vec::new();
            'scan: loop {
                let candidates: Vec<(i64, String, String, i64, i64)> = {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT seq, id, body, receive_count, sent_at_ms FROM messages
                             WHERE visible_at_ms <= ?1 ORDER BY seq LIMIT ?2",
                        )
                        .map_err(db_error)?;
                    stmt.query_map(params![now, (max - delivered.len()) as i64 + 8], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .and_then(|rows| rows.collect::<Result<_, _>>())
                    .map_err(db_error)?
                };
                if candidates.is_empty() {
                    break;
                }
                for (seq, id, body, count, sent_at) in candidates {
                    if count >= max_receives {
                        tx.execute(
                            "INSERT INTO dead_letters
                               (id, body, sent_at_ms, dead_at_ms, receive_count)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![id, body, sent_at, now, count],
                        )
                        .map_err(db_error)?;
                        tx.execute("DELETE FROM messages WHERE seq = ?1", params![seq])
                            .map_err(db_error)?;
                        tracing::warn!(
                            message_id = %id,
                            receive_count = count,
                            "queue message moved to the dead-letter queue"
                        );
                        continue;
                    }
                    let receipt = uuid::Uuid::new_v4().simple().to_string();
                    tx.execute(
                        "UPDATE messages
                         SET receive_count = ?1, visible_at_ms = ?2, receipt = ?3
                         WHERE seq = ?4",
                        params![
                            count + 1,
                            now.saturating_add(millis(visibility)),
                            receipt,
                            seq
                        ],
                    )
                    .map_err(db_error)?;
                    delivered.push(Received {
                        message_id: id,
                        receipt,
                        body,
                        receive_count: (count + 1) as u32,
                    });
                    if delivered.len() == max {
                        break 'scan;
                    }
                }
            }
            tx.commit().map_err(db_error)?;
            Ok(delivered)
        })
        .await
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, body: String) -> Result<String, QueueError> {
        check_body(&body)?;
        let mut ids = self.insert(vec![body]).await?;
        ids.pop()
            .ok_or_else(|| QueueError::Fatal("insert returned no id".into()))
    }

    async fn send_delayed(&self, body: String, delay: Duration) -> Result<String, QueueError> {
        check_body(&body)?;
        check_delay(delay)?;
        let mut ids = self.insert_after(vec![body], delay).await?;
        ids.pop()
            .ok_or_else(|| QueueError::Fatal("insert returned no id".into()))
    }

    async fn send_batch(&self, bodies: Vec<String>) -> Result<Vec<String>, QueueError> {
        check_batch(&bodies)?;
        if bodies.is_empty() {
            return Ok(vec![]);
        }
        self.insert(bodies).await
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        check_receive(max, visibility, wait)?;
        let deadline = Instant::now() + wait;
        loop {
            // Register for wake-ups before looking, so a send between the look and
            // the sleep is not missed.
            let arrival = self.inner.arrivals.notified();
            tokio::pin!(arrival);
            arrival.as_mut().enable();
            let got = self.receive_now(max, visibility).await?;
            let now = Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let nap = POLL_INTERVAL.min(deadline - now);
            tokio::select! {
                _ = &mut arrival => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        self.run(move |_, conn, _| {
            let n = conn
                .execute("DELETE FROM messages WHERE receipt = ?1", params![receipt])
                .map_err(db_error)?;
            if n == 0 {
                return Err(QueueError::StaleReceipt);
            }
            Ok(())
        })
        .await
    }

    async fn change_visibility(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        check_visibility(visibility)?;
        let receipt = receipt.to_owned();
        self.run(move |_, conn, now| {
            let n = conn
                .execute(
                    "UPDATE messages SET visible_at_ms = ?1 WHERE receipt = ?2",
                    params![now.saturating_add(millis(visibility)), receipt],
                )
                .map_err(db_error)?;
            if n == 0 {
                return Err(QueueError::StaleReceipt);
            }
            Ok(())
        })
        .await?;
        if visibility.is_zero() {
            self.inner.arrivals.notify_waiters();
        }
        Ok(())
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        self.run(move |_, conn, _| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, body, receive_count FROM dead_letters
                     ORDER BY sent_at_ms, seq LIMIT ?1",
                )
                .map_err(db_error)?;
            stmt.query_map(params![max.min(i64::MAX as usize) as i64], |r| {
                Ok(DeadLetter {
                    message_id: r.get(0)?,
                    body: r.get(1)?,
                    receive_count: r.get::<_, i64>(2)? as u32,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(db_error)
        })
        .await
    }

    async fn redrive(&self, message_id: &str) -> Result<String, QueueError> {
        let message_id = message_id.to_owned();
        let new = self
            .run(move |_, conn, now| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db_error)?;
                let body: Option<String> = tx
                    .query_row(
                        "DELETE FROM dead_letters WHERE id = ?1 RETURNING body",
                        params![message_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_error)?;
                let body = body.ok_or(QueueError::DeadLetterNotFound(message_id.clone()))?;
                let id = new_id();
                tx.execute(
                    "INSERT INTO messages (id, body, sent_at_ms, visible_at_ms)
                     VALUES (?1, ?2, ?3, ?3)",
                    params![id, body, now],
                )
                .map_err(db_error)?;
                tx.commit().map_err(db_error)?;
                tracing::info!(dead_letter = %message_id, message_id = %id, "dead letter redriven");
                Ok(id)
            })
            .await?;
        self.inner.arrivals.notify_waiters();
        Ok(new)
    }

    async fn resolve(&self, message_id: &str) -> Result<(), QueueError> {
        let message_id = message_id.to_owned();
        self.run(move |_, conn, _| {
            let n = conn
                .execute(
                    "DELETE FROM dead_letters WHERE id = ?1",
                    params![message_id],
                )
                .map_err(db_error)?;
            if n == 0 {
                return Err(QueueError::DeadLetterNotFound(message_id));
            }
            tracing::info!(dead_letter = %message_id, "dead letter resolved");
            Ok(())
        })
        .await
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        self.run(|_, conn, _| {
            conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(db_error)
        })
        .await
    }

    async fn check(&self) -> Result<(), QueueError> {
        self.run(|_, conn, _| {
            conn.query_row("SELECT EXISTS (SELECT 1 FROM dead_letters)", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|_| ())
            .map_err(db_error)
        })
        .await
    }
}
