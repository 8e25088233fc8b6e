//! Provisioning against the AWS emulator (moto): `provision_all` creates what
//! `template.yaml` declares, a second run is harmless, and an existing resource
//! with drifted settings converges. Run with `scripts/with-moto.sh`.

use aws_sdk_dynamodb::types::{
    KeyType, PointInTimeRecoveryStatus, ProjectionType, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_sqs::types::QueueAttributeName;
use skiff_adapters::provision::{self, Provisioned};
use skiff_adapters::testing::{aws_sdk_config, unique_name};
use skiff_core::ports::secrets::Generate;
use skiff_core::resources::{buckets, queue, table};

async fn provision_twice() -> (aws_config::SdkConfig, Provisioned) {
    let sdk = aws_sdk_config().await;
    let prefix = unique_name("prov");
    let first = provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .expect("first provisioning");
    let second = provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .expect("second provisioning of the same prefix");
    assert_eq!(first, second, "a second run finds the same resources");
    (sdk, second)
}

fn s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    skiff_adapters::aws::s3_client(sdk, true)
}

async fn secret_json(sdk: &aws_config::SdkConfig, id: &str) -> serde_json::Value {
    let v = aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .expect("get secret");
    serde_json::from_str(v.secret_string().expect("a string secret")).expect("JSON secret")
}

async fn queue_attributes(
    sdk: &aws_config::SdkConfig,
    url: &str,
) -> std::collections::HashMap<QueueAttributeName, String> {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .unwrap_or_default()
}

#[tokio::test]
async fn table_has_keys_index_ttl_recovery_and_protection() {
    let (sdk, p) = provision_twice().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let out = ddb
        .describe_table()
        .table_name(&p.table)
        .send()
        .await
        .unwrap();
    let t = out.table().unwrap();

    let keys: Vec<(&str, &KeyType)> = t
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(
        keys,
        [
            (table::PARTITION_KEY, &KeyType::Hash),
            (table::SORT_KEY, &KeyType::Range)
        ]
    );
    let gsis = t.global_secondary_indexes();
    assert_eq!(gsis.len(), 1);
    assert_eq!(gsis[0].index_name(), Some(table::GSI1));
    let gsi_keys: Vec<&str> = gsis[0]
        .key_schema()
        .iter()
        .map(|k| k.attribute_name())
        .collect();
    assert_eq!(gsi_keys, [table::GSI1_PARTITION_KEY, table::GSI1_SORT_KEY]);
    assert_eq!(
        gsis[0].projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
    );
    assert_eq!(t.deletion_protection_enabled(), Some(true));

    let ttl = ddb
        .describe_time_to_live()
        .table_name(&p.table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some(table::TTL_ATTRIBUTE));

    let backups = ddb
        .describe_continuous_backups()
        .table_name(&p.table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        backups
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status()),
        Some(&PointInTimeRecoveryStatus::Enabled)
    );

    // Deletion protection is real: the emulator refuses to drop the table.
    let dropped = ddb.delete_table().table_name(&p.table).send().await;
    assert!(dropped.is_err(), "a protected table cannot be deleted");
}

#[tokio::test]
async fn queue_redrives_into_the_dlq_with_the_declared_limits() {
    let (sdk, p) = provision_twice().await;
    let q = queue_attributes(&sdk, &p.queue_url).await;
    let dlq = queue_attributes(&sdk, &p.dlq_url).await;

    let redrive: serde_json::Value =
        serde_json::from_str(&q[&QueueAttributeName::RedrivePolicy]).expect("RedrivePolicy JSON");
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        queue::MAX_RECEIVE_COUNT.to_string()
    );
    assert_eq!(
        redrive["deadLetterTargetArn"].as_str(),
        Some(dlq[&QueueAttributeName::QueueArn].as_str())
    );
    assert_eq!(
        q[&QueueAttributeName::VisibilityTimeout],
        queue::VISIBILITY_TIMEOUT_SECS.to_string()
    );
    assert_eq!(
        q[&QueueAttributeName::MessageRetentionPeriod],
        queue::RETENTION_SECS.to_string()
    );
    assert_eq!(
        dlq[&QueueAttributeName::MessageRetentionPeriod],
        queue::DLQ_RETENTION_SECS.to_string()
    );
    for attrs in [&q, &dlq] {
        assert_eq!(attrs[&QueueAttributeName::SqsManagedSseEnabled], "true");
    }
}

