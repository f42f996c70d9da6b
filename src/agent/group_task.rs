//! The loop of one rule group: wait for the schedule, evaluate, then export the
//! values, advance alert states, store both, and hand the alerts to the
//! dispatcher (and to Alertmanagers).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use tokio_util::sync::CancellationToken;

use super::alerting::AlertingHandle;
use super::live::{Health, Live};
use crate::alerting::notifiers::alertmanager::{AlertmanagerNotifier, am_alert};
use crate::alerting::route::Route;
use crate::config::Baselines;
use crate::metrics::Metrics;
use crate::rules::alert::{Active, Alert, AlertSet, AlertState, Labels, Transition};
use crate::rules::eval::{RuleResult, evaluate_group};
use crate::rules::template::{TemplateContext, Templates};
use crate::rules::{Group, Rule};
use crate::sources::Source;
use crate::state::{RuleRecord, SeriesKey, Store};

/// Everything a group's loop needs, shared with the rest of the agent.
pub struct Shared {
    pub baselines: Arc<Baselines>,
    pub templates: Arc<Templates>,
    pub route: Arc<Route>,
    /// Alertmanagers to push to, by receiver.
    pub alertmanagers: Arc<HashMap<String, Vec<Arc<AlertmanagerNotifier>>>>,
    pub alerting: Arc<AlertingHandle>,
    pub external_url: String,
    pub metrics: Arc<Metrics>,
    pub store: Arc<Store>,
    pub live: Arc<Live>,
}

/// A gauge series a rule set: (check kind, value name, label values).
type Exported = (&'static str, &'static str, [String; 3]);

/// What a rule carries from one evaluation to the next, and across reloads.
#[derive(Default)]
pub struct RuleState {
    pub alerts: AlertSet,
    exported: HashSet<Exported>,
    /// The failures last logged, so a persisting problem is logged once.
    last_failures: Vec<String>,
}

impl RuleState {
    pub fn restored(alerts: Vec<Alert>) -> RuleState {
        RuleState { alerts: AlertSet::restore(alerts), ..RuleState::default() }
    }

    /// Remove every series of this rule (the rule went away).
    pub fn remove_series(&self, rule: &str, metrics: &Metrics) {
        remove_series(metrics, self.exported.iter());
        metrics.forget_rule(rule);
    }
}

pub struct GroupTask {
    group: Arc<Group>,
    source: Arc<Source>,
    shared: Arc<Shared>,
    /// Per rule, in the group's order.
    rules: Vec<RuleState>,
}

/// What one rule's evaluation produced for the store and the dispatcher.
struct Applied {
    /// The rule's alerts, when it was fully evaluated.
    alerts: Option<Vec<Alert>>,
    values: Vec<(SeriesKey, f64)>,
}

impl GroupTask {
    /// A task for `group`, taking the rules' states out of `carried` (by rule name).
    pub fn new(group: Group, source: Source, shared: Arc<Shared>, carried: &mut HashMap<String, RuleState>) -> Self {
        let rules = group.rules.iter().map(|r| carried.remove(&r.name).unwrap_or_default()).collect();
        GroupTask { group: Arc::new(group), source: Arc::new(source), shared, rules }
    }

