//! Create Skiff's AWS resources on an AWS-compatible endpoint (an emulator, or an
//! account without CloudFormation) from the declarations in [`skiff_core::resources`],
//! with the same settings `template.yaml` declares.
//!
//! Every function is idempotent and converging: a missing resource is created, an
//! existing one gets the declared settings (TTL, point-in-time recovery, bucket
//! protection and lifecycle, queue attributes, newly declared secrets) without
//! losing data. A resource that exists with an incompatible shape (e.g. another
//! key schema) is an error, never silently accepted.
//!
//! Like the template, the table is created with deletion protection: to delete a
//! provisioned table, turn it off first.

use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, PointInTimeRecoveryStatus, Projection, ProjectionType,
    ScalarAttributeType, SseSpecification, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_types::error::display::DisplayErrorContext;
use skiff_core::config::AwsResources;
use skiff_core::ports::secrets::{Generate, SecretName};
use skiff_core::resources::{buckets, queue, table};
use std::collections::HashMap;
use std::time::Duration;

/// What provisioning created (or found), by name: the configuration's own
/// [`AwsResources`], so the result can configure the AWS backend as is.
pub type Provisioned = AwsResources;

#[derive(Debug, thiserror::Error)]
#[error("provisioning {resource} failed: {reason}")]
pub struct ProvisionError {
    pub resource: String,
    pub reason: String,
}

fn fail(resource: &str, e: impl std::fmt::Display) -> ProvisionError {
    ProvisionError {
        resource: resource.to_owned(),
        reason: e.to_string(),
    }
}

/// An SDK error with its whole source chain (the service's code and message).
fn sdk_fail<E: std::error::Error>(resource: &str, e: E) -> ProvisionError {
    fail(resource, DisplayErrorContext(e))
}

/// How long to wait for a new table to become ACTIVE.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

// ------------------------------------------------------------------ table

/// The table: pk/sk, gsi1 (gsi1pk/gsi1sk, all attributes), TTL on `ttl`,
/// on-demand billing, encryption, point-in-time recovery, deletion protection.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("key schema")
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definition")
    };
    let gsi = GlobalSecondaryIndex::builder()
        .index_name(table::GSI1)
        .key_schema(key(table::GSI1_PARTITION_KEY, KeyType::Hash))
        .key_schema(key(table::GSI1_SORT_KEY, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| fail(name, e))?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(table::PARTITION_KEY, KeyType::Hash))
        .key_schema(key(table::SORT_KEY, KeyType::Range))
        .attribute_definitions(attr(table::PARTITION_KEY))
        .attribute_definitions(attr(table::SORT_KEY))
        .attribute_definitions(attr(table::GSI1_PARTITION_KEY))
        .attribute_definitions(attr(table::GSI1_SORT_KEY))
        .global_secondary_indexes(gsi)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .deletion_protection_enabled(true)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_in_use_exception()) => {}
        Err(e) => return Err(sdk_fail(name, e)),
    }

    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(TABLE_ACTIVE_TIMEOUT)
        .await
        .map_err(|e| sdk_fail(name, e))?;
    let described = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    let desc = described
        .table()
        .ok_or_else(|| fail(name, "DescribeTable returned no table"))?;
    check_table_shape(name, desc)?;
    if desc.deletion_protection_enabled() != Some(true) {
        client
            .update_table()
            .table_name(name)
            .deletion_protection_enabled(true)
            .send()
            .await
            .map_err(|e| sdk_fail(name, e))?;
    }

    ensure_ttl(client, name).await?;
    ensure_point_in_time_recovery(client, name).await
}

/// An existing table must have the declared keys and index; anything else is a
/// different table that Skiff must not write into.
fn check_table_shape(
    name: &str,
    desc: &aws_sdk_dynamodb::types::TableDescription,
) -> Result<(), ProvisionError> {
    let keys = |schema: &[KeySchemaElement]| -> Vec<(String, String)> {
        schema
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect()
    };
    let expected = |h: &str, r: &str| {
        vec![
            (h.to_owned(), "HASH".to_owned()),
            (r.to_owned(), "RANGE".to_owned()),
        ]
    };
    let found = keys(desc.key_schema());
    if found != expected(table::PARTITION_KEY, table::SORT_KEY) {
        return Err(fail(
            name,
            format!(
                "the existing table's key schema is {found:?}, expected {}/{}",
                table::PARTITION_KEY,
                table::SORT_KEY
            ),
        ));
    }
    let gsi = desc
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(table::GSI1))
        .ok_or_else(|| {
            fail(
                name,
                format!("the existing table has no index {}", table::GSI1),
            )
        })?;
    let found = keys(gsi.key_schema());
    if found != expected(table::GSI1_PARTITION_KEY, table::GSI1_SORT_KEY) {
        return Err(fail(
            name,
            format!("index {} has key schema {found:?}", table::GSI1),
        ));
    }
    Ok(())
}

