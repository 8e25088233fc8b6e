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
pub mod cron;
pub mod data;
pub mod dead_letters;
pub mod domains;
pub mod error;
mod hooks;
pub mod keys;
pub mod logs;
pub mod model;
pub mod modules;
pub mod net;
pub mod org_data;
pub mod routes;
pub mod run;
pub mod runtime;
pub mod sandbox;
pub mod scripts;
pub mod sdk;
pub mod service;
pub mod settings;
pub mod triggers;

pub use error::{FieldProblem, ScriptsError, ScriptsResult};

use skiff_core::Services;
use skiff_core::metrics::Counter;
use std::sync::Arc;

/// Finished runs by status (`ok`, `error`, `timeout`, `limit_exceeded`), whatever
/// started them: an execute call, a route (sync or async), a trigger.
pub static EXECUTIONS: Counter = Counter::new(
    "skiff_script_executions_total",
    "Finished script runs by status",
    &["status"],
);

/// Scripts' settings, wired in at startup.
pub fn settings(services: &Services) -> &settings::ScriptsSettings {
    services.settings.get()
}

/// Warn, once at startup, about dev-only settings that weaken the sandbox.
pub fn startup_warnings(services: &Services) {
    let http = &settings(services).http;
    if !http.allow_private.is_empty() {
        let targets: Vec<String> = http.allow_private.iter().map(|a| a.to_string()).collect();
        tracing::warn!(
            targets = %targets.join(", "),
            "dev: scripts may send HTTP to these private targets (SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE)"
        );
    }
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

/// Scripts' outbox message kinds: async route runs and trigger runs.
pub fn register(registry: &mut skiff_core::outbox::Registry) {
    service::register(registry);
    triggers::register(registry);
}

/// Scripts' periodic jobs: cron triggers and the dead-letter retention sweep.
pub fn register_jobs(jobs: &mut skiff_core::scheduler::Jobs) {
    use skiff_core::scheduler::Job;
    jobs.register(Job::new("scripts_cron", |s| Box::pin(cron::fire_due(s))));
    jobs.register(Job::new("scripts_dead_letters_sweep", |s| {
        Box::pin(dead_letters::sweep(s))
    }));
}
