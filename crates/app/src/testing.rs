//! Helpers for tests that need the whole wiring (services over a fresh data dir).

/// Embedded services over a fresh data dir, with a clock tests can move.
pub async fn embedded_services(
    data_dir: &std::path::Path,
) -> (
    crate::Embedded,
    std::sync::Arc<skiff_core::clock::OffsetClock>,
) {
    let config = crate::AppConfig::from_vars(vec![(
        "SKIFF_DATA_DIR".to_owned(),
        data_dir.display().to_string(),
    )])
    .expect("test config");
    let clock = skiff_core::clock::OffsetClock::new();
    let embedded = crate::services::embedded(config, clock.clone())
        .await
        .expect("embedded services start");
    (embedded, clock)
}

/// The AWS services over resources freshly provisioned on the emulator that
/// `scripts/with-moto.sh` starts, named under `prefix`; `queue_url` stands in for
/// the provisioned queue when given.
pub async fn aws_services(prefix: &str, queue_url: Option<&str>) -> skiff_core::Services {
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let prefix = skiff_adapters::testing::unique_name(prefix);
    let res = skiff_adapters::provision::provision_all(&sdk, true, &prefix, &crate::secrets())
        .await
        .expect("provision on the emulator");
    let vars = [
        ("SKIFF_BACKEND", "aws"),
        ("SKIFF_TABLE", res.table.as_str()),
        ("SKIFF_BLOB_BUCKET", res.blob_bucket.as_str()),
        ("SKIFF_EXPORT_BUCKET", res.export_bucket.as_str()),
        ("SKIFF_QUEUE_URL", queue_url.unwrap_or(&res.queue_url)),
        ("SKIFF_DLQ_URL", res.dlq_url.as_str()),
        ("SKIFF_SECRET_ID", res.secret_id.as_str()),
        ("SKIFF_VECTOR_BUCKETS", &res.vector_buckets.join(",")),
        ("AWS_ENDPOINT_URL", res.endpoint_url.as_deref().unwrap()),
    ];
    let config =
        crate::AppConfig::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .expect("an AWS configuration");
    crate::services::aws_with_sdk(
        config,
        &sdk,
        std::sync::Arc::new(skiff_core::clock::SystemClock),
    )
    .await
    .expect("AWS services")
}
