//! The sandbox: a Rhai engine with every limit set, and what a run's failure means.
//!
//! A hostile script must not hurt the host or another tenant. The engine has no
//! filesystem, process or network access of its own (only what the SDK registers),
//! `eval` is disabled, `print`/`debug` go to the run's log instead of stdout, and
//! every resource is bounded: operations, string, array and map sizes, call levels
//! and expression depth by the engine; wall-clock time by the progress callback;
//! the answer's size when it is serialized. Scripts run on the runtime's own
//! threads, whose stacks are sized for [`MAX_CALL_LEVELS`].

use rhai::{Engine, EvalAltResult, ParseError, Position};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The deepest call nesting any configuration may allow; the runner threads'
/// stacks are sized for it (see `runtime::STACK_BYTES`).
pub const MAX_CALL_LEVELS: u64 = 256;

/// Operations between two looks at the clock in the progress callback.
const CLOCK_EVERY_OPS: u64 = 256;

/// One limit of the sandbox, as requests and errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Knob {
    MaxOperations,
    MaxStringSize,
    MaxArraySize,
    MaxMapSize,
    MaxCallLevels,
    MaxExprDepth,
    TimeoutMs,
    MaxOutputBytes,
}

impl Knob {
    pub const ALL: [Knob; 8] = [
        Knob::MaxOperations,
        Knob::MaxStringSize,
        Knob::MaxArraySize,
        Knob::MaxMapSize,
        Knob::MaxCallLevels,
        Knob::MaxExprDepth,
        Knob::TimeoutMs,
        Knob::MaxOutputBytes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Knob::MaxOperations => "max_operations",
            Knob::MaxStringSize => "max_string_size",
            Knob::MaxArraySize => "max_array_size",
            Knob::MaxMapSize => "max_map_size",
            Knob::MaxCallLevels => "max_call_levels",
            Knob::MaxExprDepth => "max_expr_depth",
            Knob::TimeoutMs => "timeout_ms",
            Knob::MaxOutputBytes => "max_output_bytes",
        }
    }

    pub fn parse(name: &str) -> Option<Knob> {
        Knob::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Every limit of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Limits {
    pub max_operations: u64,
    pub max_string_size: u64,
    pub max_array_size: u64,
    pub max_map_size: u64,
    pub max_call_levels: u64,
    pub max_expr_depth: u64,
    pub timeout_ms: u64,
    pub max_output_bytes: u64,
}

impl Limits {
    pub fn get(&self, knob: Knob) -> u64 {
        match knob {
            Knob::MaxOperations => self.max_operations,
            Knob::MaxStringSize => self.max_string_size,
            Knob::MaxArraySize => self.max_array_size,
            Knob::MaxMapSize => self.max_map_size,
            Knob::MaxCallLevels => self.max_call_levels,
            Knob::MaxExprDepth => self.max_expr_depth,
            Knob::TimeoutMs => self.timeout_ms,
            Knob::MaxOutputBytes => self.max_output_bytes,
        }
    }

    pub fn set(&mut self, knob: Knob, value: u64) {
        let slot = match knob {
            Knob::MaxOperations => &mut self.max_operations,
            Knob::MaxStringSize => &mut self.max_string_size,
            Knob::MaxArraySize => &mut self.max_array_size,
            Knob::MaxMapSize => &mut self.max_map_size,
            Knob::MaxCallLevels => &mut self.max_call_levels,
            Knob::MaxExprDepth => &mut self.max_expr_depth,
            Knob::TimeoutMs => &mut self.timeout_ms,
            Knob::MaxOutputBytes => &mut self.max_output_bytes,
        };
        *slot = value;
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The limits the engine itself enforces (the same engine serves every script
    /// with these): time and output are checked per run.
    pub(crate) fn engine_part(&self) -> Limits {
        Limits {
            timeout_ms: 0,
            max_output_bytes: 0,
            ..*self
        }
    }
}

/// A script's own overrides: each knob it names must not exceed the ceiling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides(pub Vec<(Knob, u64)>);

/// An override above its ceiling (or of zero).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{knob}` = {value} is not allowed: the ceiling is {ceiling} (and it must be positive)")]
pub struct OverrideRefused {
    pub knob: &'static str,
    pub value: u64,
    pub ceiling: u64,
}

impl Overrides {
    /// The limits of a script: the defaults, tightened (or loosened up to the
    /// ceiling) by its overrides.
    pub fn apply(
        &self,
        defaults: &Limits,
        ceilings: &Limits,
    ) -> Result<Limits, Vec<OverrideRefused>> {
        let mut limits = *defaults;
        let mut refused = vec![];
        for (knob, value) in &self.0 {
            let ceiling = ceilings.get(*knob);
            if *value == 0 || *value > ceiling {
                refused.push(OverrideRefused {
                    knob: knob.name(),
                    value: *value,
                    ceiling,
                });
            } else {
                limits.set(*knob, *value);
            }
        }
        if refused.is_empty() {
            Ok(limits)
        } else {
            Err(refused)
        }
    }
}

impl Serialize for Knob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Knob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Knob::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("no knob `{raw}`")))
    }
}

