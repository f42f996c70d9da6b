//! The running agent: opens the state, serves HTTP, runs the configuration's
//! groups as one [`generation::Generation`], replaces it on reload, and shuts
//! everything down in order.

pub mod alerting;
mod bounded;
mod generation;
mod group_task;
pub mod live;
mod prepared;
pub mod signals;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::shard::Shard;
use crate::state::Store;
use crate::util::clock::Clock;
use crate::util::secret::Secret;
use generation::Generation;
use group_task::RuleState;
use live::{AgentInfo, Live, ReloadInfo};
pub use prepared::Prepared;

/// How long in-flight work may take to finish after a shutdown request.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often old history is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Options of `mlwatch run` that override the config.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub listen: Option<SocketAddr>,
    /// The shard, overriding `sharding:` (and every reload's).
    pub shard: Option<Shard>,
    /// The clock everything time-based reads; tests pass a simulated one.
    pub clock: Clock,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { listen: None, shard: None, clock: Clock::System }
    }
}

/// A reload asked for over HTTP, with where to send the outcome.
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// What lives as long as the process: shared by every generation.
pub struct Core {
    pub metrics: Arc<Metrics>,
    pub store: Arc<Store>,
    pub live: Arc<Live>,
    pub alerting: Arc<alerting::AlertingHandle>,
    /// Cancelled on shutdown.
    pub token: CancellationToken,
    pub tracker: TaskTracker,
    pub address: SocketAddr,
    /// The one clock: the system's, or a simulated one in tests.
    pub clock: Clock,
    /// `--shard`, which every configuration loaded takes over its own `sharding:`.
    pub shard: Option<Shard>,
}

/// Run the agent until `shutdown` completes, then stop gracefully.
pub async fn run(mut config: Config, opts: RunOptions, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let clock = opts.clock;
    config.shard = opts.shard.or(config.shard);
    if let Some(shard) = config.shard {
        tracing::info!(%shard, "sharded: evaluating only the tenants this shard owns");
    }
    let config_path = config.path.clone();
    let retention = config.retention;
    let prepared = Prepared::new(config).map_err(|d| anyhow::anyhow!("{d}"))?;
    let store_dir = prepared.config.storage_path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&store_dir)).await?.context("cannot open the agent's state")?;
    let store = Arc::new(store);
    let stored = store.load_alerts()?;
    // Before schema 3, integrations were numbered by position in their
    // receiver: that order (slack, email, webhook, stdout) names them now.
    // Done before the notification log is loaded, so nothing is sent twice.
    let names: Vec<(String, Vec<String>)> =
        prepared.receivers.iter().map(|(n, r)| (n.clone(), r.grouped.iter().map(|(k, _)| k.clone()).collect())).collect();
    match store.rename_legacy_integrations(&names) {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "queued notifications and the notification log moved to named integrations"),
        Err(e) => tracing::error!(error = %e, "cannot rename the integrations of an older state file"),
    }

    let listen = opts.listen.unwrap_or(prepared.config.listen);
    let listener = crate::server::listen(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "listening");

    let live = Arc::new(Live::new(AgentInfo {
        version: env!("CARGO_PKG_VERSION"),
        started_at: clock.now(),
        config_file: config_path.display().to_string(),
        state_file: store.path().display().to_string(),
        reload: ReloadInfo::default(),
        config: serde_json::Value::Null,
    }));
    let metrics = Arc::new(Metrics::new());
    let external_url = prepared.config.external_url(address);
    let dispatch = alerting::dispatch_config(&prepared.config, &prepared.receivers, &external_url);
    let alerting = Arc::new(alerting::AlertingHandle::open(dispatch, store.clone(), metrics.clone(), clock)?);
    let core = Core {
        metrics,
        store,
        live,
        alerting,
        token: CancellationToken::new(),
        tracker: TaskTracker::new(),
        address,
        clock,
        shard: opts.shard,
    };
    let ready = Arc::new(AtomicBool::new(false));
    let auth = Arc::new(RwLock::new(None));
    let (reload_tx, mut reload_rx) = mpsc::channel::<ReloadRequest>(4);
    let app = crate::server::AppState {
        metrics: core.metrics.clone(),
        ready: ready.clone(),
        live: core.live.clone(),
        alerting: core.alerting.clone(),
        auth: auth.clone(),
        reload: reload_tx,
    };
    core.tracker.spawn(crate::server::serve(listener, app, core.token.clone()));

    let mut carried: HashMap<String, RuleState> = stored.into_iter().map(|(rule, a)| (rule, RuleState::restored(a))).collect();
    let mut generation = activate(&core, &auth, prepared, &mut carried);
    ready.store(true, Ordering::Release);
    core.tracker.spawn(prune_history(core.store.clone(), retention, clock, core.token.clone()));
    core.tracker.spawn(core.alerting.clone().run(core.token.clone()));
    tracing::info!(config = %config_path.display(), state = %core.store.path().display(), "mlwatch started");

    let mut hangups = signals::hangups();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(()) = hangups.recv() => {
                tracing::info!(signal = "SIGHUP", "reload requested");
                let _ = reload(&core, &auth, &mut generation, &config_path).await;
            }
            Some(reply) = reload_rx.recv() => {
                tracing::info!(via = "HTTP", "reload requested");
                let _ = reply.send(reload(&core, &auth, &mut generation, &config_path).await);
            }
        }
    }

    core.token.cancel();
    core.tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, core.tracker.wait()).await.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "grace period over; abandoning unfinished work");
    }
    tracing::info!("mlwatch stopped");
    Ok(())
}

