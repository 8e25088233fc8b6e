//! Time as the client sees it: the wall clock and sleeping, injectable so tests
//! drive the seat session's half-hour offline grace in milliseconds.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{Notify, oneshot};

/// A future returned by [`Timer::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The clock and the sleeper the client uses for token expiry, heartbeats,
/// backoff and the offline grace.
pub trait Timer: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
    /// Complete after `duration` has passed on this timer.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Real time: `SystemTime::now` and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTimer;

impl Timer for SystemTimer {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Time that moves only when told: every `sleep` waits until [`ManualTime::advance`]
/// (or [`ManualTime::wake_next`]) moves the clock past its deadline. Network calls
/// still take real time; only waiting is virtual.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use skiff_client::time::{ManualTime, Timer};
/// use std::time::Duration;
///
/// let time = ManualTime::new();
/// let start = time.now();
/// let sleeping = tokio::spawn({
///     let time = time.clone();
///     async move { time.sleep(Duration::from_secs(1800)).await }
/// });
/// // Half an hour passes at once.
/// assert_eq!(time.wake_next(Duration::from_secs(5)).await, Some(Duration::from_secs(1800)));
/// sleeping.await.unwrap();
/// assert_eq!(time.now().duration_since(start).unwrap(), Duration::from_secs(1800));
/// # }
/// ```
#[derive(Clone)]
pub struct ManualTime {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    state: Mutex<ManualState>,
    sleeper_added: Notify,
}

struct ManualState {
    now: SystemTime,
    next_id: u64,
    /// (deadline, id) → the waker of that sleep.
    sleepers: BTreeMap<(SystemTime, u64), oneshot::Sender<()>>,
    /// Every duration `sleep` was asked for, in order.
    slept: Vec<Duration>,
}

impl Default for ManualTime {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualTime {
    /// Starts at the current wall-clock time.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(ManualInner {
                state: Mutex::new(ManualState {
                    now: SystemTime::now(),
                    next_id: 0,
                    sleepers: BTreeMap::new(),
                    slept: Vec::new(),
                }),
                sleeper_added: Notify::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Move the clock forward and wake every sleep whose deadline has come.
    pub fn advance(&self, by: Duration) {
        let mut s = self.state();
        s.now += by;
        let now = s.now;
        let due: Vec<_> = s
            .sleepers
            .keys()
            .take_while(|(deadline, _)| *deadline <= now)
            .copied()
            .collect();
        for key in due {
            if let Some(tx) = s.sleepers.remove(&key) {
                let _ = tx.send(());
            }
        }
    }

    /// Wait (up to `within`, real time) until something sleeps; `false` if
    /// nothing did. Whatever the sleeper did before it slept has happened.
    pub async fn until_sleeping(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.inner.sleeper_added.notified();
            if !self.state().sleepers.is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// Wait (up to `within`, real time) until something sleeps, then move the
    /// clock to the earliest deadline and wake it. Returns how far the clock moved,
    /// or `None` when nothing slept within `within`.
    pub async fn wake_next(&self, within: Duration) -> Option<Duration> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.inner.sleeper_added.notified();
            {
                let s = self.state();
                if let Some(&(at, _)) = s.sleepers.keys().next() {
                    let by = at.duration_since(s.now).unwrap_or_default();
                    drop(s);
                    self.advance(by);
                    return Some(by);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// How many sleeps are waiting.
    pub fn sleepers(&self) -> usize {
        self.state().sleepers.len()
    }

    /// Every duration `sleep` was asked for, oldest first.
    pub fn slept(&self) -> Vec<Duration> {
        self.state().slept.clone()
    }
}

impl Timer for ManualTime {
    fn now(&self) -> SystemTime {
        self.state().now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let (tx, rx) = oneshot::channel();
        let guard = {
            let mut s = self.state();
            s.slept.push(duration);
            if duration.is_zero() {
                return Box::pin(async {});
            }
            let id = s.next_id;
            s.next_id += 1;
            let at = s.now + duration;
            s.sleepers.insert((at, id), tx);
            SleepGuard {
                time: self.clone(),
                key: (at, id),
            }
        };
        self.inner.sleeper_added.notify_waiters();
        Box::pin(async move {
            let _guard = guard;
            let _ = rx.await;
        })
    }
}

/// Forgets a sleep that is dropped before its deadline (a session that stopped),
/// so [`ManualTime::wake_next`] only ever wakes someone who waits.
struct SleepGuard {
    time: ManualTime,
    key: (SystemTime, u64),
}

impl Drop for SleepGuard {
    fn drop(&mut self) {
        self.time.state().sleepers.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleeps_end_only_when_the_clock_passes_their_deadline() {
        let time = ManualTime::new();
        let t0 = time.now();
        let short = tokio::spawn(time.sleep(Duration::from_secs(60)));
        let long = tokio::spawn(time.sleep(Duration::from_secs(300)));
        time.advance(Duration::from_secs(59));
        tokio::task::yield_now().await;
        assert!(!short.is_finished());
        time.advance(Duration::from_secs(1));
        short.await.unwrap();
        assert!(!long.is_finished());
        assert_eq!(
            time.wake_next(Duration::from_secs(1)).await,
            Some(Duration::from_secs(240))
        );
        long.await.unwrap();
        assert_eq!(
            time.now().duration_since(t0).unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(time.wake_next(Duration::from_millis(10)).await, None);
    }

    #[tokio::test]
    async fn a_dropped_sleep_is_forgotten() {
        let time = ManualTime::new();
        let sleep = time.sleep(Duration::from_secs(60));
        assert_eq!(time.sleepers(), 1);
        drop(sleep);
        assert_eq!(time.sleepers(), 0);
        assert!(!time.until_sleeping(Duration::from_millis(10)).await);
    }
}
