//! `mlwatch backtest`: replay every group's schedule over historic data in
//! simulated time, through the same evaluation, alert state, grouping,
//! silences and inhibition as the live agent, and report what would have
//! happened. Nothing is sent and the live agent's state is not touched: the
//! replay keeps its history in a state of its own, in memory.

pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::agent::Prepared;
use crate::agent::alerting::dispatch_config;
use crate::alerting::dispatch::Dispatcher;
use crate::alerting::silence::Silence;
use crate::rules::advance::{advance, distributions, recorded_values};
use crate::rules::Group;
use crate::rules::alert::{AlertSet, Transition};
use crate::rules::eval::{EvalEnv, GroupResult, evaluate_group};
use crate::rules::tenants::KnownTenants;
use crate::state::{RuleRecord, Store};
pub use report::{Learning, Notification, Report};

/// What to replay.
#[derive(Debug, Clone)]
pub struct Options {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Evaluate every group at this step instead of on its own schedule.
    pub step: Option<Duration>,
    /// Silences to apply, as the live agent has them.
    pub silences: Vec<Silence>,
    /// Replay only these groups (by name); every group when `None`.
    pub groups: Option<Vec<String>>,
}

/// One group evaluation of a replay, as it happened: what `mlwatch eval`
/// prints and `mlwatch test` asserts on.
pub struct Step<'a> {
    pub at: DateTime<Utc>,
    pub group: &'a Group,
    pub result: &'a GroupResult,
    /// Each rule's alerts after the evaluation, in the group's order.
    pub alerts: &'a [AlertSet],
    /// Each rule's transitions in this evaluation.
    pub transitions: &'a [Vec<Transition>],
}

/// One group's next evaluation in the replay.
struct Due {
    at: DateTime<Utc>,
    group: usize,
}

/// Replay `prepared` over `opts.from ..= opts.to`, from an empty state,
/// logging the evaluations that failed.
pub fn run(prepared: &Prepared, opts: &Options) -> Result<Report, String> {
    replay(prepared, opts, &Store::in_memory(), &mut |step| {
        for (rule, result) in step.group.rules.iter().zip(&step.result.rules) {
            for f in &result.failures {
                tracing::warn!(rule = %rule.name, at = %step.at, error = %f.message, "evaluation failed");
            }
        }
    })
}

