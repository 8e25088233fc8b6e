//! `template.yaml` (what is deployed) and the code (what runs and what `skiff
//! provision` creates) must agree: key names, queue limits, lifecycle days,
//! environment variables (every one the template sets is read by the libraries (crates/, domains/)),
//! generated secrets, the Lambda build settings, and the HTTP routes (each
//! function is sent exactly the routes its crate serves; no route has two owners),
//! and IAM (each function is granted exactly the AWS calls declared for it, and
//! every SDK call the adapters make is declared for a function or an operator).
//! A change on one side without the other fails here, not in production.

use serde_yaml::Value;
use serde_yaml::value::TaggedValue;
use skiff_app::AppConfig as Config;
use skiff_billing::catalog::Catalog;
use skiff_billing::settings::PaymentsMode;
use skiff_core::config::Backend;
use skiff_core::ports::secrets::Generate;
use skiff_core::resources::{buckets, queue, table, vectors};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/app sits two levels below the repository root")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn template() -> Value {
    serde_yaml::from_str(&read("template.yaml")).expect("template.yaml is valid YAML")
}

/// `v[a][b]...`, panicking with the path when a step is missing.
fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for (i, key) in path.iter().enumerate() {
        cur = cur
            .get(*key)
            .unwrap_or_else(|| panic!("template has no {}", path[..=i].join(".")));
    }
    cur
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    at(t, &["Resources", name])
}

fn props<'a>(t: &'a Value, name: &str) -> &'a Value {
    at(t, &["Resources", name, "Properties"])
}

/// A plain string (serde_yaml's `as_str` would also see through `!Ref x`).
fn str_of(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        other => panic!("expected a plain string, found {other:?}"),
    }
}

/// A number written as a YAML number or as a string (CloudFormation accepts both).
fn num(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().expect("a non-negative integer"),
        Value::String(s) => s.parse().unwrap_or_else(|e| panic!("`{s}`: {e}")),
        other => panic!("expected a number, found {other:?}"),
    }
}

fn seq(v: &Value) -> &Vec<Value> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("expected a list, found {v:?}"))
}

/// The argument of a short-form intrinsic (`!Ref X`, `!GetAtt X.Arn`, ...), if `v` is one.
fn intrinsic<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) => {
            let TaggedValue { tag, value } = &**t;
            (*tag == name).then_some(value)
        }
        _ => None,
    }
}

fn is_ref(v: &Value, target: &str) -> bool {
    intrinsic(v, "Ref").and_then(Value::as_str) == Some(target)
}

fn is_get_att(v: &Value, target: &str) -> bool {
    intrinsic(v, "GetAtt").and_then(Value::as_str) == Some(target)
}

fn resources_of_type<'a>(t: &'a Value, ty: &str) -> Vec<(&'a str, &'a Value)> {
    at(t, &["Resources"])
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(ty))
        .map(|(k, r)| (str_of(k), r))
        .collect()
}

// ------------------------------------------------------------------ table

