//! Create Skiff's AWS resources on an AWS-compatible endpoint (an emulator, or an
//! account without CloudFormation) from the declarations in [`crate::resources`].
//! Every function is idempotent: an existing resource is left as it is.

use crate::ports::secrets::{ALL_SECRETS, Generate};
use crate::resources::{buckets, queue, table};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

/// What provisioning created (or found), by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub table: String,
    pub blob_bucket: String,
    pub export_bucket: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub secret_id: String,
}

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

fn err_text<E: std::fmt::Debug>(e: &E) -> String {
    format!("{e:?}")
}

/// The table: pk/sk, gsi1 (gsi1pk/gsi1sk, all attributes), TTL on `ttl`,
/// on-demand billing.
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
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if err_text(&e).contains("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(fail(name, err_text(&e))),
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
        .map_err(|e| fail(name, err_text(&e)))?;
    Ok(())
}

/// A private bucket with default encryption.
pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    match client.create_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e) if err_text(&e).contains("BucketAlready") => {}
        Err(e) => return Err(fail(name, err_text(&e))),
    }
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
        .map_err(|e| fail(name, err_text(&e)))?;
    let _ = buckets::ABORT_INCOMPLETE_UPLOAD_DAYS;
    Ok(())
}

/// The queue and its dead-letter queue, with the redrive policy. Returns both URLs.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receive_count: u32,
) -> Result<(String, String), ProvisionError> {
    let dlq_name = format!("{name}-dlq");
    let dlq_url = client
        .create_queue()
        .queue_name(&dlq_name)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            queue::DLQ_RETENTION_SECS.to_string(),
        )
        .send()
        .await
        .map_err(|e| fail(&dlq_name, err_text(&e)))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| fail(&dlq_name, err_text(&e)))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| fail(&dlq_name, "no QueueArn"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receive_count,
    })
    .to_string();
    let queue_url = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            queue::VISIBILITY_TIMEOUT_SECS.to_string(),
        )
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            queue::RETENTION_SECS.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(|e| fail(name, err_text(&e)))?
        .queue_url
        .unwrap_or_default();
    Ok((queue_url, dlq_url))
}

/// The secret: a JSON object holding every generated secret of [`ALL_SECRETS`].
/// An existing secret keeps its values.
pub async fn create_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    let mut values = serde_json::Map::new();
    for s in ALL_SECRETS {
        if s.generate == Generate::RandomKey {
            values.insert(
                s.name.into(),
                hex::encode(rand::random::<[u8; 32]>()).into(),
            );
        }
    }
    match client
        .create_secret()
        .name(name)
        .secret_string(serde_json::Value::Object(values).to_string())
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if err_text(&e).contains("ResourceExists") => Ok(()),
        Err(e) => Err(fail(name, err_text(&e))),
    }
}

/// Everything, named `<prefix>-…`.
pub async fn provision_all(
    sdk: &aws_config::SdkConfig,
    path_style_s3: bool,
    prefix: &str,
) -> Result<Provisioned, ProvisionError> {
    let table_name = format!("{prefix}-table");
    let blob_bucket = format!("{prefix}-blobs");
    let export_bucket = format!("{prefix}-exports");
    let secret_id = format!("{prefix}-secret");
    create_table(&aws_sdk_dynamodb::Client::new(sdk), &table_name).await?;
    let s3 = crate::adapters::aws::s3_client(sdk, path_style_s3);
    create_bucket(&s3, &blob_bucket).await?;
    create_bucket(&s3, &export_bucket).await?;
    let (queue_url, dlq_url) = create_queues(
        &aws_sdk_sqs::Client::new(sdk),
        &format!("{prefix}-outbox"),
        queue::MAX_RECEIVE_COUNT,
    )
    .await?;
    create_secret(&aws_sdk_secretsmanager::Client::new(sdk), &secret_id).await?;
    Ok(Provisioned {
        table: table_name,
        blob_bucket,
        export_bucket,
        queue_url,
        dlq_url,
        secret_id,
    })
}
