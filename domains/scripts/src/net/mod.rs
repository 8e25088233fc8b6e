//! Outbound HTTP from scripts, behind an SSRF guard.
//!
//! Every connection is made to an address this module resolved and checked
//! itself, redirects included: each hop's URL is parsed (IPv4 literals in every
//! spelling), its scheme and port checked, its host resolved through the DNS port
//! and every address classified ([`ssrf`]); then the request is sent to exactly
//! those addresses (the client's own resolver refuses everything else), so a name
//! that resolves differently a second time (DNS rebinding) cannot slip through.
//! Redirects are followed here, one checked hop at a time. Bodies are capped both
//! ways; errors name a category, never an address.

pub mod ssrf;

use skiff_core::config::ConfigError;
use skiff_core::ports::dns::Resolver;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Outbound HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `SKIFF_SCRIPTS_HTTP_PORTS`: ports scripts may connect to (default 80, 443).
    pub ports: Vec<u16>,
    /// `SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE` (dev only): exact `ip:port` targets the
    /// address rules let through anyway, e.g. a service on the developer's machine.
    /// Only those: a redirect from one to another address or port is checked as
    /// usual.
    pub allow_private: Vec<SocketAddr>,
    /// `SKIFF_SCRIPTS_HTTP_MAX_REQUEST_BYTES`.
    pub max_request_bytes: usize,
    /// `SKIFF_SCRIPTS_HTTP_MAX_RESPONSE_BYTES`.
    pub max_response_bytes: usize,
    /// `SKIFF_SCRIPTS_HTTP_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `SKIFF_SCRIPTS_HTTP_TIMEOUT_MS`: a call's longest time, redirects included
    /// (a script's own timeout_ms can only shorten it).
    pub timeout: Duration,
    /// `SKIFF_SCRIPTS_HTTP_MAX_REDIRECTS`.
    pub max_redirects: usize,
}

impl HttpSettings {
    pub fn from_vars<'a>(
        get: &impl Fn(&str) -> Option<&'a str>,
        dev: bool,
    ) -> Result<Self, ConfigError> {
        let bad = |variable: &'static str, reason: String| ConfigError { variable, reason };
        let number = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => match raw.parse::<u64>() {
                    Ok(v) if (1..=max).contains(&v) => Ok(v),
                    _ => Err(bad(
                        name,
                        format!("`{raw}` is not an integer from 1 to {max}"),
                    )),
                },
            }
        };
        let ports = match get("SKIFF_SCRIPTS_HTTP_PORTS") {
            None => vec![80, 443],
            Some(raw) => raw
                .split(',')
                .map(|p| p.trim().parse::<u16>().ok().filter(|p| *p > 0))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    bad(
                        "SKIFF_SCRIPTS_HTTP_PORTS",
                        format!("`{raw}` is not a comma-separated list of ports"),
                    )
                })?,
        };
        let allow_private = match get("SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE") {
            None => vec![],
            Some(_) if !dev => {
                return Err(bad(
                    "SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE",
                    "letting scripts reach private addresses is for SKIFF_ENV=dev only".into(),
                ));
            }
            Some(raw) => raw
                .split(',')
                .map(|a| a.trim().parse::<SocketAddr>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    bad(
                        "SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE",
                        format!("`{raw}` is not a comma-separated list of ip:port (e.g. 127.0.0.1:8080, [::1]:8080)"),
                    )
                })?,
        };
        Ok(Self {
            ports,
            allow_private,
            max_request_bytes: number("SKIFF_SCRIPTS_HTTP_MAX_REQUEST_BYTES", 1 << 20, 64 << 20)?
                as usize,
            max_response_bytes: number("SKIFF_SCRIPTS_HTTP_MAX_RESPONSE_BYTES", 5 << 20, 64 << 20)?
                as usize,
            connect_timeout: Duration::from_millis(number(
                "SKIFF_SCRIPTS_HTTP_CONNECT_TIMEOUT_MS",
                3_000,
                60_000,
            )?),
            timeout: Duration::from_millis(number(
                "SKIFF_SCRIPTS_HTTP_TIMEOUT_MS",
                10_000,
                120_000,
            )?),
            max_redirects: number("SKIFF_SCRIPTS_HTTP_MAX_REDIRECTS", 5, 20)? as usize,
        })
    }
}

/// Why an outbound call was refused or failed (what the script's error says).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpFailure {
    /// `target` is the host name, or "the address" for a literal IP (the error
    /// never repeats an address).
    #[error("outbound HTTP refused: {target} is a {category}")]
    Blocked {
        target: String,
        category: &'static str,
    },
    #[error("outbound HTTP refused: {0}")]
    Refused(String),
    #[error("outbound HTTP failed: {0}")]
    Failed(String),
    #[error("outbound HTTP timed out")]
    Timeout,
}