#[test]
fn table_keys_index_and_ttl_equal_resources_table() {
    let t = template();
    let p = props(&t, "Table");

    let attrs: BTreeMap<&str, &str> = seq(at(p, &["AttributeDefinitions"]))
        .iter()
        .map(|a| {
            (
                str_of(at(a, &["AttributeName"])),
                str_of(at(a, &["AttributeType"])),
            )
        })
        .collect();
    let expected: BTreeMap<&str, &str> = [
        (table::PARTITION_KEY, "S"),
        (table::SORT_KEY, "S"),
        (table::GSI1_PARTITION_KEY, "S"),
        (table::GSI1_SORT_KEY, "S"),
    ]
    .into();
    assert_eq!(attrs, expected, "AttributeDefinitions");

    let keys = |schema: &Value| -> Vec<(String, String)> {
        seq(schema)
            .iter()
            .map(|k| {
                (
                    str_of(at(k, &["AttributeName"])).to_owned(),
                    str_of(at(k, &["KeyType"])).to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        keys(at(p, &["KeySchema"])),
        vec![
            (table::PARTITION_KEY.into(), "HASH".into()),
            (table::SORT_KEY.into(), "RANGE".into())
        ]
    );

    let gsis = seq(at(p, &["GlobalSecondaryIndexes"]));
    assert_eq!(gsis.len(), 1, "one overloaded secondary index");
    let gsi = &gsis[0];
    assert_eq!(str_of(at(gsi, &["IndexName"])), table::GSI1);
    assert_eq!(
        keys(at(gsi, &["KeySchema"])),
        vec![
            (table::GSI1_PARTITION_KEY.into(), "HASH".into()),
            (table::GSI1_SORT_KEY.into(), "RANGE".into())
        ]
    );
    assert_eq!(str_of(at(gsi, &["Projection", "ProjectionType"])), "ALL");

    assert_eq!(
        str_of(at(p, &["TimeToLiveSpecification", "AttributeName"])),
        table::TTL_ATTRIBUTE
    );
    assert_eq!(
        at(p, &["TimeToLiveSpecification", "Enabled"]),
        &Value::Bool(true)
    );
}

#[test]
fn table_is_on_demand_recoverable_protected_and_retained() {
    let t = template();
    let p = props(&t, "Table");
    assert_eq!(str_of(at(p, &["BillingMode"])), "PAY_PER_REQUEST");
    assert_eq!(
        at(
            p,
            &[
                "PointInTimeRecoverySpecification",
                "PointInTimeRecoveryEnabled"
            ]
        ),
        &Value::Bool(true)
    );
    assert_eq!(at(p, &["DeletionProtectionEnabled"]), &Value::Bool(true));
    assert_eq!(
        at(p, &["SSESpecification", "SSEEnabled"]),
        &Value::Bool(true)
    );
    let r = resource(&t, "Table");
    assert_eq!(str_of(at(r, &["DeletionPolicy"])), "Retain");
    assert_eq!(str_of(at(r, &["UpdateReplacePolicy"])), "Retain");
}

// ------------------------------------------------------------------ queues

#[test]
fn queue_limits_equal_resources_queue() {
    let t = template();
    let q = props(&t, "OutboxQueue");
    let dlq = props(&t, "OutboxDLQ");

    assert_eq!(
        num(at(q, &["RedrivePolicy", "maxReceiveCount"])),
        u64::from(queue::MAX_RECEIVE_COUNT)
    );
    assert!(
        is_get_att(
            at(q, &["RedrivePolicy", "deadLetterTargetArn"]),
            "OutboxDLQ.Arn"
        ),
        "the outbox redrives into OutboxDLQ"
    );
    assert_eq!(
        num(at(q, &["VisibilityTimeout"])),
        u64::from(queue::VISIBILITY_TIMEOUT_SECS)
    );
    assert_eq!(
        num(at(q, &["MessageRetentionPeriod"])),
        u64::from(queue::RETENTION_SECS)
    );
    assert_eq!(
        num(at(dlq, &["MessageRetentionPeriod"])),
        u64::from(queue::DLQ_RETENTION_SECS)
    );
    for (name, p) in [("OutboxQueue", q), ("OutboxDLQ", dlq)] {
        assert_eq!(
            at(p, &["SqsManagedSseEnabled"]),
            &Value::Bool(true),
            "{name} is encrypted"
        );
    }

    // The consumer's timeout is the one the visibility timeout is derived from.
    let timeout = num(at(props(&t, "OutboxFunction"), &["Timeout"]));
    assert_eq!(timeout, u64::from(queue::CONSUMER_TIMEOUT_SECS));
    assert!(
        num(at(q, &["VisibilityTimeout"])) >= 6 * timeout,
        "visibility ≥ 6 × the consumer's timeout, as AWS recommends for Lambda event sources"
    );

    // The functions are told the same limits the queue enforces.
    let env = at(&t, &["Globals", "Function", "Environment", "Variables"]);
    assert_eq!(
        num(at(env, &["SKIFF_QUEUE_MAX_RECEIVES"])),
        u64::from(queue::MAX_RECEIVE_COUNT)
    );
    assert_eq!(
        num(at(env, &["SKIFF_QUEUE_VISIBILITY_SECS"])),
        u64::from(queue::VISIBILITY_TIMEOUT_SECS)
    );
}

#[test]
fn outbox_consumes_the_queue_reporting_partial_batch_failures() {
    let t = template();
    let events = at(props(&t, "OutboxFunction"), &["Events"])
        .as_mapping()
        .expect("Events is a mapping");
    let sqs: Vec<&Value> = events
        .values()
        .filter(|e| e.get("Type").and_then(Value::as_str) == Some("SQS"))
        .collect();
    assert_eq!(sqs.len(), 1, "one SQS event source");
    let p = at(sqs[0], &["Properties"]);
    assert!(is_get_att(at(p, &["Queue"]), "OutboxQueue.Arn"));
    assert_eq!(num(at(p, &["BatchSize"])), 10);
    let types: Vec<&str> = seq(at(p, &["FunctionResponseTypes"]))
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(types, ["ReportBatchItemFailures"]);
}

// ------------------------------------------------------------------ buckets

fn lifecycle_rules(p: &Value) -> &Vec<Value> {
    seq(at(p, &["LifecycleConfiguration", "Rules"]))
}

fn enabled_rule_values(p: &Value, path: &[&str]) -> Vec<u64> {
    lifecycle_rules(p)
        .iter()
        .filter(|r| r.get("Status").and_then(Value::as_str) == Some("Enabled"))
        .filter_map(|r| {
            let mut cur = r;
            for k in path {
                cur = cur.get(*k)?;
            }
            Some(num(cur))
        })
        .collect()
}

#[test]
fn bucket_lifecycle_days_equal_resources_buckets() {
    let t = template();
    let blobs = props(&t, "BlobBucket");
    let exports = props(&t, "ExportBucket");
    let abort = ["AbortIncompleteMultipartUpload", "DaysAfterInitiation"];
    let abort_days = u64::try_from(buckets::ABORT_INCOMPLETE_UPLOAD_DAYS).unwrap();

    assert_eq!(enabled_rule_values(blobs, &abort), [abort_days]);
    assert_eq!(
        enabled_rule_values(blobs, &["NoncurrentVersionExpiration", "NoncurrentDays"]),
        [u64::try_from(buckets::NONCURRENT_VERSION_EXPIRATION_DAYS).unwrap()]
    );
    assert_eq!(
        str_of(at(blobs, &["VersioningConfiguration", "Status"])),
        "Enabled",
        "noncurrent-version expiry needs versioning"
    );
    assert!(
        enabled_rule_values(blobs, &["ExpirationInDays"]).is_empty(),
        "current user blobs never expire"
    );

    assert_eq!(enabled_rule_values(exports, &abort), [abort_days]);
    assert_eq!(
        enabled_rule_values(exports, &["ExpirationInDays"]),
        [u64::try_from(buckets::EXPORT_EXPIRATION_DAYS).unwrap()]
    );
}

#[test]
fn buckets_are_encrypted_private_and_tls_only() {
    let t = template();
    for bucket in ["BlobBucket", "ExportBucket"] {
        let p = props(&t, bucket);
        let sse = seq(at(
            p,
            &["BucketEncryption", "ServerSideEncryptionConfiguration"],
        ));
        let algo = str_of(at(
            &sse[0],
            &["ServerSideEncryptionByDefault", "SSEAlgorithm"],
        ));
        assert!(["AES256", "aws:kms"].contains(&algo), "{bucket}: {algo}");
        for flag in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(
                at(p, &["PublicAccessBlockConfiguration", flag]),
                &Value::Bool(true),
                "{bucket}.{flag}"
            );
        }

        let policies: Vec<&Value> = resources_of_type(&t, "AWS::S3::BucketPolicy")
            .into_iter()
            .map(|(_, r)| at(r, &["Properties"]))
            .filter(|p| is_ref(at(p, &["Bucket"]), bucket))
            .collect();
        assert_eq!(policies.len(), 1, "{bucket} has one bucket policy");
        let denies_plain_http = seq(at(policies[0], &["PolicyDocument", "Statement"]))
            .iter()
            .any(|s| {
                s.get("Effect").and_then(Value::as_str) == Some("Deny")
                    && s.get("Action").and_then(Value::as_str) == Some("s3:*")
                    && s.get("Condition")
                        .and_then(|c| c.get("Bool"))
                        .and_then(|b| b.get("aws:SecureTransport"))
                        .map(|v| v == &Value::from("false") || v == &Value::Bool(false))
                        == Some(true)
            });
        assert!(denies_plain_http, "{bucket} denies non-TLS access");
    }
}

// ------------------------------------------------------------------ vector buckets

#[test]
fn vector_buckets_are_the_declared_shards_encrypted_and_retained() {
    let t = template();
    let declared = resources_of_type(&t, "AWS::S3Vectors::VectorBucket");
    let names: BTreeSet<&str> = declared.iter().map(|(n, _)| *n).collect();
    let expected: BTreeSet<String> = (0..vectors::BUCKETS)
        .map(|i| format!("VectorBucket{i}"))
        .collect();
    assert_eq!(
        names,
        expected.iter().map(String::as_str).collect(),
        "resources::vectors::BUCKETS buckets, numbered in the order namespaces are hashed over"
    );
    for (name, r) in declared {
        assert_eq!(
            str_of(at(r, &["Properties", "EncryptionConfiguration", "SseType"])),
            "AES256",
            "{name}"
        );
        assert_eq!(str_of(at(r, &["DeletionPolicy"])), "Retain", "{name}");
        assert_eq!(str_of(at(r, &["UpdateReplacePolicy"])), "Retain", "{name}");
    }
}

// ------------------------------------------------------------------ environment

/// The variables every function gets (Globals) merged with a function's own.
fn function_env(t: &Value, function: &str) -> BTreeMap<String, Value> {
    let mut env: BTreeMap<String, Value> = BTreeMap::new();
    let globals = at(t, &["Globals", "Function", "Environment", "Variables"]);
    let local = props(t, function)
        .get("Environment")
        .and_then(|e| e.get("Variables"));
    for vars in [Some(globals), local].into_iter().flatten() {
        for (k, v) in vars.as_mapping().expect("Variables is a mapping") {
            env.insert(str_of(k).to_owned(), v.clone());
        }
    }
    env
}

/// Names config.rs requires when `SKIFF_BACKEND=aws` (`env.require("…")`).
fn required_by_config(config_rs: &str) -> BTreeSet<String> {
    config_rs
        .split("env.require(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files
}

/// A source file without its unit tests (everything from the first `#[cfg(test)]`
/// line on), so a name that only a test mentions does not count as read.
fn non_test_source(path: &Path) -> String {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    match text.find("\n#[cfg(test)]") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The environment variables the libraries read: every string literal `"SKIFF_…"` /
/// `"AWS_…"` outside unit tests (config.rs, billing/settings.rs, licensing/…), plus
/// the `SKIFF_STRIPE_PRICE_<PLAN>` names the catalog builds from its plan ids.
fn variables_read_by_the_libraries() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let libraries = [
        "crates/core",
        "crates/adapters",
        "crates/http",
        "crates/app",
    ]
    .into_iter()
    .chain([
        "domains/identity",
        "domains/billing",
        "domains/licensing",
        "domains/admin",
        "domains/storage",
        "domains/scripts",
        "domains/memory",
    ]);
    for file in libraries.flat_map(|dir| rust_files(&repo_root().join(dir).join("src"))) {
        let text = non_test_source(&file);
        for piece in text.split('"').skip(1).step_by(2) {
            let is_name = piece
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_name && (piece.starts_with("SKIFF_") || piece.starts_with("AWS_")) {
                names.insert(piece.to_owned());
            }
        }
    }
    names.extend(
        Catalog::built_in()
            .plans()
            .iter()
            .map(|p| p.price_env_var()),
    );
    names
}

/// A parameter's deployed value: the sample if there is one, else its default.
fn parameter_value(t: &Value, name: &str, samples: &BTreeMap<&str, &str>) -> String {
    if let Some(v) = samples.get(name) {
        return (*v).to_owned();
    }
    let p = at(t, &["Parameters", name]);
    match p.get("Default") {
        Some(d) => str_of(d).to_owned(),
        None => panic!("no sample value for parameter {name}, which has no default"),
    }
}

/// Evaluates a condition expression (`!Not`, `!Equals`, `!Ref` parameter,
/// `!Condition` / condition name) as CloudFormation would for the samples.
fn condition(t: &Value, v: &Value, samples: &BTreeMap<&str, &str>) -> bool {
    if let Some(args) = intrinsic(v, "Not") {
        return !condition(t, &seq(args)[0], samples);
    }
    if let Some(args) = intrinsic(v, "Equals") {
        let args = seq(args);
        let operand = |a: &Value| match intrinsic(a, "Ref") {
            Some(name) => parameter_value(t, str_of(name), samples),
            None => str_of(a).to_owned(),
        };
        return operand(&args[0]) == operand(&args[1]);
    }
    let name = intrinsic(v, "Condition").map_or_else(|| str_of(v), str_of);
    condition(t, at(t, &["Conditions", name]), samples)
}

/// A plausible deployed value for a template value: literals as written,
/// parameters from `samples` (or their defaults), resource references as
/// placeholders, `!If` resolved; `None` for `AWS::NoValue` (the variable is unset).
fn deployed_value(t: &Value, v: &Value, samples: &BTreeMap<&str, &str>) -> Option<String> {
    if let Some(args) = intrinsic(v, "If") {
        let args = seq(args);
        let branch = if condition(t, &args[0], samples) {
            1
        } else {
            2
        };
        return deployed_value(t, &args[branch], samples);
    }
    if let Some(args) = intrinsic(v, "Join") {
        let args = seq(args);
        let parts: Vec<String> = seq(&args[1])
            .iter()
            .filter_map(|part| deployed_value(t, part, samples))
            .collect();
        return Some(parts.join(str_of(&args[0])));
    }
    let target = match v {
        Value::String(s) => return Some(s.clone()),
        Value::Number(n) => return Some(n.to_string()),
        _ => intrinsic(v, "Ref")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("unexpected environment value {v:?}")),
    };
    if target == "AWS::NoValue" {
        return None;
    }
    if t["Parameters"].get(target).is_some() {
        return Some(parameter_value(t, target, samples));
    }
    assert!(
        t["Resources"].get(target).is_some(),
        "!Ref {target} names no parameter or resource"
    );
    Some(format!("deployed-{target}"))
}

/// Sample deployments: the parameters samconfig must set, then once with every
/// optional parameter at its default and once with all of them set.
fn sample_deployments() -> [BTreeMap<&'static str, &'static str>; 2] {
    let required = [
        ("Stage", "prod"),
        (
            "AllowedCorsOrigins",
            "https://app.example.com,https://admin.example.com",
        ),
        ("PublicUrl", "https://api.example.com"),
        ("AppUrl", "https://app.example.com"),
        ("MailFrom", "Skiff <no-reply@example.com>"),
        ("MailIdentity", "example.com"),
    ];
    let optional = [
        ("StripePriceStarter", "price_starter1"),
        ("StripePricePro", "price_pro1"),
        ("StripePriceEnterprise", "price_enterprise1"),
        ("CheckoutRedirectOrigins", "https://shop.example.com"),
        ("UpgradeUrl", "https://shop.example.com/upgrade"),
    ];
    [
        required.into_iter().collect(),
        required.into_iter().chain(optional).collect(),
    ]
}

#[test]
fn environment_names_are_read_by_the_libraries_and_cover_what_config_requires() {
    let t = template();
    let required = required_by_config(&read("crates/core/src/config.rs"));
    assert!(
        required.contains("SKIFF_TABLE"),
        "config.rs parsing found its required variables: {required:?}"
    );
    let read_by_libraries = variables_read_by_the_libraries();
    for name in ["SKIFF_TABLE", "SKIFF_PAYMENTS", "SKIFF_STRIPE_PRICE_PRO"] {
        assert!(
            read_by_libraries.contains(name),
            "the source scan finds {name}: {read_by_libraries:?}"
        );
    }

    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    assert!(!functions.is_empty());
    for (function, _) in functions {
        let env = function_env(&t, function);
        for name in env.keys() {
            assert!(
                read_by_libraries.contains(name),
                "{function} sets {name}, which nothing in the libraries read"
            );
        }
        for name in &required {
            assert!(
                env.contains_key(name),
                "{function} lacks {name}, which config.rs requires for the aws backend"
            );
        }
        assert_eq!(env.get("SKIFF_BACKEND"), Some(&Value::from("aws")));

        // And the configuration the functions will see actually loads.
        for samples in sample_deployments() {
            let vars: Vec<(String, String)> = env
                .iter()
                .filter_map(|(k, v)| deployed_value(&t, v, &samples).map(|v| (k.clone(), v)))
                .collect();
            let config = Config::from_vars(vars).unwrap_or_else(|e| {
                panic!("{function}'s environment does not load ({samples:?}): {e}")
            });
            assert_eq!(config.backend, Backend::Aws);
            assert!(!config.is_dev());
            assert_eq!(config.queue_max_receives, queue::MAX_RECEIVE_COUNT);
            assert_eq!(
                config.queue_visibility_secs,
                u64::from(queue::VISIBILITY_TIMEOUT_SECS)
            );
            assert_eq!(
                config.billing().payments,
                PaymentsMode::Stripe,
                "{function}: no payment simulator in a deployment"
            );
            let aws = config.core.aws.expect("aws resources");
            assert_eq!(aws.table, "deployed-Table");
            assert_eq!(aws.queue_url, "deployed-OutboxQueue");
            assert_eq!(aws.dlq_url, "deployed-OutboxDLQ");
            assert_eq!(aws.secret_id, "deployed-SkiffSecret");
            assert_eq!(aws.blob_bucket, "deployed-BlobBucket");
            assert_eq!(aws.export_bucket, "deployed-ExportBucket");
            let vector_buckets: Vec<String> = (0..vectors::BUCKETS)
                .map(|i| format!("deployed-VectorBucket{i}"))
                .collect();
            assert_eq!(
                aws.vector_buckets, vector_buckets,
                "every vector bucket, in order"
            );
            assert_eq!(
                aws.endpoint_url, None,
                "no emulator endpoint in a deployment"
            );
        }
    }
}

#[test]
fn billing_gets_a_price_parameter_for_every_paid_plan() {
    let t = template();
    let env = function_env(&t, "BillingFunction");
    let [defaults, full] = sample_deployments();
    let load = |samples: &BTreeMap<&str, &str>| {
        let vars: Vec<(String, String)> = env
            .iter()
            .filter_map(|(k, v)| deployed_value(&t, v, samples).map(|v| (k.clone(), v)))
            .collect();
        Config::from_vars(vars).expect("billing's environment loads")
    };

    let config = load(&full);
    for plan in Catalog::built_in().plans().iter().filter(|p| !p.is_free()) {
        let var = plan.price_env_var();
        assert!(
            env.contains_key(&var),
            "BillingFunction does not set {var}: plan `{}` could not be sold",
            plan.id
        );
        let loaded = config
            .billing()
            .catalog
            .plans()
            .iter()
            .find(|p| p.id == plan.id)
            .expect("the same catalog");
        assert_eq!(
            loaded.stripe_price_id.as_deref(),
            Some(format!("price_{}1", plan.id).as_str()),
            "{var} reaches plan `{}`",
            plan.id
        );
    }
    assert_eq!(
        config.billing().redirect_origins,
        ["https://shop.example.com"]
    );
    assert_eq!(
        config.billing().upgrade_url,
        "https://shop.example.com/upgrade"
    );

    // Optional parameters left empty leave the variables unset: the code's defaults.
    let config = load(&defaults);
    assert!(
        config
            .billing()
            .catalog
            .plans()
            .iter()
            .all(|p| p.stripe_price_id.is_none())
    );
    assert_eq!(
        config.billing().upgrade_url,
        "https://api.example.com/api/v1/plans"
    );
    assert!(
        config
            .billing()
            .redirect_origins
            .contains(&"https://api.example.com".to_owned())
    );
}

// ------------------------------------------------------------------ secret

#[test]
fn secret_generates_every_random_key_secret_as_hex() {
    let t = template();
    let spec = at(props(&t, "SkiffSecret"), &["GenerateSecretString"]);
    let template: serde_json::Value =
        serde_json::from_str(str_of(at(spec, &["SecretStringTemplate"])))
            .expect("SecretStringTemplate is JSON");
    let generated = str_of(at(spec, &["GenerateStringKey"]));

    let mut names: BTreeSet<&str> = template
        .as_object()
        .expect("SecretStringTemplate is a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    names.insert(generated);
    for s in skiff_app::secrets()
        .iter()
        .filter(|s| s.generate == Generate::RandomKey)
    {
        assert_eq!(
            s.name, generated,
            "CloudFormation generates one key per secret: `{}` needs its own \
             generated secret (or provisioning), `{generated}` is the generated one",
            s.name
        );
    }
    for name in &names {
        assert!(
            skiff_app::secrets().iter().any(|s| s.name == *name),
            "the secret holds `{name}`, which skiff_app::secrets() does not know"
        );
    }
    // Generate::Never secrets (Stripe's keys, rotated token-signing keys) are set
    // by an operator or a command; a templated placeholder would look configured.
    for s in skiff_app::secrets()
        .iter()
        .filter(|s| s.generate == Generate::Never)
    {
        assert!(
            !names.contains(s.name),
            "`{}` is never generated, yet the template creates it",
            s.name
        );
    }

    // Generate::RandomKey is 32 random bytes, hex: 64 characters of [0-9a-f].
    assert_eq!(num(at(spec, &["PasswordLength"])), 64);
    assert_eq!(at(spec, &["ExcludeUppercase"]), &Value::Bool(true));
    assert_eq!(at(spec, &["ExcludePunctuation"]), &Value::Bool(true));
    assert_ne!(spec.get("IncludeSpace"), Some(&Value::Bool(true)));
    let excluded: BTreeSet<char> = str_of(at(spec, &["ExcludeCharacters"])).chars().collect();
    let expected: BTreeSet<char> = ('g'..='z').collect();
    assert_eq!(excluded, expected, "only 0-9a-f remain");
}

// ------------------------------------------------------------------ functions

/// `[[bin]]` names declared by the function crates under functions/, each with its
/// crate's directory.
fn function_binaries() -> BTreeMap<String, PathBuf> {
    let mut bins = BTreeMap::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).expect("functions/") {
        let dir = entry.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        for section in text.split("[[bin]]").skip(1) {
            let name = section
                .lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix("name"))
                .and_then(|l| l.trim_start().strip_prefix('='))
                .map(|l| l.trim().trim_matches('"').to_owned())
                .unwrap_or_else(|| panic!("{} has a [[bin]] without a name", manifest.display()));
            bins.insert(name, dir.clone());
        }
    }
    bins
}

/// The binary a function resource builds.
fn binary_of(f: &Value) -> &str {
    str_of(at(f, &["Metadata", "BuildProperties", "Binary"]))
}

#[test]
fn functions_run_on_arm64_al2023_with_json_logs_and_each_builds_a_binary_of_the_workspace() {
    let t = template();
    let g = at(&t, &["Globals", "Function"]);
    assert_eq!(str_of(at(g, &["Runtime"])), "provided.al2023");
    assert_eq!(str_of(at(g, &["Handler"])), "bootstrap");
    assert_eq!(seq(at(g, &["Architectures"])), &vec![Value::from("arm64")]);
    assert_eq!(str_of(at(g, &["LoggingConfig", "LogFormat"])), "JSON");

    let bins = function_binaries();
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    let mut built = BTreeSet::new();
    for (name, f) in &functions {
        let p = at(f, &["Properties"]);
        for key in ["Runtime", "Handler", "Architectures"] {
            assert!(p.get(key).is_none(), "{name} overrides the global {key}");
        }
        assert_eq!(
            str_of(at(p, &["CodeUri"])),
            ".",
            "{name} builds from the workspace"
        );
        assert_eq!(
            str_of(at(f, &["Metadata", "BuildMethod"])),
            "rust-cargolambda",
            "{name}'s BuildMethod"
        );
        let bin = binary_of(f);
        assert!(
            bins.contains_key(bin),
            "{name} builds `{bin}`, which no functions/* crate declares"
        );
        assert!(built.insert(bin), "two functions build `{bin}`");

        // Its own log group, with the stage's retention.
        let group = intrinsic(at(p, &["LoggingConfig", "LogGroup"]), "Ref")
            .map(str_of)
            .unwrap_or_else(|| panic!("{name} logs to a !Ref'd log group"));
        assert_eq!(
            str_of(at(resource(&t, group), &["Type"])),
            "AWS::Logs::LogGroup",
            "{name}'s LogGroup"
        );
        assert!(
            at(resource(&t, group), &["Properties"])
                .get("RetentionInDays")
                .is_some(),
            "{group} has a retention"
        );
    }
    let declared: BTreeSet<&str> = bins.keys().map(String::as_str).collect();
    assert_eq!(
        built, declared,
        "every functions/* binary is deployed by exactly one function"
    );

    let schedules: Vec<&str> = at(props(&t, "SchedulerFunction"), &["Events"])
        .as_mapping()
        .expect("Events")
        .values()
        .filter(|e| e.get("Type").and_then(Value::as_str) == Some("Schedule"))
        .map(|e| str_of(at(e, &["Properties", "Schedule"])))
        .collect();
    assert_eq!(schedules, ["rate(5 minutes)"]);
}

// ------------------------------------------------------------------ HTTP routes

/// `(METHOD, path)` with path parameters anonymised: API Gateway treats
/// `/a/{x}` and `/a/{y}` as the same route.
type Route = (String, String);

fn route(method: &str, path: &str) -> Route {
    let mut normalized = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                normalized.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => normalized.push(c),
        }
    }
    (method.to_ascii_uppercase(), normalized)
}

