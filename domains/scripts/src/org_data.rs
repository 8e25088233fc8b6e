//! Scripts' part of an org's data (see `skiff_core::org_data`).
//!
//! **Export**: the apps, then per app its members, scripts (endpoints with their
//! source, and modules, in files of their own), routes, claimed hosts, triggers,
//! KV entries, documents, files (metadata, and the bytes streamed from the blob
//! store, each checked against the SHA-256 its metadata lists), dead letters and
//! execution logs (what the retention keeps). Nothing here is a secret: scripts
//! hold no credentials, and the logs summarise requests without bodies or headers.
//! Rows carry their collection and key, which the store keeps in the sort key.
//!
//! **Erasure**: `close` releases the org's global claims (app slugs, hosts), so
//! its public routes stop answering at once; `purge` removes the file bytes, then
//! each app's triggers (nothing fires any more), data, dead letters, scripts with
//! their logs, its own partition and finally the app's record. The plan's counters
//! go with billing's part.

use crate::domains::Domain;
use crate::keys;
use crate::model::App;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skiff_core::ids::{AppId, OrgId};
use skiff_core::org_data::{
    ExportFile, ExportPage, OrgData, OrgDataError, Purged, json_lines, purge_listings,
};
use skiff_core::ports::blobs::BlobKey;
use skiff_core::ports::store::{Cmp, Condition, ItemStore, Key, Query, SortKey, StoreError};
use skiff_core::services::Services;

/// Rows per exported page (a files page also streams that many blobs).
pub const EXPORT_PAGE: usize = 100;
/// Items or blobs one purge step removes.
pub const PURGE_BATCH: usize = 500;

/// Scripts' [`OrgData`].
pub struct ScriptsData;

/// What an app's export holds, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Members,
    Scripts,
    Routes,
    Domains,
    Triggers,
    Kv,
    Documents,
    Files,
    DeadLetters,
    Logs,
}

const STAGES: [Stage; 10] = [
    Stage::Members,
    Stage::Scripts,
    Stage::Routes,
    Stage::Domains,
    Stage::Triggers,
    Stage::Kv,
    Stage::Documents,
    Stage::Files,
    Stage::DeadLetters,
    Stage::Logs,
];

impl Stage {
    /// The file name (before the page number) and the manifest's kind.
    fn file(self) -> (&'static str, &'static str) {
        match self {
            Stage::Members => ("members", "script_app_members"),
            Stage::Scripts => ("scripts", "scripts"),
            Stage::Routes => ("routes", "script_routes"),
            Stage::Domains => ("domains", "script_domains"),
            Stage::Triggers => ("triggers", "script_triggers"),
            Stage::Kv => ("kv", "script_kv"),
            Stage::Documents => ("documents", "script_documents"),
            Stage::Files => ("files", "script_files"),
            Stage::DeadLetters => ("dead-letters", "script_dead_letters"),
            Stage::Logs => ("logs", "script_logs"),
        }
    }

    /// The partition (and sort-key prefix) a plain stage lists.
    fn listing(self, org: &OrgId, app: &AppId) -> (String, Option<&'static str>) {
        let base = keys::app_pk(org, app);
        match self {
            Stage::Members => (base, Some(keys::MEMBER_PREFIX)),
            Stage::Routes => (base, Some(keys::ROUTE_PREFIX)),
            Stage::Domains => (base, Some(keys::DOMAIN_PREFIX)),
            Stage::Triggers => (base, Some("TRIGGER#")),
            Stage::Kv => (format!("{base}#KV"), None),
            Stage::Documents => (format!("{base}#DOCS"), None),
            Stage::Files => (format!("{base}#FILES"), None),
            Stage::DeadLetters => (format!("{base}#DL"), None),
            Stage::Scripts | Stage::Logs => (base, Some(keys::SCRIPT_NAME_PREFIX)),
        }
    }

    /// For data stages: the name of the key field the sort key carries.
    fn key_field(self) -> Option<&'static str> {
        match self {
            Stage::Kv => Some("key"),
            Stage::Documents => Some("id"),
            Stage::Files => Some("name"),
            _ => None,
        }
    }
}

/// Where an export stands. `app: None` is the list of apps itself; then each
/// app's stages in turn (`script` names the script whose logs are being read).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app: Option<AppId>,
    #[serde(default)]
    stage: usize,
    #[serde(default)]
    page: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    script: Option<String>,
}