/// Make `p` the running configuration: start its groups with the states in
/// `carried`, clean up after rules that are gone, and publish it.
fn activate(core: &Core, auth: &RwLock<Option<Secret>>, p: Prepared, carried: &mut HashMap<String, RuleState>) -> Generation {
    let names: Vec<String> = p.config.rules.groups.iter().flat_map(|g| g.rules.iter().map(|r| r.name.clone())).collect();
    let redacted = p.config.redacted.clone();
    *auth.write().unwrap_or_else(|e| e.into_inner()) = p.bearer_token.clone();
    let keep: Vec<&str> = names.iter().map(String::as_str).collect();
    core.alerting.dispatcher().retain_rules(&keep);
    let generation = Generation::start(p, carried, core);
    for (rule, state) in carried.drain() {
        tracing::info!(rule = %rule, "rule removed; its series and alerts are dropped");
        state.remove_series(&rule, &core.metrics);
    }
    if let Err(e) = core.store.retain_alert_rules(&keep) {
        tracing::error!(error = %e, "cannot drop the stored alerts of removed rules");
    }
    let (pending, firing) = core.live.alert_counts();
    core.metrics.alerts.with_label_values(&["pending"]).set(pending);
    core.metrics.alerts.with_label_values(&["firing"]).set(firing);
    let now = core.clock.now();
    core.metrics.config_last_reload_successful.set(1);
    core.metrics.config_last_reload_success_timestamp_seconds.set(now.timestamp_millis() as f64 / 1000.0);
    core.live.update_info(|i| {
        i.config = redacted;
        i.reload = ReloadInfo { successful: true, last_success: Some(now), last_error: None };
    });
    generation
}

/// Validate the config file anew; only when all of it is good, replace the
/// running generation. On error the running one stays and the error is returned.
async fn reload(core: &Core, auth: &RwLock<Option<Secret>>, generation: &mut Generation, path: &std::path::Path) -> Result<(), String> {
    let p: PathBuf = path.to_path_buf();
    let prepared =
        tokio::task::spawn_blocking(move || Prepared::load(&p)).await.map_err(|e| e.to_string()).and_then(|r| r.map_err(|d| d.to_string()));
    let mut prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            core.metrics.config_last_reload_successful.set(0);
            core.live.update_info(|i| {
                i.reload.successful = false;
                i.reload.last_error = Some(e.clone());
            });
            tracing::error!(error = %e, "reload failed; the running configuration stays");
            return Err(e);
        }
    };
    prepared.config.shard = core.shard.or(prepared.config.shard);
    if prepared.config.storage_path.join(crate::state::STATE_FILE) != core.store.path() {
        tracing::warn!("storage.path changed; the new path is used after a restart");
    }
    let old = std::mem::replace(generation, Generation::idle());
    let mut carried = old.stop().await;
    // Rules whose task ended without handing back its state (it panicked) resume from the store.
    let names = prepared.config.rules.groups.iter().flat_map(|g| g.rules.iter().map(|r| r.name.clone()));
    let missing: Vec<String> = names.filter(|n| !carried.contains_key(n)).collect();
    if !missing.is_empty() {
        match core.store.load_alerts() {
            Ok(mut stored) => {
                for name in missing {
                    if let Some(a) = stored.remove(&name) {
                        carried.insert(name, RuleState::restored(a));
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read stored alerts"),
        }
    }
    *generation = activate(core, auth, prepared, &mut carried);
    tracing::info!(config = %path.display(), "configuration reloaded");
    Ok(())
}

/// Drop history older than `retention`, now and every hour.
async fn prune_history(store: Arc<Store>, retention: Duration, clock: Clock, token: CancellationToken) {
    loop {
        let cutoff = clock.now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.prune_history(cutoff)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(samples = n, "old history pruned"),
            Ok(Err(e)) => tracing::error!(error = %e, "cannot prune history"),
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = token.cancelled() => return,
        }
    }
}
