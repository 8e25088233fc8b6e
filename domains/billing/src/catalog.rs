//! The plan catalog: a JSON file shipped with Skiff (`domains/billing/plans.json`), replaceable
//! with `SKIFF_PLANS_FILE`, validated at startup. Stripe price ids come from
//! `SKIFF_STRIPE_PRICE_<PLAN>` (e.g. `SKIFF_STRIPE_PRICE_PRO`), so one catalog serves
//! test and live Stripe accounts.

use super::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The catalog built into the binary.
pub const BUILT_IN: &str = include_str!("../plans.json");

/// The plan every org has without a subscription, and falls back to on cancellation.
pub const FREE_PLAN: &str = "free";

/// A plan limit; `-1` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Limit(pub i64);

impl Limit {
    pub const UNLIMITED: Limit = Limit(-1);

    pub fn is_unlimited(&self) -> bool {
        self.0 == -1
    }

    /// The bound for a counter: `None` when unlimited.
    pub fn bound(&self) -> Option<i64> {
        (!self.is_unlimited()).then_some(self.0)
    }

    /// Does `used` stay within the limit?
    pub fn allows(&self, used: i64) -> bool {
        self.is_unlimited() || used <= self.0
    }
}

/// Numeric plan limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    /// Concurrent license seats.
    pub max_seats: Limit,
    pub storage_gb: Limit,
    pub backup_gb: Limit,
    pub max_memories: Limit,
    pub max_scripts: Limit,
    pub rate_limit_per_min: Limit,
}

impl Entitlements {
    /// Look a limit up by its name (as the quota helpers and the API name them).
    pub fn get(&self, name: &str) -> Option<Limit> {
        Some(match name {
            "max_seats" => self.max_seats,
            "storage_gb" => self.storage_gb,
            "backup_gb" => self.backup_gb,
            "max_memories" => self.max_memories,
            "max_scripts" => self.max_scripts,
            "rate_limit_per_min" => self.rate_limit_per_min,
            _ => return None,
        })
    }

    pub fn all(&self) -> [(&'static str, Limit); 6] {
        [
            ("max_seats", self.max_seats),
            ("storage_gb", self.storage_gb),
            ("backup_gb", self.backup_gb),
            ("max_memories", self.max_memories),
            ("max_scripts", self.max_scripts),
            ("rate_limit_per_min", self.rate_limit_per_min),
        ]
    }
}

/// Billing interval of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    /// Nominal length, used only until Stripe reports the exact period end.
    pub fn nominal_secs(&self) -> i64 {
        match self {
            Interval::Month => 30 * 86_400,
            Interval::Year => 365 * 86_400,
        }
    }
}

/// One plan of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price: Money,
    pub interval: Interval,
    #[serde(default)]
    pub trial_days: u32,
    pub entitlements: Entitlements,
    /// Feature flags (`marketplace`, `sso`, `self_service_export`, ...).
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    /// From `SKIFF_STRIPE_PRICE_<PLAN>`; never read from the file.
    #[serde(skip_deserializing, default)]
    pub stripe_price_id: Option<String>,
}

impl Plan {
    pub fn is_free(&self) -> bool {
        self.price.is_zero()
    }

    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.get(feature).copied().unwrap_or(false)
    }

    /// Names of the features this plan enables, sorted.
    pub fn enabled_features(&self) -> Vec<String> {
        self.features
            .iter()
            .filter(|(_, on)| **on)
            .map(|(f, _)| f.clone())
            .collect()
    }

    /// The environment variable that carries this plan's Stripe price id.
    pub fn price_env_var(&self) -> String {
        format!(
            "SKIFF_STRIPE_PRICE_{}",
            self.id.to_ascii_uppercase().replace('-', "_")
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    plans: Vec<Plan>,
}

/// Validated plans, sorted by price ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    plans: Vec<Plan>,
}

