//! Typed configuration from the environment. Every variable is parsed once at
//! startup; a wrong or missing one stops startup with a message naming it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Which adapters back the ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + filesystem under the data dir (one machine).
    Embedded,
    /// DynamoDB, S3, SQS, SES, Secrets Manager.
    Aws,
}

/// Where this deployment runs; `Dev` enables the dev-only routes (mailbox, clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Prod,
}

/// Names of the AWS resources (from the SAM template's environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    pub table: String,
    pub blob_bucket: String,
    pub export_bucket: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub secret_id: String,
    /// S3 Vectors buckets (names or ARNs), in their fixed order.
    pub vector_buckets: Vec<String>,
    /// `AWS_ENDPOINT_URL`, set only against an emulator.
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub backend: Backend,
    pub environment: Environment,
    pub data_dir: PathBuf,
    /// Base URL that links in e-mails and signed blob URLs start with, no trailing `/`.
    pub public_url: String,
    pub listen_addr: SocketAddr,
    pub log_filter: String,
    pub cors_origins: CorsOrigins,
    pub max_body_bytes: usize,
    /// Deliveries before a message moves to the dead-letter queue.
    pub queue_max_receives: u32,
    pub queue_visibility_secs: u64,
    /// How often the local server runs the scheduler's jobs.
    pub scheduler_interval_secs: u64,
    pub mail_from: String,
    /// Allow `POST /_dev/clock` to move the server's clock (tests only).
    pub dev_clock: bool,
    pub aws: Option<AwsResources>,
    /// `iss` of access tokens (default: the public URL).
    pub jwt_issuer: String,
    /// `aud` of access tokens.
    pub jwt_audience: String,
    pub rate_limits: RateLimits,
    /// Who delivers e-mail, and where the links in it lead.
    pub mail: MailSettings,
    /// How long the AWS backend trusts a read of its secret.
    pub secrets_cache: SecretsCache,
    /// Serve `/metrics` (Prometheus text) on the local server (`SKIFF_METRICS`).
    pub metrics: bool,
    /// How log lines are written (`SKIFF_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Bytes of vectors the embedded vector index keeps in memory for its scans.
    pub vector_cache_bytes: usize,
}

/// How log lines are written: JSON for machines, or lines for a person at a
/// terminal. `Auto` picks pretty when stderr is a terminal, JSON otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

/// The AWS secret's cache (`SKIFF_SECRETS_*`): values set or rotated by an operator
/// reach warm containers within `ttl_secs`; a key still missing is re-read at most
/// once per `missing_retry_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretsCache {
    pub ttl_secs: u64,
    pub missing_retry_secs: u64,
}

/// At most `max` requests per `window_secs` (a fixed window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window_secs: u64,
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    /// `<max>/<seconds>`, e.g. `10/60`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (max, window) = s
            .split_once('/')
            .ok_or_else(|| "expected <max>/<seconds>, e.g. 10/60".to_owned())?;
        let max: u32 = max.trim().parse().map_err(|e| format!("max: {e}"))?;
        let window_secs: u64 = window.trim().parse().map_err(|e| format!("seconds: {e}"))?;
        if max == 0 || !(1..=86_400).contains(&window_secs) {
            return Err("max must be positive and the window 1 to 86400 s".into());
        }
        Ok(Self { max, window_secs })
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.max, self.window_secs)
    }
}

/// Limits on the unauthenticated identity routes, per e-mail address
/// and per client IP, shared by every container through the item store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub login_per_email: RateLimit,
    pub login_per_ip: RateLimit,
    pub register_per_ip: RateLimit,
    pub forgot_password_per_email: RateLimit,
    pub forgot_password_per_ip: RateLimit,
    pub resend_verification_per_email: RateLimit,
    pub resend_verification_per_ip: RateLimit,
    pub change_password_per_user: RateLimit,
    pub change_password_per_ip: RateLimit,
    pub reset_password_per_token: RateLimit,
    pub reset_password_per_ip: RateLimit,
    pub accept_invitation_per_token: RateLimit,
    pub accept_invitation_per_ip: RateLimit,
    pub refresh_per_token: RateLimit,
    pub refresh_per_ip: RateLimit,
}

