//! One generation of the running configuration: its group tasks and delivery
//! workers. A reload stops the old generation, takes its rules' states, and
//! starts a new one with them; the dispatcher and the outbox outlive both.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Core;
use super::alerting::dispatch_config;
use super::group_task::{GroupTask, RuleState, Shared};
use super::prepared::Prepared;
use crate::alerting::delivery::Worker;

pub struct Generation {
    token: CancellationToken,
    groups: Vec<JoinHandle<Vec<(String, RuleState)>>>,
    workers: Vec<JoinHandle<()>>,
}

impl Generation {
    /// Start every group of `p`. Rules take their state from `carried` by
    /// name; what is left in `carried` belongs to rules that no longer exist.
    pub fn start(p: Prepared, carried: &mut HashMap<String, RuleState>, core: &Core) -> Generation {
        let config = p.config;
        let external_url = config.external_url(core.address);
        let token = core.token.child_token();
        core.alerting.dispatcher().reconfigure(dispatch_config(&config, &p.receivers, &external_url), core.clock.now());

        // Delivery workers, one per grouped integration; what waits in the outbox
        // for integrations that no longer exist is dropped.
        let mut bells = HashMap::new();
        let mut workers = Vec::new();
        let mut alertmanagers = HashMap::new();
        for (name, receiver) in p.receivers {
            for (integration, notifier) in receiver.grouped {
                let wake = Arc::new(Notify::new());
                bells.insert((name.clone(), integration.clone()), wake.clone());
                let worker = Worker {
                    receiver: name.clone(),
                    integration,
                    notifier,
                    store: core.store.clone(),
                    metrics: core.metrics.clone(),
                    wake,
                    clock: core.clock,
                };
                workers.push(core.tracker.spawn(worker.run(token.clone())));
            }
            if !receiver.alertmanagers.is_empty() {
                alertmanagers.insert(name, receiver.alertmanagers.into_iter().map(Arc::new).collect());
            }
        }
        let keys: Vec<(String, String)> = bells.keys().cloned().collect();
        match core.store.drop_pending_except(&keys) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(notifications = n, "dropped notifications queued for integrations that are no longer configured"),
            Err(e) => tracing::error!(error = %e, "cannot clean up the outbox"),
        }
        core.alerting.set_workers(bells);
        core.alerting.poke();

        let shared = Arc::new(Shared {
            baselines: Arc::new(p.baselines),
            templates: Arc::new(config.rules.templates),
            route: Arc::new(config.route.clone()),
            alertmanagers: Arc::new(alertmanagers),
            alerting: core.alerting.clone(),
            external_url,
            metrics: core.metrics.clone(),
            store: core.store.clone(),
            live: core.live.clone(),
            clock: core.clock,
            tracker: core.tracker.clone(),
            shard: config.shard,
        });
        // Groups that are gone lose their series; the others set theirs again.
        core.metrics.group_last_duration_seconds.reset();
        core.metrics.shard_info.reset();
        let (index, count) = config.shard.map_or((0, 1), |s| (s.index(), s.count()));
        core.metrics.shard_info.with_label_values(&[&index.to_string(), &count.to_string()]).set(1);
        if let Some(shard) = config.shard {
            let handed: usize = carried.values_mut().map(|s| s.hand_over(shard, &core.metrics)).sum();
            if handed > 0 {
                tracing::info!(%shard, alerts = handed, "alerts of tenants another shard owns handed over: dropped here without notification");
            }
        }
        core.live.set_groups(&config.rules.groups, &|name| {
            carried.get(name).map(|s| s.alerts.alerts().cloned().collect()).unwrap_or_default()
        });
        let mut groups = Vec::new();
        for group in config.rules.groups {
            let source = config.sources.get(&group.source).expect("validated: group names a source").clone();
            let task = GroupTask::new(group, source, shared.clone(), carried);
            groups.push(core.tracker.spawn(task.run(token.clone())));
        }
        Generation { token, groups, workers }
    }

    /// A generation with nothing running (a placeholder while a reload swaps).
    pub fn idle() -> Generation {
        Generation { token: CancellationToken::new(), groups: Vec::new(), workers: Vec::new() }
    }

    /// Stop every group (abandoning evaluations in flight) and every worker
    /// (after its attempt in flight), and return the rules' states by name.
    pub async fn stop(self) -> HashMap<String, RuleState> {
        self.token.cancel();
        let mut states = HashMap::new();
        for task in self.groups {
            match task.await {
                Ok(rules) => states.extend(rules),
                Err(e) => tracing::error!(error = %e, "group task failed; its alert states are reloaded from the state file"),
            }
        }
        for w in self.workers {
            let _ = w.await;
        }
        states
    }
}