/// The API of hosts claimed by scripts apps: one `$default` route, to scripts.
const CLAIMED_HOSTS_API: &str = "ScriptsHostApi";

#[test]
fn claimed_hosts_reach_only_the_scripts_function() {
    let t = template();
    let mut found = vec![];
    for (name, f) in resources_of_type(&t, "AWS::Serverless::Function") {
        let Some(events) = at(f, &["Properties"]).get("Events") else {
            continue;
        };
        for e in events.as_mapping().expect("Events is a mapping").values() {
            let p = e.get("Properties");
            if p.and_then(|p| p.get("ApiId"))
                .is_some_and(|a| is_ref(a, CLAIMED_HOSTS_API))
            {
                let p = p.unwrap();
                found.push((
                    name,
                    str_of(at(p, &["Method"])).to_owned(),
                    str_of(at(p, &["Path"])).to_owned(),
                ));
            }
        }
    }
    assert_eq!(
        found,
        [("ScriptsFunction", "ANY".to_owned(), "$default".to_owned())]
    );
}

/// Each function's HttpApi events as routes (resource name → routes, in order).
fn template_routes(t: &Value) -> BTreeMap<String, Vec<Route>> {
    let mut out = BTreeMap::new();
    for (name, f) in resources_of_type(t, "AWS::Serverless::Function") {
        let Some(events) = at(f, &["Properties"]).get("Events") else {
            continue;
        };
        let routes: Vec<Route> = events
            .as_mapping()
            .expect("Events is a mapping")
            .values()
            .filter(|e| e.get("Type").and_then(Value::as_str) == Some("HttpApi"))
            .filter(|e| !is_ref(at(e, &["Properties", "ApiId"]), CLAIMED_HOSTS_API))
            .map(|e| {
                let p = at(e, &["Properties"]);
                assert!(
                    is_ref(at(p, &["ApiId"]), "HttpApi"),
                    "{name}: every route is on HttpApi"
                );
                route(str_of(at(p, &["Method"])), str_of(at(p, &["Path"])))
            })
            .collect();
        if !routes.is_empty() {
            out.insert(name.to_owned(), routes);
        }
    }
    out
}

