//! The agent's side of alerting: the dispatcher shared by group tasks (which
//! feed it alerts), the API (silences) and its own task (which flushes due
//! groups into the outbox and wakes the delivery workers).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::alerting::dispatch::{DispatchConfig, Dispatcher, IntegrationInfo, Outgoing};
use crate::alerting::silence::{Silence, SilenceState};
use crate::alerting::Receiver;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::state::{StateError, Store};
use crate::util::clock::Clock;

/// How soon a flush the state file refused is offered again.
const STATE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Shared handle on the dispatcher.
pub struct AlertingHandle {
    dispatcher: Mutex<Dispatcher>,
    /// Rung when alerts or silences changed: the dispatch task looks again.
    changed: Notify,
    /// Each delivery worker's bell, by (receiver, integration name).
    workers: RwLock<HashMap<(String, String), Arc<Notify>>>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    clock: Clock,
}

/// The dispatcher's view of a configuration.
pub fn dispatch_config(config: &Config, receivers: &HashMap<String, Receiver>, external_url: &str) -> DispatchConfig {
    DispatchConfig {
        route: config.route.clone(),
        inhibit_rules: config.inhibit_rules.clone(),
        integrations: receivers
            .iter()
            .map(|(name, r)| {
                (name.clone(), r.grouped.iter().map(|(key, n)| IntegrationInfo { name: key.clone(), send_resolved: n.send_resolved() }).collect())
            })
            .collect(),
        external_url: external_url.to_string(),
    }
}

impl AlertingHandle {
    /// A dispatcher that remembers what was sent (the notification log) and the silences.
    pub fn open(config: DispatchConfig, store: Arc<Store>, metrics: Arc<Metrics>, clock: Clock) -> Result<AlertingHandle, StateError> {
        let log = store.load_notification_log()?;
        let handle = AlertingHandle {
            dispatcher: Mutex::new(Dispatcher::new(config, log, vec![])),
            changed: Notify::new(),
            workers: RwLock::default(),
            store,
            metrics,
            clock,
        };
        handle.refresh_silences()?;
        Ok(handle)
    }

    pub fn dispatcher(&self) -> MutexGuard<'_, Dispatcher> {
        self.dispatcher.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Something changed; the dispatch task should look.
    pub fn poke(&self) {
        self.changed.notify_one();
    }

    pub fn set_workers(&self, workers: HashMap<(String, String), Arc<Notify>>) {
        *self.workers.write().unwrap_or_else(|p| p.into_inner()) = workers;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The agent's clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Read the silences from the state file into the dispatcher.
    pub fn refresh_silences(&self) -> Result<Vec<Silence>, StateError> {
        let now = self.clock.now();
        let silences = self.store.load_silences(now)?;
        for state in [SilenceState::Active, SilenceState::Pending, SilenceState::Expired] {
            let n = silences.iter().filter(|s| s.state(now) == state).count();
            let label = serde_json::to_value(state).expect("serializes");
            self.metrics.silences.with_label_values(&[label.as_str().unwrap_or_default()]).set(n as i64);
        }
        self.dispatcher().set_silences(silences.clone());
        self.poke();
        Ok(silences)
    }

    /// Flush due groups into the outbox and wake their workers, until cancelled.
    pub async fn run(self: Arc<Self>, token: CancellationToken) {
        // A flush the state file could not take (a full disk, say) is kept and
        // offered again, so its notifications are late rather than lost.
        let mut unsaved: Vec<Outgoing> = Vec::new();
        loop {
            let now = self.clock.now();
            unsaved.extend(self.dispatcher().flush_due(now));
            if !unsaved.is_empty() {
                let store = self.store.clone();
                let batch = std::mem::take(&mut unsaved);
                let (batch, stored) = tokio::task::spawn_blocking(move || {
                    let r = store.enqueue(&batch, now);
                    (batch, r)
                })
                .await
                .expect("no panic");
                match stored {
                    Ok(()) => {
                        let workers = self.workers.read().unwrap_or_else(|p| p.into_inner());
                        for o in batch.iter().filter(|o| o.notification.is_some()) {
                            match workers.get(&(o.key.receiver.clone(), o.key.integration.clone())) {
                                Some(bell) => bell.notify_one(),
                                None => tracing::warn!(receiver = %o.key.receiver, "no integration to deliver to"),
                            }
                        }
                    }
                    Err(e) => {
                        self.metrics.state_write_failures_total.inc();
                        tracing::error!(error = %e, retry_in = ?STATE_RETRY, "cannot write notifications to the outbox; will try again");
                        unsaved = batch;
                    }
                }
            }
            // Wake at the next due group, or when something changes. Silences
            // that start or end are noticed at their groups' next flush.
            let next = self.dispatcher().next_due();
            let mut wait = next.map(|t| self.clock.until(t));
            if !unsaved.is_empty() {
                wait = Some(wait.map_or(STATE_RETRY, |w| w.min(STATE_RETRY)));
            }
            tokio::select! {
                _ = self.changed.notified() => {}
                _ = async { match wait { Some(w) => tokio::time::sleep(w).await, None => std::future::pending().await } } => {}
                _ = token.cancelled() => return,
            }
        }
    }
}
