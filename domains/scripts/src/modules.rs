//! `import "name" as m;`: resolves only modules of the running script's own app
//! (an app's namespace is its modules' names; nothing names another app), refuses
//! import cycles and nesting deeper than [`MAX_IMPORT_DEPTH`], and caches compiled
//! modules by (app, name, version), so an edited module is never used stale.

use crate::context;
use crate::model::ScriptKind;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};

type SharedModule = Shared<Module>;
use std::sync::Arc;

/// Deepest chain of imports (a module importing a module …).
pub const MAX_IMPORT_DEPTH: usize = 8;

/// Why an import failed: a runtime error of the importing script.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ImportError(String);

fn refuse(message: String, pos: Position) -> Box<EvalAltResult> {
    let _ = pos;
    Box::new(EvalAltResult::ErrorSystem(
        "import refused".into(),
        Box::new(ImportError(message)),
    ))
}

pub struct AppModules;

impl rhai::ModuleResolver for AppModules {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let ctx = context::require()?;
        {
            let imports = ctx.imports.borrow();
            if let Some(start) = imports.iter().position(|m| m == path) {
                let mut chain: Vec<&str> = imports[start..].iter().map(String::as_str).collect();
                chain.push(path);
                return Err(refuse(format!("import cycle: {}", chain.join(" → ")), pos));
            }
            if imports.len() >= MAX_IMPORT_DEPTH {
                return Err(refuse(
                    format!("imports nested deeper than {MAX_IMPORT_DEPTH}"),
                    pos,
                ));
            }
        }
        let store = ctx.services.store.clone();
        let (org, app) = (ctx.org_id.clone(), ctx.app.id.clone());
        let claim = ctx
            .block_on(crate::scripts::by_name(store.as_ref(), &org, &app, path))?
            .map_err(|e| refuse(format!("could not read module `{path}`: {e}"), pos))?
            .ok_or_else(|| {
                Box::new(EvalAltResult::ErrorModuleNotFound(
                    format!("{path} (no module of this name in the app)"),
                    pos,
                ))
            })?;
        if claim.kind != ScriptKind::Module {
            return Err(refuse(
                format!("`{path}` is an endpoint script, not a module"),
                pos,
            ));
        }
        let key = (app.clone(), path.to_owned(), claim.version);
        if let Some(m) = ctx.runtime.modules.lock().expect("module cache").get(&key) {
            return Ok(m.clone());
        }
        let script = ctx
            .block_on(crate::scripts::load(store.as_ref(), &org, &claim.script_id))?
            .map_err(|e| refuse(format!("could not read module `{path}`: {e}"), pos))?
            .ok_or_else(|| Box::new(EvalAltResult::ErrorModuleNotFound(path.to_owned(), pos)))?;
        let ast = engine
            .compile(&script.source)
            .map_err(|e| refuse(format!("module `{path}` does not compile: {e}"), pos))?;
        crate::sandbox::check_module(&ast)
            .map_err(|e| refuse(format!("module `{path}`: {e}"), pos))?;
        ctx.imports.borrow_mut().push(path.to_owned());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        ctx.imports.borrow_mut().pop();
        let module: SharedModule = Arc::new(module?);
        ctx.runtime
            .modules
            .lock()
            .expect("module cache")
            .put(key, module.clone());
        Ok(module)
    }
}
