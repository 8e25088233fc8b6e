//! Hosts an app claims: `api.example.com` or `*.example.com`, unique across the
//! deployment, serving the app's routes at the host's root once ownership is
//! proven: a DNS TXT record at `_skiff-challenge.<host>` (for a wildcard, at
//! `_skiff-challenge.<parent>`) carrying the claim's token, checked through the
//! DNS port. In dev the configuration may accept claims at once.

use crate::access::{Actor, AppRole};
use crate::error::{ScriptsError, ScriptsResult};
use crate::keys;
use crate::model::App;
use crate::settings::DomainVerification;
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::{AppId, OrgId};
use skiff_core::ports::dns::DnsError;
use skiff_core::ports::store::{Change, Condition, ItemStore, NewItem, Query, StoreError, Write};

/// Most hosts one app may claim.
pub const MAX_DOMAINS_PER_APP: usize = 20;

/// Label of the TXT record that proves a claim.
pub const CHALLENGE_LABEL: &str = "_skiff-challenge";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    /// Waiting for the TXT record.
    Pending,
    Active,
}

/// A host claim (the global record, and the app's copy of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub host: String,
    pub org_id: OrgId,
    pub app_id: AppId,
    pub status: DomainStatus,
    /// The value the TXT record must carry.
    pub token: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<i64>,
}

impl Domain {
    /// Where the TXT record goes.
    pub fn challenge_name(&self) -> String {
        let base = self.host.strip_prefix("*.").unwrap_or(&self.host);
        format!("{CHALLENGE_LABEL}.{base}")
    }
}

/// A host name (lowercase, at least two labels, each 1–63 of `a-z0-9-` not
/// starting or ending with `-`), optionally `*.` in front of one.
pub fn parse_host(raw: &str) -> Result<String, String> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bare = host.strip_prefix("*.").unwrap_or(&host);
    let labels: Vec<&str> = bare.split('.').collect();
    let ok = host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && !labels
            .last()
            .unwrap_or(&"")
            .bytes()
            .all(|b| b.is_ascii_digit());
    if ok {
        Ok(host)
    } else {
        Err(format!(
            "`{raw}` is not a host name (e.g. `api.example.com` or `*.example.com`)"
        ))
    }
}

/// Claim a host for an app (`app_admin`).
pub async fn claim(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    host: String,
) -> ScriptsResult<Domain> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::AppAdmin).await?;
    let existing = list_of(store, &app).await?;
    if existing.len() >= MAX_DOMAINS_PER_APP {
        return Err(ScriptsError::invalid(
            "host",
            "TOO_MANY_DOMAINS",
            format!("an app claims at most {MAX_DOMAINS_PER_APP} hosts"),
        ));
    }
    let now = services.clock.unix();
    let accept = crate::settings(services).domain_verification == DomainVerification::Accept;
    let domain = Domain {
        host: host.clone(),
        org_id: app.org_id.clone(),
        app_id: app.id.clone(),
        status: if accept {
            DomainStatus::Active
        } else {
            DomainStatus::Pending
        },
        token: format!("skiff-verify={}", hex::encode(rand::random::<[u8; 16]>())),
        created_at: now,
        verified_at: accept.then_some(now),
    };
    match store
        .transact(vec![
            Write::Put {
                item: NewItem::from_record(keys::host(&host), &domain)?,
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::from_record(keys::app_domain(&app.org_id, &app.id, &host), &domain)?,
                condition: None,
            },
        ])
        .await
    {
        Ok(()) => Ok(domain),
        Err(e) if e.is_condition_failed() => Err(ScriptsError::HostTaken(host)),
        Err(e) => Err(e.into()),
    }
}

async fn list_of(store: &dyn ItemStore, app: &App) -> Result<Vec<Domain>, StoreError> {
    let page = store
        .query(
            Query::partition(keys::app_pk(&app.org_id, &app.id))
                .prefix(keys::DOMAIN_PREFIX)
                .limit(MAX_DOMAINS_PER_APP + 1),
        )
        .await?;
    page.items.iter().map(|i| i.parse()).collect()
}

