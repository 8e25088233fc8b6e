//! Licensing's part of an org's data: licenses with their seats, sessions,
//! machines and audit in an export; in an erasure, every license deactivated
//! first, then all of it removed (the key index too, so a key of the erased org
//! is not found).

use crate::model::{self, License};
use crate::repo;
use async_trait::async_trait;
use skiff_core::ids::OrgId;
use skiff_core::org_data::{
    ExportPage, Listing, OrgData, OrgDataError, Purged, export_listings, purge_listings,
};
use skiff_core::services::Services;

/// Licensing's [`OrgData`].
pub struct LicensingData;

/// Items one purge step removes.
const PURGE_BATCH: usize = 500;

async fn licenses(services: &Services, org: &OrgId) -> Result<Vec<License>, OrgDataError> {
    Ok(repo::list(services.store.as_ref(), org).await?)
}

#[async_trait]
impl OrgData for LicensingData {
    fn name(&self) -> &'static str {
        "licensing"
    }

    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError> {
        let mut listings = vec![Listing {
            path: "licenses".into(),
            kind: "licenses",
            pk: model::licenses_pk(org),
            prefix: None,
            omit: &["key_hash"],
        }];
        for license in licenses(services, org).await? {
            let lic = license.reference();
            for (what, pk) in [
                ("seats", lic.seats_pk()),
                ("sessions", lic.history_pk()),
                ("machines", lic.machines_pk()),
            ] {
                listings.push(Listing {
                    path: format!("licenses/{}/{what}", license.license_id),
                    kind: what,
                    pk,
                    prefix: None,
                    omit: &["token_hash"],
                });
            }
        }
        listings.push(Listing {
            path: "audit".into(),
            kind: "license_audit",
            pk: model::audit_pk(org),
            prefix: None,
            omit: &[],
        });
        Ok(export_listings(services.store.as_ref(), &listings, cursor).await?)
    }

    async fn close(&self, services: &Services, org: &OrgId) -> Result<(), OrgDataError> {
        crate::lifecycle::deactivate_org(services.store.as_ref(), services.clock.as_ref(), org)
            .await
            .map_err(|e| OrgDataError::Other(e.to_string()))?;
        Ok(())
    }

    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError> {
        let store = services.store.as_ref();
        let mut removed = 0;
        for license in licenses(services, org).await? {
            let lic = license.reference();
            let step = purge_listings(
                store,
                &[
                    (lic.seats_pk(), None),
                    (lic.history_pk(), None),
                    (lic.machines_pk(), None),
                ],
                PURGE_BATCH,
            )
            .await?;
            removed += step.removed;
            if !step.done {
                return Ok(Purged {
                    removed,
                    done: false,
                });
            }
            store
                .delete(&model::key_index_key(&license.key_hash), None)
                .await?;
            store.delete(&lic.key(), None).await?;
            removed += 2;
        }
        let step = purge_listings(
            store,
            &[
                (model::licenses_pk(org), None),
                (format!("{org}#LICSUB"), None),
                (model::audit_pk(org), None),
            ],
            PURGE_BATCH,
        )
        .await?;
        Ok(Purged {
            removed: removed + step.removed,
            done: step.done,
        })
    }
}