/// The contents of the balanced parentheses that start at `s[open]` (a `(`).
fn parenthesized(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after: {}", &s[open..]);
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The routes a function crate serves, read from its source: `#[utoipa::path(method,
/// path = "…")]` handlers and axum `.route("…", get(…).post(…))` calls, plus
/// `GET /api/v1/openapi.json` where the crate mounts `http::openapi::router`.
fn code_routes(crate_dir: &Path) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for file in rust_files(&crate_dir.join("src")) {
        let text = non_test_source(&file);
        for (i, _) in text.match_indices("#[utoipa::path(") {
            let args = parenthesized(&text, i + "#[utoipa::path".len());
            let method = args.split(',').next().unwrap().trim();
            assert!(METHODS.contains(&method), "{}: {args}", file.display());
            let path = args
                .split("path = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("{}: no path in {args}", file.display()));
            routes.insert(route(method, path));
        }
        for (i, _) in text.match_indices(".route(") {
            let args = parenthesized(&text, i + ".route".len()).trim_start();
            let Some(rest) = args.strip_prefix('"') else {
                continue; // a computed path (none in the function crates today)
            };
            let (path, handlers) = rest.split_once('"').expect("a closed literal");
            // `any(…)` under a literal prefix is the API's `ANY <prefix>/{proxy+}`.
            if handlers
                .trim_start()
                .trim_start_matches(',')
                .trim_start()
                .starts_with("any(")
            {
                let prefix = &path[..path.find('{').unwrap_or(path.len())];
                let prefix = prefix.trim_end_matches('/');
                routes.insert(route("any", &format!("{prefix}/{{proxy+}}")));
                continue;
            }
            for method in METHODS {
                for (j, _) in handlers.match_indices(&format!("{method}(")) {
                    let before = handlers[..j].chars().next_back();
                    if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
                        routes.insert(route(method, path));
                    }
                }
            }
        }
        if text.contains("http::openapi::router(") {
            routes.insert(route("get", skiff_http::openapi::PATH));
        }
        if text.contains("http::lambda_app(") {
            routes.extend(health_routes());
        }
    }
    routes
}