    /// Evaluate now, then on every tick of the schedule, until cancelled.
    /// Returns the rules' states, so a reload can carry them over.
    pub async fn run(mut self, token: CancellationToken) -> Vec<(String, RuleState)> {
        tracing::info!(group = %self.group.name, schedule = %self.group.schedule, rules = self.group.rules.len(), "group started");
        loop {
            if !self.evaluate_once(&token).await {
                break;
            }
            let now = Utc::now();
            let next = self.group.schedule.next_after(now);
            self.shared.live.set_next_evaluation(&self.group.name, next);
            let Some(next) = next else {
                tracing::warn!(group = %self.group.name, "schedule has no further runs; group stopped");
                token.cancelled().await;
                break;
            };
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = token.cancelled() => break,
            }
        }
        self.group.rules.iter().map(|r| r.name.clone()).zip(self.rules).collect()
    }

    /// One evaluation. Returns false when shutdown interrupted it.
    async fn evaluate_once(&mut self, token: &CancellationToken) -> bool {
        // Milliseconds: what the state file keeps, so a restored alert equals the one stored.
        let now = Utc::now().trunc_subsecs(3);
        let (group, source, baselines) = (self.group.clone(), self.source.clone(), self.shared.baselines.clone());
        let span = tracing::info_span!("evaluate", group = %self.group.name);
        // Reading files and statistics are blocking work: keep them off the async workers.
        let work = tokio::task::spawn_blocking(move || {
            let result = span.in_scope(|| evaluate_group(&group, &source, &baselines, now));
            crate::util::memory::release_free_memory();
            result
        });
        let result = tokio::select! {
            r = work => r,
            _ = token.cancelled() => return false,
        };
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(group = %self.group.name, error = %e, "evaluation panicked");
                return true;
            }
        };
        let shared = self.shared.clone();
        shared.metrics.source_rows_read_total.with_label_values(&[&self.group.source]).inc_by(result.rows_read);
        let group = self.group.clone();
        let applied: Vec<Applied> = group
            .rules
            .iter()
            .zip(self.rules.iter_mut())
            .zip(result.rules)
            .map(|((rule, state), outcome)| apply(&shared, &group, rule, state, outcome, now))
            .collect();
        let (pending, firing) = shared.live.alert_counts();
        shared.metrics.alerts.with_label_values(&["pending"]).set(pending);
        shared.metrics.alerts.with_label_values(&["firing"]).set(firing);

        // Store first, then hand to the dispatcher: after a restart the agent
        // never announces again what it already announced.
        let store = shared.store.clone();
        let names: Vec<String> = group.rules.iter().map(|r| r.name.clone()).collect();
        let (applied, stored) = tokio::task::spawn_blocking(move || {
            let records: Vec<RuleRecord<'_>> = names
                .iter()
                .zip(&applied)
                .map(|(rule, a)| RuleRecord { rule, at_ms: now.timestamp_millis(), alerts: a.alerts.as_deref(), values: &a.values })
                .collect();
            let stored = store.commit_evaluation(&records);
            (applied, stored)
        })
        .await
        .expect("storing does not panic");
        if let Err(e) = stored {
            shared.metrics.state_write_failures_total.inc();
            tracing::error!(group = %group.name, error = %e, "cannot store the evaluation; alert states will be lost on restart");
        }
        {
            let mut dispatcher = shared.alerting.dispatcher();
            for (rule, a) in group.rules.iter().zip(&applied) {
                if let Some(alerts) = &a.alerts {
                    dispatcher.ingest(&rule.name, alerts, now);
                }
            }
        }
        shared.alerting.poke();
        if !shared.alertmanagers.is_empty() {
            let valid_for = group.schedule.next_after(now).map(|t| (t - now).to_std().unwrap_or_default()).unwrap_or_default();
            push_to_alertmanagers(&shared, applied.iter().filter_map(|a| a.alerts.as_deref()).flatten(), now, valid_for);
        }
        true
    }
}

