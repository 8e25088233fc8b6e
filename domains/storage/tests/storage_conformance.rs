//! Storage's use cases on both sets of adapters: SQLite + the filesystem, and
//! DynamoDB + S3 on the emulator. Concurrent cases race on a multi-thread runtime.
//! What they prove: the quota counter stays equal to the bytes stored under any
//! concurrency, a crash between reserving and writing is repaired by the sweep
//! (which says what it repaired), drift is found and set right, replacements and
//! deletions never leave bytes behind, and an export is a complete, checked
//! `.tar.gz`.

use bytes::Bytes;
use futures::future::join_all;
use skiff_core::clock::{Clock, FixedClock};
use skiff_core::ids::{OrgId, UserId};
use skiff_core::ports::blobs::{BlobKey, CHECKSUM_HEADER, SignedUpload};
use skiff_core::ports::store::Change;
use skiff_core::services::Services;
use skiff_storage::backups::{self, BackupVersion, NewBackup};
use skiff_storage::quota::{self, Limits};
use skiff_storage::records::{self, Ports};
use skiff_storage::{Checksum, Owner, StorageError, TableName};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

struct Harness {
    services: Services,
    clock: Arc<FixedClock>,
    aws: bool,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A client sending `bytes` for a signed upload, with `headers`. On the
    /// emulator, over HTTP to the presigned URL (the emulator checks no
    /// signature, so it also takes bytes S3 would refuse: what a commit must
    /// catch). On the filesystem store, whose signed URLs refuse other bytes
    /// (proven over HTTP in `tests/api`), the bytes land as if such a store had
    /// taken them.
    async fn client_upload(
        &self,
        up: &SignedUpload,
        key: &BlobKey,
        bytes: Bytes,
        headers: &BTreeMap<String, String>,
    ) {
        if !self.aws {
            self.services
                .blobs
                .put(key, bytes, "application/octet-stream")
                .await
                .expect("blob put");
            return;
        }
        let mut request = reqwest::Client::new().put(&up.url).body(bytes);
        for (k, v) in headers.iter().filter(|(k, _)| *k != "content-length") {
            request = request.header(k.as_str(), v.as_str());
        }
        let status = request.send().await.expect("emulator reachable").status();
        assert!(status.is_success(), "{status}");
    }
}

/// Embedded services; with `aws`, their item store is a fresh DynamoDB table and
/// their buckets fresh S3 buckets on the emulator.
async fn harness(aws: bool) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = FixedClock::at(time::OffsetDateTime::now_utc());
    let config = skiff_app::AppConfig::from_vars(vec![
        (
            "SKIFF_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        (
            "SKIFF_EXPORT_CHUNK_BYTES".to_owned(),
            (1024 * 1024).to_string(),
        ),
    ])
    .expect("config");
    let mut services = skiff_app::services::embedded(config, clock.clone())
        .await
        .expect("services")
        .services;
    if aws {
        use skiff_adapters::testing;
        services.store = Arc::new(testing::dynamo_store("storage", clock.clone()).await);
        let s3 = skiff_adapters::aws::s3_client(&testing::aws_sdk_config().await, true);
        for bucket in ["blobs", "exports"] {
            let name = testing::unique_name(bucket);
            skiff_adapters::provision::create_bucket(&s3, &name)
                .await
                .expect("bucket");
            let store = Arc::new(skiff_adapters::s3_blobs::S3BlobStore::new(
                s3.clone(),
                name,
                clock.clone(),
            ));
            if bucket == "blobs" {
                services.blobs = store;
            } else {
                services.exports = store;
            }
        }
    }
    Harness {
        services,
        clock,
        aws,
        _dir: dir,
    }
}

fn owner() -> Owner {
    Owner {
        org: OrgId::new(),
        user: UserId::new(),
    }
}

fn limits(records: u64) -> Limits {
    Limits {
        plan: "test".into(),
        records: Some(records),
        backups: Some(records),
    }
}