/// The health routes every HTTP function serves through `http::lambda_app`.
fn health_routes() -> BTreeSet<Route> {
    skiff_http::health::PATHS
        .iter()
        .map(|p| route("get", p))
        .collect()
}

/// The one function the API sends the health routes to (the others serve them for
/// direct invokes and `cargo lambda watch`).
const HEALTH_OWNER: &str = "AuthFunction";

#[test]
fn no_method_and_path_is_declared_twice() {
    let t = template();
    let mut owner: BTreeMap<Route, &str> = BTreeMap::new();
    let all = template_routes(&t);
    assert!(all.len() >= 2, "the HTTP functions declare routes: {all:?}");
    for (function, routes) in &all {
        for r in routes {
            if let Some(first) = owner.insert(r.clone(), function) {
                panic!("{} {} is declared by {first} and {function}", r.0, r.1);
            }
        }
    }
    // Shared documents and the health routes belong to auth.
    let health = skiff_http::health::PATHS;
    for path in [skiff_http::openapi::PATH, "/.well-known/jwks.json"]
        .into_iter()
        .chain(health)
    {
        assert_eq!(
            owner.get(&route("GET", path)).copied(),
            Some("AuthFunction"),
            "GET {path}"
        );
    }
}

#[test]
fn each_http_function_declares_exactly_the_routes_its_code_serves() {
    let t = template();
    let bins = function_binaries();
    let declared = template_routes(&t);
    for (name, f) in resources_of_type(&t, "AWS::Serverless::Function") {
        let bin = binary_of(f);
        let served = code_routes(&bins[bin]);
        let routes: BTreeSet<Route> = declared
            .get(name)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        let health = health_routes();
        let missing: Vec<&Route> = served
            .difference(&routes)
            .filter(|r| name == HEALTH_OWNER || !health.contains(r))
            .collect();
        let extra: Vec<&Route> = routes.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "{name} serves routes the API does not expose: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "{name} is sent routes `{bin}` does not serve (or a proxy route): {extra:?}"
        );
    }
    assert!(
        !code_routes(&bins["auth"]).is_empty() && !code_routes(&bins["billing"]).is_empty(),
        "the source scan finds the HTTP routes"
    );
    for bin in ["auth", "billing", "licensing", "storage", "admin", "memory"] {
        assert!(
            code_routes(&bins[bin]).is_superset(&health_routes()),
            "`{bin}` mounts the health routes through http::lambda_app"
        );
    }
}

/// The payment simulator's routes, read from its router: `.route(&format!("{BASE}…"),
/// get(…))` calls in functions/billing/src/simulator.rs.
fn simulator_routes() -> BTreeSet<Route> {
    let text = non_test_source(&repo_root().join("functions/billing/src/simulator.rs"));
    let mut routes = BTreeSet::new();
    for (i, _) in text.match_indices(".route(") {
        let args = parenthesized(&text, i + ".route".len());
        let Some(rest) = args.split("\"{BASE}").nth(1) else {
            continue;
        };
        let (tail, handlers) = rest.split_once('"').expect("a closed literal");
        let path = format!(
            "{}{}",
            skiff_billing::simulator::BASE,
            tail.replace("{{", "{").replace("}}", "}")
        );
        for method in METHODS {
            if handlers.contains(&format!("{method}(")) {
                routes.insert(route(method, &path));
            }
        }
    }
    routes
}

