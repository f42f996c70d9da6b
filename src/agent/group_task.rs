//! The loop of one rule group: wait for the schedule, evaluate, then export the
//! values, advance alert states, store both, and hand the alerts to the
//! dispatcher (and to Alertmanagers).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::alerting::AlertingHandle;
use super::bounded::{Bounded, Outcome};
use super::live::{Health, Live};
use crate::alerting::notifiers::alertmanager::{AlertmanagerNotifier, am_alert};
use crate::alerting::route::Route;
use crate::baseline::Baselines;
use crate::metrics::{ExportedSeries, Metrics};
use crate::rules::advance::{advance, distributions, recorded_values};
use crate::rules::alert::{Alert, AlertSet, AlertState, Transition};
use crate::rules::eval::{EvalEnv, GroupResult, RuleResult, evaluate_group};
use crate::rules::template::Templates;
use crate::rules::tenants::KnownTenants;
use crate::rules::{Group, Rule};
use crate::shard::{Shard, owned};
use crate::sources::Source;
use crate::state::{RuleRecord, SeriesKey, Store};
use crate::util::clock::Clock;

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
    pub clock: Clock,
    /// Where pushes to Alertmanagers run, so shutdown waits for them.
    pub tracker: tokio_util::task::TaskTracker,
    /// The tenants this agent owns; `None`: all of them.
    pub shard: Option<Shard>,
}

/// What a rule carries from one evaluation to the next, and across reloads.
#[derive(Default)]
pub struct RuleState {
    pub alerts: AlertSet,
    exported: HashSet<ExportedSeries>,
    /// The failures last logged, so a persisting problem is logged once.
    last_failures: Vec<String>,
}

impl RuleState {
    pub fn restored(alerts: Vec<Alert>) -> RuleState {
        RuleState { alerts: AlertSet::restore(alerts), ..RuleState::default() }
    }

    /// Drop the alerts and series of tenants `shard` does not own: another
    /// shard took them over. Nothing is sent about them (the new owner
    /// judges them now; an Alertmanager lets their last push expire), and
    /// the next stored evaluation forgets them. Returns how many alerts went.
    pub fn hand_over(&mut self, shard: Shard, metrics: &Metrics) -> usize {
        let theirs = |labels: &crate::labels::Labels| labels.get("tenant").is_some_and(|t| !shard.owns(t));
        self.exported.retain(|s| {
            let keep = !s.tenant().is_some_and(|t| !shard.owns(t));
            if !keep {
                metrics.remove_check_value(s);
            }
            keep
        });
        self.alerts.remove_where(theirs)
    }

    /// Remove every series of this rule (the rule went away).
    pub fn remove_series(&self, rule: &str, metrics: &Metrics) {
        for s in &self.exported {
            metrics.remove_check_value(s);
        }
        metrics.forget_rule(rule);
    }
}

pub struct GroupTask {
    group: Arc<Group>,
    source: Arc<Source>,
    shared: Arc<Shared>,
    /// Per rule, in the group's order.
    rules: Vec<RuleState>,
    /// Tenants seen, with when they were last seen (kept in the state file).
    tenants: KnownTenants,
    /// The evaluation, on a blocking thread under the group's timeout.
    evaluation: Bounded<GroupResult>,
}

/// What one rule's evaluation produced for the store and the dispatcher.
struct Applied {
    alerts: Vec<Alert>,
    values: Vec<(SeriesKey, f64)>,
    transitions: Vec<Transition>,
    distributions: Vec<(crate::labels::Labels, std::sync::Arc<crate::checks::drift::distribution::Distribution>)>,
}

impl GroupTask {
    /// A task for `group`, taking the rules' states out of `carried` (by rule name).
    pub fn new(group: Group, source: Source, shared: Arc<Shared>, carried: &mut HashMap<String, RuleState>) -> Self {
        let rules = group.rules.iter().map(|r| carried.remove(&r.name).unwrap_or_default()).collect();
        let mut last_seen = shared.store.load_tenants(&group.name).unwrap_or_else(|e| {
            tracing::error!(group = %group.name, error = %e, "cannot read the group's known tenants; starting without");
            BTreeMap::new()
        });
        last_seen.retain(|t, _| owned(shared.shard, t));
        let tenants = KnownTenants::from_last_seen(last_seen);
        GroupTask { group: Arc::new(group), source: Arc::new(source), shared, rules, tenants, evaluation: Bounded::default() }
    }

