//! Scripts settings, parsed with the rest of the configuration at startup: the
//! sandbox's limits (a platform default and a ceiling for each knob), the size of
//! the execution gate and of the compiled-script cache, log retention, and how a
//! claimed domain is verified.

use crate::sandbox::{Knob, Limits};
use skiff_core::config::{Config, ConfigError};
use std::collections::HashMap;
use std::sync::OnceLock;

/// How a domain an app claims becomes active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainVerification {
    /// A DNS TXT record at `_skiff-challenge.<host>` must carry the claim's token.
    Dns,
    /// Every claim is active at once (dev only: nobody proves anything).
    Accept,
}

#[derive(Debug)]
pub struct ScriptsSettings {
    /// What a script runs with unless it asks for less.
    pub defaults: Limits,
    /// The most a script may ask for.
    pub ceilings: Limits,
    /// `SKIFF_SCRIPTS_MAX_CONCURRENT`: scripts running at once in this process;
    /// one more is refused with 503 rather than queued.
    pub max_concurrent: usize,
    /// `SKIFF_SCRIPTS_CACHE_SIZE`: compiled scripts (and modules) kept per process.
    pub cache_size: usize,
    /// `SKIFF_SCRIPTS_LOG_RETENTION_DAYS`: how long execution logs are kept.
    pub log_retention_days: u32,
    /// `SKIFF_SCRIPTS_DOMAIN_VERIFICATION`: `dns` or `accept` (dev only).
    pub domain_verification: DomainVerification,
    /// Retry policy of triggers that do not set their own.
    pub trigger_retry: crate::triggers::RetryPolicy,
    /// `SKIFF_SCRIPTS_TRIGGER_MAX_DEPTH`: triggers a chain of writes may set off
    /// (a triggered script writing data that triggers again) before it stops.
    pub trigger_max_depth: u32,
    /// `SKIFF_SCRIPTS_DEAD_LETTER_RETENTION_DAYS`.
    pub dead_letter_retention_days: u32,
    /// Outbound HTTP from scripts.
    pub http: crate::net::HttpSettings,
    /// `SKIFF_SCRIPTS_MAX_FILE_BYTES`: the largest file a script may store.
    pub max_file_bytes: u64,
    /// The engine, caches and gate, built on first use (see [`crate::runtime`]).
    pub(crate) runtime: OnceLock<std::sync::Arc<crate::runtime::Runtime>>,
}

/// Variable names of each knob's default and ceiling, with their values. Rhai
/// measures a container's size on every change to it, so growing one to n items
/// costs O(n²): the array and map sizes stay in the tens of thousands.
const KNOB_VARIABLES: [(Knob, &str, &str, u64, u64); 8] = [
    (
        Knob::MaxOperations,
        "SKIFF_SCRIPTS_MAX_OPERATIONS",
        "SKIFF_SCRIPTS_MAX_OPERATIONS_CEILING",
        1_000_000,
        50_000_000,
    ),
    (
        Knob::MaxStringSize,
        "SKIFF_SCRIPTS_MAX_STRING_SIZE",
        "SKIFF_SCRIPTS_MAX_STRING_SIZE_CEILING",
        1 << 20,
        8 << 20,
    ),
    (
        Knob::MaxArraySize,
        "SKIFF_SCRIPTS_MAX_ARRAY_SIZE",
        "SKIFF_SCRIPTS_MAX_ARRAY_SIZE_CEILING",
        10_000,
        100_000,
    ),
    (
        Knob::MaxMapSize,
        "SKIFF_SCRIPTS_MAX_MAP_SIZE",
        "SKIFF_SCRIPTS_MAX_MAP_SIZE_CEILING",
        10_000,
        100_000,
    ),
    (
        Knob::MaxCallLevels,
        "SKIFF_SCRIPTS_MAX_CALL_LEVELS",
        "SKIFF_SCRIPTS_MAX_CALL_LEVELS_CEILING",
        64,
        128,
    ),
    (
        Knob::MaxExprDepth,
        "SKIFF_SCRIPTS_MAX_EXPR_DEPTH",
        "SKIFF_SCRIPTS_MAX_EXPR_DEPTH_CEILING",
        64,
        128,
    ),
    (
        Knob::TimeoutMs,
        "SKIFF_SCRIPTS_TIMEOUT_MS",
        "SKIFF_SCRIPTS_TIMEOUT_MS_CEILING",
        5_000,
        30_000,
    ),
    (
        Knob::MaxOutputBytes,
        "SKIFF_SCRIPTS_MAX_OUTPUT_BYTES",
        "SKIFF_SCRIPTS_MAX_OUTPUT_BYTES_CEILING",
        1 << 20,
        5 << 20,
    ),
];