#[tokio::test]
async fn buckets_are_private_encrypted_with_lifecycle_rules() {
    let (sdk, p) = provision_twice().await;
    let s3 = s3(&sdk);

    for bucket in [&p.blob_bucket, &p.export_bucket] {
        let pab = s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let pab = pab.public_access_block_configuration().unwrap();
        assert_eq!(
            (
                pab.block_public_acls(),
                pab.block_public_policy(),
                pab.ignore_public_acls(),
                pab.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true)),
            "{bucket}"
        );
        let enc = s3
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let algo = enc
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().clone());
        assert_eq!(algo, Some(ServerSideEncryption::Aes256), "{bucket}");
    }

    let rules = |bucket: String| {
        let s3 = s3.clone();
        async move {
            s3.get_bucket_lifecycle_configuration()
                .bucket(bucket)
                .send()
                .await
                .unwrap()
                .rules()
                .to_vec()
        }
    };
    let blob_rules = rules(p.blob_bucket.clone()).await;
    let abort_days: Vec<i32> = blob_rules
        .iter()
        .filter_map(|r| {
            r.abort_incomplete_multipart_upload()?
                .days_after_initiation()
        })
        .collect();
    assert_eq!(abort_days, [buckets::ABORT_INCOMPLETE_UPLOAD_DAYS]);
    let noncurrent: Vec<i32> = blob_rules
        .iter()
        .filter_map(|r| r.noncurrent_version_expiration()?.noncurrent_days())
        .collect();
    assert_eq!(noncurrent, [buckets::NONCURRENT_VERSION_EXPIRATION_DAYS]);
    // Versioning, observed by its effect (moto 5.2.5's GetBucketVersioning reply has
    // a root element the SDK rejects): a second put keeps the first as a version.
    for body in [&b"v1"[..], &b"v2"[..]] {
        s3.put_object()
            .bucket(&p.blob_bucket)
            .key("versioned")
            .body(body.to_vec().into())
            .send()
            .await
            .expect("put into the provisioned blob bucket");
    }
    let versions = s3
        .list_object_versions()
        .bucket(&p.blob_bucket)
        .prefix("versioned")
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        2,
        "the blob bucket keeps old versions"
    );

    let export_rules = rules(p.export_bucket.clone()).await;
    let expiry: Vec<i32> = export_rules
        .iter()
        .filter_map(|r| r.expiration()?.days())
        .collect();
    assert_eq!(expiry, [buckets::EXPORT_EXPIRATION_DAYS]);
    let abort_days: Vec<i32> = export_rules
        .iter()
        .filter_map(|r| {
            r.abort_incomplete_multipart_upload()?
                .days_after_initiation()
        })
        .collect();
    assert_eq!(abort_days, [buckets::ABORT_INCOMPLETE_UPLOAD_DAYS]);

    // The export bucket is not versioned: an overwrite replaces the object.
    for body in [&b"v1"[..], &b"v2"[..]] {
        s3.put_object()
            .bucket(&p.export_bucket)
            .key("export")
            .body(body.to_vec().into())
            .send()
            .await
            .expect("put into the provisioned export bucket");
    }
    let versions = s3
        .list_object_versions()
        .bucket(&p.export_bucket)
        .prefix("export")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1, "exports are not versioned");
}

#[tokio::test]
async fn vector_buckets_exist_encrypted_one_per_declared_shard() {
    let (sdk, p) = provision_twice().await;
    assert_eq!(
        p.vector_buckets.len(),
        skiff_core::resources::vectors::BUCKETS
    );
    let client = aws_sdk_s3vectors::Client::new(&sdk);
    for name in &p.vector_buckets {
        let out = client
            .get_vector_bucket()
            .vector_bucket_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let sse = out
            .vector_bucket()
            .and_then(|b| b.encryption_configuration())
            .map(|e| e.sse_type());
        assert_eq!(
            sse,
            Some(&aws_sdk_s3vectors::types::SseType::Aes256),
            "{name}"
        );
    }
}