impl Catalog {
    /// Parse and validate a catalog document; `price_ids` maps plan id → Stripe price.
    pub fn parse(json: &str, price_ids: &HashMap<String, String>) -> Result<Self, String> {
        let file: CatalogFile = serde_json::from_str(json)
            .map_err(|e| format!("the plan catalog does not parse: {e}"))?;
        let mut plans = file.plans;
        for plan in &mut plans {
            plan.stripe_price_id = price_ids.get(&plan.id).cloned();
        }
        validate(&plans)?;
        plans.sort_by(|a, b| a.price.amount.cmp(&b.price.amount).then(a.id.cmp(&b.id)));
        Ok(Self { plans })
    }

    /// The built-in catalog without price ids (tests, the simulator).
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN, &HashMap::new()).expect("the built-in catalog is valid")
    }

    /// Load from `SKIFF_PLANS_FILE` (or the built-in file) with price ids from
    /// `SKIFF_STRIPE_PRICE_<PLAN>` variables.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, String> {
        let text = match vars
            .get("SKIFF_PLANS_FILE")
            .filter(|p| !p.trim().is_empty())
        {
            Some(path) => std::fs::read_to_string(path.trim())
                .map_err(|e| format!("cannot read `{path}`: {e}"))?,
            None => BUILT_IN.to_owned(),
        };
        let probe: CatalogFile = serde_json::from_str(&text)
            .map_err(|e| format!("the plan catalog does not parse: {e}"))?;
        let mut price_ids = HashMap::new();
        for plan in &probe.plans {
            if let Some(price) = vars.get(&plan.price_env_var()).map(|p| p.trim())
                && !price.is_empty()
            {
                price_ids.insert(plan.id.clone(), price.to_owned());
            }
        }
        Self::parse(&text, &price_ids)
    }

    /// Plans by price ascending.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    pub fn get(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The plan selling at a Stripe price id.
    pub fn by_price_id(&self, price_id: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|p| p.stripe_price_id.as_deref() == Some(price_id))
    }

    /// The free plan (validation guarantees it exists).
    pub fn free(&self) -> &Plan {
        self.get(FREE_PLAN)
            .expect("validated catalog has a free plan")
    }

    /// Paid plans whose Stripe price id is not configured.
    pub fn missing_price_ids(&self) -> Vec<String> {
        self.plans
            .iter()
            .filter(|p| !p.is_free() && p.stripe_price_id.is_none())
            .map(Plan::price_env_var)
            .collect()
    }
}

