//! Billing configuration, parsed with the rest of [`skiff_core::config::Config`] at startup.

use super::catalog::Catalog;
use skiff_core::config::{Backend, Config, ConfigError, CorsOrigins, Environment};
use std::collections::HashMap;

/// Who takes the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentsMode {
    /// The built-in payment simulator: dev only (its pages are how a person
    /// pays, and they exist only in `dev`), the embedded default there; refused on
    /// AWS unless `SKIFF_PAYMENT_SIMULATOR=true`.
    Simulator,
    /// Stripe's API; the key and webhook secret come from the secrets port.
    Stripe,
}

/// Default Stripe API base; a contract test points it at a local fixture server.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingSettings {
    pub catalog: Catalog,
    pub payments: PaymentsMode,
    /// `SKIFF_STRIPE_API_BASE`, no trailing `/`.
    pub stripe_api_base: String,
    /// Origins (`scheme://host[:port]`) that checkout redirect URLs may point at:
    /// `SKIFF_CHECKOUT_REDIRECT_ORIGINS`, else the public URL and the CORS origins.
    pub redirect_origins: Vec<String>,
    /// Where a locked org is sent to pay (`SKIFF_UPGRADE_URL`).
    pub upgrade_url: String,
}

impl BillingSettings {
    /// From the same variables as the platform configuration `core`, which decides
    /// the defaults (backend, environment, public URL, CORS origins).
    pub fn from_vars(vars: &HashMap<String, String>, core: &Config) -> Result<Self, ConfigError> {
        let (backend, environment, public_url, cors) = (
            core.backend,
            core.environment,
            core.public_url.as_str(),
            &core.cors_origins,
        );
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let bad = |variable: &'static str, reason: String| ConfigError { variable, reason };
        let catalog = Catalog::from_vars(vars).map_err(|r| bad("SKIFF_PLANS_FILE", r))?;
        let simulator_allowed = match get("SKIFF_PAYMENT_SIMULATOR") {
            None => false,
            Some(v) => v
                .parse::<bool>()
                .map_err(|e| bad("SKIFF_PAYMENT_SIMULATOR", format!("`{v}`: {e}")))?,
        };
        let payments = match get("SKIFF_PAYMENTS") {
            None => match (environment, backend) {
                (Environment::Prod, _) => PaymentsMode::Stripe,
                (Environment::Dev, Backend::Embedded) => PaymentsMode::Simulator,
                (Environment::Dev, Backend::Aws) if simulator_allowed => PaymentsMode::Simulator,
                (Environment::Dev, Backend::Aws) => PaymentsMode::Stripe,
            },
            Some("stripe") => PaymentsMode::Stripe,
            Some("simulator") => PaymentsMode::Simulator,
            Some(other) => {
                return Err(bad(
                    "SKIFF_PAYMENTS",
                    format!("`{other}` is not one of stripe, simulator"),
                ));
            }
        };
        if payments == PaymentsMode::Simulator && environment == Environment::Prod {
            return Err(bad(
                "SKIFF_PAYMENTS",
                "the payment simulator is dev-only (SKIFF_ENV=dev): a production \
                 deployment takes payments through stripe"
                    .into(),
            ));
        }
        if payments == PaymentsMode::Simulator && backend == Backend::Aws && !simulator_allowed {
            return Err(bad(
                "SKIFF_PAYMENTS",
                "the payment simulator is refused with SKIFF_BACKEND=aws unless \
                 SKIFF_PAYMENT_SIMULATOR=true"
                    .into(),
            ));
        }
        // Missing price ids do not stop startup (only the billing function sells
        // plans; the others load the same configuration): a checkout for such a
        // plan answers 503 naming the variable, and the billing function logs them.
        let stripe_api_base = get("SKIFF_STRIPE_API_BASE")
            .unwrap_or(STRIPE_API_BASE)
            .trim_end_matches('/')
            .to_owned();
        if !stripe_api_base.starts_with("https://") && !stripe_api_base.starts_with("http://") {
            return Err(bad(
                "SKIFF_STRIPE_API_BASE",
                format!("`{stripe_api_base}` is not an http(s) URL"),
            ));
        }
        let redirect_origins = match get("SKIFF_CHECKOUT_REDIRECT_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    origin_of(o).ok_or_else(|| {
                        bad(
                            "SKIFF_CHECKOUT_REDIRECT_ORIGINS",
                            format!("`{o}` is not an http(s) origin"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => {
                let mut origins: Vec<String> = origin_of(public_url).into_iter().collect();
                if let CorsOrigins::List(list) = cors {
                    origins.extend(list.iter().filter_map(|o| origin_of(o)));
                }
                origins
            }
        };
        let upgrade_url = get("SKIFF_UPGRADE_URL")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{public_url}/api/v1/plans"));
        Ok(Self {
            catalog,
            payments,
            stripe_api_base,
            redirect_origins,
            upgrade_url,
        })
    }

    /// Is `url` an absolute http(s) URL on an allowed origin?
    pub fn redirect_allowed(&self, url: &str) -> bool {
        url.len() <= 2048
            && !url.chars().any(|c| c.is_whitespace() || c.is_control())
            && origin_of(url).is_some_and(|o| self.redirect_origins.contains(&o))
    }
}

/// `scheme://host[:port]`, lowercased, of an http(s) URL; `None` for anything else
/// (including URLs with user info, which could disguise the host).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::BillingSettings;
    use skiff_core::config::{Config, ConfigError};

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The billing settings as startup parses them, after the platform's.
    fn settings(pairs: Vec<(String, String)>) -> Result<BillingSettings, ConfigError> {
        let map = pairs.into_iter().collect();
        BillingSettings::from_vars(&map, &Config::from_map(&map)?)
    }

    #[test]
    fn embedded_defaults_to_the_simulator() {
        let c = settings(vec![]).unwrap();
        assert_eq!(c.payments, super::PaymentsMode::Simulator);
        assert!(c.redirect_allowed("http://127.0.0.1:3000/done?x=1"));
        assert!(!c.redirect_allowed("https://evil.example/done"));
        assert!(!c.redirect_allowed("http://127.0.0.1:3000@evil.example/"));
        assert!(!c.redirect_allowed("javascript:alert(1)"));
    }

    #[test]
    fn the_simulator_is_refused_on_aws_unless_enabled() {
        let aws = [
            ("SKIFF_BACKEND", "aws"),
            ("SKIFF_TABLE", "t"),
            ("SKIFF_BLOB_BUCKET", "b"),
            ("SKIFF_EXPORT_BUCKET", "e"),
            ("SKIFF_QUEUE_URL", "q"),
            ("SKIFF_DLQ_URL", "d"),
            ("SKIFF_SECRET_ID", "s"),
            ("SKIFF_VECTOR_BUCKETS", "v"),
        ];
        let mut v = aws.to_vec();
        v.push(("SKIFF_PAYMENTS", "simulator"));
        let e = settings(vars(&v)).unwrap_err();
        assert_eq!(e.variable, "SKIFF_PAYMENTS");
        v.push(("SKIFF_PAYMENT_SIMULATOR", "true"));
        assert_eq!(
            settings(vars(&v)).unwrap().payments,
            super::PaymentsMode::Simulator
        );
        // Stripe is the AWS default; price ids name the plans' prices.
        let c = settings(vars(&aws)).unwrap();
        assert_eq!(c.payments, super::PaymentsMode::Stripe);
        assert_eq!(c.catalog.missing_price_ids().len(), 3);
        let mut v = aws.to_vec();
        v.extend([
            ("SKIFF_STRIPE_PRICE_STARTER", "price_s"),
            ("SKIFF_STRIPE_PRICE_PRO", "price_p"),
            ("SKIFF_STRIPE_PRICE_ENTERPRISE", "price_e"),
        ]);
        let c = settings(vars(&v)).unwrap();
        assert_eq!(c.payments, super::PaymentsMode::Stripe);
        assert_eq!(c.catalog.by_price_id("price_p").unwrap().id, "pro");
    }

    #[test]
    fn production_takes_payments_through_stripe_and_refuses_the_simulator() {
        let prod = [("SKIFF_ENV", "prod"), ("SKIFF_MAIL", "dev")];
        let c = settings(vars(&prod)).unwrap();
        assert_eq!(c.payments, super::PaymentsMode::Stripe);
        let mut v = prod.to_vec();
        v.push(("SKIFF_PAYMENTS", "simulator"));
        let e = settings(vars(&v)).unwrap_err();
        assert_eq!(e.variable, "SKIFF_PAYMENTS");
        assert!(e.reason.contains("dev-only"), "{}", e.reason);
    }

    #[test]
    fn redirect_origins_can_be_listed() {
        let c = settings(vars(&[(
            "SKIFF_CHECKOUT_REDIRECT_ORIGINS",
            "https://app.example.com, https://Shop.Example.com:8443",
        )]))
        .unwrap();
        assert!(c.redirect_allowed("https://shop.example.com:8443/thanks"));
        assert!(!c.redirect_allowed("http://127.0.0.1:3000/"));
        let e = settings(vars(&[("SKIFF_CHECKOUT_REDIRECT_ORIGINS", "ftp://x")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_CHECKOUT_REDIRECT_ORIGINS");
    }
}