/// The hosts an app claims (`viewer`).
pub async fn list(
    store: &dyn ItemStore,
    actor: &Actor,
    app_ref: &str,
) -> ScriptsResult<Vec<Domain>> {
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::Viewer).await?;
    Ok(list_of(store, &app).await?)
}

async fn owned(store: &dyn ItemStore, app: &App, host: &str) -> ScriptsResult<Domain> {
    store
        .get(&keys::app_domain(&app.org_id, &app.id, host))
        .await?
        .map(|i| i.parse())
        .transpose()?
        .ok_or(ScriptsError::NotFound("domain"))
}

/// Check the TXT record of a pending claim and activate it (`app_admin`).
pub async fn verify(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    host: &str,
) -> ScriptsResult<Domain> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::AppAdmin).await?;
    let mut domain = owned(store, &app, host).await?;
    if domain.status == DomainStatus::Active {
        return Ok(domain);
    }
    let name = domain.challenge_name();
    let records = match services.resolver.lookup_txt(&name).await {
        Ok(r) => r,
        Err(DnsError::NotFound(_)) => vec![],
        Err(DnsError::Unavailable(e)) => {
            return Err(ScriptsError::NotVerified(format!(
                "DNS could not be asked about {name} ({e}); try again"
            )));
        }
    };
    if !records.iter().any(|r| r.trim() == domain.token) {
        return Err(ScriptsError::NotVerified(format!(
            "no TXT record at {name} carries `{}` yet (DNS changes may take a while to show)",
            domain.token
        )));
    }
    let now = services.clock.unix();
    domain.status = DomainStatus::Active;
    domain.verified_at = Some(now);
    let changes = || {
        vec![
            Change::set("status", "active"),
            Change::set("verified_at", now),
        ]
    };
    store
        .transact(vec![
            Write::Update {
                key: keys::host(host),
                changes: changes(),
                condition: Some(Condition::attr(
                    "app_id",
                    skiff_core::ports::store::Cmp::Eq,
                    app.id.as_str(),
                )),
            },
            Write::Update {
                key: keys::app_domain(&app.org_id, &app.id, host),
                changes: changes(),
                condition: Some(Condition::Exists),
            },
        ])
        .await
        .map_err(|e| {
            if e.is_condition_failed() {
                ScriptsError::NotFound("domain")
            } else {
                e.into()
            }
        })?;
    Ok(domain)
}

/// Give a claimed host up (`app_admin`).
pub async fn release(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    host: &str,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let (app, _) = crate::apps::require(store, actor, app_ref, AppRole::AppAdmin).await?;
    owned(store, &app, host).await?;
    store
        .transact(vec![
            Write::Delete {
                key: keys::host(host),
                condition: None,
            },
            Write::Delete {
                key: keys::app_domain(&app.org_id, &app.id, host),
                condition: None,
            },
        ])
        .await?;
    Ok(())
}

/// The active claim that serves `host`: the exact host, else the wildcard of its
/// parent (`a.example.com` → `*.example.com`).
pub async fn serving(store: &dyn ItemStore, host: &str) -> Result<Option<Domain>, StoreError> {
    let host = host.to_ascii_lowercase();
    let mut candidates = vec![host.clone()];
    if let Some((_, parent)) = host.split_once('.')
        && parent.contains('.')
    {
        candidates.push(format!("*.{parent}"));
    }
    for candidate in candidates {
        if let Some(item) = store.get(&keys::host(&candidate)).await? {
            let domain: Domain = item.parse()?;
            if domain.status == DomainStatus::Active {
                return Ok(Some(domain));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_wildcards_parse() {
        assert_eq!(parse_host("API.Example.com.").unwrap(), "api.example.com");
        assert_eq!(parse_host("*.example.com").unwrap(), "*.example.com");
        for bad in [
            "localhost",
            "a..b",
            "-a.com",
            "a.*.com",
            "*.com",
            "1.2.3.4",
            "a b.com",
            "x.c-",
        ] {
            assert!(parse_host(bad).is_err(), "{bad}");
        }
    }
}
