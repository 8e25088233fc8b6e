//! A scripts directory: `*.rhai` files and `skiff.toml`, which names the app and
//! says what the files do not (a script's kind and limits, the routes). Read and
//! checked here once, into a [`Plan`] that `scripts push` makes the server match.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use skiff_client::types::{Dispatch, RouteMethod, ScriptDraft, ScriptKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "skiff.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    app: AppSection,
    #[serde(default)]
    scripts: BTreeMap<String, ScriptSection>,
    #[serde(default)]
    routes: Vec<RouteSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppSection {
    slug: String,
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ScriptSection {
    /// Default `<name>.rhai`.
    file: Option<String>,
    kind: Option<ScriptKind>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    sandbox: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSection {
    method: String,
    path: String,
    script: String,
    dispatch: Option<Dispatch>,
    host: Option<String>,
}

/// What the directory says the app holds.
#[derive(Debug)]
pub struct Plan {
    pub slug: String,
    pub name: String,
    /// Modules first (endpoints import them), then endpoints; by name within each.
    pub scripts: Vec<PlannedScript>,
    pub routes: Vec<PlannedRoute>,
}

#[derive(Debug)]
pub struct PlannedScript {
    /// The file as the user names it (the directory given, joined with the file),
    /// for `file:line:column` messages.
    pub file: PathBuf,
    pub draft: ScriptDraft,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRoute {
    pub method: RouteMethod,
    pub path: String,
    pub host: Option<String>,
    pub dispatch: Dispatch,
    /// The script's name.
    pub script: String,
}

impl PlannedRoute {
    /// `GET /hello/:name` (and `@host` when bound to one).
    pub fn label(&self) -> String {
        route_label(self.method, &self.path, self.host.as_deref())
    }
}

pub fn route_label(method: RouteMethod, path: &str, host: Option<&str>) -> String {
    match host {
        Some(h) => format!("{} {path} @{h}", method.as_str()),
        None => format!("{} {path}", method.as_str()),
    }
}

/// `[A-Za-z0-9_-]{1,64}`, as the server names scripts.
fn valid_script_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Plan {
    /// Read `dir/skiff.toml` and the `*.rhai` files beside it.
    pub fn load(dir: &Path) -> Result<Plan> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} is missing: every scripts directory has one (`skiff-cli scripts init {}` writes a first one)",
                path.display(),
                dir.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rhai") && entry.file_type()?.is_file() {
                let source = std::fs::read_to_string(entry.path())
                    .with_context(|| format!("reading {}", entry.path().display()))?;
                files.insert(name, source);
            }
        }
        Self::from_parts(dir, &text, files)
    }

    /// The plan of a manifest's text and the directory's `.rhai` files (file
    /// name → source).
    pub fn from_parts(dir: &Path, manifest: &str, files: BTreeMap<String, String>) -> Result<Plan> {
        let at = dir.join(MANIFEST);
        let m: Manifest = toml::from_str(manifest)
            .map_err(|e| anyhow::anyhow!("{}: {}", at.display(), e.to_string().trim_end()))?;
        let mut sections = m.scripts;
        // Files the manifest does not name are endpoints named by their stem.
        let named: BTreeSet<String> = sections
            .iter()
            .map(|(name, s)| s.file.clone().unwrap_or_else(|| format!("{name}.rhai")))
            .collect();
        for file in files.keys() {
            if !named.contains(file) {
                let stem = file.trim_end_matches(".rhai").to_owned();
                if sections.contains_key(&stem) {
                    bail!(
                        "{}: the script `{stem}` is read from another file, and {} would be a script `{stem}` too: rename one",
                        at.display(),
                        dir.join(file).display()
                    );
                }
                sections.insert(stem, ScriptSection::default());
            }
        }
        let mut scripts = vec![];
        for (name, s) in sections {
            let file_name = s.file.unwrap_or_else(|| format!("{name}.rhai"));
            let file = dir.join(&file_name);
            if !valid_script_name(&name) {
                bail!(
                    "{}: `{name}` cannot name a script (1 to 64 of A-Z, a-z, 0-9, `_` and `-`): rename the file or name it in {MANIFEST}",
                    file.display()
                );
            }
            let Some(source) = files.get(&file_name) else {
                bail!(
                    "{}: the script `{name}` is read from {}, which is not there",
                    at.display(),
                    file.display()
                );
            };
            let mut sandbox = s.sandbox;
            if let Some(ms) = s.timeout_ms
                && sandbox.insert("timeout_ms".into(), ms).is_some()
            {
                bail!(
                    "{}: the script `{name}` sets `timeout_ms` twice (and in `sandbox`): keep one",
                    at.display()
                );
            }
            scripts.push(PlannedScript {
                file,
                draft: ScriptDraft {
                    name,
                    source: source.clone(),
                    kind: s.kind.unwrap_or_default(),
                    sandbox,
                },
            });
        }
        scripts.sort_by_key(|s| (s.draft.kind != ScriptKind::Module, s.draft.name.clone()));

        let mut routes: Vec<PlannedRoute> = vec![];
        for r in m.routes {
            let Some(method) = RouteMethod::parse(&r.method) else {
                bail!(
                    "{}: a route's method is one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY, not `{}`",
                    at.display(),
                    r.method
                );
            };
            let script = r.script.trim_end_matches(".rhai").to_owned();
            let route = PlannedRoute {
                method,
                path: r.path,
                host: r.host.map(|h| h.to_ascii_lowercase()),
                dispatch: r.dispatch.unwrap_or_default(),
                script,
            };
            match scripts.iter().find(|s| s.draft.name == route.script) {
                None => bail!(
                    "{}: the route {} runs `{}`, which is no script of this directory",
                    at.display(),
                    route.label(),
                    route.script
                ),
                Some(s) if s.draft.kind == ScriptKind::Module => bail!(
                    "{}: the route {} runs `{}`, a module: routes run endpoints",
                    at.display(),
                    route.label(),
                    route.script
                ),
                Some(_) => {}
            }
            if routes
                .iter()
                .any(|o| (o.method, &o.path, &o.host) == (route.method, &route.path, &route.host))
            {
                bail!(
                    "{}: the route {} is there twice",
                    at.display(),
                    route.label()
                );
            }
            routes.push(route);
        }
        Ok(Plan {
            name: m.app.name.unwrap_or_else(|| m.app.slug.clone()),
            slug: m.app.slug,
            scripts,
            routes,
        })
    }

    /// The file a script of this plan is read from.
    pub fn file_of(&self, name: &str) -> Option<&Path> {
        self.scripts
            .iter()
            .find(|s| s.draft.name == name)
            .map(|s| s.file.as_path())
    }
}

