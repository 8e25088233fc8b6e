//! The "license issued" e-mail: the key and the signed license file, sent once per
//! license through the outbox to the org's owners and admins.

use super::model::License;
use super::{LicensingError, repo};
use skiff_core::outbox;
use skiff_core::ports::mail::Email;
use skiff_core::services::Services;
use skiff_identity::{OrgId, Role, orgs, users};

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The e-mail to `to` for `license` with its signed `file`.
pub fn issued_email(services: &Services, to: &str, license: &License, file: &str) -> Email {
    let seats = if license.max_seats < 0 {
        "unlimited".to_owned()
    } else {
        license.max_seats.to_string()
    };
    let expires = super::rfc3339(license.expires_at);
    let docs = services.config.link("/api/v1/licenses/public-key");
    let text = format!(
        "Hello,\n\n\
         A license was issued for your {tier} plan.\n\n\
         License key: {key}\n\
         Concurrent seats: {seats}\n\
         Valid until: {expires} (renewed with your subscription)\n\n\
         The signed license file below lets your software check the license offline;\n\
         verify it with the public key at {docs}.\n\n\
         {file}\n\
         — Skiff\n",
        tier = license.tier,
        key = license.key,
    );
    let html = format!(
        "<!doctype html><html><body>\
         <p>Hello,</p>\
         <p>A license was issued for your <strong>{tier}</strong> plan.</p>\
         <p>License key: <code>{key}</code><br>Concurrent seats: {seats}<br>Valid until: {expires}</p>\
         <p>The signed license file below lets your software check the license offline; \
         verify it with the public key at <a href=\"{docs}\">{docs}</a>.</p>\
         <pre>{file}</pre><p>— Skiff</p></body></html>",
        tier = escape_html(&license.tier),
        key = escape_html(&license.key),
        docs = escape_html(&docs),
        file = escape_html(file),
    );
    Email {
        to: to.to_owned(),
        subject: format!("Your Skiff license key ({})", license.tier),
        text,
        html,
    }
}

/// Who receives license e-mails for an org: its owners and admins.
pub async fn recipients(
    services: &Services,
    org_id: &OrgId,
) -> Result<Vec<String>, LicensingError> {
    let store = services.store.as_ref();
    let mut to = vec![];
    for member in orgs::members(store, org_id).await? {
        if member.role.at_least(Role::Admin)
            && let Some(user) = users::get(store, &member.user_id).await?
        {
            to.push(user.email.to_string());
        }
    }
    to.sort();
    to.dedup();
    Ok(to)
}

/// Queue the "license issued" e-mail unless it was queued before (a claim on the
/// license item makes concurrent and repeated calls send it once).
pub async fn send_issued_once(
    services: &Services,
    license: &License,
) -> Result<(), LicensingError> {
    let store = services.store.as_ref();
    let lic = license.reference();
    if !repo::claim_issued_email(store, services.clock.as_ref(), &lic).await? {
        return Ok(());
    }
    let queued = async {
        let to = recipients(services, &license.org_id).await?;
        if to.is_empty() {
            tracing::warn!(org_id = %license.org_id, "no owner or admin to send the license e-mail to");
            return Ok(());
        }
        let file = super::license_file(services, license).await?;
        for address in to {
            outbox::send_email(services, issued_email(services, &address, license, &file)).await?;
        }
        Ok::<(), LicensingError>(())
    }
    .await;
    if let Err(e) = queued {
        // Give the claim back so billing's retry sends it.
        if let Err(u) = repo::unclaim_issued_email(store, &lic).await {
            tracing::warn!(error = %u, "could not release the license e-mail claim");
        }
        return Err(e);
    }
    Ok(())
}
