//! In-memory caches per namespace under one memory budget, for the embedded
//! indexes that keep a namespace's rows loaded from SQLite (vectors, keywords).
//! What a cache holds and when it is fresh is the index's business; this keeps
//! the slots, their weights and use order, and drops the least recently used
//! when together they outgrow the budget.

use skiff_core::ports::vectors::Namespace;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) struct NamespaceCaches<T> {
    slots: Mutex<HashMap<Namespace, Arc<Slot<T>>>>,
    /// Bytes the caches may hold together.
    budget: usize,
    /// Ticks of a logical clock that orders uses, for eviction (0: never used, so
    /// a cache a write warmed goes first).
    tick: AtomicU64,
}

/// One namespace's cache. Writers hold its write lock across their commit and the
/// cache update, so a reader never sees the database ahead of a loaded cache for
/// this process's own writes.
pub(crate) struct Slot<T> {
    value: RwLock<Option<T>>,
    last_used: AtomicU64,
    bytes: AtomicUsize,
}

impl<T> Slot<T> {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Option<T>> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Option<T>> {
        self.value.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the cached value now weighs (0 once it is emptied).
    pub(crate) fn weigh(&self, bytes: usize) {
        self.bytes.store(bytes, Ordering::Relaxed);
    }
}

impl<T> NamespaceCaches<T> {
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            budget,
            tick: AtomicU64::new(0),
        }
    }

    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    /// The namespace's slot, created empty on first use.
    pub(crate) fn slot(&self, ns: &Namespace) -> Arc<Slot<T>> {
        self.lock()
            .entry(ns.clone())
            .or_insert_with(|| {
                Arc::new(Slot {
                    value: RwLock::new(None),
                    last_used: AtomicU64::new(0),
                    bytes: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// Mark `slot` as the most recently used.
    pub(crate) fn touch(&self, slot: &Slot<T>) {
        let now = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
        slot.last_used.store(now, Ordering::Relaxed);
    }

    /// Forget a dropped namespace's slot.
    pub(crate) fn forget(&self, ns: &Namespace) {
        self.lock().remove(ns);
    }

    /// Drop the least recently used caches (never `keep`) until the rest fit the
    /// budget. A cache busy with a reader or a writer is skipped this time.
    pub(crate) fn evict_beyond_budget(&self, keep: &Arc<Slot<T>>) {
        let slots: Vec<Arc<Slot<T>>> = self.lock().values().cloned().collect();
        let mut total: usize = slots.iter().map(|s| s.bytes.load(Ordering::Relaxed)).sum();
        if total <= self.budget {
            return;
        }
        let mut others: Vec<&Arc<Slot<T>>> = slots
            .iter()
            .filter(|s| !Arc::ptr_eq(s, keep) && s.bytes.load(Ordering::Relaxed) > 0)
            .collect();
        others.sort_by_key(|s| s.last_used.load(Ordering::Relaxed));
        for slot in others {
            if total <= self.budget {
                break;
            }
            if let Ok(mut value) = slot.value.try_write() {
                total -= slot.bytes.swap(0, Ordering::Relaxed);
                *value = None;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Namespace, Arc<Slot<T>>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
