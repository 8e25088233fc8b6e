//! Storage's settings, parsed with the rest of the configuration at startup.

use skiff_core::config::ConfigError;
use std::time::Duration;

/// Storage settings, all with defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// `SKIFF_BACKUP_RETENTION`: backups kept per user (the newest); older ones
    /// are deleted and their bytes released.
    pub backup_retention: usize,
    /// `SKIFF_STORAGE_MAX_UPLOAD_BYTES`: the largest record a signed upload takes
    /// (S3's single PUT takes at most 5 GiB).
    pub max_upload_bytes: u64,
    /// `SKIFF_STORAGE_UPLOAD_URL_TTL_SECS`: how long a signed upload URL works.
    pub upload_url_ttl: Duration,
    /// `SKIFF_STORAGE_DOWNLOAD_URL_TTL_SECS`: how long a signed download URL works
    /// (records, exports).
    pub download_url_ttl: Duration,
    /// `SKIFF_EXPORT_RETENTION_SECS`: how long a finished export can be downloaded.
    pub export_retention_secs: i64,
    /// `SKIFF_EXPORT_CHUNK_BYTES`: an export's job checkpoints after about this
    /// many bytes of archive (one resumable chunk).
    pub export_chunk_bytes: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backup_retention: 10,
            max_upload_bytes: 5 * 1024 * 1024 * 1024,
            upload_url_ttl: Duration::from_secs(3600),
            download_url_ttl: Duration::from_secs(300),
            export_retention_secs: 7 * 24 * 3600,
            export_chunk_bytes: 16 * 1024 * 1024,
        }
    }
}

impl StorageSettings {
    /// Read the variables through `get`.
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let number = |variable: &'static str,
                      default: u64,
                      range: std::ops::RangeInclusive<u64>| {
            match get(variable).map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(raw) => match raw.parse::<u64>() {
                    Ok(v) if range.contains(&v) => Ok(v),
                    _ => Err(ConfigError {
                        variable,
                        reason: format!(
                            "`{raw}` is not a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    }),
                },
            }
        };
        Ok(Self {
            backup_retention: number(
                "SKIFF_BACKUP_RETENTION",
                d.backup_retention as u64,
                1..=1000,
            )? as usize,
            max_upload_bytes: number(
                "SKIFF_STORAGE_MAX_UPLOAD_BYTES",
                d.max_upload_bytes,
                1..=5 * 1024 * 1024 * 1024,
            )?,
            upload_url_ttl: Duration::from_secs(number(
                "SKIFF_STORAGE_UPLOAD_URL_TTL_SECS",
                d.upload_url_ttl.as_secs(),
                60..=7 * 24 * 3600,
            )?),
            download_url_ttl: Duration::from_secs(number(
                "SKIFF_STORAGE_DOWNLOAD_URL_TTL_SECS",
                d.download_url_ttl.as_secs(),
                10..=7 * 24 * 3600,
            )?),
            export_retention_secs: number(
                "SKIFF_EXPORT_RETENTION_SECS",
                d.export_retention_secs as u64,
                3600..=90 * 24 * 3600,
            )? as i64,
            export_chunk_bytes: number(
                "SKIFF_EXPORT_CHUNK_BYTES",
                d.export_chunk_bytes,
                1024 * 1024..=1024 * 1024 * 1024,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_named() {
        assert_eq!(
            StorageSettings::from_lookup(|_| None).unwrap(),
            StorageSettings::default()
        );
        let e = StorageSettings::from_lookup(|n| (n == "SKIFF_BACKUP_RETENTION").then_some("0"))
            .unwrap_err();
        assert_eq!(e.variable, "SKIFF_BACKUP_RETENTION");
        let s = StorageSettings::from_lookup(|n| (n == "SKIFF_BACKUP_RETENTION").then_some("3"))
            .unwrap();
        assert_eq!(s.backup_retention, 3);
    }
}
