//! Billing's part of an org's data: the subscription, the billing account, the
//! service profile and the billing audit (the subscription's history) in an
//! export; in an erasure, the subscription cancelled at the payment provider
//! first, then all of it removed with the customer's map entry.

use crate::keys;
use crate::subscription::Status;
use crate::{BillingError, Runtime};
use async_trait::async_trait;
use skiff_core::ids::OrgId;
use skiff_core::org_data::{
    ExportPage, Listing, OrgData, OrgDataError, Purged, export_listings, purge_listings,
};
use skiff_core::services::Services;
use std::sync::Arc;

/// Billing's [`OrgData`]; it builds the payments client on first use.
pub struct BillingData {
    runtime: Arc<Runtime>,
}

impl BillingData {
    pub fn new() -> Self {
        Self {
            runtime: Runtime::new(),
        }
    }
}

impl Default for BillingData {
    fn default() -> Self {
        Self::new()
    }
}

/// Items one purge step removes.
const PURGE_BATCH: usize = 500;

fn other(e: BillingError) -> OrgDataError {
    OrgDataError::Other(e.to_string())
}

#[async_trait]
impl OrgData for BillingData {
    fn name(&self) -> &'static str {
        "billing"
    }

    async fn export_page(
        &self,
        services: &Services,
        org: &OrgId,
        cursor: Option<String>,
    ) -> Result<ExportPage, OrgDataError> {
        let pk = keys::org_pk(org);
        let listing = |path: &str, kind: &'static str, prefix: &str| Listing {
            path: path.into(),
            kind,
            pk: pk.clone(),
            prefix: Some(prefix.into()),
            omit: &[],
        };
        let listings = [
            listing("subscription", "subscription", "BILLING#"),
            listing("service_profile", "service_profile", "SERVICE#"),
            listing("history", "billing_events", keys::AUDIT_PREFIX),
        ];
        Ok(export_listings(services.store.as_ref(), &listings, cursor).await?)
    }

    async fn close(&self, services: &Services, org: &OrgId) -> Result<(), OrgDataError> {
        let Some(sub) = crate::service::subscription_of(services, org).await? else {
            return Ok(());
        };
        if sub.status == Status::Canceled || sub.cancel_at_period_end {
            return Ok(());
        }
        let payments = self.runtime.payments(services).await.map_err(other)?;
        payments
            .cancel_at_period_end(&sub.subscription_id, &format!("skiff-erase-{org}"))
            .await
            .map_err(|e| OrgDataError::Other(e.to_string()))?;
        tracing::info!(%org, subscription = %sub.subscription_id, "subscription cancelled for the org's erasure");
        Ok(())
    }

    async fn purge(&self, services: &Services, org: &OrgId) -> Result<Purged, OrgDataError> {
        let store = services.store.as_ref();
        if let Some(account) = store.get(&keys::account(org)).await?
            && let Some(customer) = account.get_str("customer_id")
        {
            store.delete(&keys::customer(customer), None).await?;
        }
        let pk = keys::org_pk(org);
        let prefixes = ["BILLING#", "SERVICE#", "QUOTA#", keys::AUDIT_PREFIX];
        let listings: Vec<_> = prefixes
            .iter()
            .map(|p| (pk.clone(), Some((*p).to_owned())))
            .collect();
        Ok(purge_listings(store, &listings, PURGE_BATCH).await?)
    }
}
