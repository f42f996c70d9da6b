//! The running agent: wires sources, rule groups, the router and the HTTP
//! server together, and shuts them down in order.

mod group_task;
pub mod signals;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerting::Router;
use crate::config::{Config, load_baselines};
use crate::metrics::Metrics;
use group_task::{GroupTask, Shared};

/// How long in-flight work may take to finish after a shutdown request.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Options of `mlwatch run` that override the config.
#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    pub listen: Option<SocketAddr>,
}

/// Run the agent until `shutdown` completes, then stop gracefully.
pub async fn run(config: Config, opts: RunOptions, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let baselines = load_baselines(&config).map_err(|d| anyhow!("{d}"))?;
    let receiver = config.receivers.get(&config.route.receiver).expect("validated: route names a receiver");
    let notifiers = receiver.build(config.base_dir()).map_err(|e| anyhow!("receiver `{}`: {e}", receiver.name))?;

    let metrics = Arc::new(Metrics::new());
    let token = CancellationToken::new();
    let tracker = TaskTracker::new();
    let router = Arc::new(Router::start(&receiver.name, notifiers, metrics.clone(), token.clone(), &tracker));

    let listen = opts.listen.unwrap_or(config.listen);
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "listening");
    let ready = Arc::new(AtomicBool::new(false));
    let state = crate::server::AppState { metrics: metrics.clone(), ready: ready.clone() };
    tracker.spawn(crate::server::serve(listener, state, token.clone()));

    let shared = Arc::new(Shared {
        baselines: Arc::new(baselines),
        templates: Arc::new(config.rules.templates),
        metrics: metrics.clone(),
        router,
        external_url: if config.external_url.is_empty() { format!("http://{address}") } else { config.external_url.clone() },
    });
    for group in config.rules.groups {
        let source = config.sources.get(&group.source).expect("validated: group names a source").clone();
        tracker.spawn(GroupTask::new(group, source, shared.clone()).run(token.clone()));
    }
    metrics.config_last_reload_successful.set(1);
    ready.store(true, Ordering::Release);
    tracing::info!(config = %config.path.display(), rule_files = config.rule_files.len(), "mlwatch started");

    shutdown.await;
    token.cancel();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "grace period over; abandoning unfinished work");
    }
    tracing::info!("mlwatch stopped");
    Ok(())
}