impl Cursor {
    fn parse(raw: Option<&str>) -> Result<Self, OrgDataError> {
        match raw {
            None => Ok(Self::default()),
            Some(c) => serde_json::from_str(c)
                .map_err(|_| OrgDataError::Other(format!("malformed export cursor `{c}`"))),
        }
    }

    fn encode(&self) -> String {
        serde_json::to_string(self).expect("a cursor encodes")
    }

    /// The next page of the same list.
    fn next_page(&self, position: String) -> Self {
        Self {
            page: self.page + 1,
            position: Some(position),
            ..self.clone()
        }
    }

    /// The start of `app`'s stage `stage`.
    fn at(app: AppId, stage: usize) -> Self {
        Self {
            app: Some(app),
            stage,
            ..Self::default()
        }
    }
}

fn other(e: impl std::fmt::Display) -> OrgDataError {
    OrgDataError::Other(e.to_string())
}

/// The first item of partition `pk` under `prefix` whose sort key comes after
/// `prefix + after` (or the first under `prefix`).
async fn first_after(
    store: &dyn ItemStore,
    pk: String,
    prefix: &str,
    after: Option<&str>,
) -> Result<Option<skiff_core::ports::store::Item>, StoreError> {
    let sort = match after {
        None => SortKey::Prefix(prefix.into()),
        Some(after) => SortKey::Between(
            format!("{prefix}{after}\u{1}"),
            format!("{prefix}\u{10FFFF}"),
        ),
    };
    let page = store
        .query(Query {
            pk,
            sort,
            limit: Some(1),
            ..Default::default()
        })
        .await?;
    Ok(page.items.into_iter().next())
}

/// The org's first app after `after` (or its first).
async fn next_app(
    store: &dyn ItemStore,
    org: &OrgId,
    after: Option<&AppId>,
) -> Result<Option<AppId>, StoreError> {
    let after = after.map(AppId::as_str);
    first_after(store, keys::apps_pk(org), keys::APP_PREFIX, after)
        .await?
        .map(|i| i.parse::<App>().map(|a| a.id))
        .transpose()
}

/// The name and id of an app's first script named after `after` (or its first).
async fn next_script(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
    after: Option<&str>,
) -> Result<Option<(String, skiff_core::ids::ScriptId)>, StoreError> {
    let pk = keys::app_pk(org, app);
    let Some(item) = first_after(store, pk, keys::SCRIPT_NAME_PREFIX, after).await? else {
        return Ok(None);
    };
    let claim: crate::scripts::NameClaim = item.parse()?;
    let name = item.key.sk[keys::SCRIPT_NAME_PREFIX.len()..].to_owned();
    Ok(Some((name, claim.script_id)))
}

/// A stored row as exported: its attributes (a file's blob key becomes the path
/// of its bytes in the archive), with the collection and key the sort key holds
/// for data stages.
fn row(item: &skiff_core::ports::store::Item, stage: Stage, app: &AppId) -> Map<String, Value> {
    let mut row = item.attrs.clone();
    if let Some(Value::String(blob)) = row.remove("blob_key") {
        // Where the file's bytes are in the archive.
        row.insert(
            "path".into(),
            format!("scripts/{}", blob_path(app, &blob)).into(),
        );
    }
    if let Some(field) = stage.key_field()
        && let Some((collection, key)) = item.key.sk.split_once('#')
    {
        row.insert("collection".into(), collection.into());
        row.entry(field).or_insert_with(|| key.into());
    }
    row
}

/// Add a JSON-lines file of `rows` to `files`, unless there is no row.
fn push_rows(
    files: &mut Vec<ExportFile>,
    path: String,
    kind: &'static str,
    rows: &[Map<String, Value>],
) -> Result<(), OrgDataError> {
    if !rows.is_empty() {
        files.push(ExportFile::Data {
            path,
            kind,
            count: rows.len() as u64,
            bytes: json_lines(rows)?,
        });
    }
    Ok(())
}

/// The archive path of a file's bytes: its blob's own name, so no script-chosen
/// file name becomes a path.
fn blob_path(app: &AppId, blob_key: &str) -> String {
    let leaf = blob_key.rsplit('/').next().unwrap_or(blob_key);
    format!("{app}/files/{leaf}.bin")
}

