//! One evaluation of a group: sample the source once, run every rule's check on
//! each tenant's rows, and decide where each rule's condition holds. Produces
//! values only; exporting them and updating alerts is the caller's job (the
//! agent, or `mlwatch backtest`, which share this function).
//!
//! "No data" is a value here: a tenant seen before that has no rows in the
//! window still gets its series, with `rows = 0` and `absent = 1`, so a rule
//! can alert on a tenant whose data stopped.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use polars::prelude::DataFrame;

use super::expr::eval_condition;
use super::{Group, Rule};
use crate::baseline::Baselines;
use crate::baseline::stored::{ReadMemo, Resolved, StoredCx};
use crate::checks::contract::SideRead;
use crate::checks::{EvalContext, History};
use crate::labels::Labels;
use crate::events::Aggregates;
use crate::sources::log::{Checkpoint, LogSource, ReadMode};
use crate::sources::path_template::SkipReason;
use crate::shard::{Shard, owned};
use crate::sources::{Partition, Source, SourceMeta, Window};
use crate::state::{HistoryPoint, SeriesKey, Store};

/// One series of one rule, with the labels it is exported and alerted under.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// The check's labels, and `tenant` when per tenant.
    pub labels: Labels,
    pub values: BTreeMap<&'static str, f64>,
    /// Why values are missing, when they are.
    pub note: Option<String>,
    /// Whether the condition holds; `None` when a value it needs is missing.
    pub holds: Option<bool>,
    /// The tenant's baseline is still being learned: its alert is held.
    pub learning: bool,
    /// The window's distribution beside the baseline's (drift), for pictures.
    pub distribution: Option<std::sync::Arc<crate::checks::drift::distribution::Distribution>>,
}

/// Every [`Failure::reason`]: the sources' reasons, `baseline` and `check`.
pub const FAILURE_REASONS: &[&str] = &["source_missing", "source_corrupt", "missing_column", "source_data", "baseline", "check"];

/// Why a rule (or one tenant of it) could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Bounded reason for the failure counter.
    pub reason: &'static str,
    /// The tenant that failed; `None` when the whole rule did (its source).
    pub tenant: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct RuleResult {
    pub series: Vec<SeriesResult>,
    /// Failures; the alerts of what failed are left as they were.
    pub failures: Vec<Failure>,
    /// Tenants whose baseline is being learned, with when learning ends.
    pub learning: BTreeMap<String, DateTime<Utc>>,
    pub duration: Duration,
}

impl RuleResult {
    /// Whether the alert with `labels` could not be judged this time (its
    /// tenant, or the whole rule, failed), so its state must stay as it was.
    pub fn unjudged(&self, labels: &Labels) -> bool {
        self.failures.iter().any(|f| f.tenant.is_none() || f.tenant.as_ref() == labels.get("tenant"))
    }
}

#[derive(Debug, Clone)]
pub struct GroupResult {
    pub rows_read: u64,
    pub files_read: u64,
    /// Why each matching path that was not read was skipped.
    pub files_skipped: Vec<SkipReason>,
    /// Tenants that had rows in this window.
    pub tenants_seen: Vec<String>,
    /// One per rule, in the group's order.
    pub rules: Vec<RuleResult>,
    /// Lines of a log source not counted, by reason.
    pub lines_rejected: Vec<(&'static str, u64)>,
    /// Bytes a log source's buckets hold.
    pub bucket_bytes: Option<usize>,
    /// What a log source read, to store with the evaluation's results.
    pub checkpoint: Option<Checkpoint>,
}

/// What an evaluation reads besides the source: baselines, and the history
/// of values (absent in one-shot use).
pub struct EvalEnv<'a> {
    pub baselines: &'a Baselines,
    pub store: Option<&'a Store>,
    /// Tenants seen before: a known tenant without rows is evaluated as "no data".
    pub known_tenants: &'a BTreeSet<String>,
    /// Live (log sources follow their files) or replayed (read by event time).
    pub mode: ReadMode,
    /// The tenants this agent owns; `None`: all of them.
    pub shard: Option<Shard>,
}