/// Replay `prepared` over `opts.from ..= opts.to` (one evaluation per group
/// when they are equal and `step` is set), starting from the alerts, known
/// tenants, history and baselines in `store`, which the replay then writes
/// to (give it an in-memory store or a copy, and read the replay's history
/// from it afterwards). `observe` sees every evaluation.
pub fn replay(prepared: &Prepared, opts: &Options, store: &Store, observe: &mut dyn FnMut(Step<'_>)) -> Result<Report, String> {
    if opts.to < opts.from {
        return Err("the end of a replay is before its start".into());
    }
    let config = &prepared.config;
    let groups = &config.rules.groups;
    let stored = store.load_alerts().map_err(|e| e.to_string())?;
    let mut dispatcher = Dispatcher::new(
        dispatch_config(config, &prepared.receivers, &config.external_url("127.0.0.1:9464".parse().expect("address"))),
        HashMap::new(),
        opts.silences.clone(),
    );
    let mut alerts: Vec<Vec<AlertSet>> = groups
        .iter()
        .map(|g| g.rules.iter().map(|r| AlertSet::restore(stored.get(&r.name).cloned().unwrap_or_default())).collect())
        .collect();
    let mut tenants = Vec::with_capacity(groups.len());
    for g in groups {
        tenants.push(KnownTenants::from_last_seen(store.load_tenants(&g.name).map_err(|e| e.to_string())?));
    }
    let mut evaluations = 0u64;
    let mut read = (0u64, 0u64);
    let mut learning: BTreeMap<(String, String), Learning> = BTreeMap::new();
    let mut notifications = Vec::new();

    // The first evaluation of each group is its first tick at or after `from`.
    let first = |g: &crate::rules::Group| -> Option<DateTime<Utc>> {
        match opts.step {
            Some(_) => Some(opts.from),
            None => g.schedule.next_after(opts.from - chrono::Duration::milliseconds(1)),
        }
    };
    let next = |g: &crate::rules::Group, after: DateTime<Utc>| -> Option<DateTime<Utc>> {
        match opts.step {
            Some(step) => Some(after + chrono::Duration::from_std(step).ok()?),
            None => g.schedule.next_after(after),
        }
    };
    let chosen = |g: &Group| opts.groups.as_ref().is_none_or(|names| names.contains(&g.name));
    let mut queue: Vec<Due> =
        groups.iter().enumerate().filter(|(_, g)| chosen(g)).filter_map(|(i, g)| Some(Due { at: first(g)?, group: i })).collect();
    loop {
        queue.retain(|d| d.at <= opts.to);
        let Some(pos) = queue.iter().enumerate().min_by_key(|(_, d)| (d.at, d.group)).map(|(i, _)| i) else { break };
        let Due { at: now, group: gi } = queue.swap_remove(pos);
        flush_until(&mut dispatcher, now, &mut notifications);

        let group = &groups[gi];
        let source = config.sources.get(&group.source).ok_or_else(|| format!("group `{}`: unknown source", group.name))?;
        let known = tenants[gi].known(now, group.forget_tenants_after);
        let env = EvalEnv { baselines: &prepared.baselines, store: Some(&store), known_tenants: &known, mode: crate::sources::log::ReadMode::Replay, shard: config.shard };
        let result = evaluate_group(group, source, &env, now);
        evaluations += 1;
        read.0 += result.files_read;
        read.1 += result.rows_read;
        tenants[gi].observe(&result.tenants_seen, now, group.forget_tenants_after);
        let mut records = Vec::new();
        let mut outcomes = Vec::new();
        let mut steps = Vec::with_capacity(group.rules.len());
        for ((rule, set), outcome) in group.rules.iter().zip(alerts[gi].iter_mut()).zip(&result.rules) {
            for (tenant, until) in &outcome.learning {
                learning
                    .entry((rule.name.clone(), tenant.clone()))
                    .or_insert_with(|| Learning { rule: rule.name.clone(), tenant: tenant.clone(), since: now, until: *until });
            }
            let transitions = advance(rule, &config.rules.templates, set, outcome, now);
            let current: Vec<_> = set.alerts().cloned().collect();
            dispatcher.ingest(&rule.name, &current, now);
            outcomes.push((rule.name.as_str(), current, recorded_values(rule, outcome), transitions.clone(), distributions(outcome)));
            steps.push(transitions);
        }
        observe(Step { at: now, group, result: &result, alerts: &alerts[gi], transitions: &steps });
        for (rule, current, values, transitions, distributions) in &outcomes {
            records.push(RuleRecord { rule, at_ms: now.timestamp_millis(), alerts: Some(current), values, transitions, distributions });
        }
        let rows = tenants[gi].to_rows();
        store.commit_evaluation(&records, Some((&group.name, &rows)), None).map_err(|e| e.to_string())?;
        if let Some(at) = next(group, now) {
            queue.push(Due { at, group: gi });
        }
    }
    flush_until(&mut dispatcher, opts.to, &mut notifications);
    let history = store.alert_history(DateTime::<Utc>::MIN_UTC).map_err(|e| e.to_string())?;
    let mut report = Report::new(opts, evaluations, history, notifications, learning.into_values().collect());
    (report.files_read, report.rows_read) = read;
    Ok(report)
}

/// Flush every group of the dispatcher that is due by `until`, in order.
fn flush_until(dispatcher: &mut Dispatcher, until: DateTime<Utc>, out: &mut Vec<Notification>) {
    while let Some(due) = dispatcher.next_due().filter(|d| *d <= until) {
        for o in dispatcher.flush_due(due) {
            if let Some(n) = o.notification {
                out.push(Notification::new(due, &o.key.integration, &n));
            }
        }
    }
}
