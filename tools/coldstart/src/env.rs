//! The environment a function's process starts with: what the Lambda service sets
//! for a `provided.al2023` function, and the Skiff configuration template.yaml
//! gives it on the AWS backend, with every AWS call aimed at an emulator.

/// The account moto names its queues under.
const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// Variables for the function `name` (a binary's file name: `auth`, `billing`…;
/// any other name gets only what every function shares). `runtime_api` is the
/// emulator's `host:port`, `endpoint` the AWS emulator's URL.
pub fn function_env(name: &str, runtime_api: &str, endpoint: &str) -> Vec<(String, String)> {
    let function = format!("skiff-{name}");
    // template.yaml: 256 MB for all but auth, which argon2id needs a full vCPU for.
    let memory = if name == "auth" { "512" } else { "256" };
    let queue = |q: &str| format!("{}/{ACCOUNT}/{q}", endpoint.trim_end_matches('/'));
    let mut vars: Vec<(&str, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.into()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2025/01/01/[$LATEST]coldstart".into(),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        // Lambda passes the execution role's temporary credentials in the environment.
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", "testing".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        // Globals.Function.Environment.
        ("SKIFF_BACKEND", "aws".into()),
        ("SKIFF_ENV", "dev".into()),
        ("SKIFF_TABLE", "skiff".into()),
        ("SKIFF_BLOB_BUCKET", "skiff-blobs".into()),
        ("SKIFF_EXPORT_BUCKET", "skiff-exports".into()),
        ("SKIFF_QUEUE_URL", queue("skiff-outbox")),
        ("SKIFF_DLQ_URL", queue("skiff-outbox-dlq")),
        ("SKIFF_SECRET_ID", "skiff".into()),
        (
            "SKIFF_VECTOR_BUCKETS",
            "skiff-vectors-0,skiff-vectors-1,skiff-vectors-2,skiff-vectors-3".into(),
        ),
        ("SKIFF_PUBLIC_URL", "https://api.example.com".into()),
        ("SKIFF_APP_URL", "https://app.example.com".into()),
        ("SKIFF_MAIL_FROM", "Skiff <no-reply@example.com>".into()),
        ("SKIFF_CORS_ORIGINS", "".into()),
        ("SKIFF_QUEUE_MAX_RECEIVES", "5".into()),
        ("SKIFF_QUEUE_VISIBILITY_SECS", "180".into()),
    ];
    match name {
        "auth" => vars.extend([
            ("SKIFF_RATE_LOGIN_PER_EMAIL", "10/60".into()),
            ("SKIFF_RATE_LOGIN_PER_IP", "20/60".into()),
            ("SKIFF_RATE_REGISTER_PER_IP", "20/600".into()),
            ("SKIFF_RATE_FORGOT_PASSWORD_PER_EMAIL", "5/3600".into()),
            ("SKIFF_RATE_FORGOT_PASSWORD_PER_IP", "20/3600".into()),
            ("SKIFF_RATE_RESEND_VERIFICATION_PER_EMAIL", "5/3600".into()),
            ("SKIFF_RATE_RESEND_VERIFICATION_PER_IP", "20/3600".into()),
        ]),
        // The production shape: Stripe, no simulator.
        "billing" => vars.extend([
            ("SKIFF_PAYMENTS", "stripe".into()),
            ("SKIFF_PAYMENT_SIMULATOR", "false".into()),
            ("SKIFF_STRIPE_PRICE_STARTER", "price_starter".into()),
            ("SKIFF_STRIPE_PRICE_PRO", "price_pro".into()),
            ("SKIFF_STRIPE_PRICE_ENTERPRISE", "price_enterprise".into()),
        ]),
        "licensing" => vars.extend([
            ("SKIFF_LICENSE_PREFIX", "SKIFF".into()),
            ("SKIFF_LICENSE_VALIDATE_PER_MIN", "60".into()),
            ("SKIFF_LICENSE_ACQUIRE_PER_MIN", "10".into()),
            ("SKIFF_LICENSE_HEARTBEAT_PER_MIN", "20".into()),
            ("SKIFF_LICENSE_FILE_TTL_SECS", "2592000".into()),
        ]),
        _ => {}
    }
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(vars: &'a [(String, String)], key: &str) -> Option<&'a str> {
        vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn points_the_runtime_and_aws_at_the_emulators() {
        let vars = function_env("outbox", "127.0.0.1:9001", "http://127.0.0.1:5000/");
        assert_eq!(get(&vars, "AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:9001"));
        assert_eq!(
            get(&vars, "AWS_ENDPOINT_URL"),
            Some("http://127.0.0.1:5000/")
        );
        assert_eq!(
            get(&vars, "SKIFF_QUEUE_URL"),
            Some("http://127.0.0.1:5000/123456789012/skiff-outbox")
        );
        assert_eq!(get(&vars, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
        assert_eq!(get(&vars, "SKIFF_PAYMENTS"), None);
    }

    #[test]
    fn each_function_gets_its_own_template_variables() {
        let auth = function_env("auth", "a", "http://e");
        assert_eq!(get(&auth, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("512"));
        assert_eq!(get(&auth, "SKIFF_RATE_LOGIN_PER_IP"), Some("20/60"));
        let billing = function_env("billing", "a", "http://e");
        assert_eq!(get(&billing, "SKIFF_PAYMENTS"), Some("stripe"));
        let licensing = function_env("licensing", "a", "http://e");
        assert_eq!(get(&licensing, "SKIFF_LICENSE_PREFIX"), Some("SKIFF"));
    }
}