/// Evaluate `group` against the window ending at `now`.
pub fn evaluate_group(group: &Group, source: &Source, env: &EvalEnv<'_>, now: DateTime<Utc>) -> GroupResult {
    // A group that is not per tenant has no tenants to split: the first
    // shard evaluates it, so its alert is sent once, not once per shard.
    if !group.per_tenant && env.shard.is_some_and(|s| s.index() != 0) {
        return GroupResult::empty(group);
    }
    if let Source::Log(log) = source {
        return evaluate_log_group(group, source, log, env, now);
    }
    let started = Instant::now();
    let window = group.window.map(|w| Window::ending_at(now, w));
    // Without a window every row up to now is read: never rows from after
    // `now` (which a backtest's lake holds).
    let read = window.or_else(|| source.has_timestamp().then_some(Window { start: DateTime::<Utc>::MIN_UTC, end: now }));
    let sample = match source.sample(&group.columns(), read, group.per_tenant, env.shard) {
        Ok(s) => s,
        Err(e) => {
            let failure = Failure { reason: e.reason(), tenant: None, message: format!("source `{}`: {e}", group.source) };
            let read_time = started.elapsed();
            return GroupResult::failed(group, failure, read_time);
        }
    };
    let read_time = started.elapsed();
    let rows_read = sample.partitions.iter().map(|p| p.frame.height() as u64).sum();
    let tenants_seen = seen(&sample.partitions);
    let unread: Vec<Failure> = sample
        .failed
        .iter()
        .map(|(t, e)| Failure { reason: e.reason(), tenant: Some(t.clone()), message: format!("tenant `{t}`: source `{}`: {e}", group.source) })
        .collect();
    let partitions = with_absent_tenants(sample.partitions, group.per_tenant, env.known_tenants, &sample.failed);
    let memo = ReadMemo::default();
    let shared = SharedChecks::default();
    let input = RuleInput { group, source, partitions: &partitions, window, now, memo: &memo, events: None, shared: &shared, shard: env.shard };
    GroupResult {
        rows_read,
        files_read: sample.files_read,
        files_skipped: sample.skipped,
        tenants_seen,
        rules: evaluate_rules(&input, env, &unread, read_time),
        lines_rejected: Vec::new(),
        bucket_bytes: None,
        checkpoint: None,
    }
}

/// Tenants that had rows.
fn seen(partitions: &[Partition]) -> Vec<String> {
    partitions.iter().filter(|p| p.meta.rows > 0).filter_map(|p| p.tenant.clone()).collect()
}

fn evaluate_rules(input: &RuleInput<'_>, env: &EvalEnv<'_>, unread: &[Failure], read_time: Duration) -> Vec<RuleResult> {
    input
        .group
        .rules
        .iter()
        .map(|rule| {
            let t = Instant::now();
            let mut result = evaluate_rule(rule, input, env);
            result.failures.extend(unread.iter().cloned());
            result.duration = read_time + t.elapsed();
            result
        })
        .collect()
}

/// A group over a log source: read what is new, then evaluate every tenant
/// the buckets know (with no rows of its own: a log has no table).
fn evaluate_log_group(group: &Group, source: &Source, log: &LogSource, env: &EvalEnv<'_>, now: DateTime<Utc>) -> GroupResult {
    let started = Instant::now();
    let (state, read) = log.read(env.store, env.mode, now);
    let agg: &Aggregates = &state.aggregates;
    let bucket_ms = agg.bucket_ms;
    // Buckets that start before `now`; the window's are those that start in it.
    let hi = (now.timestamp_millis() + bucket_ms - 1).div_euclid(bucket_ms);
    let window = group.window.map(|w| Window::ending_at(now, w));
    let lo = window.map_or(i64::MIN, |w| (w.start.timestamp_millis() + bucket_ms - 1).div_euclid(bucket_ms));
    let mut parts: Vec<Partition> = Vec::new();
    for (tenant, seen) in agg.tenants(hi).into_iter().filter(|(t, _)| owned(env.shard, t)) {
        let rows = agg.traffic(&tenant).map_or(0, |c| c.sum(lo, hi)[0]);
        let meta = SourceMeta {
            files: read.files_read,
            rows,
            newest: DateTime::from_timestamp_millis(seen.last * bucket_ms),
            modified: None,
            partition: None,
        };
        match (group.per_tenant, parts.first_mut()) {
            (true, _) => parts.push(Partition { tenant: Some(tenant), frame: DataFrame::empty(), meta }),
            (false, None) => parts.push(Partition { tenant: None, frame: DataFrame::empty(), meta }),
            (false, Some(all)) => all.meta.merge(&SourceMeta { files: 0, ..meta }),
        }
    }
    let tenants_seen = seen(&parts);
    for e in &read.failed {
        tracing::warn!(group = %group.name, source = %group.source, error = %e, "log file not read");
    }
    if let Some(example) = &read.example {
        let total: u64 = read.rejected.values().sum();
        tracing::warn!(source = %group.source, rejected = total, example = %example, "log lines not counted (one example; all are in mlwatch_source_lines_rejected_total)");
    }
    if !read.refused_tenants.is_empty() {
        let names: Vec<&str> = read.refused_tenants.iter().map(String::as_str).collect();
        tracing::warn!(source = %group.source, tenants = %names.join(", "), "tenants over max_tenants: their lines are counted as rejected (too_many_tenants), not evaluated");
    }
    for t in &read.forgotten {
        tracing::info!(source = %group.source, tenant = %t, "tenant forgotten by the log source: no lines for forget_tenants_after");
    }
    let partitions = with_absent_tenants(parts, group.per_tenant, env.known_tenants, &[]);
    let memo = ReadMemo::default();
    let shared = SharedChecks::default();
    let input = RuleInput { group, source, partitions: &partitions, window, now, memo: &memo, events: Some(agg), shared: &shared, shard: env.shard };
    let rules = evaluate_rules(&input, env, &[], started.elapsed());
    GroupResult {
        rows_read: read.lines,
        files_read: read.files_read,
        files_skipped: Vec::new(),
        tenants_seen,
        rules,
        lines_rejected: read.rejected.iter().map(|(r, n)| (r.as_str(), *n)).collect(),
        bucket_bytes: Some(agg.bytes()),
        checkpoint: read.checkpoint,
    }
}