fn apply(shared: &Shared, group: &Group, rule: &Rule, state: &mut RuleState, result: RuleResult, now: DateTime<Utc>) -> Applied {
    let m = &shared.metrics;
    let name = rule.name.as_str();
    m.rule_evaluations_total.with_label_values(&[name]).inc();
    m.rule_evaluation_duration_seconds.with_label_values(&[name]).observe(result.duration.as_secs_f64());
    m.rule_last_evaluation_timestamp_seconds.with_label_values(&[name]).set(now.timestamp_millis() as f64 / 1000.0);

    // Failures: counted every time, logged when they change.
    let messages: Vec<String> = result.failures.iter().map(|f| f.message.clone()).collect();
    for f in &result.failures {
        m.rule_evaluation_failures_total.with_label_values(&[name, f.reason]).inc();
    }
    if messages != state.last_failures {
        for msg in messages.iter().filter(|msg| !state.last_failures.contains(msg)) {
            tracing::warn!(rule = name, group = %group.name, error = %msg, "evaluation failed");
        }
        if messages.is_empty() {
            tracing::info!(rule = name, group = %group.name, "evaluation recovered");
        }
        state.last_failures = messages.clone();
    }

    // Export every value with a metric; remove series that went away.
    let kind = rule.check.kind();
    let mut exported = HashSet::new();
    let mut values = Vec::new();
    for s in &result.series {
        let label_values = [
            name.to_string(),
            s.labels.get("tenant").cloned().unwrap_or_default(),
            s.labels.get("column").cloned().unwrap_or_default(),
        ];
        for (value_name, value) in &s.values {
            values.push((SeriesKey { labels: s.labels.clone(), name: value_name.to_string() }, *value));
            if let Some(g) = m.check_value(kind, value_name) {
                g.with_label_values(&label_values.each_ref().map(String::as_str)).set(*value);
                exported.insert((kind, *value_name, label_values.clone()));
            }
        }
        if let Some(note) = &s.note {
            tracing::debug!(rule = name, labels = ?s.labels, note = %note, "no value");
        }
    }
    remove_series(m, state.exported.difference(&exported));
    state.exported = exported;

    // Alerts: left as they were when the rule could not be fully evaluated.
    let alerts = if result.failures.is_empty() {
        for t in state.alerts.update(now, rule.hold_for, active_series(shared, rule, &result)) {
            let (status, alert) = match &t {
                Transition::Fired(a) => ("firing", a),
                Transition::Resolved(a) => ("resolved", a),
            };
            tracing::info!(rule = name, status, labels = ?alert.labels, value = ?alert.value, "alert {status}");
        }
        Some(state.alerts.alerts().cloned().collect::<Vec<_>>())
    } else {
        None
    };

    shared.live.update_rule(&group.name, name, |view| {
        view.health = if messages.is_empty() { Health::Ok } else { Health::Error };
        view.last_error = (!messages.is_empty()).then(|| messages.join("; "));
        view.last_evaluation = Some(now);
        view.evaluation_time = Some(result.duration.as_secs_f64());
        if let Some(a) = &alerts {
            view.alerts = a.clone();
        }
    });
    Applied { alerts, values }
}

/// Push firing and recently resolved alerts to the Alertmanagers of the
/// receivers their routes pick, as Prometheus does: every evaluation, firing
/// alerts valid for four evaluation intervals (at least four minutes).
fn push_to_alertmanagers<'a>(shared: &Shared, alerts: impl Iterator<Item = &'a Alert>, now: DateTime<Utc>, interval: std::time::Duration) {
    let valid_for = (interval * 4).max(std::time::Duration::from_secs(240));
    let url = format!("{}/api/v1/alerts", shared.external_url.trim_end_matches('/'));
    let mut batches: BTreeMap<(String, usize), Vec<serde_json::Value>> = BTreeMap::new();
    for a in alerts.filter(|a| a.state != AlertState::Pending) {
        for route in shared.route.matching(&a.labels) {
            for i in 0..shared.alertmanagers.get(&route.receiver).map_or(0, Vec::len) {
                batches.entry((route.receiver.clone(), i)).or_default().push(am_alert(a, now, valid_for, &url));
            }
        }
    }
    for ((receiver, i), batch) in batches {
        let am = shared.alertmanagers[&receiver][i].clone();
        let metrics = shared.metrics.clone();
        tokio::spawn(async move {
            let result = am.push(&batch).await;
            let outcome = if result.is_ok() { "success" } else { "failure" };
            metrics.notifications_total.with_label_values(&[&receiver, "alertmanager", outcome]).inc();
            if let Err(e) = result {
                // The next evaluation sends them again.
                tracing::warn!(receiver = %receiver, integration = "alertmanager", alerts = batch.len(), error = %e, "push to Alertmanager failed");
            }
        });
    }
}

/// The series whose condition holds, as alerts with rendered annotations.
fn active_series(shared: &Shared, rule: &Rule, result: &RuleResult) -> Vec<Active> {
    let primary = rule.check.primary_value();
    result
        .series
        .iter()
        .filter(|s| s.holds == Some(true))
        .map(|s| {
            let mut labels: Labels = rule.labels.clone();
            labels.extend(s.labels.clone());
            labels.insert("alertname".into(), rule.name.clone());
            let value = s.values.get(primary).copied();
            let ctx = TemplateContext { value, values: &s.values, labels: &labels };
            let annotations: BTreeMap<String, String> =
                rule.annotations.iter().map(|(k, t)| (k.clone(), shared.templates.render(t, &ctx))).collect();
            Active { labels, annotations, value }
        })
        .collect()
}

fn remove_series<'a>(metrics: &Metrics, series: impl Iterator<Item = &'a Exported>) {
    for (kind, value, labels) in series {
        if let Some(g) = metrics.check_value(kind, value) {
            let _ = g.remove_label_values(&labels.each_ref().map(String::as_str));
        }
    }
}
