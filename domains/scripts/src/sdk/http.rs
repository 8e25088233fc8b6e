//! `http::get(url[, opts])`, `http::delete(url[, opts])`, `http::post|put|patch(url,
//! body[, opts])` → `#{status, headers, body, body_raw}`: outbound HTTP through the
//! SSRF guard ([`crate::net`]). `opts` takes `headers` and `timeout_ms` (anything
//! else throws); a map or array body goes as JSON, a string as text, a blob as
//! bytes. A JSON answer's `body` is parsed; a non-2xx status does not throw.

use crate::context;
use crate::convert::{to_dynamic, to_json};
use crate::net::{self, OutboundRequest};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, Map, Module};
use serde_json::Value;
use std::time::Duration;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

struct Options {
    headers: Vec<(String, String)>,
    timeout: Option<Duration>,
}

fn options(opts: &Map) -> RhaiResult<Options> {
    let mut out = Options {
        headers: vec![],
        timeout: None,
    };
    for (k, v) in opts {
        match k.as_str() {
            "headers" => {
                let h = v
                    .clone()
                    .try_cast::<Map>()
                    .ok_or("`headers` is a map of names to strings")?;
                for (name, value) in h {
                    let value = if value.is_string() {
                        value.into_string().unwrap_or_default()
                    } else {
                        value.to_string()
                    };
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                        || reqwest::header::HeaderValue::from_str(&value).is_err()
                    {
                        return Err(format!("the header `{name}` is not a valid header").into());
                    }
                    out.headers.push((name.to_string(), value));
                }
            }
            "timeout_ms" => {
                let ms = v.as_int().map_err(|_| "`timeout_ms` is a number")?;
                if ms <= 0 {
                    return Err("`timeout_ms` is positive".into());
                }
                out.timeout = Some(Duration::from_millis(ms as u64));
            }
            other => {
                return Err(format!("unknown option `{other}` (headers, timeout_ms)").into());
            }
        }
    }
    Ok(out)
}

fn body_of(body: &Dynamic, headers: &mut Vec<(String, String)>) -> RhaiResult<Vec<u8>> {
    let has_type = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    let (bytes, ty) = if body.is_blob() {
        (
            body.clone().into_blob().unwrap_or_default(),
            "application/octet-stream",
        )
    } else if body.is_string() {
        (
            body.clone().into_string().unwrap_or_default().into_bytes(),
            "text/plain; charset=utf-8",
        )
    } else {
        let json = to_json(body).map_err(|m| -> Box<EvalAltResult> { m.into() })?;
        (
            serde_json::to_vec(&json).unwrap_or_default(),
            "application/json",
        )
    };
    if !has_type {
        headers.push(("content-type".into(), ty.into()));
    }
    Ok(bytes)
}

fn send(
    method: reqwest::Method,
    url: &str,
    body: Option<&Dynamic>,
    opts: &Map,
) -> RhaiResult<Dynamic> {
    let ctx = context::require()?;
    let mut o = options(opts)?;
    let body = body.map(|b| body_of(b, &mut o.headers)).transpose()?;
    let settings = crate::settings(&ctx.services).http.clone();
    let request = OutboundRequest {
        method,
        url: url.to_owned(),
        headers: o.headers,
        body,
        timeout: o.timeout.unwrap_or(settings.timeout),
    };
    let resolver = ctx.services.resolver.clone();
    let response = ctx
        .block_on(net::send(resolver, &settings, request))?
        .map_err(|e| -> Box<EvalAltResult> { e.to_string().into() })?;
    let raw = String::from_utf8_lossy(&response.body).into_owned();
    let is_json = response
        .headers
        .get("content-type")
        .is_some_and(|t| t.contains("json"));
    let body = if is_json {
        serde_json::from_slice::<Value>(&response.body)
            .map(|v| to_dynamic(&v))
            .unwrap_or_else(|_| raw.clone().into())
    } else {
        raw.clone().into()
    };
    let mut m = Map::new();
    m.insert("status".into(), (response.status as i64).into());
    m.insert(
        "headers".into(),
        to_dynamic(&serde_json::to_value(&response.headers).unwrap_or_default()),
    );
    m.insert("body".into(), body);
    m.insert("body_raw".into(), raw.into());
    Ok(Dynamic::from_map(m))
}

pub struct Http;

impl super::SdkModule for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn register(&self, engine: &mut Engine) {
        use reqwest::Method as M;
        let mut m = Module::new();
        m.set_native_fn("get", |url: ImmutableString| {
            send(M::GET, &url, None, &Map::new())
        });
        m.set_native_fn("get", |url: ImmutableString, opts: Map| {
            send(M::GET, &url, None, &opts)
        });
        m.set_native_fn("delete", |url: ImmutableString| {
            send(M::DELETE, &url, None, &Map::new())
        });
        m.set_native_fn("delete", |url: ImmutableString, opts: Map| {
            send(M::DELETE, &url, None, &opts)
        });
        for (name, method) in [("post", M::POST), ("put", M::PUT), ("patch", M::PATCH)] {
            let m1 = method.clone();
            m.set_native_fn(name, move |url: ImmutableString, body: Dynamic| {
                send(m1.clone(), &url, Some(&body), &Map::new())
            });
            let m2 = method.clone();
            m.set_native_fn(
                name,
                move |url: ImmutableString, body: Dynamic, opts: Map| {
                    send(m2.clone(), &url, Some(&body), &opts)
                },
            );
        }
        engine.register_static_module("http", m.into());
    }
}
