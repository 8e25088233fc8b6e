//! The item store's single writer: one thread that owns the write connection and
//! commits waiting writes in groups.
//!
//! SQLite admits one writer at a time, so concurrent writers only ever queue. Rather
//! than each taking a lock, hopping onto the blocking pool and paying for its own
//! commit, every write is sent to this thread. It takes whatever is waiting (up to
//! [`MAX_GROUP`]), runs the writes one after another inside one `BEGIN IMMEDIATE`
//! transaction, commits once, and only then answers each caller. The order is the
//! order of arrival and every write sees the ones before it, so the result is exactly
//! that of running them one by one; a caller hears "done" only once its write is
//! committed. Under load this turns many small commits into a few larger ones and
//! keeps waiting bounded by one group's work instead of a lock queue's.
//!
//! A write that fails must not leave anything behind in the group's transaction.
//! The store's writes check every condition before they change a row, so a refused
//! write has changed nothing and needs no undo — no savepoint per write, whose page
//! copies and bookkeeping cost the writer a tenth of its time. Should a write fail
//! after it has changed rows (an I/O error, a panic), the whole group is undone and
//! every caller in it hears the error.

use super::sqlite_store::db_err;
use rusqlite::Connection;
use skiff_core::clock::SharedClock;
use skiff_core::ports::store::StoreError;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// Writes committed together at most (bounds one group's latency).
const MAX_GROUP: usize = 64;

/// A write waiting for the thread: run on the open transaction (or told why there is
/// none), it reports whether it succeeded and how to answer its caller. A write that
/// fails must do so before it changes any row (see the module doc).
type Job = Box<dyn FnOnce(Result<(&Connection, i64), StoreError>) -> Outcome + Send>;

/// What a job did, and how to tell its caller once the group's fate is known.
struct Outcome {
    succeeded: bool,
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

    /// Run `f` as one atomic write and wait until it is committed. `f` must decide to
    /// fail before it changes any row: a refused write then costs its group nothing,
    /// while an error after a change undoes the whole group.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = job(f);
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Fatal("the store's writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Fatal("a store write panicked".into()))?
    }
}

/// `f` as a job, and where its caller hears the result once the group's fate is known.
fn job<T, F>(f: F) -> (Job, Answer<T>)
where
    T: Send + 'static,
    F: FnOnce(&Connection, i64) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |tx| {
        let result = tx.and_then(|(conn, now)| f(conn, now));
        Outcome {
            succeeded: result.is_ok(),
            answer: Box::new(move |commit| {
                // The caller may have gone away; the write stands regardless.
                let _ = reply.send(result.and_then(|value| commit.map(|()| value)));
            }),
        }
    });
    (job, answer)
}

type Answer<T> = tokio::sync::oneshot::Receiver<Result<T, StoreError>>;

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
        // Every caller has heard the group's fate; the thread goes on either way.
        let _ = commit_group(conn, clock, group);
        if restart_wal.swap(false, Ordering::Relaxed)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "item store WAL restart failed");
        }
    }
}

/// Run `group` in one transaction, commit, and answer every job with the group's
/// fate, which they all share (returned too).
fn commit_group(conn: &Connection, clock: &SharedClock, group: Vec<Job>) -> Result<(), StoreError> {
    let (outcomes, commit) = run_group(conn, clock, group);
    for outcome in outcomes {
        (outcome.answer)(commit.clone());
    }
    commit
}

/// Run `group` in one transaction and commit: the jobs' outcomes and the group's fate.
fn run_group(
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
        // A failed job left changes behind: the whole group is undone rather than
        // commit part of a write.
        Some(e) => Err(e),
        None => execute(conn, "COMMIT"),
    };
    if commit.is_err() {
        let _ = execute(conn, "ROLLBACK");
    }
    (outcomes, commit)
}

