//! User routes: a method and a path pattern that run an endpoint script, served
//! at `/run/<app slug>/…` and at the root of every host the app has claimed.
//!
//! Patterns are exact (`/greet`), with parameters (`/greet/:name`) or prefixes
//! (`/files/*`). The most specific route wins: exact before parameters before
//! prefixes, and within a kind, more segments and more literal segments first. Two
//! routes of an app that no ranking separates (same kind, same rank, a path both
//! match, a method in common, the same host) overlap: the second is refused.
//!
//! Each process caches an app's table and compares the table's version (kept in
//! the slug claim every request reads anyway) on every request, so a change is
//! seen by every process, a Lambda container included, on its next request.

use crate::access::{Actor, AppRole};
use crate::apps::{self, SlugClaim};
use crate::error::{ScriptsError, ScriptsResult};
use crate::keys;
use crate::model::{App, ScriptKind};
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::{AppId, OrgId, RouteId, ScriptId};
use skiff_core::ports::store::{Condition, ItemStore, NewItem, Query, StoreError, Write};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Most routes one app may have.
pub const MAX_ROUTES_PER_APP: usize = 200;
const MAX_PATTERN_BYTES: usize = 256;
const MAX_SEGMENTS: usize = 16;

/// Paths the platform serves itself at a host's root: user routes may not use them.
pub const RESERVED_PREFIXES: &[&str] = &[
    "/api/",
    "/_dev/",
    "/_blobs/",
    "/_pages/",
    "/.well-known/",
    "/run/",
    "/healthz",
    "/livez",
    "/readyz",
    "/version",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    /// Every method.
    Any,
}

impl Method {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            "ANY" => Method::Any,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Any => "ANY",
        }
    }

    fn meets(self, other: Method) -> bool {
        self == Method::Any || other == Method::Any || self == other
    }
}

/// Whether a route answers in the request (`sync`) or queues the run and answers
/// 202 with the execution id (`async`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dispatch {
    #[default]
    Sync,
    Async,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A parsed path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
    /// Ends with `/*`: matches any rest.
    prefix: bool,
}

impl Pattern {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if !raw.starts_with('/') {
            return Err("a route path starts with `/`".into());
        }
        if raw.len() > MAX_PATTERN_BYTES {
            return Err(format!("a route path is at most {MAX_PATTERN_BYTES} bytes"));
        }
        let mut parts: Vec<&str> = raw[1..].split('/').collect();
        if parts == [""] {
            parts.clear();
        }
        let prefix = parts.last() == Some(&"*");
        if prefix {
            parts.pop();
        }
        if parts.len() > MAX_SEGMENTS {
            return Err(format!("a route path has at most {MAX_SEGMENTS} segments"));
        }
        let mut segments = vec![];
        let mut names = vec![];
        for part in parts {
            if let Some(name) = part.strip_prefix(':') {
                let ok = !name.is_empty()
                    && name.len() <= 32
                    && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    return Err(format!(
                        "`:{name}` is not a parameter name (letters, digits, `_`)"
                    ));
                }
                if names.contains(&name) {
                    return Err(format!("the parameter `:{name}` appears twice"));
                }
                if prefix {
                    return Err("a prefix route (`…/*`) takes no parameters".into());
                }
                names.push(name);
                segments.push(Segment::Param(name.to_owned()));
            } else {
                let ok = !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()+,;=@".contains(&b));
                if !ok {
                    return Err(format!(
                        "`{part}` is not a path segment (an empty segment, `*` only at the end, \
                         or a character outside A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) + , ; = @)"
                    ));
                }
                segments.push(Segment::Literal(part.to_owned()));
            }
        }
        Ok(Self { segments, prefix })
    }

    fn kind_rank(&self) -> u8 {
        if self.prefix {
            0
        } else if self.segments.iter().any(|s| matches!(s, Segment::Param(_))) {
            1
        } else {
            2
        }
    }

    fn literals(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// Higher wins.
    fn rank(&self) -> (u8, usize, usize) {
        (self.kind_rank(), self.segments.len(), self.literals())
    }

    /// No ranking separates them and some path matches both.
    fn overlaps(&self, other: &Pattern) -> bool {
        self.rank() == other.rank()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|(a, b)| match (a, b) {
                    (Segment::Literal(a), Segment::Literal(b)) => a == b,
                    _ => true,
                })
    }

    /// Parameters and the rest, if `path` matches.
    fn matches(&self, path: &[&str]) -> Option<(BTreeMap<String, String>, String)> {
        if path.len() < self.segments.len() || (!self.prefix && path.len() != self.segments.len()) {
            return None;
        }
        let mut params = BTreeMap::new();
        for (seg, part) in self.segments.iter().zip(path) {
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    if part.is_empty() {
                        return None;
                    }
                    params.insert(name.clone(), (*part).to_owned());
                }
            }
        }
        let rest = if self.prefix {
            path[self.segments.len()..].join("/")
        } else {
            String::new()
        };
        Some((params, rest))
    }
}