/// The token the progress callback stops a run with when its time is up.
pub(crate) const TIMEOUT_TOKEN: &str = "skiff:timeout";

/// An engine as runs get it, with the whole SDK: for measuring the engine outside
/// a run. `progress: false` leaves the progress callback out, which no run ever
/// does (the benchmark prices the callback with it).
pub fn standalone_engine(limits: &Limits, progress: bool) -> Engine {
    engine_with(limits, &crate::sdk::Registry::standard(), progress)
}

/// A fresh engine with these limits, the SDK and the module resolver registered.
pub(crate) fn engine(limits: &Limits, sdk: &crate::sdk::Registry) -> Engine {
    engine_with(limits, sdk, true)
}

fn engine_with(limits: &Limits, sdk: &crate::sdk::Registry, progress: bool) -> Engine {
    let mut engine = Engine::new();
    let as_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    engine
        .set_max_operations(limits.max_operations)
        .set_max_string_size(as_usize(limits.max_string_size))
        .set_max_array_size(as_usize(limits.max_array_size))
        .set_max_map_size(as_usize(limits.max_map_size))
        .set_max_call_levels(as_usize(limits.max_call_levels.min(MAX_CALL_LEVELS)))
        .set_max_expr_depths(
            as_usize(limits.max_expr_depth),
            as_usize(limits.max_expr_depth / 2).max(1),
        )
        .set_max_variables(10_000)
        .set_max_functions(1_000)
        .set_max_modules(64)
        .set_max_strings_interned(1_024)
        .set_strict_variables(true);
    // No code from strings: `eval` would let a script build what the save-time
    // checks never saw.
    engine.disable_symbol("eval");
    engine.on_print(|text| crate::context::log_line(crate::context::Level::Info, text));
    engine.on_debug(|text, _, pos| {
        crate::context::log_line(
            crate::context::Level::Trace,
            &format!("{text} (line {})", pos.line().unwrap_or(0)),
        )
    });
    if progress {
        engine.on_progress(|ops| {
            if ops % CLOCK_EVERY_OPS == 0 && crate::context::past_deadline() {
                Some(TIMEOUT_TOKEN.into())
            } else {
                None
            }
        });
    }
    engine.set_module_resolver(crate::modules::AppModules);
    sdk.register_all(&mut engine);
    engine
}

/// Compile a script: `ctx` is the one variable it finds defined (strict
/// variables catch every other undefined name at save).
pub(crate) fn compile(engine: &Engine, source: &str) -> Result<rhai::AST, ParseError> {
    let mut scope = rhai::Scope::new();
    scope.push_constant("ctx", rhai::Dynamic::UNIT);
    engine.compile_with_scope(&scope, source)
}

/// Where in the source something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourcePosition {
    pub line: usize,
    pub column: usize,
}

impl SourcePosition {
    pub(crate) fn of(pos: Position) -> Option<Self> {
        Some(Self {
            line: pos.line()?,
            column: pos.position().unwrap_or(0),
        })
    }
}

/// A source that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    pub message: String,
    pub position: Option<SourcePosition>,
}

