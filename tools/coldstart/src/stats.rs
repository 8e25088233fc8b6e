//! Summary of one binary's init times.

use std::time::Duration;

/// Median, min and max of a set of runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
}

/// The median of an even count is the mean of the two middle runs. `None` when
/// there are no runs.
pub fn summarize(runs: &[Duration]) -> Option<Summary> {
    let mut sorted = runs.to_vec();
    sorted.sort_unstable();
    let (first, last) = (*sorted.first()?, *sorted.last()?);
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    };
    Some(Summary {
        median,
        min: first,
        max: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn odd_count_takes_the_middle_run() {
        let s = summarize(&ms(&[9, 1, 5, 7, 3])).unwrap();
        assert_eq!(s.median, Duration::from_millis(5));
        assert_eq!(s.min, Duration::from_millis(1));
        assert_eq!(s.max, Duration::from_millis(9));
    }

    #[test]
    fn even_count_averages_the_two_middle_runs() {
        let s = summarize(&ms(&[4, 1, 2, 10])).unwrap();
        assert_eq!(s.median, Duration::from_millis(3));
    }

    #[test]
    fn one_run_is_its_own_summary() {
        let s = summarize(&ms(&[7])).unwrap();
        assert_eq!((s.median, s.min, s.max), (s.min, s.min, s.min));
    }

    #[test]
    fn no_runs_have_no_summary() {
        assert_eq!(summarize(&[]), None);
    }
}