async fn ensure_ttl(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), ProvisionError> {
    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    let desc = ttl.time_to_live_description();
    let status = desc.and_then(|d| d.time_to_live_status());
    let attribute = desc.and_then(|d| d.attribute_name());
    match status {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
            return if attribute == Some(table::TTL_ATTRIBUTE) {
                Ok(())
            } else {
                Err(fail(
                    name,
                    format!(
                        "TTL is on attribute {attribute:?}, expected `{}`",
                        table::TTL_ATTRIBUTE
                    ),
                ))
            };
        }
        Some(TimeToLiveStatus::Disabling) => {
            return Err(fail(name, "TTL is being disabled; retry in an hour"));
        }
        _ => {}
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(table::TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(|e| fail(name, e))?,
        )
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    Ok(())
}

async fn ensure_point_in_time_recovery(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    let backups = client
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    let enabled = backups
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled);
    if enabled {
        return Ok(());
    }
    client
        .update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .map_err(|e| fail(name, e))?,
        )
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    Ok(())
}

// ------------------------------------------------------------------ buckets

/// A private bucket: default encryption (SSE-S3), all public access blocked,
/// ACLs disabled, incomplete multipart uploads aborted after
/// [`buckets::ABORT_INCOMPLETE_UPLOAD_DAYS`]. See [`require_tls`] for the
/// TLS-only policy.
pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProvisionError> {
    ensure_bucket(client, name, false, None).await
}

/// The user-blob bucket: a private bucket, versioned; old versions expire after
/// [`buckets::NONCURRENT_VERSION_EXPIRATION_DAYS`].
pub async fn create_blob_bucket(
    client: &aws_sdk_s3::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::NoncurrentVersionExpiration;
    let noncurrent = lifecycle_rule(name, "expire-noncurrent-versions", |rule| {
        rule.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(buckets::NONCURRENT_VERSION_EXPIRATION_DAYS)
                .build(),
        )
    })?;
    ensure_bucket(client, name, true, Some(noncurrent)).await
}

/// The export bucket: a private bucket whose objects expire after
/// [`buckets::EXPORT_EXPIRATION_DAYS`].
pub async fn create_export_bucket(
    client: &aws_sdk_s3::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::LifecycleExpiration;
    let expire = lifecycle_rule(name, "expire-exports", |rule| {
        rule.expiration(
            LifecycleExpiration::builder()
                .days(buckets::EXPORT_EXPIRATION_DAYS)
                .build(),
        )
    })?;
    ensure_bucket(client, name, false, Some(expire)).await
}

/// An enabled lifecycle rule `id` over the whole bucket; `action` adds what it does.
fn lifecycle_rule(
    bucket: &str,
    id: &str,
    action: impl FnOnce(LifecycleRuleBuilder) -> LifecycleRuleBuilder,
) -> Result<aws_sdk_s3::types::LifecycleRule, ProvisionError> {
    use aws_sdk_s3::types::{ExpirationStatus, LifecycleRule, LifecycleRuleFilter};
    let rule = LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build());
    action(rule).build().map_err(|e| fail(bucket, e))
}

type LifecycleRuleBuilder = aws_sdk_s3::types::builders::LifecycleRuleBuilder;

