//! One generation of the running configuration: its router and its group
//! tasks. A reload stops the old generation, takes its rules' states, and
//! starts a new one with them.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Core;
use super::group_task::{GroupTask, RuleState, Shared};
use super::prepared::Prepared;
use crate::alerting::Router;

pub struct Generation {
    token: CancellationToken,
    tasks: Vec<JoinHandle<Vec<(String, RuleState)>>>,
}

impl Generation {
    /// Start every group of `p`. Rules take their state from `carried` by
    /// name; what is left in `carried` belongs to rules that no longer exist.
    pub fn start(p: Prepared, carried: &mut HashMap<String, RuleState>, core: &Core) -> Generation {
        let config = p.config;
        let receiver = config.route.receiver.clone();
        // Workers outlive the generation: when its tasks end, the queues close
        // and the workers finish delivering what is queued, then stop.
        let router = Arc::new(Router::start(&receiver, p.notifiers, core.metrics.clone(), core.token.clone(), &core.tracker));
        let shared = Arc::new(Shared {
            baselines: Arc::new(p.baselines),
            templates: Arc::new(config.rules.templates),
            router,
            external_url: if config.external_url.is_empty() { format!("http://{}", core.address) } else { config.external_url.clone() },
            metrics: core.metrics.clone(),
            store: core.store.clone(),
            live: core.live.clone(),
        });
        core.live.set_groups(&config.rules.groups, &|name| {
            carried.get(name).map(|s| s.alerts.alerts().cloned().collect()).unwrap_or_default()
        });
        let token = core.token.child_token();
        let mut tasks = Vec::new();
        for group in config.rules.groups {
            let source = config.sources.get(&group.source).expect("validated: group names a source").clone();
            let task = GroupTask::new(group, source, shared.clone(), carried);
            tasks.push(core.tracker.spawn(task.run(token.clone())));
        }
        Generation { token, tasks }
    }

    /// A generation with nothing running (a placeholder while a reload swaps).
    pub fn idle() -> Generation {
        Generation { token: CancellationToken::new(), tasks: Vec::new() }
    }

    /// Stop every group (abandoning evaluations in flight) and return the
    /// rules' states by name.
    pub async fn stop(self) -> HashMap<String, RuleState> {
        self.token.cancel();
        let mut states = HashMap::new();
        for task in self.tasks {
            match task.await {
                Ok(rules) => states.extend(rules),
                Err(e) => tracing::error!(error = %e, "group task failed; its alert states are reloaded from the state file"),
            }
        }
        states
    }
}
