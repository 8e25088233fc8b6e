//! The DNS port: addresses of a host (what outbound connections from scripts are
//! checked against) and TXT records (how an app proves it owns a domain it claims).
//! Behind a port so the checks are tested without a network.

use async_trait::async_trait;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The name has no record of the asked type (or does not exist).
    #[error("no such DNS record: {0}")]
    NotFound(String),
    /// The lookup could not be made (no resolver answered, a timeout).
    #[error("DNS unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Resolver: Send + Sync + 'static {
    /// The IPv4 and IPv6 addresses of `host` (a name, not a literal address).
    async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, DnsError>;

    /// The TXT records of `name`, each record's character strings joined.
    async fn lookup_txt(&self, name: &str) -> Result<Vec<String>, DnsError>;
}

/// A resolver answering from a fixed table: **test infrastructure**, for checks
/// that must not depend on real DNS (a domain's TXT proof, a name that resolves to
/// a private address). Names are compared case-insensitively, without a final dot.
#[derive(Debug, Default)]
pub struct StaticResolver {
    ips: RwLock<HashMap<String, Vec<IpAddr>>>,
    txt: RwLock<HashMap<String, Vec<String>>>,
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl StaticResolver {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_ips(&self, host: &str, ips: Vec<IpAddr>) {
        self.ips.write().expect("lock").insert(normalize(host), ips);
    }

    pub fn set_txt(&self, name: &str, records: Vec<String>) {
        self.txt
            .write()
            .expect("lock")
            .insert(normalize(name), records);
    }
}

#[async_trait]
impl Resolver for StaticResolver {
    async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        match self.ips.read().expect("lock").get(&normalize(host)) {
            Some(ips) if !ips.is_empty() => Ok(ips.clone()),
            _ => Err(DnsError::NotFound(host.to_owned())),
        }
    }

    async fn lookup_txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        match self.txt.read().expect("lock").get(&normalize(name)) {
            Some(records) if !records.is_empty() => Ok(records.clone()),
            _ => Err(DnsError::NotFound(name.to_owned())),
        }
    }
}
