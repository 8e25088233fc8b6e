//! Scripts calls: apps, their Rhai scripts and modules, user routes, running a
//! script and reading its execution logs. An app is named by its id or its slug.

use crate::client::{Client, decode, segment};
use crate::error::{ApiError, Error, Result};
use crate::types::{
    AnswerBody, App, AppPage, LogPage, Route, RouteDraft, Script, ScriptAnswer, ScriptDraft,
    ScriptPage,
};
use reqwest::{Method, RequestBuilder, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The codes of a run that started and did not answer (the script threw, failed
/// at run time, ran out of time or over a limit): errors, not the script's answer.
const RUN_FAILURES: [&str; 4] = [
    "SCRIPT_ERROR",
    "SCRIPT_RUNTIME_ERROR",
    "SCRIPT_TIMEOUT",
    "LIMIT_EXCEEDED",
];

fn with_page(r: RequestBuilder, limit: Option<u32>, cursor: Option<&str>) -> RequestBuilder {
    let mut query: Vec<(&str, String)> = vec![];
    if let Some(l) = limit {
        query.push(("limit", l.to_string()));
    }
    if let Some(c) = cursor {
        query.push(("cursor", c.to_owned()));
    }
    r.query(&query)
}

impl Client {
    /// Create an app (org owners and admins); `slug` is `[a-z0-9-]{3,40}`,
    /// unique across the deployment (409 `SLUG_TAKEN`).
    pub async fn create_app(&self, name: &str, slug: &str) -> Result<App> {
        let body = json!({"name": name, "slug": slug});
        let resp = self
            .send_authorized(Method::POST, "/api/v1/apps", |r| r.json(&body))
            .await?;
        decode(resp).await
    }

    /// One app, by id or slug (404 when the caller has no role in it).
    pub async fn get_app(&self, app: &str) -> Result<App> {
        self.get_json(&format!("/api/v1/apps/{}", segment(app)))
            .await
    }

    /// The apps the caller has a role in, one page.
    pub async fn list_apps(&self, cursor: Option<&str>) -> Result<AppPage> {
        let resp = self
            .send_authorized(Method::GET, "/api/v1/apps", |r| with_page(r, None, cursor))
            .await?;
        decode(resp).await
    }

    /// Rename an app or move it to another slug (`app_admin`).
    pub async fn update_app(
        &self,
        app: &str,
        name: Option<&str>,
        slug: Option<&str>,
    ) -> Result<App> {
        let mut body = Map::new();
        if let Some(n) = name {
            body.insert("name".into(), json!(n));
        }
        if let Some(s) = slug {
            body.insert("slug".into(), json!(s));
        }
        let path = format!("/api/v1/apps/{}", segment(app));
        let resp = self
            .send_authorized(Method::PATCH, &path, |r| r.json(&body))
            .await?;
        decode(resp).await
    }

    /// Delete an app (`app_admin`); one that still has scripts only with `force`
    /// (409 `HAS_SCRIPTS` otherwise), which deletes them with all that runs them.
    pub async fn delete_app(&self, app: &str, force: bool) -> Result<()> {
        let path = format!("/api/v1/apps/{}", segment(app));
        self.send_authorized(Method::DELETE, &path, |r| {
            r.query(&[("force", if force { "true" } else { "false" })])
        })
        .await
        .map(drop)
    }

    /// Save a new script in an app (`editor`). The server compiles it: a syntax
    /// error is a 422 `COMPILE_ERROR` with [`Error::source_position`].
    pub async fn create_script(&self, app: &str, draft: &ScriptDraft) -> Result<Script> {
        let path = format!("/api/v1/apps/{}/scripts", segment(app));
        let resp = self
            .send_authorized(Method::POST, &path, |r| r.json(draft))
            .await?;
        decode(resp).await
    }

    /// An app's scripts by name, one page (`limit` 1–200, default 50).
    pub async fn list_scripts(
        &self,
        app: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<ScriptPage> {
        let path = format!("/api/v1/apps/{}/scripts", segment(app));
        let resp = self
            .send_authorized(Method::GET, &path, |r| with_page(r, limit, cursor))
            .await?;
        decode(resp).await
    }

    /// Every script of an app, all pages.
    pub async fn all_scripts(&self, app: &str) -> Result<Vec<Script>> {
        let mut all = vec![];
        let mut cursor = None;
        loop {
            let page = self.list_scripts(app, Some(200), cursor.as_deref()).await?;
            all.extend(page.scripts);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// One script, by id.
    pub async fn get_script(&self, id: &str) -> Result<Script> {
        self.get_json(&format!("/api/v1/scripts/{}", segment(id)))
            .await
    }

    /// Replace a script's name, source, kind and limits (`editor`): compiled
    /// again, its version bumped.
    pub async fn replace_script(&self, id: &str, draft: &ScriptDraft) -> Result<Script> {
        let path = format!("/api/v1/scripts/{}", segment(id));
        let resp = self
            .send_authorized(Method::PUT, &path, |r| r.json(draft))
            .await?;
        decode(resp).await
    }

    /// Delete a script with its routes, triggers and logs (`app_admin`).
    pub async fn delete_script(&self, id: &str) -> Result<()> {
        let path = format!("/api/v1/scripts/{}", segment(id));
        self.send_authorized(Method::DELETE, &path, |r| r)
            .await
            .map(drop)
    }

    /// Route requests to an endpoint script (`editor`); one that overlaps
    /// another route of the app is a 409 `ROUTE_CONFLICT` naming it.
    pub async fn create_route(&self, script_id: &str, draft: &RouteDraft) -> Result<Route> {
        let path = format!("/api/v1/scripts/{}/routes", segment(script_id));
        let resp = self
            .send_authorized(Method::POST, &path, |r| r.json(draft))
            .await?;
        decode(resp).await
    }

    /// A script's routes.
    pub async fn list_routes(&self, script_id: &str) -> Result<Vec<Route>> {
        #[derive(Deserialize)]
        struct Routes {
            routes: Vec<Route>,
        }
        let path = format!("/api/v1/scripts/{}/routes", segment(script_id));
        Ok(self.get_json::<Routes>(&path).await?.routes)
    }

    /// Delete one of a script's routes (`editor`).
    pub async fn delete_route(&self, script_id: &str, route_id: &str) -> Result<()> {
        let path = format!(
            "/api/v1/scripts/{}/routes/{}",
            segment(script_id),
            segment(route_id)
        );
        self.send_authorized(Method::DELETE, &path, |r| r)
            .await
            .map(drop)
    }

    /// Run an endpoint script (`editor`) with `body` as its `ctx.request.body`
    /// (`Value::Null`: no body). Whatever status the script answers with is its
    /// answer; a run that did not answer (it threw, failed at run time, timed out
    /// or went over a limit) is an error whose `code` says which, with
    /// [`Error::source_position`] where the script said where.
    pub async fn execute_script(&self, id: &str, body: &Value) -> Result<ScriptAnswer> {
        let path = format!("/api/v1/scripts/{}/execute", segment(id));
        let resp = self
            .send_authorized_answer(Method::POST, &path, |r| match body {
                Value::Null => r,
                b => r.json(b),
            })
            .await?;
        let Some(execution_id) = header(&resp, "x-execution-id") else {
            // Refused before it ran: no such script, a role, a busy runtime.
            if !resp.status().is_success() {
                return Err(Client::api_error(resp).await);
            }
            return Err(Error::Decode("the answer names no execution".into()));
        };
        let status = resp.status().as_u16();
        let headers = headers(&resp);
        let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
        let problem = headers
            .get("content-type")
            .is_some_and(|t| t.starts_with("application/problem+json"));
        if status >= 400 && problem {
            let code = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|b| b.get("code")?.as_str().map(str::to_owned));
            if code.is_some_and(|c| RUN_FAILURES.contains(&c.as_str())) {
                return Err(Error::Api(Box::new(ApiError::from_answer(
                    status,
                    headers.get("x-request-id").cloned(),
                    None,
                    &bytes,
                ))));
            }
        }
        Ok(ScriptAnswer {
            execution_id,
            status,
            body: answer_body(&headers, &bytes),
            headers,
        })
    }

    /// A script's execution logs, newest first, one page (`limit` 1–200,
    /// default 50).
    pub async fn script_logs(
        &self,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<LogPage> {
        let path = format!("/api/v1/scripts/{}/logs", segment(id));
        let resp = self
            .send_authorized(Method::GET, &path, |r| with_page(r, limit, cursor))
            .await?;
        decode(resp).await
    }
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Every header, repeated ones joined with `, `.
fn headers(resp: &Response) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in resp.headers() {
        let Ok(value) = value.to_str() else { continue };
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    headers
}

fn answer_body(headers: &BTreeMap<String, String>, bytes: &[u8]) -> AnswerBody {
    let json = headers
        .get("content-type")
        .is_some_and(|t| t.contains("json"));
    if bytes.is_empty() {
        AnswerBody::Empty
    } else if let (true, Ok(v)) = (json, serde_json::from_slice(bytes)) {
        AnswerBody::Json(v)
    } else {
        AnswerBody::Text(String::from_utf8_lossy(bytes).into_owned())
    }
}
