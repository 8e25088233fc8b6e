//! Support for tests that run against the AWS emulator (moto) started by the test
//! command. Missing emulator = loud failure, never a silent skip.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Variable the test command sets to the emulator's URL.
pub const ENDPOINT_VAR: &str = "SKIFF_TEST_AWS_ENDPOINT";

/// The emulator's URL; panics with instructions when the test command did not start one.
pub fn aws_endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: the AWS adapter suites need the emulator. \
             Run the whole suite with `scripts/test` (it installs and starts moto), or \
             wrap a single run: `scripts/with-moto.sh cargo test ...`"
        ),
    }
}

/// SDK configuration pointed at the emulator with dummy credentials.
pub async fn aws_sdk_config() -> SdkConfig {
    let creds =
        aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "skiff-tests");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(aws_endpoint())
        .load()
        .await
}

/// A name no other test uses (resource names are global in the emulator).
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A DynamoDB item store on the emulator, over a fresh table named after `prefix`.
pub async fn dynamo_store(
    prefix: &str,
    clock: skiff_core::clock::SharedClock,
) -> crate::dynamo_store::DynamoStore {
    let client = aws_sdk_dynamodb::Client::new(&aws_sdk_config().await);
    let table = unique_name(prefix);
    crate::provision::create_table(&client, &table)
        .await
        .expect("create table");
    crate::dynamo_store::DynamoStore::new(client, table, clock)
}

/// One item store under test, with the fixed clock both the store and the domain
/// read: the harness of the suites that run the same cases on both adapters.
pub struct StoreHarness {
    pub store: std::sync::Arc<dyn skiff_core::ports::store::ItemStore>,
    pub clock: std::sync::Arc<skiff_core::clock::FixedClock>,
    /// The SQLite store's directory, removed on drop.
    dir: Option<std::path::PathBuf>,
}

impl StoreHarness {
    /// SQLite in a fresh temporary directory.
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(unique_name("skiff-store"));
        std::fs::create_dir_all(&dir).expect("create the store's directory");
        let clock = skiff_core::clock::FixedClock::at(time::OffsetDateTime::now_utc());
        let store = crate::sqlite_store::SqliteStore::open(&dir.join("items.db"), clock.clone())
            .expect("open the SQLite store");
        Self {
            store: std::sync::Arc::new(store),
            clock,
            dir: Some(dir),
        }
    }

    /// DynamoDB on the emulator, over a fresh table named after `prefix`.
    pub async fn dynamodb(prefix: &str) -> Self {
        let clock = skiff_core::clock::FixedClock::at(time::OffsetDateTime::now_utc());
        Self {
            store: std::sync::Arc::new(dynamo_store(prefix, clock.clone()).await),
            clock,
            dir: None,
        }
    }

    pub fn now(&self) -> i64 {
        skiff_core::clock::Clock::unix(self.clock.as_ref())
    }
}

impl Drop for StoreHarness {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Declare each conformance case once and run it against every adapter: one test
/// module per adapter, named after it, each case called with the harness that the
/// adapter's expression builds (evaluated inside that module, so `super::` names the
/// suite's own items).
///
/// ```ignore
/// skiff_adapters::conformance_suite! {
///     adapters { embedded => &super::sqlite().await, dynamodb => &super::dynamodb().await }
///     cases { put_get_round_trip, bounded_add_stops_at_the_bound }
/// }
/// ```
#[macro_export]
macro_rules! conformance_suite {
    (adapters { $($adapter:ident => $harness:expr),+ $(,)? } cases $cases:tt) => {
        $( $crate::conformance_suite!(@adapter $adapter => $harness; $cases); )+
    };
    (@adapter $adapter:ident => $harness:expr; { $($case:ident),+ $(,)? }) => {
        mod $adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($harness).await;
                }
            )+
        }
    };
}
