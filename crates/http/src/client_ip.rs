//! The client's IP address, for per-IP rate limits: on Lambda from API Gateway's
//! request context (`requestContext.http.sourceIp`), on the local server from the
//! TCP connection. Forwarding headers are not trusted: anyone can set them.
//!
//! A limit keys an IPv4 client on its whole address and an IPv6 client on its /64:
//! one subscriber line or host gets a /64, and counting each of its 2^64 addresses
//! apart would let one machine rotate addresses past any limit. An IPv4-mapped IPv6
//! address (`::ffff:a.b.c.d`, what a dual-stack socket reports) is the IPv4 client.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The peer's address, if the transport tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// A stable subject for rate limits (`unknown` when the transport is silent).
    pub fn subject(&self) -> String {
        self.0.map_or_else(|| "unknown".to_owned(), limit_subject)
    }
}

/// The client an address belongs to, for rate limits: an IPv4 address whole, an
/// IPv6 address as its /64 network.
pub fn limit_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let network = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{network}/64")
            }
        },
    }
}

fn from_lambda(parts: &Parts) -> Option<IpAddr> {
    use lambda_http::request::RequestContext;
    match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        if let Some(ip) = from_lambda(parts) {
            return Ok(ClientIp(Some(ip)));
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(raw: &str) -> String {
        limit_subject(raw.parse().unwrap())
    }

    #[test]
    fn ipv4_clients_are_keyed_on_the_whole_address() {
        assert_eq!(subject("203.0.113.7"), "203.0.113.7");
        assert_ne!(subject("203.0.113.7"), subject("203.0.113.8"));
    }

    #[test]
    fn ipv6_clients_are_keyed_on_their_64() {
        assert_eq!(subject("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            subject("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            subject("2001:db8:1:2::1")
        );
        assert_ne!(subject("2001:db8:1:3::1"), subject("2001:db8:1:2::1"));
        assert_eq!(subject("::1"), "::/64");
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_client() {
        assert_eq!(subject("::ffff:203.0.113.7"), "203.0.113.7");
        assert_ne!(subject("::ffff:203.0.113.7"), subject("::ffff:203.0.113.8"));
    }

    #[test]
    fn an_unknown_peer_is_one_subject() {
        assert_eq!(ClientIp(None).subject(), "unknown");
        assert_eq!(
            ClientIp(Some("2001:db8::5".parse().unwrap())).subject(),
            "2001:db8::/64"
        );
    }
}
