//! The `scheduler` function: EventBridge ticks run the periodic job registry.
//! The event is either EventBridge's scheduled-event envelope (run every job) or a
//! rule's constant input `{"jobs": ["name", ...]}` (run those).

use serde_json::Value;
use skiff_core::scheduler::{JobReport, Jobs};
use skiff_core::services::Services;

/// Which jobs an event asks for (empty = all).
pub fn requested_jobs(event: &Value) -> Vec<String> {
    let list = event
        .get("jobs")
        .or_else(|| event.get("detail").and_then(|d| d.get("jobs")));
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Run the jobs the event asks for. An error if any failed, so the invocation is
/// marked failed and alarms fire.
pub async fn handle_tick(
    services: &Services,
    jobs: &Jobs,
    event: &Value,
) -> Result<Vec<JobReport>, String> {
    let reports = jobs.run(services, &requested_jobs(event)).await;
    // Publish what the jobs counted (EMF on Lambda).
    skiff_core::metrics::flush_emf();
    let failed: Vec<_> = reports
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.job.as_str())
        .collect();
    if failed.is_empty() {
        Ok(reports)
    } else {
        Err(format!("jobs failed: {}", failed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::requested_jobs;
    use serde_json::json;

    #[test]
    fn an_envelope_without_jobs_runs_all() {
        let e = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert!(requested_jobs(&e).is_empty());
    }

    #[test]
    fn constant_input_names_jobs() {
        assert_eq!(requested_jobs(&json!({"jobs": ["a", "b"]})), vec!["a", "b"]);
        assert_eq!(
            requested_jobs(&json!({"detail": {"jobs": ["c"]}})),
            vec!["c"]
        );
    }
}
