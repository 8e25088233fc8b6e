//! The per-run call context: who runs what, for whom, until when. A run executes
//! start to end on one runner thread, so the context sits in a thread-local that
//! the progress callback, the module resolver and every SDK function read. Every
//! SDK call is scoped by it (org and app come from here, never from an argument).

use crate::sandbox::Limits;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::{AppId, ExecutionId, OrgId, ScriptId, UserId};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// Most log lines one run keeps, and the longest line.
pub const MAX_LOG_LINES: usize = 200;
pub const MAX_LOG_LINE_BYTES: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Info,
    Warn,
    Error,
}

/// One line a script logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    pub level: Level,
    pub message: String,
}

/// Who a run acts for: the caller of an execute request, or the member who
/// registered the trigger that started it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    /// The app role the run acts with.
    pub role: String,
}

/// The app a run belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRef {
    pub id: AppId,
    pub slug: String,
}

/// Everything a run's native functions may consult.
pub struct RunContext {
    pub services: Services,
    pub handle: tokio::runtime::Handle,
    pub org_id: OrgId,
    pub app: AppRef,
    pub script_id: ScriptId,
    pub execution_id: ExecutionId,
    pub principal: Option<Principal>,
    /// How many triggers led to this run (0: a request).
    pub depth: u32,
    pub limits: Limits,
    pub deadline: Instant,
    pub(crate) runtime: std::sync::Arc<crate::runtime::Runtime>,
    logs: RefCell<Vec<LogLine>>,
    dropped_lines: RefCell<usize>,
    /// The modules being imported, outermost first (cycles and depth).
    pub(crate) imports: RefCell<Vec<String>>,
    /// Data changes made so far (each gets its own id for its trigger messages).
    changes: std::cell::Cell<u32>,
}

impl RunContext {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        services: Services,
        handle: tokio::runtime::Handle,
        org_id: OrgId,
        app: AppRef,
        script_id: ScriptId,
        execution_id: ExecutionId,
        principal: Option<Principal>,
        depth: u32,
        limits: Limits,
        runtime: std::sync::Arc<crate::runtime::Runtime>,
    ) -> Self {
        Self {
            services,
            handle,
            org_id,
            app,
            script_id,
            execution_id,
            principal,
            depth,
            deadline: Instant::now() + limits.timeout(),
            limits,
            runtime,
            logs: RefCell::new(vec![]),
            dropped_lines: RefCell::new(0),
            imports: RefCell::new(vec![]),
            changes: std::cell::Cell::new(0),
        }
    }

    /// Where this run's next data call acts: its org and app, its depth, and a
    /// fresh change id.
    pub fn data_scope(&self) -> crate::data::Scope {
        let n = self.changes.get() + 1;
        self.changes.set(n);
        crate::data::Scope {
            services: self.services.clone(),
            org: self.org_id.clone(),
            app: self.app.id.clone(),
            depth: self.depth,
            change_id: format!("{}.c{n}", self.execution_id),
        }
    }

    /// The lines logged so far (and a note of those dropped over the cap).
    pub fn take_logs(&self) -> Vec<LogLine> {
        let mut lines = std::mem::take(&mut *self.logs.borrow_mut());
        let dropped = std::mem::take(&mut *self.dropped_lines.borrow_mut());
        if dropped > 0 {
            lines.push(LogLine {
                level: Level::Warn,
                message: format!("{dropped} more log lines dropped (at most {MAX_LOG_LINES})"),
            });
        }
        lines
    }

    /// Run a future to completion from the runner thread, bounded by the run's
    /// deadline (time spent waiting on I/O counts against the timeout too).
    pub fn block_on<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, Box<rhai::EvalAltResult>> {
        let deadline = tokio::time::Instant::from_std(self.deadline);
        self.handle
            .block_on(async { tokio::time::timeout_at(deadline, fut).await })
            .map_err(|_| {
                Box::new(rhai::EvalAltResult::ErrorTerminated(
                    crate::sandbox::TIMEOUT_TOKEN.into(),
                    rhai::Position::NONE,
                ))
            })
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RunContext>>> = const { RefCell::new(None) };
}

/// Clears the thread's context when the run ends, however it ends.
pub(crate) struct Entered;

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().take());
    }
}

pub(crate) fn enter(ctx: Rc<RunContext>) -> Entered {
    CURRENT.with(|c| *c.borrow_mut() = Some(ctx));
    Entered
}

/// The current run's context (`None` outside a run, e.g. at compile time).
pub fn current() -> Option<Rc<RunContext>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The current run's context, or an error for the script.
pub fn require() -> Result<Rc<RunContext>, Box<rhai::EvalAltResult>> {
    current().ok_or_else(|| "this function is only available while a script runs".into())
}

pub(crate) fn past_deadline() -> bool {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|ctx| Instant::now() >= ctx.deadline)
    })
}

/// Record one line in the current run's log (dropped outside a run).
pub fn log_line(level: Level, text: &str) {
    CURRENT.with(|c| {
        if let Some(ctx) = c.borrow().as_ref() {
            let mut logs = ctx.logs.borrow_mut();
            if logs.len() >= MAX_LOG_LINES {
                *ctx.dropped_lines.borrow_mut() += 1;
                return;
            }
            let mut message = text.to_owned();
            if message.len() > MAX_LOG_LINE_BYTES {
                let mut cut = MAX_LOG_LINE_BYTES;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push('…');
            }
            logs.push(LogLine { level, message });
        }
    });
}