impl GroupResult {
    /// Nothing read, nothing evaluated.
    fn empty(group: &Group) -> GroupResult {
        GroupResult {
            rows_read: 0,
            files_read: 0,
            files_skipped: Vec::new(),
            tenants_seen: Vec::new(),
            rules: group.rules.iter().map(|_| RuleResult { series: vec![], failures: vec![], learning: BTreeMap::new(), duration: Duration::ZERO }).collect(),
            lines_rejected: Vec::new(),
            bucket_bytes: None,
            checkpoint: None,
        }
    }

    /// Every rule failed the same way (its source could not be read).
    fn failed(group: &Group, failure: Failure, took: Duration) -> GroupResult {
        GroupResult {
            rows_read: 0,
            files_read: 0,
            files_skipped: Vec::new(),
            tenants_seen: Vec::new(),
            rules: group
                .rules
                .iter()
                .map(|_| RuleResult { series: vec![], failures: vec![failure.clone()], learning: BTreeMap::new(), duration: took })
                .collect(),
            lines_rejected: Vec::new(),
            bucket_bytes: None,
            checkpoint: None,
        }
    }
}

/// The partitions read, plus an empty one for every known tenant that had
/// none (and whose files did not fail to read), or one empty partition when
/// there was nothing at all.
fn with_absent_tenants(
    mut parts: Vec<Partition>,
    per_tenant: bool,
    known: &BTreeSet<String>,
    failed: &[(String, crate::sources::SourceError)],
) -> Vec<Partition> {
    let empty = |tenant| Partition { tenant, frame: DataFrame::empty(), meta: SourceMeta::default() };
    if per_tenant {
        // A tenant shows up with rows: files of a new tenant that hold none of
        // the window (a partition just begun) do not make it known yet.
        parts.retain(|p| p.meta.rows > 0 || p.tenant.as_ref().is_some_and(|t| known.contains(t)));
        let mut present: BTreeSet<String> = parts.iter().filter_map(|p| p.tenant.clone()).collect();
        present.extend(failed.iter().map(|(t, _)| t.clone()));
        parts.extend(known.difference(&present).map(|t| empty(Some(t.clone()))));
        parts.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    }
    if parts.is_empty() && failed.is_empty() {
        parts.push(empty(None));
    }
    parts
}

/// The recorded values of one rule and tenant.
struct TenantHistory<'a> {
    store: Option<&'a Store>,
    rule: &'a str,
    tenant: Option<&'a str>,
    /// Whether the check read it: then its output is this rule's own.
    read: std::cell::Cell<bool>,
}

impl History for TenantHistory<'_> {
    fn values(&self, labels: &Labels, name: &str, since: DateTime<Utc>) -> Vec<HistoryPoint> {
        self.read.set(true);
        let Some(store) = self.store else { return Vec::new() };
        let mut labels = labels.clone();
        if let Some(t) = self.tenant {
            labels.insert("tenant".into(), t.into());
        }
        store.history(self.rule, &SeriesKey { labels, name: name.into() }, since).unwrap_or_else(|e| {
            tracing::warn!(rule = self.rule, error = %e, "cannot read the history of values");
            Vec::new()
        })
    }
}

