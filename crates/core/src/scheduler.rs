//! Periodic jobs: a registry the `scheduler` Lambda runs on each
//! EventBridge tick and the local server runs on a timer. Every job is idempotent
//! and bounded, so overlapping or repeated runs do no harm.

use crate::services::Services;
use futures::future::BoxFuture;
use serde::Serialize;

/// Most expired items one purge run deletes.
pub const PURGE_BATCH: usize = 5000;

type JobFn = for<'a> fn(&'a Services) -> BoxFuture<'a, Result<String, String>>;

/// A named periodic job.
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    run: JobFn,
}

impl Job {
    pub const fn new(name: &'static str, run: JobFn) -> Self {
        Self { name, run }
    }
}

/// What one job run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobReport {
    pub job: String,
    pub ok: bool,
    pub detail: String,
}

/// Job names → jobs, in registration order.
#[derive(Clone, Default)]
pub struct Jobs(Vec<Job>);

impl Jobs {
    /// The jobs the core defines itself (sending staged outbox messages whose
    /// producer did not, purging expired items); the wiring crate
    /// adds each domain's.
    pub fn core() -> Self {
        let mut jobs = Self::default();
        jobs.register(Job::new("relay_outbox", |s| {
            Box::pin(crate::outbox::relay_stale(s))
        }));
        jobs.register(Job::new("purge_expired_items", |s| {
            Box::pin(async move {
                let n = s
                    .store
                    .purge_expired(PURGE_BATCH)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(format!("purged {n} expired items"))
            })
        }));
        jobs
    }

    pub fn register(&mut self, job: Job) -> &mut Self {
        self.0.retain(|j| j.name != job.name);
        self.0.push(job);
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|j| j.name).collect()
    }

    /// Run the named jobs (all when `only` is empty), each isolated from the others'
    /// failures. Unknown names are reported as failures.
    pub async fn run(&self, services: &Services, only: &[String]) -> Vec<JobReport> {
        let mut reports = vec![];
        for name in only {
            if !self.0.iter().any(|j| j.name == name) {
                reports.push(JobReport {
                    job: name.clone(),
                    ok: false,
                    detail: "no such job".into(),
                });
            }
        }
        for job in self
            .0
            .iter()
            .filter(|j| only.is_empty() || only.iter().any(|n| n == j.name))
        {
            let id = format!("job-{}-{}", job.name, uuid::Uuid::now_v7());
            let result = crate::request_scope::scope(id, (job.run)(services)).await;
            let report = match result {
                Ok(detail) => JobReport {
                    job: job.name.into(),
                    ok: true,
                    detail,
                },
                Err(detail) => JobReport {
                    job: job.name.into(),
                    ok: false,
                    detail,
                },
            };
            if report.ok {
                tracing::info!(job = %report.job, detail = %report.detail, "job finished");
            } else {
                tracing::error!(job = %report.job, detail = %report.detail, "job failed");
            }
            reports.push(report);
        }
        reports
    }
}
