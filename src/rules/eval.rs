//! One evaluation of a group: sample the source once, run every rule's check on
//! each tenant's rows, and decide where each rule's condition holds. Produces
//! values only; exporting them and updating alerts is the agent's job.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::alert::Labels;
use super::expr::eval_condition;
use super::{Group, Rule};
use crate::config::Baselines;
use crate::sources::{Source, Window};

/// One series of one rule, with the labels it is exported and alerted under.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// `column`, `tenant` (when per tenant), and the like.
    pub labels: Labels,
    pub values: BTreeMap<&'static str, f64>,
    /// Why values are missing, when they are.
    pub note: Option<String>,
    /// Whether the condition holds; `None` when a value it needs is missing.
    pub holds: Option<bool>,
}

/// Every [`Failure::reason`]: the sources' reasons and `check`.
pub const FAILURE_REASONS: &[&str] = &["source_missing", "source_corrupt", "missing_column", "source_data", "check"];

/// Why a rule (or one tenant of it) could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Bounded reason for the failure counter.
    pub reason: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct RuleResult {
    pub series: Vec<SeriesResult>,
    /// Failures; when any, the rule's alert states are left as they were.
    pub failures: Vec<Failure>,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct GroupResult {
    pub rows_read: u64,
    /// One per rule, in the group's order.
    pub rules: Vec<RuleResult>,
}

/// Evaluate `group` against the window ending at `now`.
pub fn evaluate_group(group: &Group, source: &Source, baselines: &Baselines, now: DateTime<Utc>) -> GroupResult {
    let started = Instant::now();
    let window = group.window.map(|w| Window::ending_at(now, w));
    let partitions = match source.sample(&group.columns(), window, group.per_tenant) {
        Ok(p) => p,
        Err(e) => {
            let failure = Failure { reason: e.reason(), message: format!("source `{}`: {e}", group.source) };
            let read_time = started.elapsed();
            return GroupResult {
                rows_read: 0,
                rules: group
                    .rules
                    .iter()
                    .map(|_| RuleResult { series: vec![], failures: vec![failure.clone()], duration: read_time })
                    .collect(),
            };
        }
    };
    let read_time = started.elapsed();
    let rows_read = partitions.iter().map(|p| p.frame.height() as u64).sum();
    let rules = group
        .rules
        .iter()
        .map(|rule| {
            let t = Instant::now();
            let mut result = evaluate_rule(rule, &partitions, baselines);
            result.duration = read_time + t.elapsed();
            result
        })
        .collect();
    GroupResult { rows_read, rules }
}

fn evaluate_rule(rule: &Rule, partitions: &[crate::sources::Partition], baselines: &Baselines) -> RuleResult {
    let baseline = rule.baseline.as_ref().and_then(|b| baselines.get(&b.path)).map(|p| p.as_ref());
    let mut series = Vec::new();
    let mut failures = Vec::new();
    for part in partitions {
        let _span = tracing::info_span!("rule", rule = %rule.name, tenant = part.tenant.as_deref().unwrap_or("")).entered();
        match rule.check.evaluate(&part.frame, baseline) {
            Err(e) => failures.push(Failure {
                reason: "check",
                message: match &part.tenant {
                    Some(t) => format!("tenant `{t}`: {e}"),
                    None => e.to_string(),
                },
            }),
            Ok(out) => {
                for s in out {
                    let mut labels: Labels = s.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                    if let Some(t) = &part.tenant {
                        labels.insert("tenant".into(), t.clone());
                    }
                    let holds = eval_condition(&rule.when, &|name| s.values.get(name).copied());
                    series.push(SeriesResult { labels, values: s.values, note: s.note, holds });
                }
            }
        }
    }
    RuleResult { series, failures, duration: Duration::ZERO }
}
