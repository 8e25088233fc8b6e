//! Licensing calls: the public key-based routes, the org's licenses, and the raw
//! seat protocol (most products want [`crate::SeatSession`] instead).

use crate::client::{Client, decode, segment};
use crate::error::Result;
use crate::types::{
    Activation, Heartbeat, KeyStatus, License, LicensePage, PublicKeyInfo, Seat, Validation,
};
use reqwest::Method;
use serde_json::json;

impl Client {
    /// Is this key valid now (optionally: on this activated machine)? Public; a
    /// well-formed key always answers, with `code` saying why not.
    pub async fn validate(
        &self,
        license_key: &str,
        hardware_id: Option<&str>,
    ) -> Result<Validation> {
        let mut body = json!({"license_key": license_key});
        if let Some(hw) = hardware_id {
            body["hardware_id"] = hw.into();
        }
        self.send_json(
            self.raw(Method::POST, "/api/v1/licenses/validate")
                .json(&body),
        )
        .await
    }

    /// Bind this machine to the license (idempotent). Public, key-based.
    pub async fn activate(&self, license_key: &str, hardware_id: &str) -> Result<Activation> {
        self.send_json(
            self.raw(Method::POST, "/api/v1/licenses/activate")
                .json(&json!({"license_key": license_key, "hardware_id": hardware_id})),
        )
        .await
    }

    /// Unbind this machine (on uninstall; idempotent). Public, key-based.
    pub async fn deactivate(&self, license_key: &str, hardware_id: &str) -> Result<()> {
        self.send_empty(
            self.raw(Method::POST, "/api/v1/licenses/deactivate")
                .json(&json!({"license_key": license_key, "hardware_id": hardware_id})),
        )
        .await
    }

    /// The key's status. Public.
    pub async fn license_status(&self, license_key: &str) -> Result<KeyStatus> {
        let path = format!("/api/v1/licenses/{}/status", segment(license_key));
        self.send_json(self.raw(Method::GET, &path)).await
    }

    /// The license-file verification key. Public; ship it inside your product
    /// rather than fetching it at run time.
    pub async fn public_key(&self) -> Result<PublicKeyInfo> {
        self.send_json(self.raw(Method::GET, "/api/v1/licenses/public-key"))
            .await
    }

    /// The org's licenses, one page (`cursor` from the previous page).
    pub async fn licenses(&self, cursor: Option<&str>) -> Result<LicensePage> {
        let resp = self
            .send_authorized(Method::GET, "/api/v1/licenses", |r| match cursor {
                Some(c) => r.query(&[("cursor", c)]),
                None => r,
            })
            .await?;
        decode(resp).await
    }

    /// One of the org's licenses.
    pub async fn license(&self, id: &str) -> Result<License> {
        self.get_json(&format!("/api/v1/licenses/{}", segment(id)))
            .await
    }

    /// The signed license file (`-----BEGIN SKIFF LICENSE-----` …), for offline
    /// checks with [`crate::license_file::verify`].
    pub async fn download_license(&self, id: &str) -> Result<String> {
        let path = format!("/api/v1/licenses/{}/download", segment(id));
        let resp = self.send_authorized(Method::GET, &path, |r| r).await?;
        resp.text().await.map_err(crate::Error::from_reqwest)
    }

    /// Take a floating seat for this machine (a signed-in user with a verified
    /// e-mail). Acquiring again from the same machine refreshes the same session.
    /// A full license is 429 `SEATS_EXHAUSTED` ([`crate::Error::is_seats_exhausted`]).
    pub async fn acquire_seat(&self, license_key: &str, hardware_id: &str) -> Result<Seat> {
        let body = json!({"license_key": license_key, "hardware_id": hardware_id});
        let resp = self
            .send_authorized(Method::POST, "/api/v1/licenses/acquire", |r| r.json(&body))
            .await?;
        decode(resp).await
    }

    /// Renew a seat's lease. 410 `SESSION_EXPIRED` when the session ended.
    pub async fn heartbeat_seat(&self, session_id: &str, signed_token: &str) -> Result<Heartbeat> {
        let body = json!({"session_id": session_id, "signed_token": signed_token});
        let resp = self
            .send_authorized(Method::POST, "/api/v1/licenses/heartbeat", |r| {
                r.json(&body)
            })
            .await?;
        decode(resp).await
    }

    /// Give a seat back (idempotent).
    pub async fn release_seat(&self, session_id: &str, signed_token: &str) -> Result<()> {
        let body = json!({"session_id": session_id, "signed_token": signed_token});
        self.send_authorized(Method::POST, "/api/v1/licenses/release", |r| r.json(&body))
            .await
            .map(drop)
    }
}