    /// Evaluate now, then on every tick of the schedule, until cancelled.
    /// Returns the rules' states, so a reload can carry them over.
    pub async fn run(mut self, token: CancellationToken) -> Vec<(String, RuleState)> {
        tracing::info!(group = %self.group.name, schedule = %self.group.schedule, rules = self.group.rules.len(), "group started");
        let clock = self.shared.clock;
        // The first evaluation is now; the later ones are at their ticks
        // exactly (as Prometheus does), so `for` counts whole intervals
        // whatever the wake-up delay, and a backtest sees the same times.
        let mut at = clock.now_ms();
        loop {
            if !self.evaluate_once(&token, at).await {
                break;
            }
            let next = self.group.schedule.next_after(clock.now());
            self.shared.live.set_next_evaluation(&self.group.name, next);
            let Some(next) = next else {
                tracing::warn!(group = %self.group.name, "schedule has no further runs; group stopped");
                token.cancelled().await;
                break;
            };
            tokio::select! {
                _ = clock.sleep_until(next) => {}
                _ = token.cancelled() => break,
            }
            at = next;
        }
        self.group.rules.iter().map(|r| r.name.clone()).zip(self.rules).collect()
    }

    /// One evaluation, of the window ending at `now`. Returns false when
    /// shutdown interrupted it.
    async fn evaluate_once(&mut self, token: &CancellationToken, now: DateTime<Utc>) -> bool {
        let started = std::time::Instant::now();
        let timeout = self.group.timeout.unwrap_or_else(|| self.group.schedule.period_after(now).max(std::time::Duration::from_secs(1)));
        let known = self.tenants.known(now, self.group.forget_tenants_after);
        // A log source's read and its checkpoint go together: no other
        // group's read of it may come between them.
        let serial = match &*self.source {
            Source::Log(log) => Some(log.serial()),
            Source::File(_) => None,
        };
        let _serial = match &serial {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let (group, source, shared) = (self.group.clone(), self.source.clone(), self.shared.clone());
        let shard = shared.shard;
        let span = tracing::info_span!("evaluate", group = %self.group.name);
        // Reading files and statistics are blocking work: keep them off the async workers.
        let work = move || {
            let env = EvalEnv { baselines: &shared.baselines, store: Some(&shared.store), known_tenants: &known, mode: crate::sources::log::ReadMode::Live, shard };
            let result = span.in_scope(|| evaluate_group(&group, &source, &env, now));
            crate::util::memory::release_free_memory();
            result
        };
        let result = match self.evaluation.run(self.shared.clock, timeout, token, work).await {
            Outcome::Done(r) => r,
            Outcome::Cancelled => return false,
            Outcome::Overran { since } => {
                self.report_overrun(since);
                return true;
            }
            Outcome::Panicked(e) => {
                tracing::error!(group = %self.group.name, error = %e, "evaluation panicked");
                return true;
            }
        };
        let shared = self.shared.clone();
        let m = &shared.metrics;
        m.source_rows_read_total.with_label_values(&[&self.group.source]).inc_by(result.rows_read);
        m.source_files_read_total.with_label_values(&[&self.group.source]).inc_by(result.files_read);
        for reason in &result.files_skipped {
            m.source_files_skipped_total.with_label_values(&[&self.group.source, reason.as_str()]).inc();
        }
        for (reason, n) in &result.lines_rejected {
            m.source_lines_rejected_total.with_label_values(&[self.group.source.as_str(), reason]).inc_by(*n);
        }
        if let Some(bytes) = result.bucket_bytes {
            m.source_bucket_bytes.with_label_values(&[&self.group.source]).set(bytes as i64);
        }
        let checkpoint = result.checkpoint;
        let changes = self.tenants.observe(&result.tenants_seen, now, self.group.forget_tenants_after);
        for t in changes.new {
            tracing::info!(group = %self.group.name, tenant = %t, "new tenant");
        }
        for t in changes.forgotten {
            tracing::info!(group = %self.group.name, tenant = %t, "tenant forgotten: no rows for forget_tenants_after");
        }
        m.tenants.with_label_values(&[&self.group.name]).set(self.tenants.len() as i64);
        let group = self.group.clone();
        let applied: Vec<Applied> = group
            .rules
            .iter()
            .zip(self.rules.iter_mut())
            .zip(result.rules)
            .map(|((rule, state), outcome)| apply(&shared, &group, rule, state, outcome, now))
            .collect();
        let (pending, firing) = shared.live.alert_counts();
        m.alerts.with_label_values(&["pending"]).set(pending);
        m.alerts.with_label_values(&["firing"]).set(firing);

        // Store first, then hand to the dispatcher: after a restart the agent
        // never announces again what it already announced.
        let store = shared.store.clone();
        let names: Vec<String> = group.rules.iter().map(|r| r.name.clone()).collect();
        let tenants = self.tenants.to_rows();
        let group_name = group.name.clone();
        let metrics = shared.metrics.clone();
        let (applied, stored, checkpoint) = tokio::task::spawn_blocking(move || {
            // The next scrape finds the new values rendered.
            metrics.refresh_values();
            let records: Vec<RuleRecord<'_>> = names
                .iter()
                .zip(&applied)
                .map(|(rule, a)| RuleRecord {
                    rule,
                    at_ms: now.timestamp_millis(),
                    alerts: Some(&a.alerts),
                    values: &a.values,
                    transitions: &a.transitions,
                    distributions: &a.distributions,
                })
                .collect();
            let stored = store.commit_evaluation(&records, Some((&group_name, &tenants)), checkpoint.as_ref());
            (applied, stored, checkpoint)
        })
        .await
        .expect("storing does not panic");
        m.group_last_duration_seconds.with_label_values(&[&group.name]).set(started.elapsed().as_secs_f64());
        if let Err(e) = stored {
            if let (Some(cp), Source::Log(log)) = (&checkpoint, &*self.source) {
                log.lock().checkpoint_failed(cp);
            }
            m.state_write_failures_total.inc();
            tracing::error!(group = %group.name, error = %e, "cannot store the evaluation; alert states will be lost on restart");
        }
        {
            let mut dispatcher = shared.alerting.dispatcher();
            for (rule, a) in group.rules.iter().zip(&applied) {
                dispatcher.ingest(&rule.name, &a.alerts, now);
            }
        }
        shared.alerting.poke();
        if !shared.alertmanagers.is_empty() {
            let valid_for = group.schedule.next_after(now).map(|t| (t - now).to_std().unwrap_or_default()).unwrap_or_default();
            push_to_alertmanagers(&shared, applied.iter().flat_map(|a| &a.alerts), now, valid_for);
        }
        true
    }
}

impl GroupTask {
    /// An evaluation has been running past its timeout since `since`: every
    /// rule of the group shows it as its error, and its alerts stay as they
    /// were (as when a source cannot be read).
    fn report_overrun(&self, since: DateTime<Utc>) {
        let (m, name) = (&self.shared.metrics, &self.group.name);
        m.group_evaluation_overruns_total.with_label_values(&[name]).inc();
        let running = humantime::format_duration(std::time::Duration::from_secs((self.shared.clock.now() - since).num_seconds().max(0) as u64));
        let message = format!(
            "the evaluation started at {} has been running for {running}, past its timeout; a source read may be stuck \
             (a FIFO, a hung mount); no evaluation starts until it returns",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        tracing::error!(group = %name, error = %message, "evaluation overran its timeout");
        for rule in &self.group.rules {
            m.rule_evaluation_failures_total.with_label_values(&[&rule.name, "timeout"]).inc();
            self.shared.live.update_rule(name, &rule.name, |view| {
                view.health = Health::Error;
                view.last_error = Some(message.clone());
            });
        }
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
    let kind = rule.check.spec().kind;
    let mut exported = HashSet::new();
    for s in &result.series {
        if let Some(rows) = s.values.get("rows") {
            exported.insert(m.set_window_rows(name, s.labels.get("tenant").map_or("", String::as_str), *rows));
        }
        for (value_name, value) in &s.values {
            if let Some(e) = m.set_check_value(kind, value_name, name, &s.labels, *value) {
                exported.insert(e);
            }
        }
        if let Some(note) = &s.note {
            tracing::debug!(rule = name, labels = ?s.labels, note = %note, "no value");
        }
    }
    for tenant in result.learning.keys() {
        exported.insert(m.set_learning(name, tenant));
    }
    for gone in state.exported.difference(&exported) {
        m.remove_check_value(gone);
    }
    state.exported = exported;

    // Alerts: those of tenants that failed stay as they were.
    let transitions = advance(rule, &shared.templates, &mut state.alerts, &result, now);
    for t in transitions.iter().filter(|t| matches!(t, Transition::Fired(_) | Transition::Resolved(_))) {
        let (status, alert) = (t.state(), t.alert());
        tracing::info!(rule = name, status, labels = ?alert.labels, value = ?alert.value, "alert {status}");
    }
    let alerts: Vec<Alert> = state.alerts.alerts().cloned().collect();

    shared.live.update_rule(&group.name, name, |view| {
        view.health = if messages.is_empty() { Health::Ok } else { Health::Error };
        view.last_error = (!messages.is_empty()).then(|| messages.join("; "));
        view.last_evaluation = Some(now);
        view.evaluation_time = Some(result.duration.as_secs_f64());
        view.alerts = alerts.clone();
        view.learning = result.learning.clone();
    });
    Applied { alerts, values: recorded_values(rule, &result), transitions, distributions: distributions(&result) }
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
        // On the agent's tracker, so shutdown waits for pushes in flight.
        shared.tracker.spawn(async move {
            let result = am.push(&batch).await;
            let outcome = if result.is_ok() { "success" } else { "failure" };
            metrics.notifications_total.with_label_values(&[&receiver, "alertmanager", outcome]).inc();
            if result.is_ok() {
                tracing::debug!(receiver = %receiver, integration = "alertmanager", alerts = batch.len(), "alerts pushed to Alertmanager");
            }
            if let Err(e) = result {
                // The next evaluation sends them again.
                tracing::warn!(receiver = %receiver, integration = "alertmanager", alerts = batch.len(), error = %e, "push to Alertmanager failed");
            }
        });
    }
}
