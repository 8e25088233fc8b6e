//! An org's data, as each domain contributes it: its part of an org's export and
//! its step of an org's erasure. The export job (storage's) and the erasure job
//! (identity's) walk the registry the wiring builds ([`OrgDataParts`]), so a new
//! domain takes part in both by registering one [`OrgData`] (see ARCHITECTURE.md,
//! Where to add).
//!
//! Both jobs are resumable, so every method here works a bounded step at a time:
//! an export reads one page per call and hands back a cursor, a purge removes one
//! batch per call and says whether anything is left.

use crate::ids::OrgId;
use crate::ports::blobs::{BlobError, BlobKey};
use crate::ports::store::StoreError;
use crate::services::Services;
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;

/// One file of an export archive.
#[derive(Debug, Clone)]
pub enum ExportFile {
    /// A small file made in memory: one page of JSON lines, or one JSON document.
    /// `kind` names what it holds (`members`, `records`, …) and `count` how many,
    /// for the manifest's counts.
    Data {
        path: String,
        kind: &'static str,
        count: u64,
        bytes: Bytes,
    },
    /// A stored blob of the blob bucket, streamed into the archive. Its SHA-256 is
    /// the one a metadata file of the same export lists (so the manifest covers it
    /// through that file), and is checked again while it is copied.
    Blob {
        path: String,
        key: BlobKey,
        size: u64,
        sha256: String,
    },
}

/// One page of a part's export.
#[derive(Debug, Clone, Default)]
pub struct ExportPage {
    pub files: Vec<ExportFile>,
    /// Where the next page starts; `None` when the part is complete.
    pub next: Option<String>,
}

/// What one purge step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Items and blobs removed by this step.
    pub removed: u64,
    /// Nothing of the org is left in this part.
    pub done: bool,
}

/// Why a step failed; the job retries it later (every step is safe to repeat).
#[derive(Debug, thiserror::Error)]
pub enum OrgDataError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("{0}")]
    Other(String),
}

/// One domain's part of an org's data.
#[async_trait]
pub trait OrgData: Send + Sync + 'static {
    /// A short, stable name (`identity`, `billing`, …): the export's folder for
    /// the part, and the name of its counts in the erasure's audit record.
    fn name(&self) -> &'static str;

    /// One page of the part's export, from `cursor` (`None`: the start). Files
    /// never carry secrets (password hashes, key secrets) of the org's members.
    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError>;

    /// Before anything is purged: stop what goes on outside Skiff for the org
    /// (licenses deactivated, the subscription cancelled at the provider).
    /// Idempotent.
    async fn close(&self, _services: &Services, _org: &OrgId) -> Result<(), OrgDataError> {
        Ok(())
    }

    /// Remove one bounded batch of the org's data in this part. Idempotent: once
    /// `done`, a further call removes nothing and is `done` again.
    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError>;
}

/// The registered parts, in registration order: exports follow it, erasure closes
/// in it and purges in reverse (a domain's data goes before what it builds on).
#[derive(Clone, Default)]
pub struct OrgDataParts(Vec<Arc<dyn OrgData>>);

impl OrgDataParts {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, part: impl OrgData) -> &mut Self {
        let part: Arc<dyn OrgData> = Arc::new(part);
        self.0.retain(|p| p.name() != part.name());
        self.0.push(part);
        self
    }

    pub fn parts(&self) -> &[Arc<dyn OrgData>] {
        &self.0
    }

    pub fn get(&self, index: usize) -> Option<&Arc<dyn OrgData>> {
        self.0.get(index)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.name()).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// JSON lines of `rows` (one compact object per line).
pub fn json_lines<T: serde::Serialize>(rows: &[T]) -> Result<Bytes, OrgDataError> {
    let mut out = Vec::new();
    for row in rows {
        serde_json::to_writer(&mut out, row)
            .map_err(|e| OrgDataError::Other(format!("export row does not encode: {e}")))?;
        out.push(b'\n');
    }
    Ok(Bytes::from(out))
}

