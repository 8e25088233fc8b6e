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