/// CORS allow-list; a wildcard only by explicit opt-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    List(Vec<String>),
    Any,
}

/// A configuration variable that is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error in {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// From explicit variables (tests, the CLI's overrides).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::from_map(&vars.into_iter().collect())
    }

    /// From a map of variables, which the wiring also hands to each domain's
    /// settings.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Vars(vars);
        let backend = match env.get("SKIFF_BACKEND").unwrap_or("embedded") {
            "embedded" => Backend::Embedded,
            "aws" => Backend::Aws,
            other => {
                return Err(env.bad(
                    "SKIFF_BACKEND",
                    format!("`{other}` is not one of embedded, aws"),
                ));
            }
        };
        let environment = match env.get("SKIFF_ENV").unwrap_or("dev") {
            "dev" => Environment::Dev,
            "prod" => Environment::Prod,
            other => return Err(env.bad("SKIFF_ENV", format!("`{other}` is not one of dev, prod"))),
        };
        let listen_addr: SocketAddr = env.parse("SKIFF_ADDR", "127.0.0.1:3000")?;
        let public_url = env
            .get("SKIFF_PUBLIC_URL")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("http://{listen_addr}"));
        let public_url = parse_base_url(&public_url).map_err(|r| env.bad("SKIFF_PUBLIC_URL", r))?;
        let cors_any: bool = env.parse("SKIFF_CORS_ALLOW_ANY", "false")?;
        let cors_origins = match env.get("SKIFF_CORS_ORIGINS") {
            _ if cors_any => CorsOrigins::Any,
            None | Some("") => CorsOrigins::List(vec![]),
            Some(list) => {
                let mut origins = vec![];
                for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    if o == "*" {
                        return Err(env.bad(
                            "SKIFF_CORS_ORIGINS",
                            "a wildcard needs SKIFF_CORS_ALLOW_ANY=true".into(),
                        ));
                    }
                    origins.push(parse_base_url(o).map_err(|r| env.bad("SKIFF_CORS_ORIGINS", r))?);
                }
                CorsOrigins::List(origins)
            }
        };
        let max_body_bytes: usize = env.parse("SKIFF_MAX_BODY_BYTES", "1048576")?;
        if max_body_bytes == 0 {
            return Err(env.bad("SKIFF_MAX_BODY_BYTES", "must be positive".into()));
        }
        let queue_max_receives: u32 = env.parse("SKIFF_QUEUE_MAX_RECEIVES", "5")?;
        if !(1..=1000).contains(&queue_max_receives) {
            return Err(env.bad("SKIFF_QUEUE_MAX_RECEIVES", "must be 1 to 1000".into()));
        }
        let queue_visibility_secs: u64 = env.parse("SKIFF_QUEUE_VISIBILITY_SECS", "30")?;
        if !(1..=43_200).contains(&queue_visibility_secs) {
            return Err(env.bad("SKIFF_QUEUE_VISIBILITY_SECS", "must be 1 to 43200".into()));
        }
        let scheduler_interval_secs: u64 = env.parse("SKIFF_SCHEDULER_INTERVAL_SECS", "60")?;
        if scheduler_interval_secs == 0 {
            return Err(env.bad("SKIFF_SCHEDULER_INTERVAL_SECS", "must be positive".into()));
        }
        let aws = match backend {
            Backend::Embedded => None,
            Backend::Aws => Some(AwsResources {
                table: env.require("SKIFF_TABLE")?,
                blob_bucket: env.require("SKIFF_BLOB_BUCKET")?,
                export_bucket: env.require("SKIFF_EXPORT_BUCKET")?,
                queue_url: env.require("SKIFF_QUEUE_URL")?,
                dlq_url: env.require("SKIFF_DLQ_URL")?,
                secret_id: env.require("SKIFF_SECRET_ID")?,
                vector_buckets: parse_list(&env.require("SKIFF_VECTOR_BUCKETS")?)
                    .map_err(|r| env.bad("SKIFF_VECTOR_BUCKETS", r))?,
                endpoint_url: env.get("AWS_ENDPOINT_URL").map(str::to_owned),
            }),
        };
        let rate_limits = RateLimits {
            login_per_email: env.parse("SKIFF_RATE_LOGIN_PER_EMAIL", "10/60")?,
            login_per_ip: env.parse("SKIFF_RATE_LOGIN_PER_IP", "20/60")?,
            register_per_ip: env.parse("SKIFF_RATE_REGISTER_PER_IP", "20/600")?,
            forgot_password_per_email: env
                .parse("SKIFF_RATE_FORGOT_PASSWORD_PER_EMAIL", "5/3600")?,
            forgot_password_per_ip: env.parse("SKIFF_RATE_FORGOT_PASSWORD_PER_IP", "20/3600")?,
            resend_verification_per_email: env
                .parse("SKIFF_RATE_RESEND_VERIFICATION_PER_EMAIL", "5/3600")?,
            resend_verification_per_ip: env
                .parse("SKIFF_RATE_RESEND_VERIFICATION_PER_IP", "20/3600")?,
            change_password_per_user: env.parse("SKIFF_RATE_CHANGE_PASSWORD_PER_USER", "5/900")?,
            change_password_per_ip: env.parse("SKIFF_RATE_CHANGE_PASSWORD_PER_IP", "20/900")?,
            reset_password_per_token: env.parse("SKIFF_RATE_RESET_PASSWORD_PER_TOKEN", "5/3600")?,
            reset_password_per_ip: env.parse("SKIFF_RATE_RESET_PASSWORD_PER_IP", "20/3600")?,
            accept_invitation_per_token: env
                .parse("SKIFF_RATE_ACCEPT_INVITATION_PER_TOKEN", "5/3600")?,
            accept_invitation_per_ip: env
                .parse("SKIFF_RATE_ACCEPT_INVITATION_PER_IP", "20/3600")?,
            refresh_per_token: env.parse("SKIFF_RATE_REFRESH_PER_TOKEN", "5/60")?,
            refresh_per_ip: env.parse("SKIFF_RATE_REFRESH_PER_IP", "120/60")?,
        };
        let secrets_cache = SecretsCache {
            ttl_secs: env.parse("SKIFF_SECRETS_TTL_SECS", "300")?,
            missing_retry_secs: env.parse("SKIFF_SECRETS_MISSING_RETRY_SECS", "30")?,
        };
        if !(1..=86_400).contains(&secrets_cache.ttl_secs) {
            return Err(env.bad("SKIFF_SECRETS_TTL_SECS", "must be 1 to 86400".into()));
        }
        if !(1..=secrets_cache.ttl_secs).contains(&secrets_cache.missing_retry_secs) {
            return Err(env.bad(
                "SKIFF_SECRETS_MISSING_RETRY_SECS",
                "must be 1 to SKIFF_SECRETS_TTL_SECS".into(),
            ));
        }
        let vector_cache_mb: usize = env.parse("SKIFF_VECTOR_CACHE_MB", "512")?;
        if !(1..=1 << 20).contains(&vector_cache_mb) {
            return Err(env.bad("SKIFF_VECTOR_CACHE_MB", "must be 1 to 1048576".into()));
        }
        let jwt_issuer = env
            .get("SKIFF_JWT_ISSUER")
            .map(str::to_owned)
            .unwrap_or_else(|| public_url.clone());
        let jwt_audience = env
            .get("SKIFF_JWT_AUDIENCE")
            .unwrap_or("skiff-api")
            .to_owned();
        let log_format = match env.get("SKIFF_LOG_FORMAT").map(str::trim) {
            None | Some("") => LogFormat::Auto,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(env.bad(
                    "SKIFF_LOG_FORMAT",
                    format!("`{other}` is not one of json, pretty"),
                ));
            }
        };
        Ok(Config {
            metrics: env.parse("SKIFF_METRICS", "false")?,
            log_format,
            secrets_cache,
            jwt_issuer,
            jwt_audience,
            rate_limits,
            backend,
            environment,
            data_dir: PathBuf::from(env.get("SKIFF_DATA_DIR").unwrap_or("./.skiff")),
            public_url,
            listen_addr,
            log_filter: env
                .get("SKIFF_LOG")
                .or_else(|| env.get("RUST_LOG"))
                .unwrap_or("info")
                .to_owned(),
            cors_origins,
            max_body_bytes,
            queue_max_receives,
            queue_visibility_secs,
            scheduler_interval_secs,
            mail_from: env
                .get("SKIFF_MAIL_FROM")
                .unwrap_or("Skiff <no-reply@skiff.local>")
                .to_owned(),
            dev_clock: env.parse("SKIFF_DEV_CLOCK", "false")?,
            aws,
            mail: MailSettings::from_vars(&env, backend, environment)?,
            vector_cache_bytes: vector_cache_mb << 20,
        })
    }

    pub fn is_dev(&self) -> bool {
        self.environment == Environment::Dev
    }

    /// An absolute link under the public URL (`path` starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}

