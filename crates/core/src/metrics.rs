//! Counters and latency histograms, one registry per process, exported two ways:
//! as CloudWatch embedded-metric-format (EMF) lines on Lambda, flushed after each
//! invocation, and as Prometheus text at the local server's `/metrics`
//! (`SKIFF_METRICS=true`). Both exporters read the same series, so a counter has the
//! same name and labels everywhere.
//!
//! Adding a counter is one declaration and one call where the thing happens:
//!
//! ```
//! use skiff_core::metrics::Counter;
//! pub static EXPORTS: Counter =
//!     Counter::new("skiff_exports_total", "Exports by outcome", &["outcome"]);
//! EXPORTS.inc(&["done"]);
//! ```
//!
//! Until an exporter is switched on ([`set_mode`]), recording is a single atomic
//! load: tests and CLIs pay nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

/// The CloudWatch namespace every Skiff metric is published under.
pub const NAMESPACE: &str = "Skiff";

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// EMF takes at most 100 values per metric in one document.
const MAX_EMF_VALUES: usize = 100;

/// Which exporter reads the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing is recorded.
    Off,
    /// Series accumulate for the whole process (`/metrics`).
    Prometheus,
    /// Series hold what happened since the last [`flush_emf`], which empties them.
    Emf,
}

static MODE: AtomicU8 = AtomicU8::new(0);

/// Choose the exporter (once, at startup).
pub fn set_mode(mode: Mode) {
    MODE.store(
        match mode {
            Mode::Off => 0,
            Mode::Prometheus => 1,
            Mode::Emf => 2,
        },
        Ordering::Relaxed,
    );
}

pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Prometheus,
        2 => Mode::Emf,
        _ => Mode::Off,
    }
}

/// A monotonically increasing count, with named labels.
pub struct Counter {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
}

impl Counter {
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Self { name, help, labels }
    }

    /// Add one; `values` are the label values, in the order of the label names.
    pub fn inc(&'static self, values: &[&str]) {
        self.add(values, 1);
    }

    pub fn add(&'static self, values: &[&str], n: u64) {
        if mode() == Mode::Off {
            return;
        }
        record(self.family(), values, |s| s.count += n);
    }

    fn family(&'static self) -> Family {
        Family {
            name: self.name,
            help: self.help,
            labels: self.labels,
            kind: Kind::Counter,
        }
    }
}

/// A distribution of durations in seconds.
pub struct Histogram {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
}

impl Histogram {
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
    ) -> Self {
        Self { name, help, labels }
    }

    pub fn observe(&'static self, values: &[&str], seconds: f64) {
        if mode() == Mode::Off {
            return;
        }
        let family = Family {
            name: self.name,
            help: self.help,
            labels: self.labels,
            kind: Kind::Histogram,
        };
        record(family, values, |s| {
            s.count += 1;
            s.sum += seconds;
            for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    s.buckets[i] += 1;
                }
            }
            if s.values.len() < MAX_EMF_VALUES {
                s.values.push(seconds);
            }
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Counter,
    Histogram,
}

#[derive(Clone, Copy, Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    kind: Kind,
}

#[derive(Default, Clone, Debug)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; LATENCY_BUCKETS.len()],
    /// Raw observations since the last EMF flush (EMF publishes values, not buckets).
    values: Vec<f64>,
}

#[derive(Default)]
struct Registry {
    families: BTreeMap<&'static str, Family>,
    series: BTreeMap<(&'static str, Vec<String>), Series>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn record(family: Family, values: &[&str], update: impl FnOnce(&mut Series)) {
    debug_assert_eq!(values.len(), family.labels.len(), "{}", family.name);
    let mut r = registry().lock().unwrap_or_else(|p| p.into_inner());
    r.families.entry(family.name).or_insert(family);
    let key = (
        family.name,
        values.iter().map(|v| (*v).to_owned()).collect(),
    );
    update(r.series.entry(key).or_default());
}

/// Every series as Prometheus text exposition (version 0.0.4).
pub fn render_prometheus() -> String {
    let r = registry().lock().unwrap_or_else(|p| p.into_inner());
    let mut out = String::new();
    for (name, family) in &r.families {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {name} {}", family.help);
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for ((_, values), s) in r
            .series
            .range((*name, vec![])..)
            .take_while(|((n, _), _)| n == name)
        {
            let labels = label_text(family.labels, values, None);
            match family.kind {
                Kind::Counter => {
                    let _ = writeln!(out, "{name}{labels} {}", s.count);
                }
                Kind::Histogram => {
                    for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                        let le = label_text(family.labels, values, Some(&bound.to_string()));
                        let _ = writeln!(out, "{name}_bucket{le} {}", s.buckets[i]);
                    }
                    let inf = label_text(family.labels, values, Some("+Inf"));
                    let _ = writeln!(out, "{name}_bucket{inf} {}", s.count);
                    let _ = writeln!(out, "{name}_sum{labels} {}", s.sum);
                    let _ = writeln!(out, "{name}_count{labels} {}", s.count);
                }
            }
        }
    }
    out
}

