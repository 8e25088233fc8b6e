//! Scripts: an org's developers upload Rhai scripts into apps and get HTTP
//! endpoints that run them sandboxed, with an execution log of every run.
//!
//! * [`apps`]: the isolation unit inside an org, with per-app roles ([`access`]).
//! * [`scripts`]: endpoint scripts and modules, compiled at save.
//! * [`routes`]: user routes served at `/run/<slug>/…` and claimed hosts ([`domains`]).
//! * [`run`]: a run on the [`runtime`]'s threads in the [`sandbox`], with the
//!   per-call [`context`] every [`sdk`] function is scoped by, and its [`logs`].
//!
//! The `scripts` function maps [`ScriptsError`] to HTTP; nothing here knows HTTP.

pub mod access;
pub mod apps;
pub mod context;
pub mod convert;
pub mod domains;
pub mod error;
mod hooks;
pub mod keys;
pub mod logs;
pub mod model;
pub mod modules;
pub mod routes;
pub mod run;
pub mod runtime;
pub mod sandbox;
pub mod scripts;
pub mod sdk;
pub mod service;
pub mod settings;

pub use error::{FieldProblem, ScriptsError, ScriptsResult};

use skiff_core::Services;
use std::sync::Arc;

/// Scripts' settings, wired in at startup.
pub fn settings(services: &Services) -> &settings::ScriptsSettings {
    services.settings.get()
}

/// This process's script runtime (runner threads, engines, caches), built on
/// first use.
pub fn runtime(services: &Services) -> Arc<runtime::Runtime> {
    let s = settings(services);
    s.runtime
        .get_or_init(|| {
            Arc::new(runtime::Runtime::new(
                s.max_concurrent,
                s.cache_size,
                sdk::Registry::standard(),
            ))
        })
        .clone()
}

/// Scripts' outbox message kinds.
pub fn register(registry: &mut skiff_core::outbox::Registry) {
    service::register(registry);
}
