//! Shared set-up of the licensing function's tests: embedded services over a fresh
//! data dir, with a clock the test moves, and requests through the real router.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use skiff_app::AppConfig as Config;
use skiff_core::clock::OffsetClock;
use skiff_core::ids::{OrgId, SubscriptionId};
use skiff_core::services::Services;
use skiff_licensing::hooks::{self, Entitlement};
use skiff_licensing::model::License;
use skiff_licensing::repo;
use std::sync::Arc;
use tower::ServiceExt;

pub struct Env {
    pub services: Services,
    pub clock: Arc<OffsetClock>,
    _dir: tempfile::TempDir,
}

/// Embedded services with extra configuration variables.
pub async fn env_with(vars: &[(&str, &str)]) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = vec![(
        "SKIFF_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    )];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_vars(all).expect("config");
    let clock = OffsetClock::new();
    let embedded = skiff_app::services::embedded(config, clock.clone())
        .await
        .expect("embedded services");
    Env {
        services: embedded.services,
        clock,
        _dir: dir,
    }
}

pub async fn env() -> Env {
    env_with(&[]).await
}

impl Env {
    /// A license issued the way billing issues it.
    pub async fn issue(&self, org: &OrgId, max_seats: i64) -> License {
        let ent = Entitlement {
            org_id: org.clone(),
            plan_id: "pro".into(),
            tier: "pro".into(),
            features: vec!["sso".into()],
            max_seats,
            expires_at: self.services.clock.unix() + 30 * 24 * 3600,
            subscription_id: SubscriptionId::parse(&format!("sub_{}", uuid_like())).unwrap(),
        };
        hooks::issue_license(&self.services, &ent)
            .await
            .expect("issue");
        repo::for_subscription(self.services.store.as_ref(), org, &ent.subscription_id)
            .await
            .unwrap()
            .expect("issued")
    }

    /// Send a request through the licensing router (no common layers).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let router = skiff_fn_licensing::router().with_state(self.services.clone());
        let response = router.oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, body)
    }

    /// Move the clock to the start of the next rate-limit minute, so a test's requests
    /// never straddle two windows.
    pub fn at_window_start(&self) {
        use skiff_core::clock::Clock;
        let into = self
            .clock
            .now()
            .unix_timestamp_nanos()
            .rem_euclid(60_000_000_000);
        let to_next = 60_000_000_000 - into;
        self.clock
            .advance(std::time::Duration::from_nanos(to_next as u64 + 1_000_000));
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.send(
            Request::post(path)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }
}

pub fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A well-formed org id named after `name` (≤ 16 bytes): the same name, the same org.
pub fn org(name: &str) -> OrgId {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    OrgId::parse(&format!("org_{hex:0<32}")).expect("a short name")
}