#[async_trait]
impl OrgData for ScriptsData {
    fn name(&self) -> &'static str {
        "scripts"
    }

    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError> {
        let store = services.store.as_ref();
        let cursor = Cursor::parse(cursor.as_deref())?;
        let Some(app) = cursor.app.clone() else {
            // The apps themselves.
            let page = store
                .query(
                    Query::partition(keys::apps_pk(org))
                        .prefix(keys::APP_PREFIX)
                        .limit(EXPORT_PAGE)
                        .after(cursor.position.clone()),
                )
                .await?;
            let rows: Vec<_> = page.items.iter().map(|i| i.attrs.clone()).collect();
            let mut files = vec![];
            push_rows(
                &mut files,
                format!("apps-{:05}.jsonl", cursor.page),
                "script_apps",
                &rows,
            )?;
            let next = match page.next {
                Some(p) => Some(cursor.next_page(p)),
                None => next_app(store, org, None).await?.map(|a| Cursor::at(a, 0)),
            };
            return Ok(ExportPage {
                files,
                next: next.map(|c| c.encode()),
            });
        };
        let Some(stage) = STAGES.get(cursor.stage).copied() else {
            return Err(other(format!("unknown export stage {}", cursor.stage)));
        };
        let (name, kind) = stage.file();
        let path = |suffix: &str| format!("{app}/{name}-{:05}{suffix}.jsonl", cursor.page);
        let (files, more) = match stage {
            Stage::Scripts => export_scripts(store, org, &app, &cursor, path("")).await?,
            Stage::Logs => export_logs(store, org, &app, &cursor, path("")).await?,
            _ => {
                let (pk, prefix) = stage.listing(org, &app);
                let mut query = Query::partition(pk)
                    .limit(EXPORT_PAGE)
                    .after(cursor.position.clone());
                if let Some(prefix) = prefix {
                    query = query.prefix(prefix);
                }
                let page = store.query(query).await?;
                let rows: Vec<_> = page.items.iter().map(|i| row(i, stage, &app)).collect();
                let mut files = vec![];
                push_rows(&mut files, path(""), kind, &rows)?;
                if stage == Stage::Files {
                    for item in &page.items {
                        let meta: crate::data::files::FileMeta = item.parse()?;
                        files.push(ExportFile::Blob {
                            path: blob_path(&app, &meta.blob_key),
                            key: BlobKey::parse(meta.blob_key.clone())?,
                            size: meta.size,
                            sha256: meta.sha256,
                        });
                    }
                }
                (files, page.next.map(|p| cursor.next_page(p)))
            }
        };
        let next = match more {
            Some(c) => Some(c),
            None if cursor.stage + 1 < STAGES.len() => Some(Cursor::at(app, cursor.stage + 1)),
            None => next_app(store, org, Some(&app))
                .await?
                .map(|a| Cursor::at(a, 0)),
        };
        Ok(ExportPage {
            files,
            next: next.map(|c| c.encode()),
        })
    }

    async fn close(&self, services: &Services, org: &OrgId) -> Result<(), OrgDataError> {
        let store = services.store.as_ref();
        let mut after = None;
        while let Some(app) = next_app(store, org, after.as_ref()).await? {
            release_claims(store, org, &app).await?;
            after = Some(app);
        }
        Ok(())
    }

    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError> {
        let store = services.store.as_ref();
        // Every file's bytes sit under the org's prefix (unreferenced ones too).
        let blobs = services
            .blobs
            .list(&format!("scripts/{org}/"), PURGE_BATCH)
            .await?;
        for key in &blobs {
            services.blobs.delete(key).await?;
        }
        let mut removed = blobs.len() as u64;
        if blobs.len() >= PURGE_BATCH {
            return Ok(Purged {
                removed,
                done: false,
            });
        }
        let Some(app) = next_app(store, org, None).await? else {
            return Ok(Purged {
                removed,
                done: true,
            });
        };
        // Claims again: a resumed erasure may have lost the race with nothing, but
        // this keeps `purge` complete on its own.
        release_claims(store, org, &app).await?;
        let base = keys::app_pk(org, &app);
        let mut listings = vec![(base.clone(), Some("TRIGGER#".to_owned()))];
        for kind in ["KV", "DOCS", "FILES", "DL"] {
            listings.push((format!("{base}#{kind}"), None));
        }
        // Each script's logs and record, while its name still leads to it.
        for (_, script) in crate::scripts::names(store, org, &app).await? {
            listings.push((keys::logs_pk(org, &script), None));
            listings.push((keys::script(org, &script).pk, None));
        }
        listings.push((base, None));
        let step = purge_listings(store, &listings, PURGE_BATCH).await?;
        removed += step.removed;
        if step.done {
            store.delete(&keys::app(org, &app), None).await?;
            removed += 1;
        }
        // Done once a step finds no app left.
        Ok(Purged {
            removed,
            done: false,
        })
    }
}