#[tokio::test]
async fn secret_holds_every_generated_key_and_keeps_it_across_runs() {
    let sdk = aws_sdk_config().await;
    let prefix = unique_name("prov");
    let p = provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .unwrap();
    let before = secret_json(&sdk, &p.secret_id).await;
    for s in skiff_app::secrets()
        .iter()
        .filter(|s| s.generate == Generate::RandomKey)
    {
        let v = before[s.name]
            .as_str()
            .unwrap_or_else(|| panic!("{} missing", s.name));
        assert_eq!(v.len(), 64, "{}: 32 bytes, hex", s.name);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
    provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .unwrap();
    assert_eq!(
        secret_json(&sdk, &p.secret_id).await,
        before,
        "an existing secret keeps its values"
    );
}

#[tokio::test]
async fn existing_resources_with_drifted_settings_converge() {
    let sdk = aws_sdk_config().await;
    let prefix = unique_name("drift");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);

    // A queue created by hand with another visibility timeout and no redrive.
    let queue_name = format!("{prefix}-outbox");
    sqs.create_queue()
        .queue_name(&queue_name)
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .send()
        .await
        .unwrap();
    // A secret from before a generated key was declared.
    let secret_id = format!("{prefix}-secret");
    sm.create_secret()
        .name(&secret_id)
        .secret_string(r#"{"kept":"as-is"}"#)
        .send()
        .await
        .unwrap();

    let p = provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .unwrap();
    // TTL switched off behind provisioning's back.
    ddb.update_time_to_live()
        .table_name(&p.table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(table::TTL_ATTRIBUTE)
                .enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .unwrap();

    let q = queue_attributes(&sdk, &p.queue_url).await;
    assert_eq!(
        q[&QueueAttributeName::VisibilityTimeout],
        queue::VISIBILITY_TIMEOUT_SECS.to_string()
    );
    assert!(q.contains_key(&QueueAttributeName::RedrivePolicy));

    let secret = secret_json(&sdk, &secret_id).await;
    assert_eq!(secret["kept"], "as-is");
    for s in skiff_app::secrets()
        .iter()
        .filter(|s| s.generate == Generate::RandomKey)
    {
        assert_eq!(
            secret[s.name].as_str().map(str::len),
            Some(64),
            "{} added",
            s.name
        );
    }

    let ttl = ddb
        .describe_time_to_live()
        .table_name(&p.table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.time_to_live_status()),
        Some(&TimeToLiveStatus::Enabled)
    );
}

#[tokio::test]
async fn tls_only_policy_denies_plain_http_so_emulator_buckets_go_without_it() {
    let (sdk, p) = provision_twice().await;
    let s3 = s3(&sdk);
    // Provisioned over the emulator's plain HTTP: usable, no policy.
    s3.put_object()
        .bucket(&p.export_bucket)
        .key("probe")
        .body(b"ok".to_vec().into())
        .send()
        .await
        .expect("a bucket provisioned over plain HTTP stays usable over it");
    assert!(
        s3.get_bucket_policy()
            .bucket(&p.export_bucket)
            .send()
            .await
            .is_err()
    );

    // The policy itself: after require_tls, plain HTTP is denied.
    let bucket = unique_name("tls");
    provision::create_bucket(&s3, &bucket).await.unwrap();
    provision::require_tls(&s3, &bucket).await.unwrap();
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(policy.policy().unwrap()).expect("policy JSON");
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    let denied = s3
        .put_object()
        .bucket(&bucket)
        .key("probe")
        .body(b"no".to_vec().into())
        .send()
        .await;
    assert_eq!(
        denied
            .err()
            .and_then(|e| e.raw_response().map(|r| r.status().as_u16())),
        Some(403),
        "plain-HTTP requests are denied"
    );
}
