//! Licensing settings (part of [`skiff_core::config::Config`]).

use skiff_core::config::ConfigError;

/// Licensing settings, all with defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicensingConfig {
    /// `SKIFF_LICENSE_PREFIX`: the part before the first dash of new keys.
    pub key_prefix: String,
    /// `SKIFF_LICENSE_VALIDATE_PER_MIN`: public key-based requests (validate,
    /// activate, status) per minute per client IP.
    pub validate_per_min: u32,
    /// `SKIFF_LICENSE_ACQUIRE_PER_MIN`: acquires per minute per (user, machine).
    pub acquire_per_min: u32,
    /// `SKIFF_LICENSE_HEARTBEAT_PER_MIN`: heartbeats per minute per (user, machine).
    pub heartbeat_per_min: u32,
    /// `SKIFF_LICENSE_FILE_TTL_SECS`: how long a downloaded license file may be
    /// trusted offline before the client fetches a fresh one.
    pub file_ttl_secs: i64,
}

impl Default for LicensingConfig {
    fn default() -> Self {
        Self {
            key_prefix: "SKIFF".into(),
            validate_per_min: 60,
            acquire_per_min: 10,
            heartbeat_per_min: 20,
            file_ttl_secs: 30 * 24 * 3600,
        }
    }
}

impl LicensingConfig {
    /// Read the variables through `get` (the configuration's variable source).
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let key_prefix = get("SKIFF_LICENSE_PREFIX")
            .map(|p| p.trim().to_owned())
            .unwrap_or(d.key_prefix);
        super::keys::validate_prefix(&key_prefix).map_err(|e| ConfigError {
            variable: "SKIFF_LICENSE_PREFIX",
            reason: e.0,
        })?;
        fn positive<T: std::str::FromStr + PartialOrd + Default>(
            raw: Option<&str>,
            variable: &'static str,
            default: T,
        ) -> Result<T, ConfigError> {
            match raw {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<T>() {
                    Ok(v) if v > T::default() => Ok(v),
                    _ => Err(ConfigError {
                        variable,
                        reason: format!("`{raw}` is not a positive integer"),
                    }),
                },
            }
        }
        Ok(Self {
            key_prefix,
            validate_per_min: positive(
                get("SKIFF_LICENSE_VALIDATE_PER_MIN"),
                "SKIFF_LICENSE_VALIDATE_PER_MIN",
                d.validate_per_min,
            )?,
            acquire_per_min: positive(
                get("SKIFF_LICENSE_ACQUIRE_PER_MIN"),
                "SKIFF_LICENSE_ACQUIRE_PER_MIN",
                d.acquire_per_min,
            )?,
            heartbeat_per_min: positive(
                get("SKIFF_LICENSE_HEARTBEAT_PER_MIN"),
                "SKIFF_LICENSE_HEARTBEAT_PER_MIN",
                d.heartbeat_per_min,
            )?,
            file_ttl_secs: positive(
                get("SKIFF_LICENSE_FILE_TTL_SECS"),
                "SKIFF_LICENSE_FILE_TTL_SECS",
                d.file_ttl_secs,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<LicensingConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LicensingConfig::from_lookup(|n| map.get(n).map(String::as_str))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(from(&[]).unwrap(), LicensingConfig::default());
        let c = from(&[
            ("SKIFF_LICENSE_PREFIX", "ACME"),
            ("SKIFF_LICENSE_VALIDATE_PER_MIN", "5"),
        ])
        .unwrap();
        assert_eq!(c.key_prefix, "ACME");
        assert_eq!(c.validate_per_min, 5);
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            from(&[("SKIFF_LICENSE_PREFIX", "ac-me")])
                .unwrap_err()
                .variable,
            "SKIFF_LICENSE_PREFIX"
        );
        assert_eq!(
            from(&[("SKIFF_LICENSE_ACQUIRE_PER_MIN", "0")])
                .unwrap_err()
                .variable,
            "SKIFF_LICENSE_ACQUIRE_PER_MIN"
        );
    }
}