impl ScriptsSettings {
    pub fn from_vars(vars: &HashMap<String, String>, core: &Config) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let bad = |variable: &'static str, reason: String| ConfigError { variable, reason };
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => match raw.parse::<u64>() {
                    Ok(v) if v > 0 => Ok(v),
                    _ => Err(bad(name, format!("`{raw}` is not a positive integer"))),
                },
            }
        };
        let mut defaults = Limits::default();
        let mut ceilings = Limits::default();
        for (knob, default_var, ceiling_var, default, ceiling) in KNOB_VARIABLES {
            let ceiling = number(ceiling_var, ceiling)?;
            let default = number(default_var, default.min(ceiling))?;
            if default > ceiling {
                return Err(bad(
                    default_var,
                    format!("{default} is above {ceiling_var} ({ceiling})"),
                ));
            }
            if knob == Knob::MaxCallLevels && ceiling > crate::sandbox::MAX_CALL_LEVELS {
                return Err(bad(
                    ceiling_var,
                    format!(
                        "at most {} (deeper recursion would outgrow the runner's stack)",
                        crate::sandbox::MAX_CALL_LEVELS
                    ),
                ));
            }
            defaults.set(knob, default);
            ceilings.set(knob, ceiling);
        }
        let max_concurrent = number("SKIFF_SCRIPTS_MAX_CONCURRENT", 16)?;
        if max_concurrent > 1024 {
            return Err(bad("SKIFF_SCRIPTS_MAX_CONCURRENT", "at most 1024".into()));
        }
        let cache_size = number("SKIFF_SCRIPTS_CACHE_SIZE", 1000)?;
        let log_retention_days = number("SKIFF_SCRIPTS_LOG_RETENTION_DAYS", 7)?;
        if log_retention_days > 3650 {
            return Err(bad(
                "SKIFF_SCRIPTS_LOG_RETENTION_DAYS",
                "at most 3650".into(),
            ));
        }
        // Accepting claims unproven is for one developer's machine, never a shared
        // deployment (an AWS dev stage included).
        let local_dev = core.is_dev() && core.backend == skiff_core::config::Backend::Embedded;
        let domain_verification = match get("SKIFF_SCRIPTS_DOMAIN_VERIFICATION") {
            None if local_dev => DomainVerification::Accept,
            None | Some("dns") => DomainVerification::Dns,
            Some("accept") if local_dev => DomainVerification::Accept,
            Some("accept") => {
                return Err(bad(
                    "SKIFF_SCRIPTS_DOMAIN_VERIFICATION",
                    "`accept` (claims active without proof) is for SKIFF_ENV=dev on the \
                     embedded backend only"
                        .into(),
                ));
            }
            Some(other) => {
                return Err(bad(
                    "SKIFF_SCRIPTS_DOMAIN_VERIFICATION",
                    format!("`{other}` is not one of dns, accept"),
                ));
            }
        };
        let trigger_retry = crate::triggers::RetryPolicy::from_vars(
            get("SKIFF_SCRIPTS_TRIGGER_MAX_ATTEMPTS"),
            get("SKIFF_SCRIPTS_TRIGGER_BACKOFF"),
            get("SKIFF_SCRIPTS_TRIGGER_BASE_DELAY_MS"),
        )?;
        let trigger_max_depth = number("SKIFF_SCRIPTS_TRIGGER_MAX_DEPTH", 8)?;
        if trigger_max_depth > 64 {
            return Err(bad("SKIFF_SCRIPTS_TRIGGER_MAX_DEPTH", "at most 64".into()));
        }
        let dead_letter_retention_days = number("SKIFF_SCRIPTS_DEAD_LETTER_RETENTION_DAYS", 30)?;
        if dead_letter_retention_days > 3650 {
            return Err(bad(
                "SKIFF_SCRIPTS_DEAD_LETTER_RETENTION_DAYS",
                "at most 3650".into(),
            ));
        }
        let http = crate::net::HttpSettings::from_vars(&get, core.is_dev())?;
        let max_file_bytes = number("SKIFF_SCRIPTS_MAX_FILE_BYTES", 8 << 20)?;
        if max_file_bytes > 64 << 20 {
            return Err(bad(
                "SKIFF_SCRIPTS_MAX_FILE_BYTES",
                "at most 67108864 (64 MiB)".into(),
            ));
        }
        Ok(Self {
            trigger_retry,
            trigger_max_depth: trigger_max_depth as u32,
            dead_letter_retention_days: dead_letter_retention_days as u32,
            http,
            max_file_bytes,
            defaults,
            ceilings,
            max_concurrent: max_concurrent as usize,
            cache_size: cache_size as usize,
            log_retention_days: log_retention_days as u32,
            domain_verification,
            runtime: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ScriptsSettings, ConfigError> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let core = Config::from_map(&vars).unwrap();
        ScriptsSettings::from_vars(&vars, &core)
    }

    #[test]
    fn defaults_sit_under_their_ceilings() {
        let s = parse(&[]).unwrap();
        for knob in Knob::ALL {
            assert!(s.defaults.get(knob) <= s.ceilings.get(knob), "{knob:?}");
        }
        assert_eq!(s.domain_verification, DomainVerification::Accept);
        assert_eq!(
            parse(&[("SKIFF_ENV", "prod"), ("SKIFF_MAIL", "dev")])
                .map(|s| s.domain_verification)
                .unwrap_or(DomainVerification::Dns),
            DomainVerification::Dns
        );
    }

    #[test]
    fn a_default_above_its_ceiling_names_the_variable() {
        let e = parse(&[
            ("SKIFF_SCRIPTS_TIMEOUT_MS", "9000"),
            ("SKIFF_SCRIPTS_TIMEOUT_MS_CEILING", "8000"),
        ])
        .err()
        .unwrap();
        assert_eq!(e.variable, "SKIFF_SCRIPTS_TIMEOUT_MS");
        let e = parse(&[("SKIFF_SCRIPTS_MAX_OPERATIONS", "0")])
            .err()
            .unwrap();
        assert_eq!(e.variable, "SKIFF_SCRIPTS_MAX_OPERATIONS");
        let e = parse(&[("SKIFF_SCRIPTS_MAX_CALL_LEVELS_CEILING", "100000")])
            .err()
            .unwrap();
        assert_eq!(e.variable, "SKIFF_SCRIPTS_MAX_CALL_LEVELS_CEILING");
    }
}