/// What every rule of one group evaluation shares.
struct RuleInput<'a> {
    group: &'a Group,
    source: &'a Source,
    partitions: &'a [Partition],
    window: Option<Window>,
    now: DateTime<Utc>,
    memo: &'a ReadMemo,
    /// Check outputs already computed in this evaluation, for rules with the same check.
    shared: &'a SharedChecks,
    /// A log source's buckets.
    events: Option<&'a Aggregates>,
    /// The tenants this agent owns (side reads and baselines read only theirs).
    shard: Option<Shard>,
}

/// The rule's baseline for `tenant`: a profile file, or one built into the state file.
fn resolve_baseline(rule: &Rule, input: &RuleInput<'_>, env: &EvalEnv<'_>, tenant: Option<&str>) -> Result<Option<Resolved>, String> {
    let Some(spec) = &rule.baseline else { return Ok(None) };
    if spec.is_stored() {
        let store = env.store.ok_or("a `reference` or `learn` baseline needs the agent's state")?;
        let cx = StoredCx { store, source: input.source, group: input.group, memo: input.memo, shard: input.shard };
        return env.baselines.stored(&cx, rule, tenant, input.now).map(Some);
    }
    let baseline = env.baselines.get(spec, rule.check.kind(), tenant)?;
    Ok(Some(Resolved { baseline, learning_until: None }))
}

/// Each tenant's output of a check, by the check's configuration: rules of a
/// group that share a check (a YAML anchor) compute it once per evaluation.
/// Only outputs that depend on nothing but the check and the rows are shared:
/// never with a baseline (each rule has its own) or a history read (each rule
/// records its own).
#[derive(Default)]
struct SharedChecks(std::cell::RefCell<std::collections::HashMap<String, CheckOutputs>>);

type CheckOutputs = BTreeMap<Option<String>, Result<Vec<crate::checks::Series>, String>>;

/// One side read's rows: per tenant, or one table every tenant shares.
enum SideRows {
    Shared(DataFrame),
    PerTenant(BTreeMap<String, DataFrame>),
}

impl SideRows {
    fn of<'a>(&'a self, tenant: Option<&str>, none: &'a DataFrame) -> &'a DataFrame {
        match (self, tenant) {
            (SideRows::Shared(df), _) => df,
            (SideRows::PerTenant(by), Some(t)) => by.get(t).unwrap_or(none),
            (SideRows::PerTenant(_), None) => none,
        }
    }
}

/// Read the rule's side tables for this evaluation.
fn read_sides(rule: &Rule, input: &RuleInput<'_>) -> Result<Vec<SideRows>, Failure> {
    let mut out = Vec::new();
    for side in &rule.sides {
        let by_tenant = input.group.per_tenant && side.source.has_tenant();
        let (name, sample) = match &side.read {
            SideRead::PreviousWindow => {
                let w = input.window.expect("validated: a previous window needs the group's window");
                let previous = Window { start: w.start - (w.end - w.start), end: w.start };
                (input.group.source.as_str(), side.source.sample_period(&rule.check.kind().columns(), previous, by_tenant, input.shard))
            }
            SideRead::Source { name, columns } => {
                let window = match (side.source.has_timestamp(), input.window) {
                    (false, _) => None,
                    (true, Some(w)) => Some(w),
                    (true, None) => Some(Window { start: DateTime::<Utc>::MIN_UTC, end: input.now }),
                };
                (name.as_str(), side.source.sample(columns, window, by_tenant, input.shard))
            }
        };
        let failed = |e: &dyn std::fmt::Display, reason| Failure { reason, tenant: None, message: format!("source `{name}` (read by the check): {e}") };
        let sample = sample.map_err(|e| failed(&e, e.reason()))?;
        if let Some((t, e)) = sample.failed.first() {
            return Err(failed(&format!("tenant `{t}`: {e}"), e.reason()));
        }
        out.push(if by_tenant {
            SideRows::PerTenant(sample.partitions.into_iter().filter_map(|p| Some((p.tenant?, p.frame))).collect())
        } else {
            SideRows::Shared(sample.partitions.into_iter().next().map(|p| p.frame).unwrap_or_else(DataFrame::empty))
        });
    }
    Ok(out)
}