/// Create (or adopt) the bucket, then put every setting; each put replaces the
/// previous value, so a second run converges to the same state. Every bucket
/// aborts incomplete multipart uploads; `extra_rule` is its own lifecycle rule.
async fn ensure_bucket(
    client: &aws_sdk_s3::Client,
    name: &str,
    versioned: bool,
    extra_rule: Option<aws_sdk_s3::types::LifecycleRule>,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::AbortIncompleteMultipartUpload;
    let abort_incomplete_uploads = lifecycle_rule(name, "abort-incomplete-uploads", |rule| {
        rule.abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(buckets::ABORT_INCOMPLETE_UPLOAD_DAYS)
                .build(),
        )
    })?;
    let rules = std::iter::once(abort_incomplete_uploads)
        .chain(extra_rule)
        .collect();
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
        CreateBucketConfiguration, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
        PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
    };

    let mut create = client.create_bucket().bucket(name);
    // us-east-1 is the default location and must not be named.
    if let Some(region) = client.config().region().map(|r| r.as_ref().to_owned())
        && region != "us-east-1"
    {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_bucket_already_owned_by_you()) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_bucket_already_exists()) =>
        {
            // Taken: ours only if we can reach it.
            client
                .head_bucket()
                .bucket(name)
                .send()
                .await
                .map_err(|he| {
                    fail(
                        name,
                        format!(
                            "the bucket name is taken by another account ({})",
                            DisplayErrorContext(he)
                        ),
                    )
                })?;
        }
        Err(e) => return Err(sdk_fail(name, e)),
    }

    client
        .put_bucket_ownership_controls()
        .bucket(name)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .map_err(|e| fail(name, e))?,
                )
                .build()
                .map_err(|e| fail(name, e))?,
        )
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;

    client
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;

    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| fail(name, e))?,
        )
        .build();
    client
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| fail(name, e))?,
        )
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;

    if versioned {
        client
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_fail(name, e))?;
    }

    client
        .put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .map_err(|e| fail(name, e))?,
        )
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;

    Ok(())
}

/// Deny every request to the bucket that does not use TLS, as the template's
/// bucket policies do. Not for a bucket reached over plain HTTP (an emulator):
/// the policy would lock every client out, which [`provision_all`] avoids.
pub async fn require_tls(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProvisionError> {
    client
        .put_bucket_policy()
        .bucket(name)
        .policy(tls_only_policy(name).to_string())
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    Ok(())
}

fn tls_only_policy(bucket: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                format!("arn:aws:s3:::{bucket}"),
                format!("arn:aws:s3:::{bucket}/*"),
            ],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        }],
    })
}

// ------------------------------------------------------------------ queues

/// The queue and its dead-letter queue, with the redrive policy, the declared
/// visibility timeout and retention, SQS-managed encryption. Returns both URLs.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receive_count: u32,
) -> Result<(String, String), ProvisionError> {
    let dlq_name = format!("{name}-dlq");
    let dlq_url = ensure_queue(
        client,
        &dlq_name,
        HashMap::from([
            (
                QueueAttributeName::MessageRetentionPeriod,
                queue::DLQ_RETENTION_SECS.to_string(),
            ),
            (QueueAttributeName::SqsManagedSseEnabled, "true".to_owned()),
        ]),
    )
    .await?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_fail(&dlq_name, e))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| fail(&dlq_name, "no QueueArn"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receive_count,
    })
    .to_string();
    let queue_url = ensure_queue(
        client,
        name,
        HashMap::from([
            (
                QueueAttributeName::VisibilityTimeout,
                queue::VISIBILITY_TIMEOUT_SECS.to_string(),
            ),
            (
                QueueAttributeName::MessageRetentionPeriod,
                queue::RETENTION_SECS.to_string(),
            ),
            (QueueAttributeName::RedrivePolicy, redrive),
            (QueueAttributeName::SqsManagedSseEnabled, "true".to_owned()),
        ]),
    )
    .await?;
    Ok((queue_url, dlq_url))
}

/// Create the queue with `attributes`; an existing queue with other attributes
/// gets them set instead (its messages stay).
async fn ensure_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> Result<String, ProvisionError> {
    let created = client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes.clone()))
        .send()
        .await;
    let url = match created {
        Ok(out) => return out.queue_url.ok_or_else(|| fail(name, "no QueueUrl")),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_queue_name_exists()) =>
        {
            client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| sdk_fail(name, e))?
                .queue_url
                .ok_or_else(|| fail(name, "no QueueUrl"))?
        }
        Err(e) => return Err(sdk_fail(name, e)),
    };
    client
        .set_queue_attributes()
        .queue_url(&url)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    Ok(url)
}

// ------------------------------------------------------------------ secret