fn validate(plans: &[Plan]) -> Result<(), String> {
    if plans.is_empty() {
        return Err("the plan catalog has no plans".into());
    }
    let mut ids = std::collections::HashSet::new();
    let mut prices = std::collections::HashSet::new();
    let currency = plans[0].price.currency;
    for p in plans {
        let bad = |why: String| Err(format!("plan `{}`: {why}", p.id));
        if p.id.is_empty()
            || p.id.len() > 32
            || !p
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return bad("an id is 1-32 characters of a-z, 0-9, `-`, `_`".into());
        }
        if !ids.insert(p.id.as_str()) {
            return bad("appears twice".into());
        }
        if p.name.trim().is_empty() {
            return bad("has no name".into());
        }
        if p.price.amount < 0 {
            return bad("has a negative price".into());
        }
        if p.price.currency != currency {
            return bad(format!(
                "is priced in {} but the catalog is in {currency}",
                p.price.currency
            ));
        }
        if p.is_free() && p.trial_days > 0 {
            return bad("a free plan has no trial".into());
        }
        if p.trial_days > 730 {
            return bad("a trial is at most 730 days".into());
        }
        for (name, limit) in p.entitlements.all() {
            if limit.0 < -1 {
                return bad(format!("{name} must be -1 (unlimited) or at least 0"));
            }
        }
        if p.entitlements.rate_limit_per_min.0 == 0 {
            return bad("rate_limit_per_min must not be 0".into());
        }
        if let Some(price) = &p.stripe_price_id {
            if !prices.insert(price.as_str()) {
                return bad(format!("Stripe price `{price}` is used by two plans"));
            }
            if p.is_free() {
                return bad("a free plan has no Stripe price".into());
            }
        }
    }
    if !ids.contains(FREE_PLAN) {
        return Err(format!("the plan catalog needs a `{FREE_PLAN}` plan"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_matches_the_seed_plans() {
        let c = Catalog::built_in();
        let ids: Vec<_> = c.plans().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["free", "starter", "pro", "enterprise"]);
        let seats: Vec<_> = c
            .plans()
            .iter()
            .map(|p| p.entitlements.max_seats.0)
            .collect();
        assert_eq!(seats, [1, 3, 10, 50]);
        let rates: Vec<_> = c
            .plans()
            .iter()
            .map(|p| p.entitlements.rate_limit_per_min.0)
            .collect();
        assert_eq!(rates, [20, 60, 120, 200]);
        let prices: Vec<_> = c.plans().iter().map(|p| p.price.amount).collect();
        assert_eq!(prices, [0, 2900, 9900, 29900]);
        assert!(
            c.plans()
                .iter()
                .filter(|p| !p.is_free())
                .all(|p| p.trial_days == 14)
        );
        assert!(
            c.get("enterprise")
                .unwrap()
                .entitlements
                .max_memories
                .is_unlimited()
        );
    }

    #[test]
    fn price_ids_come_from_the_environment() {
        let vars: HashMap<String, String> = [
            ("SKIFF_STRIPE_PRICE_PRO".to_owned(), "price_123".to_owned()),
            ("SKIFF_STRIPE_PRICE_STARTER".to_owned(), " ".to_owned()),
        ]
        .into();
        let c = Catalog::from_vars(&vars).unwrap();
        assert_eq!(
            c.get("pro").unwrap().stripe_price_id.as_deref(),
            Some("price_123")
        );
        assert_eq!(c.by_price_id("price_123").unwrap().id, "pro");
        assert_eq!(
            c.missing_price_ids(),
            [
                "SKIFF_STRIPE_PRICE_STARTER",
                "SKIFF_STRIPE_PRICE_ENTERPRISE"
            ]
        );
    }

    #[test]
    fn invalid_catalogs_are_refused_with_a_reason() {
        let none = HashMap::new();
        let one = |plan: &str| format!(r#"{{"plans":[{plan}]}}"#);
        let free = r#"{"id":"free","name":"Free","price":{"amount":0,"currency":"usd"},"interval":"month","entitlements":{"max_seats":1,"storage_gb":1,"backup_gb":0,"max_memories":1,"max_scripts":1,"rate_limit_per_min":20}}"#;
        assert!(Catalog::parse(&one(free), &none).is_ok());
        let no_free = free.replace(r#""id":"free""#, r#""id":"basic""#);
        assert!(
            Catalog::parse(&one(&no_free), &none)
                .unwrap_err()
                .contains("free")
        );
        let trial = free.replace(r#""interval""#, r#""trial_days":3,"interval""#);
        assert!(
            Catalog::parse(&one(&trial), &none)
                .unwrap_err()
                .contains("trial")
        );
        let bad_limit = free.replace(r#""max_seats":1"#, r#""max_seats":-5"#);
        assert!(
            Catalog::parse(&one(&bad_limit), &none)
                .unwrap_err()
                .contains("max_seats")
        );
        let twice = format!(r#"{{"plans":[{free},{free}]}}"#);
        assert!(Catalog::parse(&twice, &none).unwrap_err().contains("twice"));
        let unknown = free.replace(r#""name""#, r#""colour":"red","name""#);
        assert!(Catalog::parse(&one(&unknown), &none).is_err());
        let upper = free.replace(r#""id":"free""#, r#""id":"Free""#);
        assert!(Catalog::parse(&one(&upper), &none).is_err());
    }

    #[test]
    fn a_catalog_file_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans.json");
        std::fs::write(&path, BUILT_IN.replace("\"Pro\"", "\"Professional\"")).unwrap();
        let vars: HashMap<String, String> =
            [("SKIFF_PLANS_FILE".to_owned(), path.display().to_string())].into();
        assert_eq!(
            Catalog::from_vars(&vars).unwrap().get("pro").unwrap().name,
            "Professional"
        );
        let vars: HashMap<String, String> = [(
            "SKIFF_PLANS_FILE".to_owned(),
            "/nonexistent/plans.json".to_owned(),
        )]
        .into();
        assert!(
            Catalog::from_vars(&vars)
                .unwrap_err()
                .contains("cannot read")
        );
    }
}