impl CompileError {
    pub(crate) fn from_parse(e: &ParseError) -> Self {
        Self {
            message: e.err_type().to_string(),
            position: SourcePosition::of(e.position()),
        }
    }
}

/// How a run ended when it did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunFailure {
    /// The script called `throw` (or an SDK call failed and it did not catch it).
    #[error("{message}")]
    Thrown {
        message: String,
        position: Option<SourcePosition>,
    },
    /// A runtime error: a type mismatch, an unknown function or variable, a module
    /// that cannot be imported.
    #[error("{message}")]
    Runtime {
        message: String,
        position: Option<SourcePosition>,
    },
    /// A sandbox limit was reached; `knob` names it.
    #[error("the script exceeded `{knob}` ({limit})")]
    LimitExceeded { knob: &'static str, limit: u64 },
    #[error("the script ran longer than its {timeout_ms} ms timeout")]
    Timeout { timeout_ms: u64 },
}

impl RunFailure {
    /// The execution log's status of this failure.
    pub fn status(&self) -> &'static str {
        match self {
            RunFailure::Thrown { .. } | RunFailure::Runtime { .. } => "error",
            RunFailure::LimitExceeded { .. } => "limit_exceeded",
            RunFailure::Timeout { .. } => "timeout",
        }
    }

    /// Classify Rhai's error (unwrapping the function or module it happened in).
    pub(crate) fn classify(error: &EvalAltResult, limits: &Limits) -> Self {
        use EvalAltResult as E;
        let limit = |knob: Knob| RunFailure::LimitExceeded {
            knob: knob.name(),
            limit: limits.get(knob),
        };
        match error {
            E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => {
                Self::classify(inner, limits)
            }
            E::ErrorTooManyOperations(_) => limit(Knob::MaxOperations),
            E::ErrorStackOverflow(_) => limit(Knob::MaxCallLevels),
            E::ErrorDataTooLarge(what, _) => {
                let what = what.to_ascii_lowercase();
                if what.contains("string") {
                    limit(Knob::MaxStringSize)
                } else if what.contains("array") {
                    limit(Knob::MaxArraySize)
                } else if what.contains("map") {
                    limit(Knob::MaxMapSize)
                } else {
                    limit(Knob::MaxOperations)
                }
            }
            E::ErrorTerminated(token, _) if token.to_string() == TIMEOUT_TOKEN => {
                RunFailure::Timeout {
                    timeout_ms: limits.timeout_ms,
                }
            }
            E::ErrorParsing(p, pos) => match p {
                rhai::ParseErrorType::ExprTooDeep => limit(Knob::MaxExprDepth),
                other => RunFailure::Runtime {
                    message: other.to_string(),
                    position: SourcePosition::of(*pos),
                },
            },
            E::ErrorRuntime(value, pos) => RunFailure::Thrown {
                message: if value.is_string() {
                    value.to_string()
                } else {
                    crate::convert::to_json(value)
                        .map(|v| v.to_string())
                        .unwrap_or_else(|_| value.to_string())
                },
                position: SourcePosition::of(*pos),
            },
            other => RunFailure::Runtime {
                message: strip_position(&other.to_string()),
                position: SourcePosition::of(other.position()),
            },
        }
    }
}

/// Rhai appends ` (line 3, position 5)` to messages; the position is reported
/// apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

/// What `import` may reach is checked separately; here: a module holds only
/// constants, functions and imports, so importing it runs no code.
pub(crate) fn check_module(ast: &rhai::AST) -> Result<(), CompileError> {
    use rhai::{ASTFlags, Stmt};
    for stmt in ast.statements() {
        let ok = match stmt {
            Stmt::Noop(_) | Stmt::Import(..) | Stmt::Export(..) => true,
            Stmt::Var(_, flags, _) => flags.contains(ASTFlags::CONSTANT),
            _ => false,
        };
        if !ok {
            return Err(CompileError {
                message: "a module holds only constants (`const`), functions (`fn`) and imports"
                    .into(),
                position: SourcePosition::of(stmt.position()),
            });
        }
    }
    Ok(())
}