/// A slug from a directory's name (`My Scripts` → `my-scripts`), if one fits.
pub fn slug_from(dir_name: &str) -> Option<String> {
    let mut slug = String::new();
    for c in dir_name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    (3..=40).contains(&slug.len()).then_some(slug)
}

/// `scripts init`: a manifest with one routed endpoint.
pub fn scaffold(slug: &str, name: &str) -> (String, &'static str) {
    let manifest = format!(
        r#"# A Skiff scripts app: `skiff-cli scripts push .` creates or updates it.
# Every *.rhai file here is a script named by its file stem (an endpoint unless
# said otherwise below).

[app]
slug = "{slug}"   # [a-z0-9-]{{3,40}}, unique on the server: the app's /run/{slug}/…
name = "{name}"

# A script's kind and limits (all optional):
# [scripts.money]
# kind = "module"        # imported by other scripts: `import "money" as m;`
# [scripts.hello]
# file = "hello.rhai"    # the default: <name>.rhai
# timeout_ms = 2000
# sandbox = {{ max_operations = 100000 }}

# Routes: served at <server>/run/{slug}<path> (exact, /:param or /prefix/*).
[[routes]]
method = "GET"
path = "/hello/:name"
script = "hello"
dispatch = "sync"        # or "async": answers 202 with the execution id
"#,
        name = name.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let hello = r#"// `skiff-cli scripts run hello --data '{"name": "Ada"}'`, or once pushed:
// curl <server>/run/<slug>/hello/Ada
let name = "world";
if "name" in ctx.request.params {
    name = ctx.request.params.name;
} else if type_of(ctx.request.body) == "map" && "name" in ctx.request.body {
    name = ctx.request.body.name;
}
log::info(`greeting ${name}`);
#{ message: `Hello, ${name}!` }
"#;
    (manifest, hello)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(f, s)| (f.to_string(), s.to_string()))
            .collect()
    }

    fn plan(manifest: &str, list: &[(&str, &str)]) -> Result<Plan> {
        Plan::from_parts(Path::new("app"), manifest, files(list))
    }

    #[test]
    fn files_are_endpoints_by_stem_and_the_manifest_says_the_rest() {
        let p = plan(
            r#"
            [app]
            slug = "shop"
            [scripts.money]
            kind = "module"
            [scripts.quote]
            file = "quote-v2.rhai"
            timeout_ms = 500
            sandbox = { max_operations = 1000 }
            [[routes]]
            method = "post"
            path = "/quote/:customer"
            script = "quote.rhai"
            dispatch = "async"
            "#,
            &[
                ("money.rhai", "fn f() { 1 }"),
                ("quote-v2.rhai", "1"),
                ("zeta.rhai", "2"),
            ],
        )
        .unwrap();
        assert_eq!((p.slug.as_str(), p.name.as_str()), ("shop", "shop"));
        let names: Vec<_> = p.scripts.iter().map(|s| s.draft.name.as_str()).collect();
        assert_eq!(names, ["money", "quote", "zeta"], "modules first");
        assert_eq!(p.scripts[0].draft.kind, ScriptKind::Module);
        assert_eq!(p.scripts[2].draft.kind, ScriptKind::Endpoint);
        assert_eq!(p.scripts[1].file, Path::new("app/quote-v2.rhai"));
        assert_eq!(
            p.scripts[1].draft.sandbox,
            BTreeMap::from([
                ("max_operations".to_owned(), 1000),
                ("timeout_ms".to_owned(), 500)
            ])
        );
        assert_eq!(
            p.routes,
            [PlannedRoute {
                method: RouteMethod::Post,
                path: "/quote/:customer".into(),
                host: None,
                dispatch: Dispatch::Async,
                script: "quote".into(),
            }]
        );
        assert_eq!(p.file_of("zeta"), Some(Path::new("app/zeta.rhai")));
    }

    #[test]
    fn mistakes_are_named_before_anything_is_sent() {
        type Files<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(&str, Files, &str)] = &[
            (
                "[app]\nslug = ",
                &[],
                "app/skiff.toml: TOML parse error at line 2",
            ),
            (
                "[app]\nslug = \"a-b\"\nsurprise = 1",
                &[],
                "unknown field `surprise`",
            ),
            (
                "[app]\nslug = \"abc\"\n[scripts.x]\nkind = \"modul\"",
                &[("x.rhai", "")],
                "unknown variant `modul`",
            ),
            (
                "[app]\nslug = \"abc\"\n[scripts.gone]",
                &[],
                "app/gone.rhai, which is not there",
            ),
            (
                "[app]\nslug = \"abc\"",
                &[("bad name.rhai", "")],
                "app/bad name.rhai: `bad name` cannot name a script",
            ),
            (
                "[app]\nslug = \"abc\"\n[[routes]]\nmethod = \"FETCH\"\npath = \"/\"\nscript = \"a\"",
                &[("a.rhai", "")],
                "not `FETCH`",
            ),
            (
                "[app]\nslug = \"abc\"\n[[routes]]\nmethod = \"GET\"\npath = \"/x\"\nscript = \"nope\"",
                &[("a.rhai", "")],
                "the route GET /x runs `nope`, which is no script",
            ),
            (
                "[app]\nslug = \"abc\"\n[scripts.m]\nkind = \"module\"\n[[routes]]\nmethod = \"GET\"\npath = \"/x\"\nscript = \"m\"",
                &[("m.rhai", "")],
                "a module: routes run endpoints",
            ),
            (
                "[app]\nslug = \"abc\"\n[[routes]]\nmethod = \"GET\"\npath = \"/x\"\nscript = \"a\"\n[[routes]]\nmethod = \"get\"\npath = \"/x\"\nscript = \"a\"",
                &[("a.rhai", "")],
                "the route GET /x is there twice",
            ),
            (
                "[app]\nslug = \"abc\"\n[scripts.a]\ntimeout_ms = 1\nsandbox = { timeout_ms = 2 }",
                &[("a.rhai", "")],
                "sets `timeout_ms` twice",
            ),
            (
                "[app]\nslug = \"abc\"\n[scripts.a]\nfile = \"b.rhai\"",
                &[("a.rhai", ""), ("b.rhai", "")],
                "app/a.rhai would be a script `a` too",
            ),
        ];
        for (manifest, list, expected) in cases {
            let err = format!("{:#}", plan(manifest, list).unwrap_err());
            assert!(err.contains(expected), "{manifest:?}: {err}");
        }
    }

    #[test]
    fn a_scaffold_is_a_valid_plan() {
        let (manifest, hello) = scaffold("my-app", "My \"App\"");
        let p = plan(&manifest, &[("hello.rhai", hello)]).unwrap();
        assert_eq!(p.name, "My \"App\"");
        assert_eq!(p.routes[0].label(), "GET /hello/:name");
        assert_eq!(slug_from("My Scripts!").as_deref(), Some("my-scripts"));
        assert_eq!(slug_from("ab"), None);
    }
}