/// E-mail delivery and the links e-mails carry (`SKIFF_MAIL`, `SKIFF_SMTP_*`,
/// `SKIFF_APP_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The product's front end, no trailing `/`: the base of the links a person
    /// follows (password reset, invitation, welcome). Without it they lead to the
    /// local server's own minimal pages under the public URL.
    pub app_url: Option<String>,
}

/// Which mailer delivers e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// The local mailbox: stored, readable at the dev-only routes, never delivered.
    Dev,
    Smtp(SmtpSettings),
    Ses,
}

/// One SMTP relay. Its password, if any, is the `smtp_password` secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refuses a relay that cannot (587).
    StartTls,
    /// TLS from the first byte (465).
    Implicit,
    /// No TLS: only to a relay on the loopback interface (25).
    Plain,
}

impl MailSettings {
    fn from_vars(
        env: &Vars,
        backend: Backend,
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        let app_url = match env.get("SKIFF_APP_URL").map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(parse_base_url(raw).map_err(|r| env.bad("SKIFF_APP_URL", r))?),
        };
        let chosen = env
            .get("SKIFF_MAIL")
            .map(str::trim)
            .filter(|m| !m.is_empty());
        let transport = match (chosen, backend, environment) {
            (None, Backend::Aws, _) => MailTransport::Ses,
            (None, Backend::Embedded, Environment::Dev) => MailTransport::Dev,
            (None, Backend::Embedded, Environment::Prod) => {
                return Err(env.bad(
                    "SKIFF_MAIL",
                    "a production deployment needs a mailer that delivers: set SKIFF_MAIL=smtp \
                     and SKIFF_SMTP_HOST (or SKIFF_MAIL=ses); SKIFF_MAIL=dev keeps e-mail in the \
                     local mailbox, which production does not serve"
                        .into(),
                ));
            }
            (Some("dev"), Backend::Aws, _) => {
                return Err(env.bad(
                    "SKIFF_MAIL",
                    "`dev` (the local mailbox) needs SKIFF_BACKEND=embedded".into(),
                ));
            }
            (Some("dev"), _, _) => MailTransport::Dev,
            (Some("ses"), _, _) => MailTransport::Ses,
            (Some("smtp"), _, _) => MailTransport::Smtp(SmtpSettings::from_vars(env)?),
            (Some(other), _, _) => {
                return Err(env.bad(
                    "SKIFF_MAIL",
                    format!("`{other}` is not one of dev, smtp, ses"),
                ));
            }
        };
        Ok(Self { transport, app_url })
    }
}

