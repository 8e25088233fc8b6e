//! `log::info(msg)`, `log::warn`, `log::error`, `log::trace`: lines of the run's
//! execution log (never the process's stdout).

use crate::context::{Level, log_line};
use rhai::{Dynamic, Engine, Module};

pub struct Log;

fn text(value: &Dynamic) -> String {
    if value.is_string() {
        value.clone().into_string().unwrap_or_default()
    } else {
        value.to_string()
    }
}

impl super::SdkModule for Log {
    fn name(&self) -> &'static str {
        "log"
    }

    fn register(&self, engine: &mut Engine) {
        let mut m = Module::new();
        m.set_native_fn("info", |v: Dynamic| {
            log_line(Level::Info, &text(&v));
            Ok(())
        });
        m.set_native_fn("warn", |v: Dynamic| {
            log_line(Level::Warn, &text(&v));
            Ok(())
        });
        m.set_native_fn("error", |v: Dynamic| {
            log_line(Level::Error, &text(&v));
            Ok(())
        });
        m.set_native_fn("trace", |v: Dynamic| {
            log_line(Level::Trace, &text(&v));
            Ok(())
        });
        engine.register_static_module("log", m.into());
    }
}
