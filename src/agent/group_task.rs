//! The loop of one rule group: wait for the schedule, evaluate, then export the
//! values, update alert states and hand transitions to the router.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::alerting::{Notification, Router, Status};
use crate::config::Baselines;
use crate::metrics::Metrics;
use crate::rules::alert::{Active, AlertSet, AlertState, Labels, Transition};
use crate::rules::eval::{RuleResult, evaluate_group};
use crate::rules::template::{TemplateContext, Templates};
use crate::rules::{Group, Rule};
use crate::sources::Source;

/// Everything a group's loop needs, shared with the rest of the agent.
pub struct Shared {
    pub baselines: Arc<Baselines>,
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
    pub router: Arc<Router>,
    pub external_url: String,
}

/// A gauge series this group set: (check kind, value name, label values).
type Exported = (&'static str, &'static str, [String; 3]);

pub struct GroupTask {
    group: Arc<Group>,
    source: Arc<Source>,
    shared: Arc<Shared>,
    /// Per rule, in the group's order.
    rules: Vec<RuleState>,
}

#[derive(Default)]
struct RuleState {
    alerts: AlertSet,
    exported: HashSet<Exported>,
    /// The failures last logged, so a persisting problem is logged once.
    last_failures: Vec<String>,
    counts: (i64, i64),
}

impl GroupTask {
    pub fn new(group: Group, source: Source, shared: Arc<Shared>) -> Self {
        let rules = group.rules.iter().map(|_| RuleState::default()).collect();
        GroupTask { group: Arc::new(group), source: Arc::new(source), shared, rules }
    }

    /// Evaluate now, then on every tick of the schedule, until cancelled.
    pub async fn run(mut self, token: CancellationToken) {
        tracing::info!(group = %self.group.name, schedule = %self.group.schedule, rules = self.group.rules.len(), "group started");
        loop {
            if !self.evaluate_once(&token).await {
                return;
            }
            let now = Utc::now();
            let Some(next) = self.group.schedule.next_after(now) else {
                tracing::warn!(group = %self.group.name, "schedule has no further runs; group stopped");
                return;
            };
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = token.cancelled() => return,
            }
        }
    }

    /// One evaluation. Returns false when shutdown interrupted it.
    async fn evaluate_once(&mut self, token: &CancellationToken) -> bool {
        let now = Utc::now();
        let (group, source, baselines) = (self.group.clone(), self.source.clone(), self.shared.baselines.clone());
        let span = tracing::info_span!("evaluate", group = %self.group.name);
        // Reading files and statistics are blocking work: keep them off the async workers.
        let work = tokio::task::spawn_blocking(move || span.in_scope(|| evaluate_group(&group, &source, &baselines, now)));
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
        let m = &self.shared.metrics;
        m.source_rows_read_total.with_label_values(&[&self.group.source]).inc_by(result.rows_read);
        let group = self.group.clone();
        for ((rule, state), outcome) in group.rules.iter().zip(self.rules.iter_mut()).zip(result.rules) {
            apply(&self.shared, &group, rule, state, outcome, now);
        }
        true
    }
}

fn apply(shared: &Shared, group: &Group, rule: &Rule, state: &mut RuleState, result: RuleResult, now: chrono::DateTime<Utc>) {
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
        state.last_failures = messages;
    }

    // Export every value with a metric; remove series that went away.
    let kind = rule.check.kind();
    let mut exported = HashSet::new();
    for s in &result.series {
        let label_values = [
            name.to_string(),
            s.labels.get("tenant").cloned().unwrap_or_default(),
            s.labels.get("column").cloned().unwrap_or_default(),
        ];
        for (value_name, value) in &s.values {
            if let Some(g) = m.check_value(kind, value_name) {
                g.with_label_values(&label_values.each_ref().map(String::as_str)).set(*value);
                exported.insert((kind, *value_name, label_values.clone()));
            }
        }
        if let Some(note) = &s.note {
            tracing::debug!(rule = name, labels = ?s.labels, note = %note, "no value");
        }
    }
    for (k, v, labels) in state.exported.difference(&exported) {
        if let Some(g) = m.check_value(k, v) {
            let _ = g.remove_label_values(&labels.each_ref().map(String::as_str));
        }
    }
    state.exported = exported;

    // Alerts: left as they were when the rule could not be fully evaluated.
    if !result.failures.is_empty() {
        return;
    }
    let primary = rule.check.primary_value();
    let active: Vec<Active> = result
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
        .collect();
    for t in state.alerts.update(now, rule.hold_for, active) {
        let (status, alert) = match t {
            Transition::Fired(a) => (Status::Firing, a),
            Transition::Resolved(a) => (Status::Resolved, a),
        };
        tracing::info!(rule = name, status = status.as_str(), labels = ?alert.labels, value = ?alert.value, "alert {}", status.as_str());
        let n = Notification {
            status,
            rule: rule.name.clone(),
            group: group.name.clone(),
            condition: rule.when_text.clone(),
            alert,
            external_url: shared.external_url.clone(),
        };
        shared.router.dispatch(n, m);
    }
    let counts = state.alerts.alerts().fold((0, 0), |(p, f), a| match a.state {
        AlertState::Pending => (p + 1, f),
        AlertState::Firing => (p, f + 1),
        AlertState::Resolved => (p, f),
    });
    m.alerts.with_label_values(&["pending"]).add(counts.0 - state.counts.0);
    m.alerts.with_label_values(&["firing"]).add(counts.1 - state.counts.1);
    state.counts = counts;
}