impl SmtpSettings {
    fn from_vars(env: &Vars) -> Result<Self, ConfigError> {
        let host = match env.get("SKIFF_SMTP_HOST").map(str::trim) {
            Some(h) if !h.is_empty() && !h.contains(|c: char| c.is_whitespace() || c == '/') => {
                h.trim_start_matches('[').trim_end_matches(']').to_owned()
            }
            Some(h) if !h.is_empty() => {
                return Err(env.bad("SKIFF_SMTP_HOST", format!("`{h}` is not a host name")));
            }
            _ => return Err(env.bad("SKIFF_SMTP_HOST", "is required when SKIFF_MAIL=smtp".into())),
        };
        let tls = match env
            .get("SKIFF_SMTP_TLS")
            .map(str::trim)
            .unwrap_or("starttls")
        {
            "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Implicit,
            "none" => SmtpTls::Plain,
            other => {
                return Err(env.bad(
                    "SKIFF_SMTP_TLS",
                    format!("`{other}` is not one of starttls, tls, none"),
                ));
            }
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if tls == SmtpTls::Plain && !loopback {
            return Err(env.bad(
                "SKIFF_SMTP_TLS",
                format!(
                    "`none` sends the password and every e-mail in the clear; it is allowed \
                     only to a relay on this machine (127.0.0.1, ::1, localhost), not `{host}`"
                ),
            ));
        }
        let default_port = match tls {
            SmtpTls::StartTls => "587",
            SmtpTls::Implicit => "465",
            SmtpTls::Plain => "25",
        };
        let port: u16 = env.parse("SKIFF_SMTP_PORT", default_port)?;
        if port == 0 {
            return Err(env.bad("SKIFF_SMTP_PORT", "must be 1 to 65535".into()));
        }
        let username = env
            .get("SKIFF_SMTP_USERNAME")
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        Ok(Self {
            host,
            port,
            tls,
            username,
        })
    }
}

impl Config {
    /// A link a person follows (`path` starts with `/`): under the app URL when one
    /// is set, else under the public URL, where the local server serves the pages.
    pub fn app_link(&self, path: &str) -> String {
        let base = self.mail.app_url.as_deref().unwrap_or(&self.public_url);
        format!("{base}{path}")
    }
}

fn parse_base_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("`{raw}` is not an http(s) URL"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(format!("`{raw}` has no host"));
    }
    Ok(trimmed.to_owned())
}

struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn require(&self, name: &'static str) -> Result<String, ConfigError> {
        match self.get(name) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            _ => Err(self.bad(name, "is required when SKIFF_BACKEND=aws".into())),
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: &str,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.get(name).unwrap_or(default);
        raw.trim()
            .parse()
            .map_err(|e| self.bad(name, format!("`{raw}`: {e}")))
    }

    fn bad(&self, variable: &'static str, reason: String) -> ConfigError {
        ConfigError { variable, reason }
    }
}

/// A comma-separated list of at least one non-empty item.
fn parse_list(raw: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
    if items.iter().any(String::is_empty) {
        return Err("expected a comma-separated list of names, none empty".into());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_embedded_dev() {
        let c = Config::from_vars(vec![]).unwrap();
        assert_eq!(c.backend, Backend::Embedded);
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.queue_max_receives, 5);
        assert!(c.is_dev());
    }

    #[test]
    fn the_secrets_cache_defaults_to_five_minutes_and_is_bounded() {
        let c = Config::from_vars(vec![]).unwrap();
        assert_eq!(
            c.secrets_cache,
            SecretsCache {
                ttl_secs: 300,
                missing_retry_secs: 30
            }
        );
        let c = Config::from_vars(vars(&[
            ("SKIFF_SECRETS_TTL_SECS", "60"),
            ("SKIFF_SECRETS_MISSING_RETRY_SECS", "5"),
        ]))
        .unwrap();
        assert_eq!(
            (c.secrets_cache.ttl_secs, c.secrets_cache.missing_retry_secs),
            (60, 5)
        );
        for (var, value) in [
            ("SKIFF_SECRETS_TTL_SECS", "0"),
            ("SKIFF_SECRETS_MISSING_RETRY_SECS", "0"),
            ("SKIFF_SECRETS_MISSING_RETRY_SECS", "301"),
        ] {
            let e = Config::from_vars(vars(&[(var, value)])).unwrap_err();
            assert_eq!(e.variable, var, "{var}={value}");
        }
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = Config::from_vars(vars(&[("SKIFF_BACKEND", "mysql")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_BACKEND");
        let e = Config::from_vars(vars(&[("SKIFF_QUEUE_MAX_RECEIVES", "lots")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_QUEUE_MAX_RECEIVES");
        let e = Config::from_vars(vars(&[("SKIFF_PUBLIC_URL", "ftp://x")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_PUBLIC_URL");
    }

    #[test]
    fn aws_backend_requires_its_resources() {
        let e = Config::from_vars(vars(&[("SKIFF_BACKEND", "aws")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_TABLE");
        assert!(e.to_string().contains("SKIFF_TABLE"));
        let aws = |buckets: &str| {
            Config::from_vars(vars(&[
                ("SKIFF_BACKEND", "aws"),
                ("SKIFF_TABLE", "t"),
                ("SKIFF_BLOB_BUCKET", "b"),
                ("SKIFF_EXPORT_BUCKET", "e"),
                ("SKIFF_QUEUE_URL", "q"),
                ("SKIFF_DLQ_URL", "d"),
                ("SKIFF_SECRET_ID", "s"),
                ("SKIFF_VECTOR_BUCKETS", buckets),
            ]))
        };
        for bad in ["", "a,,b", "a, "] {
            assert_eq!(
                aws(bad).unwrap_err().variable,
                "SKIFF_VECTOR_BUCKETS",
                "{bad:?}"
            );
        }
        assert_eq!(
            aws("arn:aws:s3vectors:eu-west-1:1:bucket/x")
                .unwrap()
                .aws
                .unwrap()
                .vector_buckets
                .len(),
            1
        );
    }

    #[test]
    fn rate_limits_have_defaults_and_parse_max_per_seconds() {
        let c = Config::from_vars(vec![]).unwrap();
        assert_eq!(
            c.rate_limits.login_per_email,
            RateLimit {
                max: 10,
                window_secs: 60
            }
        );
        assert_eq!(c.jwt_audience, "skiff-api");
        assert_eq!(c.jwt_issuer, c.public_url);
        let c = Config::from_vars(vars(&[("SKIFF_RATE_LOGIN_PER_IP", "3/30")])).unwrap();
        assert_eq!(c.rate_limits.login_per_ip.to_string(), "3/30");
        for bad in ["3", "0/60", "3/0", "x/60"] {
            let e = Config::from_vars(vars(&[("SKIFF_RATE_REGISTER_PER_IP", bad)])).unwrap_err();
            assert_eq!(e.variable, "SKIFF_RATE_REGISTER_PER_IP", "{bad}");
        }
    }

    #[test]
    fn metrics_are_off_and_logs_follow_the_terminal_by_default() {
        let c = Config::from_vars(vec![]).unwrap();
        assert!(!c.metrics);
        assert_eq!(c.log_format, LogFormat::Auto);
        let c = Config::from_vars(vars(&[
            ("SKIFF_METRICS", "true"),
            ("SKIFF_LOG_FORMAT", "pretty"),
        ]))
        .unwrap();
        assert!(c.metrics);
        assert_eq!(c.log_format, LogFormat::Pretty);
        let e = Config::from_vars(vars(&[("SKIFF_LOG_FORMAT", "xml")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_LOG_FORMAT");
    }

    #[test]
    fn cors_wildcard_needs_opt_in() {
        let e = Config::from_vars(vars(&[("SKIFF_CORS_ORIGINS", "*")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_CORS_ORIGINS");
        let c = Config::from_vars(vars(&[("SKIFF_CORS_ALLOW_ANY", "true")])).unwrap();
        assert_eq!(c.cors_origins, CorsOrigins::Any);
    }

    #[test]
    fn the_mailer_defaults_to_the_mailbox_in_dev_and_ses_on_aws() {
        let c = Config::from_vars(vec![]).unwrap();
        assert_eq!(c.mail.transport, MailTransport::Dev);
        let c = Config::from_vars(vars(&[
            ("SKIFF_BACKEND", "aws"),
            ("SKIFF_TABLE", "t"),
            ("SKIFF_BLOB_BUCKET", "b"),
            ("SKIFF_EXPORT_BUCKET", "e"),
            ("SKIFF_QUEUE_URL", "q"),
            ("SKIFF_DLQ_URL", "d"),
            ("SKIFF_SECRET_ID", "s"),
            ("SKIFF_VECTOR_BUCKETS", "v0, v1"),
        ]))
        .unwrap();
        assert_eq!(c.mail.transport, MailTransport::Ses);
        assert_eq!(c.aws.unwrap().vector_buckets, ["v0", "v1"]);
    }

    #[test]
    fn production_embedded_needs_a_mailer_chosen_explicitly() {
        let e = Config::from_vars(vars(&[("SKIFF_ENV", "prod")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_MAIL");
        assert!(e.reason.contains("SKIFF_MAIL=smtp"), "{e}");
        let c = Config::from_vars(vars(&[("SKIFF_ENV", "prod"), ("SKIFF_MAIL", "dev")])).unwrap();
        assert_eq!(c.mail.transport, MailTransport::Dev);
        let e = Config::from_vars(vars(&[("SKIFF_MAIL", "carrier-pigeon")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_MAIL");
    }

    #[test]
    fn smtp_settings_parse_with_defaults_per_tls_mode() {
        let smtp = |extra: &[(&str, &str)]| {
            let mut v = vec![("SKIFF_MAIL", "smtp")];
            v.extend_from_slice(extra);
            Config::from_vars(vars(&v)).map(|c| c.mail.transport)
        };
        assert_eq!(smtp(&[]).unwrap_err().variable, "SKIFF_SMTP_HOST");
        assert_eq!(
            smtp(&[("SKIFF_SMTP_HOST", "smtp.example.com")]).unwrap(),
            MailTransport::Smtp(SmtpSettings {
                host: "smtp.example.com".into(),
                port: 587,
                tls: SmtpTls::StartTls,
                username: None,
            })
        );
        assert_eq!(
            smtp(&[
                ("SKIFF_SMTP_HOST", "smtp.example.com"),
                ("SKIFF_SMTP_TLS", "tls"),
                ("SKIFF_SMTP_USERNAME", "mailer"),
            ])
            .unwrap(),
            MailTransport::Smtp(SmtpSettings {
                host: "smtp.example.com".into(),
                port: 465,
                tls: SmtpTls::Implicit,
                username: Some("mailer".into()),
            })
        );
        assert_eq!(
            smtp(&[
                ("SKIFF_SMTP_HOST", "[::1]"),
                ("SKIFF_SMTP_TLS", "none"),
                ("SKIFF_SMTP_PORT", "2525"),
            ])
            .unwrap(),
            MailTransport::Smtp(SmtpSettings {
                host: "::1".into(),
                port: 2525,
                tls: SmtpTls::Plain,
                username: None,
            })
        );
        let e = smtp(&[
            ("SKIFF_SMTP_HOST", "smtp.example.com"),
            ("SKIFF_SMTP_TLS", "none"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "SKIFF_SMTP_TLS", "plain SMTP only to loopback");
        let e = smtp(&[
            ("SKIFF_SMTP_HOST", "h.example.com"),
            ("SKIFF_SMTP_TLS", "ssl"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "SKIFF_SMTP_TLS");
        let e = smtp(&[
            ("SKIFF_SMTP_HOST", "h.example.com"),
            ("SKIFF_SMTP_PORT", "0"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "SKIFF_SMTP_PORT");
    }

    #[test]
    fn links_a_person_follows_go_to_the_app_url_when_set() {
        let c = Config::from_vars(vec![]).unwrap();
        assert_eq!(
            c.app_link("/reset-password"),
            "http://127.0.0.1:3000/reset-password"
        );
        let c = Config::from_vars(vars(&[("SKIFF_APP_URL", "https://app.example.com/")])).unwrap();
        assert_eq!(
            c.app_link("/reset-password"),
            "https://app.example.com/reset-password"
        );
        assert_eq!(c.link("/api/v1/x"), "http://127.0.0.1:3000/api/v1/x");
        let e = Config::from_vars(vars(&[("SKIFF_APP_URL", "app.example.com")])).unwrap_err();
        assert_eq!(e.variable, "SKIFF_APP_URL");
    }
}