fn blob(i: usize, len: usize) -> (Bytes, Checksum) {
    let bytes = Bytes::from(format!("{i:04}").repeat(len / 4 + 1).into_bytes()[..len].to_vec());
    let sum = Checksum::of(&bytes);
    (bytes, sum)
}

fn table() -> TableName {
    TableName::parse("notes").unwrap()
}

/// The counter, and what the org's items are charged.
async fn counted(h: &Harness, org: &OrgId) -> (u64, u64) {
    let store = h.services.store.as_ref();
    let usage = quota::usage(store, org).await.unwrap();
    let items = quota::recount(store, org).await.unwrap();
    (usage.records_bytes, items.records_bytes)
}

async fn forty_concurrent_writes_fit_the_quota(h: &Harness) {
    let owner = owner();
    let limit = 30_000u64;
    let writers = (0..40).map(|i| {
        let services = h.services.clone();
        let owner = owner.clone();
        tokio::spawn(async move {
            let (bytes, sum) = blob(i, 1000 + (i % 7) * 100);
            let size = bytes.len() as u64;
            let out = records::create(
                Ports::of(&services),
                &owner,
                &limits(limit),
                table(),
                bytes,
                sum,
            )
            .await;
            (size, out)
        })
    });
    let mut accepted = 0u64;
    let mut refused = 0;
    for joined in join_all(writers).await {
        let (size, out) = joined.expect("task");
        match out {
            Ok(record) => {
                assert_eq!(record.size, size);
                accepted += size;
            }
            Err(StorageError::QuotaExceeded {
                limit_bytes,
                used_bytes,
                ..
            }) => {
                assert_eq!(limit_bytes, limit);
                assert!(used_bytes <= limit);
                refused += 1;
            }
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert!(refused > 0, "40 writes of ~1.3 kB exceed 30 kB");
    assert!(accepted <= limit, "the accepted writes fit: {accepted}");
    let (counter, items) = counted(h, &owner.org).await;
    assert_eq!(counter, accepted, "the counter equals the stored sizes");
    assert_eq!(items, accepted);
    // Every accepted record is readable, and listed.
    let (listed, _) = records::list(h.services.store.as_ref(), &owner, None, 200, None)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|r| r.size).sum::<u64>(), accepted);
    for r in &listed {
        let (_, reader) = records::open(Ports::of(&h.services), &owner, &r.id)
            .await
            .unwrap();
        let bytes: Vec<Bytes> = futures::TryStreamExt::try_collect(reader.body)
            .await
            .unwrap();
        assert!(r.checksum.matches(&bytes.concat()));
    }
}

