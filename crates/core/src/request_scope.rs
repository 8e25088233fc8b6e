//! The id of the unit of work being done (an HTTP request, a queue message, a
//! scheduled job), carried in a task-local so every log line and problem body can
//! name it without threading it through every call.

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The current unit of work's id, or `-` outside one.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// Run a future (a request, a queue message, a scheduled job) under a given id.
pub async fn scope<F: std::future::Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}
