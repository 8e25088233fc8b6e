//! The local all-in-one server: every function's router on one port over the
//! embedded adapters, the outbox worker and the scheduler in-process, and the
//! dev-only helpers (mailbox, signed blob URLs, clock).

pub mod admin;
pub mod dev;
pub mod pages;
pub mod workers;

use anyhow::Context;
use skiff_shared::clock::OffsetClock;
use skiff_shared::config::Config;
use skiff_shared::outbox::Registry;
use skiff_shared::scheduler::Jobs;
use skiff_shared::services::{Embedded, Services};
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
    // Every endpoint group's router is merged here. Groups whose writes obey the
    // service profile are wrapped in the write lock (see ARCHITECTURE.md,
    // Write-locking); billing never is, so a locked org can still pay.
    let auth = skiff_shared::http::write_lock::protect_org_admin(skiff_auth::router(), services);
    // Licensing is not write-locked: its only member mutations are seat operations,
    // which the license's own status governs (the billing events that lock an org
    // also suspend or deactivate its licenses, so acquire answers 403 SUSPENDED or
    // INACTIVE, as clients expect, rather than 423).
    skiff_shared::http::health::router()
        .merge(auth)
        .merge(skiff_billing::router_for(&services.config))
        .merge(skiff_licensing::router())
}

/// Build everything and start serving on `listener`.
pub async fn start(config: Config, listener: TcpListener) -> anyhow::Result<Running> {
    let clock = OffsetClock::new();
    let Embedded {
        services,
        mailbox,
        buckets,
    } = Services::embedded(config.clone(), clock.clone())
        .await
        .context("starting the embedded services")?;
    let addr = listener.local_addr()?;
    let mut router = api_router(&services);
    if config.is_dev() {
        router = router.merge(dev::services_router());
    }
    let router = router.with_state(services.clone());
    let router = if config.is_dev() {
        router.merge(dev::router(&config, mailbox, buckets, clock.clone()))
    } else {
        router
    };
    // Without a front end of its own, the links in e-mails lead to these pages.
    let router = match config.mail.app_url {
        None => router.merge(pages::router()),
        Some(_) => router,
    };
    let app = skiff_shared::http::with_common_layers(router, &config);

    let (stop, stopped) = watch::channel(false);
    let mut tasks = vec![];
    let mut until_stopped = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = until_stopped.wait_for(|s| *s).await;
        })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "server failed");
        }
    }));
    tasks.push(tokio::spawn(workers::outbox_loop(
        services.clone(),
        Registry::standard(),
        stopped.clone(),
    )));
    tasks.push(tokio::spawn(workers::scheduler_loop(
        services.clone(),
        Jobs::standard(),
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
