//! The SDK scripts call: modules of native functions registered on every engine.
//! Each function takes its scope (org, app, script, principal) from the run's
//! context ([`crate::context`]), never from an argument, so no call can reach
//! another app's data.

pub mod data;
pub mod http;
pub mod log;

use rhai::Engine;
use std::sync::Arc;

/// The SDK's version, shown to scripts as `ctx.sdk_version`.
pub const SDK_VERSION: &str = "1";

/// One module of the SDK (`log::`, ...).
pub trait SdkModule: Send + Sync + 'static {
    /// The namespace scripts call it by.
    fn name(&self) -> &'static str;
    /// Register the module's functions and types on an engine.
    fn register(&self, engine: &mut Engine);
}

/// The modules every engine gets.
#[derive(Clone, Default)]
pub struct Registry(Vec<Arc<dyn SdkModule>>);

impl Registry {
    /// The whole SDK.
    pub fn standard() -> Self {
        let mut r = Self::default();
        r.add(log::Log);
        r.add(data::Data);
        r.add(http::Http);
        r
    }

    pub fn add(&mut self, module: impl SdkModule) -> &mut Self {
        self.0.push(Arc::new(module));
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|m| m.name()).collect()
    }

    pub(crate) fn register_all(&self, engine: &mut Engine) {
        for m in &self.0 {
            m.register(engine);
        }
    }
}
