//! `scripts init|push|run|logs`: a directory of Rhai files and `skiff.toml` made
//! into an app on the server, then run and watched.

use crate::manifest::{self, MANIFEST, Plan, PlannedRoute, route_label};
use crate::output::{Format, print_rows};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde::Serialize;
use serde_json::{Value, json};
use skiff_client::types::{AnswerBody, App, Route, RouteDraft, Script, ScriptKind};
use skiff_client::{Client, Error};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum Scripts {
    /// Write a first skiff.toml and hello.rhai into a directory.
    Init {
        dir: PathBuf,
        /// The app's slug (default: from the directory's name).
        #[arg(long)]
        slug: Option<String>,
        /// The app's display name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Make the server's app match a directory: the app, its scripts and routes
    /// are created or updated where they differ, and left alone where not.
    Push {
        dir: PathBuf,
        /// Also delete the app's scripts and routes the directory does not have.
        #[arg(long)]
        prune: bool,
    },
    /// Run a script and print its answer.
    Run {
        /// A script's name (in the app of --app, or of ./skiff.toml) or id.
        script: String,
        #[command(flatten)]
        app: AppArgs,
        /// The request body: JSON, `@file` or `@-` (standard input).
        #[arg(long)]
        data: Option<String>,
    },
    /// A script's recent runs, newest first, with what they logged.
    Logs {
        script: String,
        #[command(flatten)]
        app: AppArgs,
        /// How many runs (1 to 200).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
    },
}

#[derive(clap::Args)]
pub struct AppArgs {
    /// The app (slug or id); default: the one `skiff.toml` in --dir names.
    #[arg(long, env = "SKIFF_APP")]
    app: Option<String>,
    /// Where `skiff.toml` is.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

pub async fn run(cmd: Scripts, client: &Client, format: Format) -> Result<i32> {
    match cmd {
        Scripts::Init { .. } => unreachable!("needs no server: handled before"),
        Scripts::Push { dir, prune } => push(client, &dir, prune, format).await,
        Scripts::Run { script, app, data } => execute(client, &script, &app, data, format).await,
        Scripts::Logs { script, app, limit } => logs(client, &script, &app, limit, format).await,
    }
}

/// `scripts init`: refuses to overwrite a manifest; keeps an existing hello.rhai.
pub fn init(dir: &Path, slug: Option<String>, name: Option<String>) -> Result<()> {
    let base = std::path::absolute(dir)?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let slug = match slug {
        Some(s) => s,
        None => manifest::slug_from(&base).with_context(|| {
            format!(
                "no slug fits the directory's name `{base}`: pass --slug (3 to 40 of a-z, 0-9, `-`)"
            )
        })?,
    };
    let name = name.unwrap_or(if base.is_empty() { slug.clone() } else { base });
    let (toml, hello) = manifest::scaffold(&slug, &name);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let at = dir.join(MANIFEST);
    if at.exists() {
        bail!("{} is there already: edit it", at.display());
    }
    std::fs::write(&at, toml).with_context(|| format!("writing {}", at.display()))?;
    let script = dir.join("hello.rhai");
    if !script.exists() {
        std::fs::write(&script, hello).with_context(|| format!("writing {}", script.display()))?;
    }
    eprintln!(
        "wrote {} and {}: `skiff-cli scripts push {}` creates the app `{slug}`",
        at.display(),
        script.display(),
        dir.display()
    );
    Ok(())
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Action {
    Created,
    Updated,
    Unchanged,
    Deleted,
}

#[derive(Serialize)]
struct Change {
    kind: &'static str,
    name: String,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
}

/// A server refusal for one item of the plan, placed where the user fixes it.
#[derive(Serialize)]
struct Failure {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    /// The server's code (`COMPILE_ERROR`, `ROUTE_CONFLICT`, …).
    code: String,
    message: String,
}

impl Failure {
    /// A server answer as a failure of `file`; any other error stops the push.
    fn of(file: String, what: Option<&str>, e: Error) -> Result<Failure> {
        let Some(api) = e.api() else {
            return Err(e.into());
        };
        let (line, column) = e.source_position().unzip();
        let mut message = api.detail.clone();
        if let (Some(l), Some(c)) = (line, column) {
            // The position leads the line already.
            message = message
                .trim_end_matches(&format!(" (line {l}, column {c})"))
                .to_owned();
        }
        // Field errors (a limit above its ceiling, a reserved path) name the
        // field and say more in their own codes.
        let mut code = api.code.clone();
        if let Some(errors) = api.body.get("errors").and_then(Value::as_array)
            && api.code != "COMPILE_ERROR"
        {
            let field = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
            let fields: Vec<(String, String, String)> = errors
                .iter()
                .filter_map(|f| Some((field(f, "field")?, field(f, "code")?, field(f, "message")?)))
                .collect();
            if !fields.is_empty() {
                message = fields
                    .iter()
                    .map(|(name, _, m)| format!("{name}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut codes: Vec<&str> = fields.iter().map(|(_, c, _)| c.as_str()).collect();
                codes.dedup();
                code = codes.join(",");
            }
        }
        if let Some(w) = what {
            message = format!("{w}: {message}");
        }
        Ok(Failure {
            file,
            line,
            column,
            code,
            message,
        })
    }

    fn print(&self) {
        match (self.line, self.column) {
            (Some(l), Some(c)) => eprintln!(
                "skiff-cli: {}:{l}:{c}: {} ({})",
                self.file, self.message, self.code
            ),
            _ => eprintln!("skiff-cli: {}: {} ({})", self.file, self.message, self.code),
        }
    }
}

#[derive(Default)]
struct Report {
    changes: Vec<Change>,
    failures: Vec<Failure>,
    /// On the server, not in the directory (kept without --prune).
    extra: Vec<String>,
}

impl Report {
    fn add(
        &mut self,
        kind: &'static str,
        name: impl Into<String>,
        action: Action,
        id: Option<&str>,
    ) {
        self.changes.push(Change {
            kind,
            name: name.into(),
            action,
            id: id.map(str::to_owned),
        });
    }

    fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    fn print(&self, app: Option<&App>, format: Format) {
        let [created, updated, deleted, unchanged] = [
            Action::Created,
            Action::Updated,
            Action::Deleted,
            Action::Unchanged,
        ]
        .map(|a| self.count(a));
        match format {
            Format::Json => {
                let report = json!({
                    "app": app.map(|a| json!({"id": a.id, "slug": a.slug, "name": a.name})),
                    "changes": self.changes,
                    "created": created, "updated": updated, "deleted": deleted, "unchanged": unchanged,
                    "not_in_dir": self.extra,
                    "errors": self.failures,
                });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            }
            Format::Table => {
                let rows = serde_json::to_value(&self.changes).unwrap_or_default();
                print_rows(format, &rows, &["kind", "name", "action", "id"]);
                if created + updated + deleted == 0 && self.failures.is_empty() {
                    println!("nothing changed");
                } else {
                    println!(
                        "{created} created, {updated} updated, {deleted} deleted, {unchanged} unchanged"
                    );
                }
            }
        }
        for f in &self.failures {
            f.print();
        }
        if !self.extra.is_empty() {
            eprintln!(
                "skiff-cli: on the server but not in the directory (kept; --prune deletes them): {}",
                self.extra.join(", ")
            );
        }
    }
}

fn is_not_found(e: &Error) -> bool {
    e.status() == Some(404)
}

/// `scripts push DIR`: the app, then scripts (modules first), then routes; each
/// changed only when it differs, so a second push changes nothing.
async fn push(client: &Client, dir: &Path, prune: bool, format: Format) -> Result<i32> {
    let plan = Plan::load(dir)?;
    let manifest_file = dir.join(MANIFEST).display().to_string();
    let mut report = Report::default();

    let app = match client.get_app(&plan.slug).await {
        Ok(app) if app.name == plan.name => {
            report.add("app", &app.slug, Action::Unchanged, Some(&app.id));
            app
        }
        Ok(app) => {
            let app = client.update_app(&app.id, Some(&plan.name), None).await?;
            report.add("app", &app.slug, Action::Updated, Some(&app.id));
            app
        }
        Err(e) if is_not_found(&e) => match client.create_app(&plan.name, &plan.slug).await {
            Ok(app) => {
                report.add("app", &app.slug, Action::Created, Some(&app.id));
                app
            }
            Err(e) => {
                report
                    .failures
                    .push(Failure::of(manifest_file, Some("the app"), e)?);
                report.print(None, format);
                return Ok(1);
            }
        },
        Err(e) => return Err(e.into()),
    };

    // Scripts: created, replaced when anything the directory says differs.
    let mut on_server: BTreeMap<String, Script> = client
        .all_scripts(&app.id)
        .await?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    for planned in &plan.scripts {
        let draft = &planned.draft;
        let file = planned.file.display().to_string();
        let saved = match on_server.get(&draft.name) {
            None => client
                .create_script(&app.id, draft)
                .await
                .map(|s| (s, Action::Created)),
            Some(s)
                if s.source == draft.source
                    && s.kind == draft.kind
                    && s.sandbox == draft.sandbox =>
            {
                Ok((s.clone(), Action::Unchanged))
            }
            Some(s) => {
                // An endpoint becoming a module loses its routes (routes run
                // endpoints); the server refuses the change while it has any.
                if s.kind == ScriptKind::Endpoint && draft.kind == ScriptKind::Module {
                    for r in client.list_routes(&s.id).await? {
                        client.delete_route(&s.id, &r.id).await?;
                        let label = route_label(r.method, &r.path, r.host.as_deref());
                        report.add(
                            "route",
                            format!("{label} -> {}", s.name),
                            Action::Deleted,
                            Some(&r.id),
                        );
                    }
                }
                client
                    .replace_script(&s.id, draft)
                    .await
                    .map(|s| (s, Action::Updated))
            }
        };
        match saved {
            Ok((script, action)) => {
                report.add("script", &draft.name, action, Some(&script.id));
                on_server.insert(script.name.clone(), script);
            }
            Err(e) => report.failures.push(Failure::of(file, None, e)?),
        }
    }
    if !report.failures.is_empty() {
        report.print(Some(&app), format);
        eprintln!("skiff-cli: routes left as they were: fix the scripts and push again");
        return Ok(1);
    }

    // Scripts the directory no longer has.
    let planned: BTreeSet<&str> = plan.scripts.iter().map(|s| s.draft.name.as_str()).collect();
    let stale: Vec<Script> = on_server
        .values()
        .filter(|s| !planned.contains(s.name.as_str()))
        .cloned()
        .collect();

    // Routes, keyed by method, path and host: unchanged when they run the same
    // script the same way; else replaced (a route is never edited in place).
    let mut existing: Vec<(Route, String)> = vec![];
    for s in on_server
        .values()
        .filter(|s| s.kind == ScriptKind::Endpoint)
    {
        if prune && stale.iter().any(|x| x.id == s.id) {
            continue; // deleted with its script below
        }
        for r in client.list_routes(&s.id).await? {
            existing.push((r, s.name.clone()));
        }
    }
    if prune {
        for s in &stale {
            client.delete_script(&s.id).await?;
            report.add("script", &s.name, Action::Deleted, Some(&s.id));
        }
    } else {
        report
            .extra
            .extend(stale.iter().map(|s| format!("script {}", s.name)));
    }
    let mut to_create: Vec<(&PlannedRoute, Action)> = vec![];
    let mut matched: BTreeSet<usize> = BTreeSet::new();
    for route in &plan.routes {
        let found = existing.iter().position(|(r, _)| {
            (r.method, &r.path, &r.host) == (route.method, &route.path, &route.host)
        });
        let script = &on_server[&route.script];
        match found {
            Some(i) => {
                matched.insert(i);
                let (r, _) = &existing[i];
                if r.script_id == script.id && r.dispatch == route.dispatch {
                    report.add(
                        "route",
                        format!("{} -> {}", route.label(), route.script),
                        Action::Unchanged,
                        Some(&r.id),
                    );
                } else {
                    client.delete_route(&r.script_id, &r.id).await?;
                    to_create.push((route, Action::Updated));
                }
            }
            None => to_create.push((route, Action::Created)),
        }
    }
    for (i, (r, script)) in existing.iter().enumerate() {
        if matched.contains(&i) {
            continue;
        }
        let name = format!(
            "{} -> {script}",
            route_label(r.method, &r.path, r.host.as_deref())
        );
        if prune {
            client.delete_route(&r.script_id, &r.id).await?;
            report.add("route", name, Action::Deleted, Some(&r.id));
        } else {
            report.extra.push(format!("route {name}"));
        }
    }
    for (route, action) in to_create {
        let script = &on_server[&route.script];
        let draft = RouteDraft {
            method: route.method,
            path: route.path.clone(),
            host: route.host.clone(),
            dispatch: route.dispatch,
        };
        let name = format!("{} -> {}", route.label(), route.script);
        match client.create_route(&script.id, &draft).await {
            Ok(r) => report.add("route", name, action, Some(&r.id)),
            Err(e) => report.failures.push(Failure::of(
                manifest_file.clone(),
                Some(&format!("the route {}", route.label())),
                e,
            )?),
        }
    }
    report.print(Some(&app), format);
    Ok(if report.failures.is_empty() { 0 } else { 1 })
}

/// A script named on the command line: its id, and the file it came from when
/// the directory's manifest knows it (for `file:line:column`).
async fn resolve(client: &Client, script: &str, args: &AppArgs) -> Result<(String, String)> {
    if script.starts_with("scr_") {
        return Ok((script.to_owned(), script.to_owned()));
    }
    let plan = match Plan::load(&args.dir) {
        Ok(p) => Some(p),
        Err(_) if args.app.is_some() => None,
        Err(e) => {
            return Err(e.context(format!(
                "which app is `{script}` in? Pass --app, or run where {MANIFEST} is (--dir)"
            )));
        }
    };
    let app = match (&args.app, &plan) {
        (Some(a), _) => a.clone(),
        (None, Some(p)) => p.slug.clone(),
        (None, None) => unreachable!("refused above"),
    };
    let found = client
        .all_scripts(&app)
        .await
        .map_err(|e| {
            if is_not_found(&e) {
                anyhow::anyhow!("no app `{app}` (or no role in it): push it first")
            } else {
                e.into()
            }
        })?
        .into_iter()
        .find(|s| s.name == script)
        .with_context(|| format!("the app `{app}` has no script `{script}`"))?;
    let place = plan
        .as_ref()
        .filter(|p| p.slug == app)
        .and_then(|p| p.file_of(script))
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| script.to_owned());
    Ok((found.id, place))
}

fn request_body(data: Option<String>) -> Result<Value> {
    let Some(data) = data else {
        return Ok(Value::Null);
    };
    let (text, from) = match data.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            (s, "standard input".to_owned())
        }
        Some(file) => (
            std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
            file.to_owned(),
        ),
        None => (data, "--data".to_owned()),
    };
    serde_json::from_str(&text).with_context(|| format!("{from} is not JSON"))
}

/// `scripts run`: the script's answer on standard output (its body as it is, or
/// with `--output json` the status, headers and body); a run that did not
/// answer fails with where the script stopped.
async fn execute(
    client: &Client,
    script: &str,
    args: &AppArgs,
    data: Option<String>,
    format: Format,
) -> Result<i32> {
    let body = request_body(data)?;
    let (id, place) = resolve(client, script, args).await?;
    let answer = match client.execute_script(&id, &body).await {
        Ok(a) => a,
        Err(e) => {
            let Some(api) = e.api() else {
                return Err(e.into());
            };
            let at = match e.source_position() {
                Some((l, c)) => format!("{place}:{l}:{c}"),
                None => place,
            };
            let execution = api
                .body
                .get("execution_id")
                .and_then(Value::as_str)
                .map(|x| format!(" [execution {x}]"))
                .unwrap_or_default();
            bail!("{at}: {} ({}){execution}", api.detail, api.code);
        }
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&answer)?),
        Format::Table => {
            match &answer.body {
                AnswerBody::Json(v) => println!("{}", serde_json::to_string_pretty(v)?),
                AnswerBody::Text(t) => println!("{t}"),
                AnswerBody::Empty => {}
            }
            eprintln!("{} [execution {}]", answer.status, answer.execution_id);
        }
    }
    Ok(0)
}

/// `scripts logs`: each run with its status, time and source, then its lines.
async fn logs(
    client: &Client,
    script: &str,
    args: &AppArgs,
    limit: u32,
    format: Format,
) -> Result<i32> {
    let (id, _) = resolve(client, script, args).await?;
    let page = client.script_logs(&id, Some(limit), None).await?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&page.logs)?),
        Format::Table => {
            if page.logs.is_empty() {
                eprintln!("no runs of `{script}` in the kept logs");
            }
            for l in &page.logs {
                let source = l.request["source"].as_str().unwrap_or("-");
                let what = match (l.request["method"].as_str(), l.request["path"].as_str()) {
                    (Some(m), Some(p)) => format!("{source} {m} {p}"),
                    _ => source.to_owned(),
                };
                let code = l.status_code.map(|c| format!(" {c}")).unwrap_or_default();
                println!(
                    "{}  {}  {}{code}  {}ms  {what}",
                    l.started_at, l.execution_id, l.status, l.duration_ms
                );
                for line in &l.logs {
                    println!("    {:<5}  {}", line.level, line.message);
                }
                if let Some(e) = &l.error {
                    println!("    error  {e}");
                }
            }
        }
    }
    Ok(0)
}