/// A user route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub id: RouteId,
    pub script_id: ScriptId,
    pub method: Method,
    pub path: String,
    /// Only requests to this claimed host (else: `/run/<slug>` and every host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub dispatch: Dispatch,
    pub created_at: i64,
}

/// What a new route is made of.
#[derive(Debug, Clone)]
pub struct RouteDraft {
    pub method: Method,
    pub path: String,
    pub host: Option<String>,
    pub dispatch: Dispatch,
}

/// The path is not one of the platform's own.
pub fn check_reserved(path: &str) -> ScriptsResult<()> {
    let lower = path.to_ascii_lowercase();
    for prefix in RESERVED_PREFIXES {
        let bare = prefix.trim_end_matches('/');
        if lower == bare || lower.starts_with(&format!("{bare}/")) {
            return Err(ScriptsError::ReservedPath(path.to_owned(), prefix));
        }
    }
    Ok(())
}

async fn load_routes(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
) -> Result<Vec<Route>, StoreError> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .query(
                Query::partition(keys::app_pk(org, app))
                    .prefix(keys::ROUTE_PREFIX)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            out.push(item.parse()?);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Add a route to an endpoint script (`editor`).
pub async fn create(
    services: &Services,
    actor: &Actor,
    script_id: &ScriptId,
    draft: RouteDraft,
) -> ScriptsResult<Route> {
    let store = services.store.as_ref();
    let (script, app, _) =
        crate::scripts::require(store, actor, script_id, AppRole::Editor).await?;
    if script.kind != ScriptKind::Endpoint {
        return Err(ScriptsError::NotAnEndpoint(script.name.to_string()));
    }
    let pattern = Pattern::parse(&draft.path)
        .map_err(|m| ScriptsError::invalid("path", "INVALID_PATH", m))?;
    check_reserved(&draft.path)?;
    if let Some(host) = &draft.host
        && store
            .get(&keys::app_domain(&app.org_id, &app.id, host))
            .await?
            .is_none()
    {
        return Err(ScriptsError::invalid(
            "host",
            "UNKNOWN_HOST",
            format!("the app has not claimed `{host}`"),
        ));
    }
    let route = Route {
        id: RouteId::new(),
        script_id: script.id.clone(),
        method: draft.method,
        path: draft.path.clone(),
        host: draft.host.clone(),
        dispatch: draft.dispatch,
        created_at: services.clock.unix(),
    };
    // Optimistic: the overlap check holds for the table version it read, and the
    // write commits only if that version is still current.
    for _ in 0..8 {
        let claim = apps::claim(store, app.slug.as_str())
            .await?
            .ok_or(ScriptsError::NotFound("app"))?;
        let existing = load_routes(store, &app.org_id, &app.id).await?;
        if existing.len() >= MAX_ROUTES_PER_APP {
            return Err(ScriptsError::invalid(
                "path",
                "TOO_MANY_ROUTES",
                format!("an app has at most {MAX_ROUTES_PER_APP} routes"),
            ));
        }
        for other in &existing {
            let Ok(other_pattern) = Pattern::parse(&other.path) else {
                continue;
            };
            if other.host == route.host
                && other.method.meets(route.method)
                && other_pattern.overlaps(&pattern)
            {
                return Err(ScriptsError::RouteConflict {
                    path: route.path.clone(),
                    existing_id: other.id.to_string(),
                    existing_method: other.method.as_str().to_owned(),
                    existing_path: other.path.clone(),
                });
            }
        }
        match store
            .transact(vec![
                Write::Put {
                    item: NewItem::from_record(
                        keys::route(&app.org_id, &app.id, &route.id),
                        &route,
                    )?,
                    condition: Some(Condition::Absent),
                },
                apps::bump_routes(&app.slug, claim.routes_version),
            ])
            .await
        {
            Ok(()) => return Ok(route),
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScriptsError::Conflict(
        "the app's routes kept changing; try again".into(),
    ))
}

/// The routes of one script.
pub async fn of_script(
    store: &dyn ItemStore,
    actor: &Actor,
    script_id: &ScriptId,
) -> ScriptsResult<Vec<Route>> {
    let (script, app, _) =
        crate::scripts::require(store, actor, script_id, AppRole::Viewer).await?;
    Ok(load_routes(store, &app.org_id, &app.id)
        .await?
        .into_iter()
        .filter(|r| r.script_id == script.id)
        .collect())
}

/// Delete a route of a script (`editor`).
pub async fn delete(
    services: &Services,
    actor: &Actor,
    script_id: &ScriptId,
    route_id: &RouteId,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let (script, app, _) =
        crate::scripts::require(store, actor, script_id, AppRole::Editor).await?;
    let key = keys::route(&app.org_id, &app.id, route_id);
    let route: Route = store
        .get(&key)
        .await?
        .map(|i| i.parse())
        .transpose()?
        .filter(|r: &Route| r.script_id == script.id)
        .ok_or(ScriptsError::NotFound("route"))?;
    remove_routes(store, &app, &[route.id]).await
}

/// Delete routes of an app and bump its table's version.
pub(crate) async fn remove_routes(
    store: &dyn ItemStore,
    app: &App,
    ids: &[RouteId],
) -> ScriptsResult<()> {
    for chunk in ids.chunks(50) {
        loop {
            let Some(claim) = apps::claim(store, app.slug.as_str()).await? else {
                // The app is being deleted: no table to bump.
                let writes = chunk
                    .iter()
                    .map(|id| Write::Delete {
                        key: keys::route(&app.org_id, &app.id, id),
                        condition: None,
                    })
                    .collect();
                store.transact(writes).await?;
                break;
            };
            let mut writes: Vec<Write> = chunk
                .iter()
                .map(|id| Write::Delete {
                    key: keys::route(&app.org_id, &app.id, id),
                    condition: None,
                })
                .collect();
            writes.push(apps::bump_routes(&app.slug, claim.routes_version));
            match store.transact(writes).await {
                Ok(()) => break,
                Err(e) if e.is_condition_failed() => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Every route of `app` that runs `script`.
pub(crate) async fn ids_of(
    store: &dyn ItemStore,
    app: &App,
    script: &ScriptId,
) -> Result<Vec<RouteId>, StoreError> {
    Ok(load_routes(store, &app.org_id, &app.id)
        .await?
        .into_iter()
        .filter(|r| &r.script_id == script)
        .map(|r| r.id)
        .collect())
}

/// A request matched to a route.
#[derive(Debug, Clone)]
pub struct Matched {
    pub route: Route,
    pub params: BTreeMap<String, String>,
    pub rest: String,
}

/// An app's routes, most specific first.
#[derive(Debug)]
pub struct Table {
    version: i64,
    routes: Vec<(Pattern, Route)>,
}

impl Table {
    fn build(version: i64, routes: Vec<Route>) -> Self {
        let mut routes: Vec<(Pattern, Route)> = routes
            .into_iter()
            .filter_map(|r| Pattern::parse(&r.path).ok().map(|p| (p, r)))
            .collect();
        routes.sort_by(|(a, ra), (b, rb)| {
            b.rank()
                .cmp(&a.rank())
                // A host's own routes before the app-wide ones; then the oldest.
                .then(rb.host.is_some().cmp(&ra.host.is_some()))
                .then(ra.created_at.cmp(&rb.created_at))
        });
        Self { version, routes }
    }

    /// The route that answers `method path` (at `host`, when the request came to
    /// a claimed host).
    pub fn find(&self, method: &str, path: &str, host: Option<&str>) -> Option<Matched> {
        let method = Method::parse(method)?;
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let parts: Vec<&str> = if trimmed.is_empty() {
            vec![]
        } else {
            trimmed.split('/').collect()
        };
        self.routes.iter().find_map(|(pattern, route)| {
            let method_ok = route.method == Method::Any
                || route.method == method
                || (method == Method::Head && route.method == Method::Get);
            let host_ok = route.host.is_none() || route.host.as_deref() == host;
            if !(method_ok && host_ok) {
                return None;
            }
            let (params, rest) = pattern.matches(&parts)?;
            Some(Matched {
                route: route.clone(),
                params,
                rest,
            })
        })
    }
}

/// Route tables cached per process, by app.
#[derive(Default)]
pub struct TableCache(Mutex<HashMap<AppId, Arc<Table>>>);

impl TableCache {
    /// The app's table at the claim's version: cached, or read again.
    pub async fn table(
        &self,
        store: &dyn ItemStore,
        claim: &SlugClaim,
    ) -> Result<Arc<Table>, StoreError> {
        if let Some(t) = self.0.lock().expect("route cache").get(&claim.app_id)
            && t.version == claim.routes_version
        {
            return Ok(t.clone());
        }
        let routes = load_routes(store, &claim.org_id, &claim.app_id).await?;
        let table = Arc::new(Table::build(claim.routes_version, routes));
        let mut cache = self.0.lock().expect("route cache");
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(claim.app_id.clone(), table.clone());
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str, age: i64) -> Route {
        Route {
            id: RouteId::new(),
            script_id: ScriptId::new(),
            method,
            path: path.into(),
            host: None,
            dispatch: Dispatch::Sync,
            created_at: age,
        }
    }

    #[test]
    fn patterns_parse_exact_param_and_prefix_forms() {
        assert!(Pattern::parse("/greet").is_ok());
        assert!(Pattern::parse("/").is_ok());
        assert!(Pattern::parse("/greet/:name").is_ok());
        assert!(Pattern::parse("/files/*").is_ok());
        assert!(Pattern::parse("/*").is_ok());
        for bad in [
            "greet",
            "/a//b",
            "/a/*/b",
            "/:1x",
            "/a/:x/:x",
            "/a b",
            "/files/:x/*",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_most_specific_route_wins() {
        let t = Table::build(
            1,
            vec![
                route(Method::Get, "/*", 1),
                route(Method::Get, "/files/*", 2),
                route(Method::Get, "/greet/:name", 3),
                route(Method::Get, "/greet/bob", 4),
                route(Method::Any, "/greet", 5),
            ],
        );
        let hit = |m: &str, p: &str| t.find(m, p, None).map(|m| m.route.path);
        assert_eq!(hit("GET", "/greet/bob").as_deref(), Some("/greet/bob"));
        assert_eq!(hit("GET", "/greet/ann").as_deref(), Some("/greet/:name"));
        assert_eq!(hit("POST", "/greet").as_deref(), Some("/greet"));
        assert_eq!(hit("GET", "/files/a/b.txt").as_deref(), Some("/files/*"));
        assert_eq!(hit("GET", "/other").as_deref(), Some("/*"));
        assert_eq!(hit("POST", "/greet/ann"), None);
        assert_eq!(hit("HEAD", "/greet/ann").as_deref(), Some("/greet/:name"));
        let m = t.find("GET", "/files/a/b.txt", None).unwrap();
        assert_eq!(m.rest, "a/b.txt");
        let m = t.find("GET", "/greet/ann", None).unwrap();
        assert_eq!(m.params["name"], "ann");
    }

    #[test]
    fn overlap_is_ambiguity_not_nesting() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(p("/greet/:name").overlaps(&p("/greet/:who")));
        assert!(p("/a/:x/c").overlaps(&p("/a/b/:y")));
        assert!(p("/files/*").overlaps(&p("/files/*")));
        assert!(p("/x").overlaps(&p("/x")));
        assert!(!p("/greet").overlaps(&p("/greet/:name")));
        assert!(!p("/files/*").overlaps(&p("/*")));
        assert!(!p("/a/:x/c").overlaps(&p("/a/:x/:y")));
        assert!(!p("/a/b").overlaps(&p("/a/c")));
    }

    #[test]
    fn reserved_prefixes_are_refused() {
        for bad in [
            "/api/x",
            "/healthz",
            "/_dev/mailbox",
            "/API/v1",
            "/run/x",
            "/version",
        ] {
            assert!(check_reserved(bad).is_err(), "{bad}");
        }
        for ok in ["/apix", "/greet", "/versions", "/"] {
            assert!(check_reserved(ok).is_ok(), "{ok}");
        }
    }
}