fn evaluate_rule(rule: &Rule, input: &RuleInput<'_>, env: &EvalEnv<'_>) -> RuleResult {
    let (window, now) = (input.window, input.now);
    let mut series = Vec::new();
    let mut failures = Vec::new();
    let mut learning = BTreeMap::new();
    let kind = rule.check.kind();
    let key = rule.baseline.is_none().then(|| format!("{:?}", rule.check));
    let reused: Option<CheckOutputs> = key
        .as_ref()
        .and_then(|k| input.shared.0.borrow().get(k).cloned())
        .filter(|r| input.partitions.iter().all(|p| r.contains_key(&p.tenant)));
    // Reused outputs need no side tables: the rule that computed them read them.
    let sides = match &reused {
        Some(_) => Vec::new(),
        None => match read_sides(rule, input) {
            Ok(s) => s,
            Err(f) => return RuleResult { series, failures: vec![f], learning, duration: Duration::ZERO },
        },
    };
    let mut outputs = CheckOutputs::new();
    let mut history_read = false;
    let no_side_rows = DataFrame::empty();
    for part in input.partitions {
        let tenant = part.tenant.as_deref();
        let _span = tracing::info_span!("rule", rule = %rule.name, tenant = tenant.unwrap_or("")).entered();
        let fail = |reason, message: String| Failure {
            reason,
            tenant: part.tenant.clone(),
            message: match tenant {
                Some(t) => format!("tenant `{t}`: {message}"),
                None => message,
            },
        };
        // A tenant without rows needs no baseline to say so (and none is
        // built for it: its stored baseline waits for rows).
        let no_rows = part.meta.rows == 0;
        let resolved = match rule.baseline.as_ref().filter(|b| !(no_rows && b.is_stored())) {
            None => Ok(None),
            Some(_) => resolve_baseline(rule, input, env, tenant),
        };
        let resolved = match resolved {
            Ok(r) => r,
            Err(_) if no_rows => None,
            Err(e) => {
                failures.push(fail("baseline", e));
                continue;
            }
        };
        let learning_until = resolved.as_ref().and_then(|r| r.learning_until);
        if let Some(until) = learning_until {
            learning.insert(tenant.unwrap_or("").to_string(), until);
        }
        let baseline = resolved.map(|r| r.baseline);
        let history = TenantHistory { store: env.store, rule: &rule.name, tenant, read: Default::default() };
        let side: Vec<&DataFrame> = sides.iter().map(|s| s.of(tenant, &no_side_rows)).collect();
        let cx = EvalContext {
            tenant,
            frame: &part.frame,
            window,
            now,
            baseline: baseline.as_deref(),
            history: &history,
            source: &part.meta,
            events: input.events,
            timestamp_column: input.source.timestamp_column(),
            side: &side,
        };
        let output = match reused.as_ref().and_then(|r| r.get(&part.tenant)) {
            Some(o) => o.clone(),
            None => {
                let o = kind.evaluate(&cx).map_err(|e| e.to_string());
                history_read |= history.read.get();
                o
            }
        };
        if key.is_some() && reused.is_none() {
            outputs.insert(part.tenant.clone(), output.clone());
        }
        match output {
            Err(e) => failures.push(fail("check", e)),
            Ok(out) => {
                for s in out {
                    debug_assert!(kind.spec().labels.iter().all(|k| s.labels.contains_key(*k)), "labels as declared");
                    let mut values = s.values;
                    // Rows in the window, before any `max_rows` sampling.
                    let rows = part.meta.rows as f64;
                    values.insert("rows", rows);
                    values.insert("absent", if rows == 0.0 { 1.0 } else { 0.0 });
                    if let (Some(b), Some(t)) = (&baseline, &spec_threshold(rule))
                        && let Some(spread) = b.spreads.get(&s.labels)
                    {
                        values.insert("threshold", spread.threshold(*t));
                    }
                    let mut labels = s.labels;
                    if let Some(t) = tenant {
                        labels.insert("tenant".into(), t.to_string());
                    }
                    let holds = eval_condition(&rule.when, &|name| values.get(name).copied());
                    series.push(SeriesResult { labels, values, note: s.note, holds, learning: learning_until.is_some(), distribution: s.distribution });
                }
            }
        }
    }
    if let (Some(k), None, false) = (key, &reused, history_read) {
        input.shared.0.borrow_mut().insert(k, outputs);
    }
    RuleResult { series, failures, learning, duration: Duration::ZERO }
}

/// `k` of the rule's learned threshold, when it has one.
fn spec_threshold(rule: &Rule) -> Option<f64> {
    rule.baseline.as_ref().and_then(|b| b.learned_threshold)
}