/// Delete up to `limit` items of one store partition (all of it when it is
/// smaller); `done` when nothing of it is left. A purge step's usual tool.
pub async fn purge_partition(
    store: &dyn crate::ports::store::ItemStore,
    query: crate::ports::store::Query,
    limit: usize,
) -> Result<Purged, StoreError> {
    let page = store.query(query.limit(limit)).await?;
    let mut removed = 0;
    for item in &page.items {
        if store.delete(&item.key, None).await?.is_some() {
            removed += 1;
        }
    }
    Ok(Purged {
        removed,
        done: page.next.is_none(),
    })
}

/// One list of items a part exports as JSON-lines files: a partition (or the
/// part of it under a sort-key prefix), each item's attributes less `omit`.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The files' path without the page number (`identity/members`).
    pub path: String,
    pub kind: &'static str,
    pub pk: String,
    pub prefix: Option<String>,
    /// Attributes never exported (hashes of secrets).
    pub omit: &'static [&'static str],
}

/// Items per exported page.
pub const EXPORT_PAGE: usize = 500;

/// One page of a sequence of listings: the cursor says which listing, which page
/// of it, and the store position (`<listing>:<page>:<position>`).
pub async fn export_listings(
    store: &dyn crate::ports::store::ItemStore,
    listings: &[Listing],
    cursor: Option<String>,
) -> Result<ExportPage, OrgDataError> {
    let (index, page_no, position) = match cursor.as_deref() {
        None => (0usize, 0u64, None),
        Some(c) => {
            let mut it = c.splitn(3, ':');
            let bad = || OrgDataError::Other(format!("malformed export cursor `{c}`"));
            let index = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let page = it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let position = it.next().filter(|p| !p.is_empty()).map(str::to_owned);
            (index, page, position)
        }
    };
    let Some(listing) = listings.get(index) else {
        return Ok(ExportPage::default());
    };
    {
        let mut query = crate::ports::store::Query::partition(listing.pk.clone())
            .limit(EXPORT_PAGE)
            .after(position);
        if let Some(prefix) = &listing.prefix {
            query = query.prefix(prefix.clone());
        }
        let page = store.query(query).await?;
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = page
            .items
            .iter()
            .map(|item| {
                let mut attrs = item.attrs.clone();
                for name in listing.omit {
                    attrs.remove(*name);
                }
                attrs
            })
            .collect();
        let next = match page.next {
            Some(p) => Some(format!("{index}:{}:{p}", page_no + 1)),
            None if index + 1 < listings.len() => Some(format!("{}:0:", index + 1)),
            None => None,
        };
        if rows.is_empty() {
            // Nothing (more) in this listing: no file, go on with the next.
            return match next {
                Some(n) => Box::pin(export_listings(store, listings, Some(n))).await,
                None => Ok(ExportPage::default()),
            };
        }
        let file = ExportFile::Data {
            path: format!("{}-{page_no:05}.jsonl", listing.path),
            kind: listing.kind,
            count: rows.len() as u64,
            bytes: json_lines(&rows)?,
        };
        Ok(ExportPage {
            files: vec![file],
            next,
        })
    }
}

/// Purge a sequence of partitions (each under an optional sort-key prefix), a
/// bounded batch per call, in order.
pub async fn purge_listings(
    store: &dyn crate::ports::store::ItemStore,
    listings: &[(String, Option<String>)],
    batch: usize,
) -> Result<Purged, OrgDataError> {
    let mut removed = 0;
    for (pk, prefix) in listings {
        let mut query = crate::ports::store::Query::partition(pk.clone());
        if let Some(prefix) = prefix {
            query = query.prefix(prefix.clone());
        }
        let step = purge_partition(store, query, batch).await?;
        removed += step.removed;
        if !step.done || removed as usize >= batch {
            return Ok(Purged {
                removed,
                done: false,
            });
        }
    }
    Ok(Purged {
        removed,
        done: true,
    })
}
