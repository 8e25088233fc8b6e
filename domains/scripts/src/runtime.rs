//! The per-process runtime of scripts: the runner threads behind the concurrency
//! gate, one engine per set of limits, and the caches of compiled scripts and
//! modules.
//!
//! Runs leave the async executor for threads of their own (stacks sized for the
//! deepest call nesting the configuration allows). The gate has as many permits
//! as there are runner threads and is taken before a job is handed over, so a job
//! never waits in a queue: a saturated gate is an immediate `Busy` (503 with
//! `Retry-After` at the edge), never an unbounded backlog.

use crate::sandbox::Limits;
use crate::sdk;
use lru::LruCache;
use rhai::{AST, Engine};
use skiff_core::ids::{AppId, ScriptId};
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, oneshot};

/// Stack of each runner thread: enough for [`crate::sandbox::MAX_CALL_LEVELS`]
/// nested calls in an unoptimized build. Only the pages a run touches are used.
const STACK_BYTES: usize = 64 << 20;

/// Most distinct limit sets that keep an engine of their own.
const MAX_ENGINES: usize = 64;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The gate is full: every runner is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every script runner is busy; retry shortly")]
pub struct Busy;

pub struct Runtime {
    gate: Arc<Semaphore>,
    jobs: SyncSender<Job>,
    engines: Mutex<HashMap<Limits, Arc<Engine>>>,
    asts: Mutex<LruCache<(ScriptId, u64), Arc<AST>>>,
    pub(crate) modules: Mutex<LruCache<(AppId, String, u64), rhai::Shared<rhai::Module>>>,
    /// Route tables by app, checked against the app's version on every request.
    pub(crate) routes: crate::routes::TableCache,
    sdk: sdk::Registry,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("free_runners", &self.gate.available_permits())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    pub(crate) fn new(threads: usize, cache_size: usize, sdk: sdk::Registry) -> Self {
        let threads = threads.max(1);
        let (jobs, receiver) = sync_channel::<Job>(threads);
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("skiff-script-{i}"))
                .stack_size(STACK_BYTES)
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // the runtime is gone
                        }
                    }
                })
                .expect("spawning a script runner thread");
        }
        let cache = NonZeroUsize::new(cache_size.max(1)).expect("positive");
        Self {
            gate: Arc::new(Semaphore::new(threads)),
            jobs,
            engines: Mutex::new(HashMap::new()),
            asts: Mutex::new(LruCache::new(cache)),
            modules: Mutex::new(LruCache::new(cache)),
            routes: Default::default(),
            sdk,
        }
    }

    /// Run `f` on a runner thread, or `Busy` at once if every runner is taken.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = self.gate.clone().try_acquire_owned().map_err(|_| Busy)?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let out = f();
            drop(permit);
            let _ = tx.send(out);
        });
        // A permit guarantees a free slot: the channel holds as many jobs as
        // there are threads, and each permit stands for one.
        self.jobs.try_send(job).map_err(|_| Busy)?;
        rx.await.map_err(|_| Busy)
    }

    /// The engine for these limits (shared by every script that has them).
    pub(crate) fn engine(&self, limits: &Limits) -> Arc<Engine> {
        let key = limits.engine_part();
        let mut engines = self.engines.lock().expect("engines lock");
        if let Some(e) = engines.get(&key) {
            return e.clone();
        }
        let engine = Arc::new(crate::sandbox::engine(&key, &self.sdk));
        if engines.len() < MAX_ENGINES {
            engines.insert(key, engine.clone());
        }
        engine
    }

    pub(crate) fn cached_ast(&self, script: &ScriptId, version: u64) -> Option<Arc<AST>> {
        self.asts
            .lock()
            .expect("ast cache lock")
            .get(&(script.clone(), version))
            .cloned()
    }

    pub(crate) fn cache_ast(&self, script: &ScriptId, version: u64, ast: Arc<AST>) {
        self.asts
            .lock()
            .expect("ast cache lock")
            .put((script.clone(), version), ast);
    }
}
