//! The markdown table the meter prints (and docs/benchmarks.md records).

use crate::stats::Summary;
use std::fmt::Write as _;

/// One binary's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub init: Summary,
    /// Size after `strip --strip-all`, in bytes.
    pub stripped_bytes: u64,
    /// Size of the stripped binary through `gzip -9`, in bytes: close to what a
    /// Lambda zip package weighs.
    pub gzip_bytes: u64,
}

/// A markdown table, one row per binary; the ratio column divides each median by
/// the baseline's. Sizes are in MB of 10^6 bytes.
pub fn table(baseline: &Row, rows: &[Row]) -> String {
    let base = baseline.init.median.as_secs_f64();
    let mut out = String::from(
        "| binary | init median (ms) | min (ms) | max (ms) | stripped (MB) | gzip -9 (MB) | median / hello |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in std::iter::once(baseline).chain(rows) {
        let ratio = if base > 0.0 {
            format!("{:.2}", row.init.median.as_secs_f64() / base)
        } else {
            "—".to_owned()
        };
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {ratio} |",
            row.name,
            ms(row.init.median),
            ms(row.init.min),
            ms(row.init.max),
            mb(row.stripped_bytes),
            mb(row.gzip_bytes),
        );
    }
    out
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

    fn row(name: &str, median_us: u64, stripped: u64, gzip: u64) -> Row {
        Row {
            name: name.into(),
            init: Summary {
                median: Duration::from_micros(median_us),
                min: Duration::from_micros(median_us - 200),
                max: Duration::from_micros(median_us + 1_000),
            },
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
        assert_eq!(lines[2], "| hello | 2.0 | 1.8 | 3.0 | 1.50 | 0.60 | 1.00 |");
        assert_eq!(lines[3], "| auth | 5.0 | 4.8 | 6.0 | 20.25 | 7.13 | 2.50 |");
    }

    #[test]
    fn a_zero_baseline_prints_no_ratio() {
        let mut hello = row("hello", 1_000, 1, 1);
        hello.init.median = Duration::ZERO;
        assert!(
            table(&hello, &[])
                .lines()
                .nth(2)
                .unwrap()
                .ends_with("| — |")
        );
    }
}