async fn a_crash_between_reserve_and_write_is_swept(h: &Harness) {
    let owner = owner();
    let ports = Ports::of(&h.services);
    let (bytes, sum) = blob(1, 5000);
    records::create(ports, &owner, &limits(1 << 20), table(), bytes, sum)
        .await
        .unwrap();
    // Reserved for an upload whose bytes never come (as after a crash right after
    // the reservation): the counter holds them, no record is visible.
    let (_, sum) = blob(2, 7000);
    let up = records::upload(
        ports,
        &owner,
        &limits(1 << 20),
        table(),
        7000,
        sum,
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(counted(h, &owner.org).await, (12_000, 12_000));
    assert!(matches!(
        records::commit(ports, &owner, &up.record.id).await,
        Err(StorageError::UploadIncomplete)
    ));
    let store = h.services.store.as_ref();
    let early = skiff_storage::sweep::sweep_with(store, h.services.blobs.as_ref(), h.clock.unix())
        .await
        .unwrap();
    assert_eq!(early.abandoned_writes, 0, "not due yet");
    h.clock.advance(Duration::from_secs(3600));
    let report = skiff_storage::sweep::sweep_with(store, h.services.blobs.as_ref(), h.clock.unix())
        .await
        .unwrap();
    assert_eq!(report.abandoned_writes, 1, "{report}");
    assert_eq!(report.released_bytes, 7000, "{report}");
    assert_eq!(counted(h, &owner.org).await, (5000, 5000));
    assert!(matches!(
        records::commit(ports, &owner, &up.record.id).await,
        Err(StorageError::NotFound(_))
    ));
    // Drift from outside (an operator's hand): found, set right, reported.
    store
        .update(
            &quota::usage_key(&owner.org),
            vec![Change::set("records_bytes", 999_999)],
            None,
        )
        .await
        .unwrap();
    let repairs = quota::repair_org(store, &owner.org)
        .await
        .unwrap()
        .expect("not busy");
    assert_eq!(repairs.len(), 1);
    assert_eq!((repairs[0].was, repairs[0].now), (999_999, 5000));
    assert_eq!(counted(h, &owner.org).await, (5000, 5000));
    assert!(
        quota::repair_org(store, &owner.org)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
}

async fn replacements_and_deletions_keep_the_count_and_leave_no_blob(h: &Harness) {
    let owner = owner();
    let ports = Ports::of(&h.services);
    let (bytes, sum) = blob(1, 2000);
    let record = records::create(ports, &owner, &limits(1 << 20), table(), bytes, sum)
        .await
        .unwrap();
    // Ten concurrent replacements of one record: all succeed (last writer wins).
    let writers = (0..10).map(|i| {
        let services = h.services.clone();
        let owner = owner.clone();
        let id = record.id.clone();
        tokio::spawn(async move {
            let (bytes, sum) = blob(10 + i, 500 + i * 300);
            records::replace(
                Ports::of(&services),
                &owner,
                &limits(1 << 20),
                &id,
                bytes,
                sum,
                None,
            )
            .await
        })
    });
    for joined in join_all(writers).await {
        joined.unwrap().expect("replaced");
    }
    let now = records::get(ports.store, &owner, &record.id).await.unwrap();
    assert_eq!(counted(h, &owner.org).await, (now.size, now.size));
    // A stale If-Match loses.
    let (bytes, sum) = blob(99, 10);
    assert!(matches!(
        records::replace(
            ports,
            &owner,
            &limits(1 << 20),
            &record.id,
            bytes,
            sum,
            Some(&"0".repeat(64))
        )
        .await,
        Err(StorageError::PreconditionFailed)
    ));
    // Another user of the same org does not see it.
    let other = Owner {
        org: owner.org.clone(),
        user: UserId::new(),
    };
    assert!(matches!(
        records::get(ports.store, &other, &record.id).await,
        Err(StorageError::NotFound(_))
    ));
    records::delete(ports, &owner, &record.id).await.unwrap();
    records::delete(ports, &owner, &record.id).await.unwrap();
    h.clock.advance(Duration::from_secs(3600));
    skiff_storage::sweep::sweep(&h.services).await.unwrap();
    assert_eq!(counted(h, &owner.org).await, (0, 0));
    let left = h
        .services
        .blobs
        .list(&format!("{}/", owner.org), 100)
        .await
        .unwrap();
    assert!(left.is_empty(), "every revision removed: {left:?}");
}

async fn an_export_is_a_checked_tar_gz_made_in_resumable_steps(h: &Harness) {
    use skiff_storage::exports;
    let owner = owner();
    let ports = Ports::of(&h.services);
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..210 {
        // Three pages of records, each over the 1 MiB chunk size: several chunks.
        let (bytes, sum) = blob(i, 12_000);
        let r = records::create(ports, &owner, &limits(1 << 30), table(), bytes.clone(), sum)
            .await
            .unwrap();
        expected.insert(
            format!("storage/records/{}/{}.bin", owner.user, r.id),
            bytes,
        );
    }
    let export = exports::request(&h.services, &owner.org, &owner.user)
        .await
        .unwrap();
    assert!(matches!(
        exports::download_url(
            ports,
            h.services.exports.as_ref(),
            &owner.org,
            &export.id,
            Duration::from_secs(60)
        )
        .await,
        Err(StorageError::ExportNotReady { status: "queued" })
    ));
    let parts = skiff_app::org_data();
    // A zero budget: every step makes one chunk, then hands over.
    let mut step = 0;
    loop {
        exports::run_step(
            &h.services,
            &parts,
            &exports::ExportStep {
                org_id: owner.org.clone(),
                export_id: export.id.clone(),
                step,
            },
            Duration::ZERO,
        )
        .await
        .unwrap();
        let now = exports::get(ports.store, &owner.org, &export.id, h.clock.unix())
            .await
            .unwrap();
        if now.status == exports::Status::Complete {
            break;
        }
        assert!(now.step > step, "each step moves on");
        // A redelivered old step changes nothing.
        exports::run_step(
            &h.services,
            &parts,
            &exports::ExportStep {
                org_id: owner.org.clone(),
                export_id: export.id.clone(),
                step,
            },
            Duration::ZERO,
        )
        .await
        .unwrap();
        step = now.step;
        assert!(step < 100, "the export finishes");
    }
    assert!(step >= 2, "several resumable steps: {step}");
    let done = exports::get(ports.store, &owner.org, &export.id, h.clock.unix())
        .await
        .unwrap();
    let archive = h
        .services
        .exports
        .get(done.archive.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(Some(archive.bytes.len() as u64), done.size);
    // Read it back as any client would: one gzip stream (of several members), one tar.
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&archive.bytes[..]));
    let mut files = std::collections::BTreeMap::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut content = vec![];
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        files.insert(path, content);
    }
    for (path, bytes) in &expected {
        assert_eq!(
            files.get(path).map(Vec::as_slice),
            Some(&bytes[..]),
            "{path}"
        );
    }
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "skiff-export/1");
    assert_eq!(manifest["counts"]["records"], 210);
    for entry in manifest["files"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        let content = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} in the archive"));
        assert_eq!(
            entry["sha256"],
            skiff_core::ports::blobs::sha256_hex(content),
            "{path}"
        );
    }
    // The chunks are gone; only the archive stays.
    let left = h
        .services
        .exports
        .list(&format!("{}/", owner.org), 100)
        .await
        .unwrap();
    assert_eq!(left, vec![done.archive.clone().unwrap()]);
}

