//! The item store's single writer: one thread that owns the write connection and
//! commits waiting writes in groups.
//!
//! SQLite admits one writer at a time, so concurrent writers only ever queue. Rather
//! than each taking a lock, hopping onto the blocking pool and paying for its own
//! commit, every write is sent to this thread. It takes whatever is waiting (up to
//! [`MAX_GROUP`]), runs each write in its own savepoint inside one `BEGIN IMMEDIATE`
//! transaction — a write that fails (a condition that does not hold) is rolled back
//! alone — commits once, and only then answers each caller. The order is the order of
//! arrival and every write sees the ones before it, so the result is exactly that of
//! running them one by one; a caller hears "done" only once its write is committed.
//! Under load this turns many small commits into a few larger ones and keeps waiting
//! bounded by one group's work instead of a lock queue's.

use super::sqlite_store::db_err;
use crate::clock::SharedClock;
use crate::ports::store::StoreError;
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// Writes committed together at most (bounds one group's latency).
const MAX_GROUP: usize = 64;

/// A write waiting for the thread: run on the open transaction (or told why there is
/// none), it reports whether it changed anything and how to answer its caller.
type Job = Box<dyn FnOnce(Result<(&Connection, i64), StoreError>) -> Outcome + Send>;

/// What a job did, and how to tell its caller once the group's fate is known.
struct Outcome {
    wrote: bool,
    answer: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

/// The handle writes are sent through. Dropping the last one stops the thread once
/// it has answered everything already sent.
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Start the thread that owns `conn`. `restart_wal` is raised by the checkpointer
    /// when the WAL should start over; the thread does it between groups, when no
    /// write is open.
    pub(crate) fn start(
        conn: Connection,
        clock: SharedClock,
        restart_wal: Arc<AtomicBool>,
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("skiff-store-writer".into())
            .spawn(move || run(&conn, &clock, &restart_wal, &queue))
            .map_err(|e| StoreError::Fatal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// Run `f` as one atomic write and wait until it is committed. An error from `f`
    /// undoes everything `f` did and nothing else.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |tx| {
            let result = tx.and_then(|(conn, now)| f(conn, now));
            Outcome {
                wrote: result.is_ok(),
                answer: Box::new(move |commit| {
                    // The caller may have gone away; the write stands regardless.
                    let _ = reply.send(result.and_then(|value| commit.map(|()| value)));
                }),
            }
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Fatal("the store's writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Fatal("a store write panicked".into()))?
    }
}

/// The thread: group, run, commit, answer; restart the WAL when asked.
fn run(
    conn: &Connection,
    clock: &SharedClock,
    restart_wal: &AtomicBool,
    queue: &mpsc::Receiver<Job>,
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        group.extend(queue.try_iter().take(MAX_GROUP - 1));
        let (outcomes, commit) = commit_group(conn, clock, group);
        for outcome in outcomes {
            (outcome.answer)(commit.clone());
        }
        if restart_wal.swap(false, Ordering::Relaxed)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "item store WAL restart failed");
        }
    }
}

/// Run `group` in one transaction, each job in its own savepoint, and commit; the
/// jobs' outcomes and the group's fate, which every job shares.
fn commit_group(
    conn: &Connection,
    clock: &SharedClock,
    group: Vec<Job>,
) -> (Vec<Outcome>, Result<(), StoreError>) {
    if let Err(e) = execute(conn, "BEGIN IMMEDIATE") {
        let outcomes = group.into_iter().map(|job| job(Err(e.clone()))).collect();
        return (outcomes, Err(e));
    }
    let mut outcomes = Vec::with_capacity(group.len());
    let mut broken = None;
    for job in group {
        let (outcome, closed) = run_job(conn, clock, job);
        outcomes.extend(outcome);
        if let Err(e) = closed {
            broken.get_or_insert(e);
        }
    }
    let commit = match broken {
        // A savepoint that could not be closed may hold a failed job's writes: the
        // whole group is undone rather than risk committing them.
        Some(e) => Err(e),
        None => execute(conn, "COMMIT"),
    };
    if commit.is_err() {
        let _ = execute(conn, "ROLLBACK");
    }
    (outcomes, commit)
}

/// One job inside its savepoint, and whether the savepoint closed cleanly. The
/// outcome is `None` if the job panicked (its caller hears of it through its dropped
/// reply). The clock is read here: writes are ordered, and so are their times.
fn run_job(
    conn: &Connection,
    clock: &SharedClock,
    job: Job,
) -> (Option<Outcome>, Result<(), StoreError>) {
    if let Err(e) = execute(conn, "SAVEPOINT job") {
        return (Some(job(Err(e))), Ok(()));
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| job(Ok((conn, clock.unix()))))).ok();
    let wrote = outcome.as_ref().is_some_and(|o| o.wrote);
    let closed = if wrote {
        Ok(())
    } else {
        execute(conn, "ROLLBACK TO job")
    }
    .and_then(|()| execute(conn, "RELEASE job"));
    (outcome, closed)
}

/// Run one statement without results. Transaction control runs several times per
/// group, so its statements are prepared once and cached like any other.
fn execute(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(db_err)
}
