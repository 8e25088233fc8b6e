//! The DNS port over the machine's resolvers: addresses through the operating
//! system (getaddrinfo, so `/etc/hosts` and the local resolver apply, as for any
//! other program on the host), TXT records through hickory's stub resolver with
//! the system's `resolv.conf`. The TXT resolver is built on its first use, so a
//! process that never checks a domain claim never reads that configuration.

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use skiff_core::ports::dns::{DnsError, Resolver};
use std::net::IpAddr;
use std::sync::OnceLock;

#[derive(Default)]
pub struct SystemResolver {
    txt: OnceLock<Result<TokioResolver, String>>,
}

impl SystemResolver {
    pub fn new() -> Self {
        Self::default()
    }

    fn txt_resolver(&self) -> Result<&TokioResolver, DnsError> {
        self.txt
            .get_or_init(|| {
                TokioResolver::builder_tokio()
                    .and_then(|b| b.build())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| DnsError::Unavailable(format!("system DNS configuration: {e}")))
    }
}

#[async_trait]
impl Resolver for SystemResolver {
    async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        match tokio::net::lookup_host((host, 0)).await {
            Ok(addrs) => {
                let mut ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                ips.dedup();
                if ips.is_empty() {
                    Err(DnsError::NotFound(host.to_owned()))
                } else {
                    Ok(ips)
                }
            }
            // getaddrinfo does not say "no such name" apart from "could not ask".
            Err(e) => Err(DnsError::NotFound(format!("{host}: {e}"))),
        }
    }

    async fn lookup_txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let resolver = self.txt_resolver()?;
        let lookup = resolver.txt_lookup(name).await.map_err(|e| {
            if e.is_no_records_found() || e.is_nx_domain() {
                DnsError::NotFound(name.to_owned())
            } else {
                DnsError::Unavailable(e.to_string())
            }
        })?;
        let records: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                hickory_resolver::proto::rr::RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect();
        if records.is_empty() {
            Err(DnsError::NotFound(name.to_owned()))
        } else {
            Ok(records)
        }
    }
}