/// One outbound request.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

/// Its answer.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// The client's own resolver: everything it is asked is refused, because every
/// name a request needs was resolved and checked before and pinned to the client.
struct NoResolution;

impl reqwest::dns::Resolve for NoResolution {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move { Err(format!("`{name}` was not resolved through the guard").into()) })
    }
}

/// The checked addresses of one hop (IPv4 literals in every spelling are read by
/// the URL parser, which follows the WHATWG rules browsers use).
async fn checked_addresses(
    resolver: &dyn Resolver,
    settings: &HttpSettings,
    url: &url::Url,
) -> Result<Vec<SocketAddr>, HttpFailure> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HttpFailure::Refused(format!(
            "the scheme `{}` (only http and https)",
            url.scheme()
        )));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| HttpFailure::Refused("a URL without a port".into()))?;
    let target = match url.host() {
        Some(url::Host::Domain(name)) if ssrf::literal_ip(name).is_none() => format!("`{name}`"),
        _ => "the address".to_owned(),
    };
    let ips: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => match ssrf::literal_ip(name) {
            Some(ip) => vec![ip],
            None => resolver
                .lookup_ip(name)
                .await
                .map_err(|_| HttpFailure::Failed(format!("`{name}` does not resolve")))?,
        },
        None => return Err(HttpFailure::Refused("a URL without a host".into())),
    };
    let mut addrs = vec![];
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        if settings.allow_private.contains(&addr) {
            addrs.push(addr);
            continue;
        }
        if let Some(category) = ssrf::classify(ip) {
            return Err(HttpFailure::Blocked {
                target,
                category: category.name(),
            });
        }
        if !settings.ports.contains(&port) {
            return Err(HttpFailure::Refused(format!(
                "port {port} (allowed: {})",
                settings
                    .ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        addrs.push(addr);
    }
    Ok(addrs)
}

/// Send one request, following redirects hop by hop, each checked.
pub async fn send(
    resolver: Arc<dyn Resolver>,
    settings: &HttpSettings,
    request: OutboundRequest,
) -> Result<OutboundResponse, HttpFailure> {
    if request
        .body
        .as_ref()
        .is_some_and(|b| b.len() > settings.max_request_bytes)
    {
        return Err(HttpFailure::Refused(format!(
            "a request body over {} bytes",
            settings.max_request_bytes
        )));
    }
    let deadline = tokio::time::Instant::now() + request.timeout.min(settings.timeout);
    tokio::time::timeout_at(deadline, follow(resolver.as_ref(), settings, request))
        .await
        .map_err(|_| HttpFailure::Timeout)?
}

async fn follow(
    resolver: &dyn Resolver,
    settings: &HttpSettings,
    mut request: OutboundRequest,
) -> Result<OutboundResponse, HttpFailure> {
    let mut url = url::Url::parse(&request.url)
        .map_err(|e| HttpFailure::Refused(format!("`{}` is not a URL ({e})", request.url)))?;
    for hop in 0..=settings.max_redirects {
        let addrs = checked_addresses(resolver, settings, &url).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .dns_resolver(Arc::new(NoResolution))
            .user_agent("skiff-scripts");
        if let Some(url::Host::Domain(name)) = url.host() {
            builder = builder.resolve_to_addrs(name, &addrs);
        }
        let client = builder
            .build()
            .map_err(|e| HttpFailure::Failed(format!("client: {e}")))?;
        let mut req = client.request(request.method.clone(), url.clone());
        for (name, value) in &request.headers {
            req = req.header(name, value);
        }
        if let Some(body) = &request.body {
            req = req.body(body.clone());
        }
        let mut response = req.send().await.map_err(|e| {
            if e.is_timeout() {
                HttpFailure::Timeout
            } else {
                HttpFailure::Failed(
                    if e.is_connect() {
                        "could not connect"
                    } else {
                        "the request failed"
                    }
                    .into(),
                )
            }
        })?;
        let status = response.status();
        if status.is_redirection()
            && let Some(location) = response.headers().get(reqwest::header::LOCATION)
        {
            if hop == settings.max_redirects {
                return Err(HttpFailure::Refused(format!(
                    "more than {} redirects",
                    settings.max_redirects
                )));
            }
            let location = location
                .to_str()
                .map_err(|_| HttpFailure::Failed("a redirect to an unreadable location".into()))?;
            let next = url
                .join(location)
                .map_err(|_| HttpFailure::Failed("a redirect to an invalid location".into()))?;
            // Credentials go only where the script sent them, not to another origin.
            if next.origin() != url.origin() {
                request.headers.retain(|(name, _)| {
                    !["authorization", "cookie", "proxy-authorization"]
                        .iter()
                        .any(|h| name.eq_ignore_ascii_case(h))
                });
            }
            url = next;
            // 303, and 301/302 after a POST, continue as a GET without a body.
            if status == reqwest::StatusCode::SEE_OTHER
                || (matches!(status.as_u16(), 301 | 302) && request.method == reqwest::Method::POST)
            {
                request.method = reqwest::Method::GET;
                request.body = None;
            }
            continue;
        }
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = vec![];
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| HttpFailure::Failed("the response broke off".into()))?
        {
            if body.len() + chunk.len() > settings.max_response_bytes {
                return Err(HttpFailure::Refused(format!(
                    "a response body over {} bytes",
                    settings.max_response_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(OutboundResponse {
            status: status.as_u16(),
            headers,
            body,
        });
    }
    Err(HttpFailure::Refused(format!(
        "more than {} redirects",
        settings.max_redirects
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use skiff_core::ports::dns::StaticResolver;

    fn settings() -> HttpSettings {
        HttpSettings::from_vars(&|_| None, false).unwrap()
    }

    async fn check(resolver: &StaticResolver, url: &str) -> Result<Vec<SocketAddr>, HttpFailure> {
        checked_addresses(resolver, &settings(), &url::Url::parse(url).unwrap()).await
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_by_category() {
        let dns = StaticResolver::new();
        dns.set_ips(
            "metadata.evil.test",
            vec!["169.254.169.254".parse().unwrap()],
        );
        dns.set_ips("ten.evil.test", vec!["10.0.0.7".parse().unwrap()]);
        dns.set_ips(
            "mixed.evil.test",
            vec![
                "93.184.215.14".parse().unwrap(),
                "192.168.0.1".parse().unwrap(),
            ],
        );
        dns.set_ips("cgnat.evil.test", vec!["100.100.100.100".parse().unwrap()]);
        dns.set_ips("ula.evil.test", vec!["fd00::1".parse().unwrap()]);
        dns.set_ips("mapped.evil.test", vec!["::ffff:10.0.0.1".parse().unwrap()]);
        dns.set_ips("public.test", vec!["93.184.215.14".parse().unwrap()]);
        for (url, category) in [
            (
                "http://metadata.evil.test/latest/meta-data/",
                "cloud metadata address",
            ),
            ("https://ten.evil.test/", "private address"),
            ("https://mixed.evil.test/", "private address"),
            ("https://cgnat.evil.test/", "shared (CGNAT) address"),
            ("https://ula.evil.test/", "unique local (ULA) address"),
            ("https://mapped.evil.test/", "IPv4-embedding IPv6 address"),
            ("http://0xa9fea9fe/", "cloud metadata address"),
            ("http://169.254.169.254/", "cloud metadata address"),
            ("http://[fd00:ec2::254]/", "cloud metadata address"),
            ("http://172.16.5.4/", "private address"),
            (
                "http://[::ffff:192.168.1.1]/",
                "IPv4-embedding IPv6 address",
            ),
        ] {
            match check(&dns, url).await {
                Err(HttpFailure::Blocked { category: c, .. }) => assert_eq!(c, category, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
            let message = check(&dns, url).await.unwrap_err().to_string();
            assert!(
                !message.contains("169.254") && !message.contains("10.0.0"),
                "{message}"
            );
        }
        assert_eq!(
            check(&dns, "https://public.test/x").await.unwrap(),
            vec!["93.184.215.14:443".parse().unwrap()]
        );
        assert!(matches!(
            check(&dns, "https://public.test:8443/").await,
            Err(HttpFailure::Refused(_))
        ));
        assert!(matches!(
            check(&dns, "ftp://public.test/").await,
            Err(HttpFailure::Refused(_))
        ));
        assert!(matches!(
            check(&dns, "file:///etc/passwd").await,
            Err(HttpFailure::Refused(_))
        ));
    }

    #[test]
    fn the_private_override_is_dev_only_and_exact() {
        let vars =
            |k: &str| (k == "SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE").then_some("127.0.0.1:8080,[::1]:9");
        assert!(HttpSettings::from_vars(&vars, false).is_err());
        let s = HttpSettings::from_vars(&vars, true).unwrap();
        assert_eq!(
            s.allow_private,
            vec![
                "127.0.0.1:8080".parse::<SocketAddr>().unwrap(),
                "[::1]:9".parse().unwrap()
            ]
        );
    }
}