#[test]
fn the_payment_simulator_is_deployed_with_its_routes_or_not_at_all() {
    let t = template();
    let code = simulator_routes();
    assert!(
        code.len() >= 2,
        "the source scan finds the simulator's routes: {code:?}"
    );

    // Its routes exist exactly when the parameter turns it on, all sent to billing.
    let mut declared = BTreeSet::new();
    for (name, r) in resources_of_type(&t, "AWS::ApiGatewayV2::Route") {
        assert_eq!(
            str_of(at(r, &["Condition"])),
            "UsePaymentSimulator",
            "{name}"
        );
        let p = at(r, &["Properties"]);
        assert!(is_ref(at(p, &["ApiId"]), "HttpApi"), "{name}");
        let target = intrinsic(at(p, &["Target"]), "Sub").map(str_of);
        assert_eq!(
            target,
            Some("integrations/${SimulatorIntegration}"),
            "{name}"
        );
        let (method, path) = str_of(at(p, &["RouteKey"]))
            .split_once(' ')
            .expect("METHOD /path");
        declared.insert(route(method, path));
    }
    assert_eq!(declared, code, "the template routes every simulator route");
    let integration = resource(&t, "SimulatorIntegration");
    assert_eq!(
        str_of(at(integration, &["Condition"])),
        "UsePaymentSimulator"
    );
    assert!(is_get_att(
        at(integration, &["Properties", "IntegrationUri"]),
        "BillingFunction.Arn"
    ));
    let permission = at(resource(&t, "SimulatorInvokePermission"), &["Properties"]);
    assert!(is_ref(at(permission, &["FunctionName"]), "BillingFunction"));
    let source = intrinsic(at(permission, &["SourceArn"]), "Sub")
        .map(str_of)
        .unwrap();
    assert!(
        source.ends_with(&format!("{}/*", skiff_billing::simulator::BASE)),
        "{source}"
    );

    // And billing takes payments with it exactly then, in dev only.
    let env = function_env(&t, "BillingFunction");
    let [defaults, _] = sample_deployments();
    let mut on = defaults.clone();
    on.extend([("PaymentSimulator", "true"), ("Stage", "dev")]);
    for (samples, mode) in [
        (defaults, PaymentsMode::Stripe),
        (on, PaymentsMode::Simulator),
    ] {
        let vars: Vec<(String, String)> = env
            .iter()
            .filter_map(|(k, v)| deployed_value(&t, v, &samples).map(|v| (k.clone(), v)))
            .collect();
        let config = Config::from_vars(vars).expect("billing's environment loads");
        assert_eq!(config.billing().payments, mode, "{samples:?}");
    }
    let rule = at(&t, &["Rules", "PaymentSimulatorOnlyInDev"]);
    let assertion = &seq(at(rule, &["Assertions"]))[0];
    let args = seq(intrinsic(at(assertion, &["Assert"]), "Equals").unwrap());
    assert!(is_ref(&args[0], "Stage") && str_of(&args[1]) == "dev");
}

#[test]
fn samconfig_builds_without_asking_for_the_beta_build_method() {
    let samconfig = read("samconfig.toml");
    for env in ["default", "dev", "prod"] {
        let header = format!("[{env}.build.parameters]");
        let section = samconfig
            .split(&header)
            .nth(1)
            .unwrap_or_else(|| panic!("samconfig.toml has no {header}"));
        let section = section.split("\n[").next().unwrap();
        assert!(
            section.lines().any(|l| l.trim() == "beta_features = true"),
            "{header} enables beta_features (rust-cargolambda is a beta build method)"
        );
    }
}

// ------------------------------------------------------------------ IAM

/// Every policy statement anywhere in the template (SAM `Policies`, IAM policies,
/// bucket policies): any mapping holding a `Statement` list.
fn statements(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                if k.as_str() == Some("Statement") {
                    match child {
                        Value::Sequence(s) => out.extend(s.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                } else {
                    statements(child, out);
                }
            }
        }
        Value::Sequence(s) => s.iter().for_each(|c| statements(c, out)),
        Value::Tagged(t) => statements(&t.value, out),
        _ => {}
    }
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Sequence(s) => s.iter().flat_map(strings).collect(),
        // `!Sub "…"`, `!Join`, …: the strings they are made of.
        Value::Tagged(t) => strings(&t.value),
        _ => vec![],
    }
}

#[test]
fn no_policy_statement_allows_every_resource() {
    let t = template();
    let mut all = vec![];
    statements(&t["Resources"], &mut all);
    let allows: Vec<&Value> = all
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .collect();
    assert!(
        !allows.is_empty(),
        "the walk found the functions' own statements"
    );
    for s in allows {
        let resource = s
            .get("Resource")
            .unwrap_or_else(|| panic!("Allow statement without Resource: {s:?}"));
        assert!(
            !strings(resource).contains(&"*"),
            "statement allows Resource \"*\": {s:?}"
        );
        let actions = strings(s.get("Action").expect("Action"));
        assert!(
            !actions.iter().any(|a| *a == "*" || a.ends_with(":*")),
            "statement allows every action of a service: {s:?}"
        );
    }

    // Functions use SAM policy templates or explicit statements, never a managed
    // policy by name (those grant on "*").
    for (name, f) in resources_of_type(&t, "AWS::Serverless::Function") {
        let policies = seq(at(f, &["Properties", "Policies"]));
        for p in policies {
            assert!(p.is_mapping(), "{name} attaches a managed policy: {p:?}");
        }
        assert!(
            at(f, &["Properties"]).get("Role").is_none(),
            "{name} uses its own role"
        );
    }
}

// ------------------------------------------------------------------ SDK calls ↔ IAM

/// An IAM action on a resource, the resource named as the template names it:
/// `Table` for `!GetAtt Table.Arn` or `!Ref Table`, `Table/index/gsi1` for
/// `!Sub "${Table.Arn}/index/gsi1"`.
type Grant = (String, String);

/// The adapters that call AWS, each with its service's IAM prefix.
const AWS_ADAPTERS: [(&str, &str); 6] = [
    ("dynamo_store", "dynamodb"),
    ("s3_blobs", "s3"),
    ("s3_vectors", "s3vectors"),
    ("sqs_queue", "sqs"),
    ("ses_mail", "ses"),
    ("aws_secrets", "secretsmanager"),
];

/// The SDK operations a source calls on a client: `client.<op>(` and
/// `client\n    .<op>(` (the fluent builders the adapters use); not `clone`, `config`
/// or `into` (the adapters wrap a client in its lazy cell).
fn client_calls(text: &str) -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (i, _) in text.match_indices("client") {
        let rest = text[i + "client".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let op: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !op.is_empty()
            && rest[op.len()..].starts_with('(')
            && !["clone", "config", "into"].contains(&op.as_str())
        {
            ops.insert(op);
        }
    }
    ops
}

/// The IAM actions an SDK operation needs (IAM authorizes a transaction per item
/// action, a batch as its single action, HeadBucket as ListBucket, HeadObject as
/// GetObject).
fn iam_actions(service: &str, op: &str) -> Vec<String> {
    let camel: String = op
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let actions: Vec<&str> = match (service, op) {
        ("dynamodb", "transact_write_items") => {
            vec!["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"]
        }
        ("s3", "head_bucket" | "list_objects_v2") => vec!["ListBucket"],
        ("s3", "head_object") => vec!["GetObject"],
        // A multipart upload is authorized as PutObject, part by part.
        ("s3", "create_multipart_upload" | "upload_part" | "complete_multipart_upload") => {
            vec!["PutObject"]
        }
        // A query that filters or returns metadata also needs GetVectors.
        ("s3vectors", "query_vectors") => vec!["QueryVectors", "GetVectors"],
        (_, _) if camel.ends_with("Batch") => vec![camel.trim_end_matches("Batch")],
        _ => vec![camel.as_str()],
    };
    actions.iter().map(|a| format!("{service}:{a}")).collect()
}

