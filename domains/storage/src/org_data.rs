//! Storage's part of an org's data: in an export, the records' metadata with
//! their ciphertext blobs, the backups' metadata and the vectors' payloads; in an
//! erasure, every record, backup, vector, export and blob of the org.

use crate::{backups, exports, quota, records, vectors};
use async_trait::async_trait;
use serde_json::{Map, Value};
use skiff_core::ids::OrgId;
use skiff_core::org_data::{
    ExportFile, ExportPage, OrgData, OrgDataError, Purged, json_lines, purge_listings,
};
use skiff_core::ports::blobs::BlobKey;
use skiff_core::ports::store::Query;
use skiff_core::services::Services;

/// Records per exported page (each page: one metadata file and its blobs).
pub const RECORDS_PER_PAGE: usize = 100;
/// Items or blobs one purge step removes.
pub const PURGE_BATCH: usize = 500;

/// Storage's [`OrgData`].
pub struct StorageData;

/// Attributes of a record that describe the stored bytes, not the org's data.
const RECORD_INTERNALS: &[&str] = &["blob_key", "charged", "until", "pending", "stale", "state"];

#[async_trait]
impl OrgData for StorageData {
    fn name(&self) -> &'static str {
        "storage"
    }

    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError> {
        let store = services.store.as_ref();
        let (stage, position) = match cursor.as_deref() {
            None => ("records", None),
            Some(c) => match c.split_once(':') {
                Some((stage, p)) => (stage, Some(p.to_owned()).filter(|p| !p.is_empty())),
                None => return Err(OrgDataError::Other(format!("malformed cursor `{c}`"))),
            },
        };
        match stage {
            "records" => {
                let page = store
                    .query(
                        Query::partition(records::partition(org))
                            .limit(RECORDS_PER_PAGE)
                            .after(position),
                    )
                    .await?;
                let mut rows = vec![];
                let mut files = vec![];
                for item in &page.items {
                    let record: records::Record = item.parse()?;
                    if record.state != records::State::Ready {
                        continue;
                    }
                    files.push(ExportFile::Blob {
                        path: format!("records/{}/{}.bin", record.user_id, record.id),
                        key: record.blob_key.clone(),
                        size: record.size,
                        sha256: record.checksum.as_str().to_owned(),
                    });
                    rows.push(strip(&item.attrs, RECORD_INTERNALS));
                }
                if !rows.is_empty() {
                    let first = rows[0]
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or("page")
                        .to_owned();
                    files.insert(
                        0,
                        ExportFile::Data {
                            path: format!("records-{first}.jsonl"),
                            kind: "records",
                            count: rows.len() as u64,
                            bytes: json_lines(&rows)?,
                        },
                    );
                }
                let next = match page.next {
                    Some(p) => format!("records:{p}"),
                    None => "backups:".into(),
                };
                Ok(ExportPage {
                    files,
                    next: Some(next),
                })
            }
            "backups" | "vectors" => {
                let (pk, kind, omit): (String, &'static str, &[&str]) = if stage == "backups" {
                    (backups::partition(org), "backups", RECORD_INTERNALS)
                } else {
                    (vectors::partition(org), "vectors", &["charged"])
                };
                let page = store
                    .query(
                        Query::partition(pk)
                            .limit(skiff_core::org_data::EXPORT_PAGE)
                            .after(position),
                    )
                    .await?;
                let rows: Vec<_> = page
                    .items
                    .iter()
                    .filter(|i| i.get_str("state").is_none_or(|s| s == "ready"))
                    .map(|i| {
                        let mut row = strip(&i.attrs, omit);
                        if stage == "vectors"
                            && let Some((user, _)) = i.key.sk.split_once('#')
                        {
                            row.insert("user_id".into(), user.into());
                        }
                        row
                    })
                    .collect();
                let mut files = vec![];
                if let Some(first) = rows.first() {
                    let first = first.get("id").and_then(Value::as_str).unwrap_or("page");
                    let first: String = first
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .take(64)
                        .collect();
                    files.push(ExportFile::Data {
                        path: format!("{kind}-{first}.jsonl"),
                        kind,
                        count: rows.len() as u64,
                        bytes: json_lines(&rows)?,
                    });
                }
                let next = match (page.next, stage) {
                    (Some(p), _) => Some(format!("{stage}:{p}")),
                    (None, "backups") => Some("vectors:".into()),
                    (None, _) => None,
                };
                Ok(ExportPage { files, next })
            }
            other => Err(OrgDataError::Other(format!(
                "unknown export stage `{other}`"
            ))),
        }
    }

    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError> {
        // Blobs first (every blob of the org sits under its id), then the items
        // that named them, then the counters.
        let mut removed = 0;
        for bucket in [&services.blobs, &services.exports] {
            let keys: Vec<BlobKey> = bucket.list(&format!("{org}/"), PURGE_BATCH).await?;
            for k in &keys {
                bucket.delete(k).await?;
            }
            removed += keys.len() as u64;
            if keys.len() >= PURGE_BATCH {
                return Ok(Purged {
                    removed,
                    done: false,
                });
            }
        }
        crate::vectors::drop_namespaces(services, org).await?;
        let mut listings = vec![
            (records::partition(org), None),
            (backups::partition(org), None),
            (vectors::partition(org), None),
        ];
        let unfinished = services
            .store
            .query(Query::partition(exports::partition(org)).limit(PURGE_BATCH))
            .await?;
        for item in &unfinished.items {
            listings.push((format!("{org}#EXP#{}", item.key.sk), None));
        }
        listings.push((exports::partition(org), None));
        listings.push((quota::usage_key(org).pk, None));
        let step = purge_listings(services.store.as_ref(), &listings, PURGE_BATCH).await?;
        Ok(Purged {
            removed: removed + step.removed,
            done: step.done,
        })
    }
}

fn strip(attrs: &Map<String, Value>, omit: &[&str]) -> Map<String, Value> {
    let mut out = attrs.clone();
    for name in omit {
        out.remove(*name);
    }
    out
}