fn label_text(names: &[&str], values: &[String], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape_label(v)))
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The EMF documents for everything recorded since the last call, one per series,
/// each dimensioned by `function` and the series' labels; the registry is emptied.
/// `timestamp_ms` is the documents' time.
pub fn drain_emf(function: &str, timestamp_ms: i64) -> Vec<String> {
    let mut r = registry().lock().unwrap_or_else(|p| p.into_inner());
    let series = std::mem::take(&mut r.series);
    let mut docs = vec![];
    for ((name, values), s) in series {
        let Some(family) = r.families.get(name) else {
            continue;
        };
        let mut dims = vec!["function"];
        dims.extend_from_slice(family.labels);
        let (unit, value) = match family.kind {
            Kind::Counter if s.count == 0 => continue,
            Kind::Counter => ("Count", serde_json::json!(s.count)),
            Kind::Histogram if s.values.is_empty() => continue,
            Kind::Histogram => ("Seconds", serde_json::json!(s.values)),
        };
        let mut doc = serde_json::Map::new();
        doc.insert(
            "_aws".into(),
            serde_json::json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [dims],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }],
            }),
        );
        doc.insert("function".into(), function.into());
        for (label, v) in family.labels.iter().zip(values) {
            doc.insert((*label).into(), v.into());
        }
        doc.insert(name.into(), value);
        docs.push(serde_json::Value::Object(doc).to_string());
    }
    docs
}

type Sink = Box<dyn std::io::Write + Send>;

fn sink() -> &'static Mutex<Option<Sink>> {
    static SINK: OnceLock<Mutex<Option<Sink>>> = OnceLock::new();
    SINK.get_or_init(|| Mutex::new(None))
}

/// Send EMF documents to `writer` instead of stdout (tests read what a function
/// would have printed).
pub fn set_emf_sink(writer: Sink) {
    *sink().lock().unwrap_or_else(|p| p.into_inner()) = Some(writer);
}

/// On Lambda (EMF mode): write what this invocation recorded to stdout, where
/// CloudWatch Logs extracts the metrics. A no-op in any other mode.
pub fn flush_emf() {
    if mode() != Mode::Emf {
        return;
    }
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "skiff".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let docs = drain_emf(&function, now);
    if docs.is_empty() {
        return;
    }
    use std::io::Write;
    let mut custom = sink().lock().unwrap_or_else(|p| p.into_inner());
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = match custom.as_mut() {
        Some(w) => w,
        None => &mut stdout,
    };
    for d in docs {
        let _ = writeln!(out, "{d}");
    }
    let _ = out.flush();
}

// ---------------------------------------------------------------- the counters

/// Requests by route template, method and status class (`2xx`, `4xx`, `5xx`).
pub static HTTP_REQUESTS: Counter = Counter::new(
    "skiff_http_requests_total",
    "HTTP requests by route template, method and status class",
    &["route", "method", "status"],
);

/// Requests answered with a 5xx, by route template and method.
pub static HTTP_ERRORS: Counter = Counter::new(
    "skiff_http_errors_total",
    "HTTP requests answered with a server error (5xx)",
    &["route", "method"],
);

/// Time from request to response, by route template and method.
pub static HTTP_LATENCY: Histogram = Histogram::new(
    "skiff_http_request_duration_seconds",
    "Time to answer an HTTP request",
    &["route", "method"],
);

/// Seat requests: `acquired`, `refused` (no seat free or the license does not admit
/// one), `expired` (a lease that ran out and was reclaimed).
pub static SEATS: Counter = Counter::new(
    "skiff_seats_total",
    "Floating-seat outcomes: acquired, refused, expired",
    &["outcome"],
);

/// Verified payment-provider webhook deliveries: `processed`, `ignored`, `duplicate`,
/// `in_progress`, `failed`.
pub static WEBHOOK_EVENTS: Counter = Counter::new(
    "skiff_webhook_events_total",
    "Payment webhook deliveries by outcome",
    &["outcome"],
);

/// Outbox deliveries by message kind: `processed`, `duplicate`, `retried`,
/// `dead_lettered` (the failed delivery was the last one allowed).
pub static OUTBOX_MESSAGES: Counter = Counter::new(
    "skiff_outbox_messages_total",
    "Outbox deliveries by kind and outcome",
    &["kind", "outcome"],
);

/// The status class of an HTTP status code.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST_COUNTER: Counter = Counter::new("skiff_test_total", "A test counter", &["what"]);
    static TEST_HIST: Histogram = Histogram::new("skiff_test_seconds", "A test histogram", &[]);

    // One test touches the global registry, so the modes do not race each other.
    #[test]
    fn both_exporters_read_the_same_series() {
        set_mode(Mode::Off);
        TEST_COUNTER.inc(&["off"]);
        set_mode(Mode::Prometheus);
        TEST_COUNTER.inc(&["a\"b"]);
        TEST_COUNTER.add(&["a\"b"], 2);
        TEST_HIST.observe(&[], 0.003);
        let text = render_prometheus();
        assert!(text.contains("# TYPE skiff_test_total counter"), "{text}");
        assert!(
            text.contains("skiff_test_total{what=\"a\\\"b\"} 3"),
            "{text}"
        );
        assert!(
            !text.contains("off"),
            "nothing is recorded while off: {text}"
        );
        assert!(
            text.contains("skiff_test_seconds_bucket{le=\"0.0025\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("skiff_test_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("skiff_test_seconds_bucket{le=\"+Inf\"} 1"),
            "{text}"
        );
        assert!(text.contains("skiff_test_seconds_count 1"), "{text}");

        set_mode(Mode::Emf);
        let docs = drain_emf("fn", 1_000);
        let counter: serde_json::Value = docs
            .iter()
            .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap())
            .find(|d| d.get("skiff_test_total").is_some())
            .unwrap();
        assert_eq!(counter["skiff_test_total"], 3);
        assert_eq!(counter["what"], "a\"b");
        assert_eq!(counter["function"], "fn");
        let m = &counter["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], NAMESPACE);
        assert_eq!(m["Dimensions"][0], serde_json::json!(["function", "what"]));
        assert_eq!(m["Metrics"][0]["Unit"], "Count");
        assert!(
            drain_emf("fn", 2_000).is_empty(),
            "a flush empties the registry"
        );
        set_mode(Mode::Off);
    }

    #[test]
    fn status_codes_fall_into_classes() {
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(423), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
