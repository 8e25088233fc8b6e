//! The local all-in-one server: every function's router on one port over the
//! embedded adapters, the outbox worker and the scheduler in-process, and the
//! dev-only helpers (mailbox, signed blob URLs, clock).

pub mod admin;
pub mod backup;
pub mod blob_urls;
pub mod dev;
pub mod dev_mailbox;
pub mod pages;
pub mod workers;

use anyhow::Context;
use skiff_app::{AppConfig, Embedded};
use skiff_core::clock::OffsetClock;
use skiff_core::services::Services;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A started server. Dropping it does not stop it; call [`Running::shutdown`].
pub struct Running {
    pub addr: SocketAddr,
    pub services: Services,
    pub clock: Arc<OffsetClock>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stop accepting requests, let in-flight requests and the message being
    /// processed finish, and return. Queued messages stay in the queue's file.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Wait until the server stops by itself (after a signal).
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Every HTTP function's router, as the Lambda functions mount them (the payment
/// simulator's routes only where the configuration enables them).
pub fn api_router(services: &Services) -> axum::Router<Services> {
    let groups = skiff_http::health::router()
        .merge(skiff_fn_auth::router())
        .merge(skiff_fn_billing::router_for(
            &services.config,
            skiff_billing::settings(services),
        ))
        .merge(skiff_fn_licensing::router())
        .merge(skiff_fn_admin::router())
        .merge(skiff_fn_storage::router())
        .merge(skiff_fn_scripts::router())
        .merge(skiff_fn_memory::router());
    // The same write lock every Lambda's surface has (see ARCHITECTURE.md,
    // Write-locking).
    skiff_http::write_lock::layer(groups, services)
}

/// `GET /metrics` (with `SKIFF_METRICS=true`): every counter in Prometheus text.
async fn metrics() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        skiff_core::metrics::render_prometheus(),
    )
}

/// Build everything and start serving on `listener`.
pub async fn start(config: AppConfig, listener: TcpListener) -> anyhow::Result<Running> {
    let clock = OffsetClock::new();
    let Embedded {
        services,
        mailbox,
        buckets,
    } = skiff_app::services::embedded(config.clone(), clock.clone())
        .await
        .context("starting the embedded services")?;
    skiff_fn_scripts::startup_warnings(&services);
    let addr = listener.local_addr()?;
    let mut router = api_router(&services);
    if config.metrics {
        // The same counters every Lambda publishes as EMF, as Prometheus text.
        skiff_core::metrics::set_mode(skiff_core::metrics::Mode::Prometheus);
        router = router.route("/metrics", axum::routing::get(metrics));
    }
    if config.is_dev() {
        router = router.merge(dev::services_router());
    }
    let router = router.with_state(services.clone());
    // The filesystem buckets' signed URLs: storage hands them out (uploads,
    // downloads, exports) in every environment.
    let max_upload = skiff_storage::settings(&services).max_upload_bytes;
    let router = router.merge(blob_urls::router(
        buckets
            .into_iter()
            .map(|(name, b)| (name.to_owned(), b))
            .collect(),
        usize::try_from(max_upload).unwrap_or(usize::MAX),
    ));
    let router = if config.is_dev() {
        router.merge(dev::router(&config, mailbox, clock.clone()))
    } else {
        router
    };
    // Without a front end of its own, the links in e-mails lead to these pages.
    let router = match config.mail.app_url {
        None => router.merge(pages::router()),
        Some(_) => router,
    };
    let app = skiff_http::with_common_layers(router, &config);
    // Hosts claimed by scripts apps are served at their root, as on AWS.
    let app = skiff_fn_scripts::with_claimed_hosts(app, &services);

    let (stop, stopped) = watch::channel(false);
    let mut tasks = vec![];
    let mut until_stopped = stopped.clone();
    let stream_services = services.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = until_stopped.wait_for(|s| *s).await;
            // Open event streams would hold the shutdown for their whole window.
            skiff_memory::settings(&stream_services).events.close();
        })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "server failed");
        }
    }));
    tasks.push(tokio::spawn(workers::outbox_loop(
        services.clone(),
        skiff_app::registry(),
        stopped.clone(),
    )));
    tasks.push(tokio::spawn(workers::scheduler_loop(
        services.clone(),
        skiff_app::jobs(),
        stopped,
    )));
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "skiff is serving");
    Ok(Running {
        addr,
        services,
        clock,
        stop,
        tasks,
    })
}