/// Every IAM action the AWS adapters' SDK calls need, with the operation that needs it.
/// `provision.rs` is left out: `skiff provision` runs with an operator's credentials,
/// never inside a function. Files that name no AWS SDK crate (Stripe, SQLite) make no
/// AWS call.
fn actions_the_code_needs() -> BTreeMap<String, String> {
    let dir = repo_root().join("crates/adapters/src");
    let mut needed = BTreeMap::new();
    for file in rust_files(&dir) {
        let stem = file.file_stem().unwrap().to_str().unwrap().to_owned();
        if stem == "provision" {
            continue;
        }
        let source = non_test_source(&file);
        let ops = client_calls(&source);
        if ops.is_empty() || !source.contains("aws_sdk_") {
            continue;
        }
        let service = AWS_ADAPTERS
            .iter()
            .find(|(a, _)| *a == stem)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("{stem}.rs calls AWS ({ops:?}) but is not in AWS_ADAPTERS"));
        for op in ops {
            for action in iam_actions(service, &op) {
                needed.insert(action, format!("{stem}::{op}"));
            }
        }
    }
    needed
}

const ITEM_ACTIONS: [&str; 6] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
];

/// What each function may call: the claim the template's policies must equal.
fn declared_grants() -> BTreeMap<&'static str, BTreeSet<Grant>> {
    let g = |a: &str, r: &str| (a.to_owned(), r.to_owned());
    let items = || {
        ITEM_ACTIONS
            .iter()
            .flat_map(|a| [g(a, "Table"), g(a, "Table/index/gsi1")])
            .collect::<Vec<_>>()
    };
    let send = g("sqs:SendMessage", "OutboxQueue");
    let secret = g("secretsmanager:GetSecretValue", "SkiffSecret");
    let readiness = [
        g("dynamodb:DescribeTable", "Table"),
        g("s3:ListBucket", "BlobBucket"),
        g("sqs:GetQueueAttributes", "OutboxQueue"),
    ];
    let readiness = readiness.into_iter().chain(
        (0..vectors::BUCKETS).map(|i| g("s3vectors:GetVectorBucket", &format!("VectorBucket{i}"))),
    );
    let mut out = BTreeMap::new();
    let mut add = |f: &'static str, extra: Vec<Grant>| {
        out.insert(f, items().into_iter().chain(extra).collect());
    };
    add(
        "AuthFunction",
        [send.clone(), secret.clone()]
            .into_iter()
            .chain(readiness)
            .collect(),
    );
    add("BillingFunction", vec![send.clone(), secret.clone()]);
    add("LicensingFunction", vec![secret.clone()]);
    let script_files = || {
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
            .map(|a| g(a, "BlobBucket/*"))
            .to_vec()
    };
    add(
        "ScriptsFunction",
        [send.clone(), secret.clone()]
            .into_iter()
            .chain(script_files())
            .collect(),
    );
    // The vector buckets' indexes (an index per namespace).
    let indexes = |actions: &[&str]| {
        (0..vectors::BUCKETS)
            .flat_map(|i| {
                actions
                    .iter()
                    .map(move |a| g(a, &format!("${{VectorBucket{i}}}/index/*")))
            })
            .collect::<Vec<_>>()
    };
    let objects = |bucket: &str, actions: &[&str]| {
        actions
            .iter()
            .map(|a| g(a, &format!("{bucket}/*")))
            .collect::<Vec<_>>()
    };
    add(
        "StorageFunction",
        [send.clone(), secret.clone()]
            .into_iter()
            .chain(objects(
                "BlobBucket",
                &[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                ],
            ))
            .chain(objects("ExportBucket", &["s3:GetObject"]))
            .chain(indexes(&[
                "s3vectors:GetIndex",
                "s3vectors:CreateIndex",
                "s3vectors:PutVectors",
                "s3vectors:GetVectors",
                "s3vectors:QueryVectors",
                "s3vectors:DeleteVectors",
            ]))
            .collect(),
    );
    let memory_vectors = [
        "s3vectors:GetIndex",
        "s3vectors:CreateIndex",
        "s3vectors:PutVectors",
        "s3vectors:GetVectors",
        "s3vectors:QueryVectors",
        "s3vectors:DeleteVectors",
    ];
    add(
        "MemoryFunction",
        [
            send.clone(),
            secret.clone(),
            // Its /health: the table and the vector buckets.
            g("dynamodb:DescribeTable", "Table"),
            // Its exports' signed download links.
            g("s3:GetObject", "ExportBucket/memory/*"),
        ]
        .into_iter()
        .chain(
            (0..vectors::BUCKETS)
                .map(|i| g("s3vectors:GetVectorBucket", &format!("VectorBucket{i}"))),
        )
        .chain(indexes(&memory_vectors))
        .collect(),
    );
    add(
        "OutboxFunction",
        vec![
            send.clone(),
            secret.clone(),
            // A failed record's retry delay.
            g("sqs:ChangeMessageVisibility", "OutboxQueue"),
            // Triggered scripts' files.
            g("s3:GetObject", "BlobBucket/*"),
            g("s3:PutObject", "BlobBucket/*"),
            g("s3:DeleteObject", "BlobBucket/*"),
            g(
                "ses:SendEmail",
                "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailIdentity}",
            ),
            // Exports read blobs and write the archive; erasure lists and deletes.
            g("s3:ListBucket", "BlobBucket"),
            g("s3:ListBucket", "ExportBucket"),
        ]
        .into_iter()
        .chain(objects("BlobBucket", &["s3:GetObject", "s3:DeleteObject"]))
        .chain(objects(
            "ExportBucket",
            &[
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
            ],
        ))
        // Erasure drops the org's users' indexes.
        .chain(indexes(&["s3vectors:DeleteIndex"]))
        // Memory's deferred embeddings and its exports (which list a namespace).
        .chain(indexes(&memory_vectors))
        .chain(indexes(&["s3vectors:ListVectors"]))
        .collect(),
    );
    add(
        "SchedulerFunction",
        [send.clone(), secret.clone()]
            .into_iter()
            .chain(objects("BlobBucket", &["s3:DeleteObject"]))
            .collect(),
    );
    // The operators' API: dead letters walked, replayed (sent to the outbox queue)
    // and resolved on the DLQ.
    add(
        "AdminFunction",
        vec![
            send.clone(),
            secret.clone(),
            g("sqs:ReceiveMessage", "OutboxDLQ"),
            g("sqs:ChangeMessageVisibility", "OutboxDLQ"),
            g("sqs:DeleteMessage", "OutboxDLQ"),
        ],
    );
    out
}

/// Actions the code needs that no deployed function is granted, and why.
const NOT_CALLED_BY_A_FUNCTION: &[(&str, &str)] = &[(
    "secretsmanager:PutSecretValue",
    "`skiff admin rotate-signing-key` (operator credentials) writes the secret",
)];

/// A policy resource as [`Grant`] names it.
fn resource_name(v: &Value) -> String {
    if let Some(target) = intrinsic(v, "GetAtt") {
        return str_of(target).trim_end_matches(".Arn").to_owned();
    }
    if let Some(target) = intrinsic(v, "Ref") {
        return str_of(target).to_owned();
    }
    if let Some(text) = intrinsic(v, "Sub") {
        let text = str_of(text);
        return match text.strip_prefix("${").and_then(|t| t.split_once(".Arn}")) {
            Some((name, rest)) => format!("{name}{rest}"),
            None => text.to_owned(),
        };
    }
    str_of(v).to_owned()
}

fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Sequence(s) => s.iter().collect(),
        other => vec![other],
    }
}

/// What a function's `Policies` allow, as (action, resource) pairs.
fn template_grants(f: &Value) -> BTreeSet<Grant> {
    let mut grants = BTreeSet::new();
    for policy in seq(at(f, &["Properties", "Policies"])) {
        let statements = policy.get("Statement").unwrap_or_else(|| {
            panic!("a policy that is not an explicit statement (SAM policy templates grant more than is called): {policy:?}")
        });
        for s in one_or_many(statements) {
            assert_eq!(str_of(at(s, &["Effect"])), "Allow", "{s:?}");
            for action in one_or_many(at(s, &["Action"])) {
                for resource in one_or_many(at(s, &["Resource"])) {
                    grants.insert((str_of(action).to_owned(), resource_name(resource)));
                }
            }
        }
    }
    grants
}

#[test]
fn each_function_is_granted_exactly_what_it_is_declared_to_call() {
    let t = template();
    let declared = declared_grants();
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    let names: BTreeSet<&str> = functions.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        declared.keys().copied().collect(),
        "a declared table entry per function"
    );
    for (name, f) in functions {
        let granted = template_grants(f);
        let want = &declared[name];
        let missing: Vec<&Grant> = want.difference(&granted).collect();
        let extra: Vec<&Grant> = granted.difference(want).collect();
        assert!(
            missing.is_empty(),
            "{name} calls what its policies do not grant: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "{name} is granted what it does not call: {extra:?}"
        );
    }
}

#[test]
fn every_sdk_call_of_the_adapters_is_granted_to_a_function_or_run_by_an_operator() {
    let needed = actions_the_code_needs();
    for probe in [
        "dynamodb:DescribeTable",
        "dynamodb:ConditionCheckItem",
        "sqs:ChangeMessageVisibility",
        "s3:ListBucket",
        "ses:SendEmail",
        "secretsmanager:GetSecretValue",
    ] {
        assert!(
            needed.contains_key(probe),
            "the source scan finds {probe}: {needed:?}"
        );
    }
    let granted: BTreeSet<String> = declared_grants()
        .into_values()
        .flatten()
        .map(|(action, _)| action)
        .collect();
    let elsewhere: BTreeMap<&str, &str> = NOT_CALLED_BY_A_FUNCTION.iter().copied().collect();
    for (action, call) in &needed {
        assert!(
            granted.contains(action) || elsewhere.contains_key(action.as_str()),
            "{call} needs {action}, which no function is declared to call \
             (add it to declared_grants and the template, or to NOT_CALLED_BY_A_FUNCTION)"
        );
    }
    for action in elsewhere.keys() {
        assert!(
            needed.contains_key(*action),
            "NOT_CALLED_BY_A_FUNCTION names {action}, which the code never needs"
        );
        assert!(
            !granted.contains(*action),
            "{action} is both granted and listed as not called by a function"
        );
    }
    for (action, _) in declared_grants().into_values().flatten() {
        assert!(
            needed.contains_key(&action),
            "{action} is declared but no adapter calls it"
        );
    }
}

#[test]
fn the_api_offers_browsers_the_headers_the_code_allows() {
    let t = template();
    let cors = at(
        &t,
        &["Resources", "HttpApi", "Properties", "CorsConfiguration"],
    );
    let when_set = &seq(intrinsic(cors, "If").expect("CorsConfiguration is an !If"))[1];
    let offered: BTreeSet<String> = seq(at(when_set, &["AllowHeaders"]))
        .iter()
        .map(|h| str_of(h).to_owned())
        .collect();
    let code: BTreeSet<String> = skiff_http::CORS_ALLOWED_HEADERS
        .iter()
        .map(|h| h.as_str().to_owned())
        .collect();
    assert_eq!(offered, code);
    assert!(code.contains("x-seat-token"));
}

#[test]
fn outputs_name_every_resource_a_deployment_needs() {
    let t = template();
    for (output, target) in [
        ("TableName", "Table"),
        ("QueueUrl", "OutboxQueue"),
        ("DlqUrl", "OutboxDLQ"),
        ("BlobBucketName", "BlobBucket"),
        ("ExportBucketName", "ExportBucket"),
        ("SecretArn", "SkiffSecret"),
    ] {
        assert!(
            is_ref(at(&t, &["Outputs", output, "Value"]), target),
            "Outputs.{output} is !Ref {target}"
        );
    }
    let api = intrinsic(at(&t, &["Outputs", "ApiUrl", "Value"]), "Sub")
        .and_then(Value::as_str)
        .expect("ApiUrl is a !Sub string");
    assert!(api.contains("${HttpApi}"), "{api}");
}

// ------------------------------------------------------------------ samconfig

/// `Key` names in one environment's `parameter_overrides` of samconfig.toml.
fn overridden(samconfig: &str, env: &str) -> BTreeSet<String> {
    let header = format!("[{env}.deploy.parameters]");
    let section = samconfig
        .split(&header)
        .nth(1)
        .unwrap_or_else(|| panic!("samconfig.toml has no {header}"));
    let section = section.split("\n[").next().unwrap();
    let list = section
        .split("parameter_overrides")
        .nth(1)
        .unwrap_or_else(|| panic!("{header} has no parameter_overrides"));
    let list = &list[..list.find(']').expect("a closed list")];
    list.split(['"', '\''])
        .filter_map(|item| item.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn samconfig_sets_every_parameter_without_a_default() {
    let t = template();
    let samconfig = read("samconfig.toml");
    let params = at(&t, &["Parameters"]).as_mapping().expect("Parameters");
    for env in ["dev", "prod"] {
        let set = overridden(&samconfig, env);
        assert!(
            samconfig.contains(&format!("\"Stage={env}\"")),
            "{env} deploys Stage={env}"
        );
        for (name, p) in params {
            let name = str_of(name);
            if p.get("Default").is_none() {
                assert!(set.contains(name), "samconfig [{env}] does not set {name}");
            }
        }
        for name in &set {
            assert!(
                params.contains_key(name.as_str()),
                "samconfig [{env}] sets unknown {name}"
            );
        }
    }
}

/// The optional adapters a function's `main` builds it with (`start_lambda::<ports::X>`;
/// the billing function's start names its own set).
fn port_set_of(main_rs: &str) -> (bool, bool, bool) {
    use skiff_app::ports;
    let name = if main_rs.contains("start_billing_lambda") {
        "Core"
    } else {
        main_rs
            .split("ports::")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
            .unwrap_or_else(|| panic!("a Lambda main names its port set: {main_rs}"))
    };
    ports::BY_NAME
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no port set is named {name}"))
        .1
}

#[test]
fn each_function_links_the_adapters_it_is_granted_and_no_others() {
    let t = template();
    let declared = declared_grants();
    let bins = function_binaries();
    for (name, f) in resources_of_type(&t, "AWS::Serverless::Function") {
        let dir = &bins[binary_of(f)];
        let main_rs = std::fs::read_to_string(dir.join("src/main.rs")).expect("main.rs");
        let (blobs, vectors, mail) = port_set_of(&main_rs);
        // Auth's readiness probe lists the blob bucket and reads the vector buckets.
        let calls = |service: &str| declared[name].iter().any(|(a, _)| a.starts_with(service));
        assert_eq!(
            blobs,
            calls("s3:"),
            "{name}: S3 adapters linked ⇔ S3 granted"
        );
        assert_eq!(
            vectors,
            calls("s3vectors:"),
            "{name}: S3 Vectors linked ⇔ granted"
        );
        assert_eq!(mail, calls("ses:"), "{name}: mailer linked ⇔ SES granted");
    }
}