/// A fresh value for a [`Generate::RandomKey`] secret: 32 random bytes, hex.
fn random_key() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The secret: a JSON object holding every generated secret of `known` (the
/// deployment's whole list, which the wiring crate assembles). An existing secret
/// keeps its values; generated secrets it lacks (declared since it was created)
/// are added.
pub async fn create_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    known: &[SecretName],
) -> Result<(), ProvisionError> {
    let generated = || known.iter().filter(|s| s.generate == Generate::RandomKey);
    let mut values = serde_json::Map::new();
    for s in generated() {
        values.insert(s.name.into(), random_key().into());
    }
    match client
        .create_secret()
        .name(name)
        .secret_string(serde_json::Value::Object(values).to_string())
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_exists_exception()) => {}
        Err(e) => return Err(sdk_fail(name, e)),
    }

    let current = client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| sdk_fail(name, e))?;
    let mut values = match current
        .secret_string()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(serde_json::Value::Object(map))) => map,
        // Never echo the value: it is a secret.
        _ => return Err(fail(name, "the existing secret is not a JSON object")),
    };
    let mut changed = false;
    for s in generated() {
        if !values.contains_key(s.name) {
            values.insert(s.name.into(), random_key().into());
            changed = true;
        }
    }
    if changed {
        client
            .put_secret_value()
            .secret_id(name)
            .secret_string(serde_json::Value::Object(values).to_string())
            .send()
            .await
            .map_err(|e| sdk_fail(name, e))?;
    }
    Ok(())
}

// ------------------------------------------------------------------ vector buckets

/// An S3 Vectors bucket encrypted with SSE-S3 (the template's setting). Indexes are
/// the vector adapter's business: it creates one per namespace on first use. A
/// bucket of that name that this account cannot read is an error.
pub async fn create_vector_bucket(
    client: &aws_sdk_s3vectors::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3vectors::error::ProvideErrorMetadata;
    use aws_sdk_s3vectors::types::{EncryptionConfiguration, SseType};
    let created = client
        .create_vector_bucket()
        .vector_bucket_name(name)
        .encryption_configuration(
            EncryptionConfiguration::builder()
                .sse_type(SseType::Aes256)
                .build(),
        )
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ConflictException") => {
            // Exists: ours only if we can read it.
            client
                .get_vector_bucket()
                .vector_bucket_name(name)
                .send()
                .await
                .map_err(|ge| {
                    fail(
                        name,
                        format!(
                            "the vector bucket exists but cannot be read ({})",
                            DisplayErrorContext(ge)
                        ),
                    )
                })?;
            Ok(())
        }
        Err(e) => Err(sdk_fail(name, e)),
    }
}

// ------------------------------------------------------------------ all

/// Everything, named `<prefix>-…`. Buckets get the TLS-only policy unless the
/// endpoint is plain HTTP (an emulator), where it would deny every request.
/// Returns the names, with `sdk`'s endpoint (set only against an emulator).
pub async fn provision_all(
    sdk: &aws_config::SdkConfig,
    path_style_s3: bool,
    prefix: &str,
    secrets: &[SecretName],
) -> Result<AwsResources, ProvisionError> {
    let table_name = format!("{prefix}-table");
    let blob_bucket = format!("{prefix}-blobs");
    let export_bucket = format!("{prefix}-exports");
    let secret_id = format!("{prefix}-secret");
    let vector_buckets: Vec<String> = (0..skiff_core::resources::vectors::BUCKETS)
        .map(|i| format!("{prefix}-vectors-{i}"))
        .collect();
    create_table(&aws_sdk_dynamodb::Client::new(sdk), &table_name).await?;
    let s3 = crate::aws::s3_client(sdk, path_style_s3);
    create_blob_bucket(&s3, &blob_bucket).await?;
    create_export_bucket(&s3, &export_bucket).await?;
    let plain_http = sdk.endpoint_url().is_some_and(|u| u.starts_with("http://"));
    if !plain_http {
        require_tls(&s3, &blob_bucket).await?;
        require_tls(&s3, &export_bucket).await?;
    }
    let (queue_url, dlq_url) = create_queues(
        &aws_sdk_sqs::Client::new(sdk),
        &format!("{prefix}-outbox"),
        queue::MAX_RECEIVE_COUNT,
    )
    .await?;
    create_secret(
        &aws_sdk_secretsmanager::Client::new(sdk),
        &secret_id,
        secrets,
    )
    .await?;
    let s3vectors = aws_sdk_s3vectors::Client::new(sdk);
    for bucket in &vector_buckets {
        create_vector_bucket(&s3vectors, bucket).await?;
    }
    Ok(AwsResources {
        table: table_name,
        blob_bucket,
        export_bucket,
        queue_url,
        dlq_url,
        secret_id,
        vector_buckets,
        endpoint_url: sdk.endpoint_url().map(str::to_owned),
    })
}