/// Release an app's global claims (its slug, the hosts it claimed), each only
/// while it is still this org's: a name released once may be someone else's now.
async fn release_claims(store: &dyn ItemStore, org: &OrgId, app: &AppId) -> Result<(), StoreError> {
    let mut keys_to_release: Vec<Key> = vec![];
    if let Some(item) = store.get(&keys::app(org, app)).await? {
        let app: App = item.parse()?;
        keys_to_release.push(keys::slug(app.slug.as_str()));
    }
    let domains = store
        .query(Query::partition(keys::app_pk(org, app)).prefix(keys::DOMAIN_PREFIX))
        .await?;
    for item in &domains.items {
        let domain: Domain = item.parse()?;
        keys_to_release.push(keys::host(&domain.host));
    }
    for key in keys_to_release {
        match store
            .delete(&key, Some(Condition::attr("org_id", Cmp::Eq, org.as_str())))
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_condition_failed() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One page of an app's scripts: endpoints and modules in files of their own.
async fn export_scripts(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
    cursor: &Cursor,
    path: String,
) -> Result<(Vec<ExportFile>, Option<Cursor>), OrgDataError> {
    let page = store
        .query(
            Query::partition(keys::app_pk(org, app))
                .prefix(keys::SCRIPT_NAME_PREFIX)
                .limit(EXPORT_PAGE)
                .after(cursor.position.clone()),
        )
        .await?;
    let (mut endpoints, mut modules) = (vec![], vec![]);
    for claim in &page.items {
        let claim: crate::scripts::NameClaim = claim.parse()?;
        // Deleted since its name was read: not part of the export.
        if let Some(item) = store.get(&keys::script(org, &claim.script_id)).await? {
            match claim.kind {
                crate::model::ScriptKind::Endpoint => endpoints.push(item.attrs),
                crate::model::ScriptKind::Module => modules.push(item.attrs),
            }
        }
    }
    let mut files = vec![];
    let modules_path = path.replacen("/scripts-", "/modules-", 1);
    push_rows(&mut files, path, "scripts", &endpoints)?;
    push_rows(&mut files, modules_path, "script_modules", &modules)?;
    Ok((files, page.next.map(|p| cursor.next_page(p))))
}

/// One page of the execution logs of an app's scripts, script by script.
async fn export_logs(
    store: &dyn ItemStore,
    org: &OrgId,
    app: &AppId,
    cursor: &Cursor,
    path: String,
) -> Result<(Vec<ExportFile>, Option<Cursor>), OrgDataError> {
    // The cursor's script, or (its name deleted meanwhile, or at the start) the next.
    let current = match &cursor.script {
        Some(name) => crate::scripts::by_name(store, org, app, name)
            .await?
            .map(|c| (name.clone(), c.script_id)),
        None => None,
    };
    let current = match current {
        Some(c) => Some(c),
        None => next_script(store, org, app, cursor.script.as_deref()).await?,
    };
    let Some((name, script)) = current else {
        return Ok((vec![], None));
    };
    let same_script = cursor.script.as_deref() == Some(name.as_str());
    let position = same_script.then(|| cursor.position.clone()).flatten();
    let page = store
        .query(
            Query::partition(keys::logs_pk(org, &script))
                .limit(EXPORT_PAGE * 5)
                .after(position),
        )
        .await?;
    let rows: Vec<_> = page.items.iter().map(|i| i.attrs.clone()).collect();
    let mut files = vec![];
    push_rows(&mut files, path, "script_logs", &rows)?;
    let next = match page.next {
        Some(p) => Cursor {
            script: Some(name),
            ..cursor.next_page(p)
        },
        // This script is done: the next one's logs, or the app's next stage.
        None => match next_script(store, org, app, Some(&name)).await? {
            Some((next, _)) => Cursor {
                script: Some(next),
                position: None,
                page: cursor.page + 1,
                ..cursor.clone()
            },
            None => return Ok((files, None)),
        },
    };
    Ok((files, Some(next)))
}