/// The counter of backup bytes, and what the org's backup items are charged.
async fn counted_backups(h: &Harness, org: &OrgId) -> (u64, u64) {
    let store = h.services.store.as_ref();
    let usage = quota::usage(store, org).await.unwrap();
    let items = quota::recount(store, org).await.unwrap();
    (usage.backup_bytes, items.backup_bytes)
}

/// Announce backup `v{i}` of `size` bytes: its bytes and the signed upload.
async fn announce_backup(
    ports: Ports<'_>,
    owner: &Owner,
    limits: &Limits,
    i: usize,
    size: usize,
) -> (Bytes, backups::Upload) {
    let (bytes, checksum) = blob(i, size);
    let new = NewBackup {
        version: BackupVersion::parse(&format!("v{i}"), "version").unwrap(),
        timestamp: 1_700_000_000_000 + i as i64,
        checksum,
        size: size as u64,
    };
    let up = backups::upload(ports, owner, limits, new, Duration::from_secs(600))
        .await
        .unwrap();
    (bytes, up)
}

async fn a_backup_upload_is_committed_only_with_its_bytes(h: &Harness) {
    let owner = owner();
    let ports = Ports::of(&h.services);
    let roomy = limits(1 << 20);
    let (bytes, up) = announce_backup(ports, &owner, &roomy, 1, 6000).await;
    assert_eq!(up.signed.method, "PUT");
    assert!(up.signed.headers.contains_key(CHECKSUM_HEADER));
    assert_eq!(counted_backups(h, &owner.org).await, (6000, 6000));
    let key = up.backup.blob_key.clone();
    let id = up.backup.id.clone();
    let commit = || backups::commit(ports, &owner, &roomy, 10, &id);
    // Other bytes under the URL (no checksum header): refused at the commit, the
    // object deleted, nothing visible, the reservation kept for another try.
    let mut no_checksum = up.signed.headers.clone();
    no_checksum.remove(CHECKSUM_HEADER);
    let (other, _) = blob(2, 6000);
    h.client_upload(&up.signed, &key, other, &no_checksum).await;
    assert!(matches!(
        commit().await,
        Err(StorageError::ChecksumMismatch)
    ));
    assert!(h.services.blobs.head(&key).await.unwrap().is_none());
    let (short, _) = blob(1, 5999);
    h.client_upload(&up.signed, &key, short, &no_checksum).await;
    assert!(matches!(
        commit().await,
        Err(StorageError::SizeMismatch {
            expected: 6000,
            actual: 5999
        })
    ));
    let store = h.services.store.as_ref();
    assert!(backups::history(store, &owner).await.unwrap().is_empty());
    assert_eq!(counted_backups(h, &owner.org).await, (6000, 6000));
    // The announced bytes: committed, visible, read back; committing again is a no-op.
    h.client_upload(&up.signed, &key, bytes.clone(), &up.signed.headers)
        .await;
    let done = commit().await.unwrap();
    assert_eq!(commit().await.unwrap(), done);
    let (latest, reader) = backups::open_latest(ports, &owner).await.unwrap();
    assert_eq!(latest.id, done.id);
    let read: Vec<Bytes> = futures::StreamExt::collect::<Vec<_>>(reader.body)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(read.concat(), bytes.to_vec());
    assert_eq!(counted_backups(h, &owner.org).await, (6000, 6000));

    // A plan that no longer holds backups by the commit: refused, released.
    let (bytes, up) = announce_backup(ports, &owner, &roomy, 3, 4000).await;
    h.client_upload(&up.signed, &up.backup.blob_key, bytes, &up.signed.headers)
        .await;
    assert_eq!(counted_backups(h, &owner.org).await, (10_000, 10_000));
    let shrunk = Limits {
        backups: Some(8000),
        ..roomy.clone()
    };
    assert!(matches!(
        backups::commit(ports, &owner, &shrunk, 10, &up.backup.id).await,
        Err(StorageError::QuotaExceeded {
            used_bytes: 10_000,
            limit_bytes: 8000,
            ..
        })
    ));
    assert!(
        h.services
            .blobs
            .head(&up.backup.blob_key)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(counted_backups(h, &owner.org).await, (6000, 6000));
    assert!(matches!(
        backups::commit(ports, &owner, &roomy, 10, &up.backup.id).await,
        Err(StorageError::NotFound(_))
    ));

    // Never committed: the sweep releases it once its deadline passes.
    let (_, up) = announce_backup(ports, &owner, &roomy, 4, 3000).await;
    assert_eq!(counted_backups(h, &owner.org).await, (9000, 9000));
    h.clock.advance(Duration::from_secs(3600));
    let report = skiff_storage::sweep::sweep_with(store, h.services.blobs.as_ref(), h.clock.unix())
        .await
        .unwrap();
    assert_eq!(report.abandoned_writes, 1, "{report}");
    assert_eq!(report.released_bytes, 3000, "{report}");
    assert_eq!(counted_backups(h, &owner.org).await, (6000, 6000));
    assert!(matches!(
        backups::commit(ports, &owner, &roomy, 10, &up.backup.id).await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(backups::history(store, &owner).await.unwrap().len(), 1);
}

skiff_adapters::conformance_suite! {
    adapters { embedded => &super::harness(false).await, aws => &super::harness(true).await }
    cases {
        forty_concurrent_writes_fit_the_quota,
        a_crash_between_reserve_and_write_is_swept,
        replacements_and_deletions_keep_the_count_and_leave_no_blob,
        an_export_is_a_checked_tar_gz_made_in_resumable_steps,
        a_backup_upload_is_committed_only_with_its_bytes,
    }
}
