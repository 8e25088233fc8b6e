//! The markdown table the meter prints (and docs/benchmarks.md records).

use crate::stats::Summary;
use std::fmt::Write as _;

/// One binary's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    /// Wall time, spawn → first `/next`.
    pub init: Summary,
    /// CPU time the process spent in that stretch.
    pub cpu: Summary,
    /// Size after `strip --strip-all`, in bytes.
    pub stripped_bytes: u64,
    /// Size of the stripped binary through `gzip -9`, in bytes: close to what a
    /// Lambda zip package weighs.
    pub gzip_bytes: u64,
}

/// A markdown table, one row per binary; the ratio columns divide each median by
/// the baseline's. Sizes are in MB of 10^6 bytes.
pub fn table(baseline: &Row, rows: &[Row]) -> String {
    let mut out = String::from(
        "| binary | init median (ms) | min (ms) | max (ms) | median / hello | init CPU median (ms) | CPU / hello | stripped (MB) | gzip -9 (MB) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in std::iter::once(baseline).chain(rows) {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {} | {:.2} | {:.2} |",
            row.name,
            ms(row.init.median),
            ms(row.init.min),
            ms(row.init.max),
            ratio(&row.init, &baseline.init),
            ms(row.cpu.median),
            ratio(&row.cpu, &baseline.cpu),
            mb(row.stripped_bytes),
            mb(row.gzip_bytes),
        );
    }
    out
}

fn ratio(of: &Summary, base: &Summary) -> String {
    let base = base.median.as_secs_f64();
    if base > 0.0 {
        format!("{:.2}", of.median.as_secs_f64() / base)
    } else {
        "—".to_owned()
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn summary(median_us: u64) -> Summary {
        Summary {
            median: Duration::from_micros(median_us),
            min: Duration::from_micros(median_us - 200),
            max: Duration::from_micros(median_us + 1_000),
        }
    }

    fn row(name: &str, median_us: u64, stripped: u64, gzip: u64) -> Row {
        Row {
            name: name.into(),
            init: summary(median_us),
            cpu: summary(median_us / 2),
            stripped_bytes: stripped,
            gzip_bytes: gzip,
        }
    }

    #[test]
    fn baseline_comes_first_and_ratios_divide_by_its_median() {
        let hello = row("hello", 2_000, 1_500_000, 600_000);
        let auth = row("auth", 5_000, 20_250_000, 7_126_000);
        let t = table(&hello, &[auth]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("|---|"));
        assert_eq!(
            lines[2],
            "| hello | 2.0 | 1.8 | 3.0 | 1.00 | 1.0 | 1.00 | 1.50 | 0.60 |"
        );
        assert_eq!(
            lines[3],
            "| auth | 5.0 | 4.8 | 6.0 | 2.50 | 2.5 | 2.50 | 20.25 | 7.13 |"
        );
    }

    #[test]
    fn a_zero_baseline_prints_no_ratio() {
        let mut hello = row("hello", 1_000, 1, 1);
        hello.init.median = Duration::ZERO;
        let line = table(&hello, &[]).lines().nth(2).unwrap().to_owned();
        assert_eq!(
            line,
            "| hello | 0.0 | 0.8 | 2.0 | — | 0.5 | 1.00 | 0.00 | 0.00 |"
        );
    }
}
