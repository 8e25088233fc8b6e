//! The whole configuration: the platform's ([`Config`]) and each domain's own
//! settings, parsed from one set of variables at startup so a bad value of any of
//! them stops the process before it serves.

use skiff_core::config::{Config, ConfigError};
use skiff_core::ports::payments::PaymentsConnector;
use skiff_core::settings::Settings;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// The platform configuration and the domains' settings.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub core: Config,
    pub settings: Settings,
}

impl AppConfig {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// From explicit variables (tests, the CLI's overrides).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::without_payments(vars)?;
        config.settings.insert(stripe_connector());
        Ok(config)
    }

    /// Everything but the Stripe connector: what a function that takes no payment
    /// runs with, so its binary does not link the Stripe client.
    pub fn without_payments(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let core = Config::from_map(&vars)?;
        let billing = skiff_billing::settings::BillingSettings::from_vars(&vars, &core)?;
        let licensing = skiff_licensing::config::LicensingConfig::from_lookup(|n| {
            vars.get(n).map(String::as_str)
        })?;
        let scripts = skiff_scripts::settings::ScriptsSettings::from_vars(&vars, &core)?;
        let memory = skiff_memory::settings::MemorySettings::from_vars(&vars)?;
        let storage =
            skiff_storage::StorageSettings::from_lookup(|n| vars.get(n).map(String::as_str))?;
        let settings = Settings::new()
            .with(billing)
            .with(licensing)
            .with(memory)
            .with(storage)
            .with(scripts);
        Ok(Self { core, settings })
    }

    pub fn billing(&self) -> &skiff_billing::settings::BillingSettings {
        self.settings.get()
    }

    pub fn licensing(&self) -> &skiff_licensing::config::LicensingConfig {
        self.settings.get()
    }
}

impl Deref for AppConfig {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.core
    }
}

impl DerefMut for AppConfig {
    fn deref_mut(&mut self) -> &mut Config {
        &mut self.core
    }
}

/// Billing builds its payments client through this when it runs on Stripe.
fn stripe_connector() -> PaymentsConnector {
    PaymentsConnector(Arc::new(|base, key| {
        Arc::new(skiff_adapters::stripe::StripePayments::new(base, key))
    }))
}