/// One job, and whether the transaction is still clean: a job that failed (or
/// panicked) after changing rows is not. The outcome is `None` if the job panicked
/// (its caller hears of it through its dropped reply). The clock is read here:
/// writes are ordered, and so are their times.
fn run_job(
    conn: &Connection,
    clock: &SharedClock,
    job: Job,
) -> (Option<Outcome>, Result<(), StoreError>) {
    let before = conn.total_changes();
    let outcome = catch_unwind(AssertUnwindSafe(|| job(Ok((conn, clock.unix()))))).ok();
    let failed = !outcome.as_ref().is_some_and(|o| o.succeeded);
    let clean = if failed && conn.total_changes() != before {
        Err(StoreError::Fatal(
            "a write failed after changing rows; its group was undone".into(),
        ))
    } else {
        Ok(())
    };
    (outcome, clean)
}

/// Run one statement without results. Transaction control runs for every group, so
/// its statements are prepared once and cached like any other.
fn execute(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_core::clock::FixedClock;

    fn db() -> (tempfile::TempDir, Connection, SharedClock) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .unwrap();
        (dir, conn, FixedClock::at(time::OffsetDateTime::UNIX_EPOCH))
    }

    /// A job that inserts `k`, then fails if `fail` says so.
    fn insert(k: &'static str, fail: bool) -> (Job, Answer<()>) {
        job(move |conn, _| {
            conn.execute("INSERT INTO t VALUES (?1)", [k])
                .map_err(db_err)?;
            if fail {
                return Err(StoreError::Invalid("failed after its insert".into()));
            }
            Ok(())
        })
    }

    /// A job refused before it changes anything.
    fn refused() -> (Job, Answer<()>) {
        job(|_, _| Err::<(), _>(StoreError::CONDITION_FAILED))
    }

    fn keys(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT k FROM t ORDER BY k").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_refused_write_costs_its_group_nothing() {
        let (_dir, conn, clock) = db();
        let (a, mut a_said) = insert("a", false);
        let (b, mut b_said) = refused();
        let (c, mut c_said) = insert("c", false);
        commit_group(&conn, &clock, vec![a, b, c]).unwrap();
        assert_eq!(keys(&conn), ["a", "c"]);
        assert_eq!(a_said.try_recv().unwrap(), Ok(()));
        assert_eq!(
            b_said.try_recv().unwrap(),
            Err(StoreError::CONDITION_FAILED)
        );
        assert_eq!(c_said.try_recv().unwrap(), Ok(()));
    }

    #[test]
    fn a_write_failing_after_a_change_undoes_its_group() {
        let (_dir, conn, clock) = db();
        let (a, mut a_said) = insert("a", false);
        let (b, mut b_said) = insert("b", true);
        let (c, mut c_said) = insert("c", false);
        assert!(matches!(
            commit_group(&conn, &clock, vec![a, b, c]),
            Err(StoreError::Fatal(_))
        ));
        assert!(keys(&conn).is_empty(), "nothing of the group is committed");
        assert!(matches!(
            a_said.try_recv().unwrap(),
            Err(StoreError::Fatal(_))
        ));
        assert!(matches!(
            b_said.try_recv().unwrap(),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            c_said.try_recv().unwrap(),
            Err(StoreError::Fatal(_))
        ));
        // The connection is usable again.
        let (d, _) = insert("d", false);
        commit_group(&conn, &clock, vec![d]).unwrap();
        assert_eq!(keys(&conn), ["d"]);
    }

    #[test]
    fn a_write_panicking_after_a_change_undoes_its_group() {
        let (_dir, conn, clock) = db();
        let (a, mut a_said) = insert("a", false);
        let (b, mut b_said) = job(|conn, _| {
            conn.execute("INSERT INTO t VALUES ('b')", [])
                .map_err(db_err)?;
            panic!("a bug in a write");
            #[allow(unreachable_code)]
            Ok(())
        });
        commit_group(&conn, &clock, vec![a, b]).unwrap_err();
        assert!(keys(&conn).is_empty());
        assert!(a_said.try_recv().unwrap().is_err());
        assert!(b_said.try_recv().is_err(), "a panicked write never answers");
    }
}
