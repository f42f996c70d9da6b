//! What one evaluation of a rule changes, shared by the agent and
//! `mlwatch backtest`: the alerts advance, and the values to record.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Rule;
use super::alert::{Active, AlertSet, Transition};
use super::eval::RuleResult;
use super::template::{TemplateContext, Templates};
use crate::labels::Labels;
use crate::state::SeriesKey;

/// Advance `alerts` by one evaluation. Alerts the evaluation could not judge
/// (their tenant, or the whole rule, failed) stay as they were.
pub fn advance(rule: &Rule, templates: &Templates, alerts: &mut AlertSet, result: &RuleResult, now: DateTime<Utc>) -> Vec<Transition> {
    alerts.update(now, rule.hold_for, active_series(rule, templates, result), |labels| result.unjudged(labels))
}

/// The series whose condition holds, as alerts with rendered annotations.
pub fn active_series(rule: &Rule, templates: &Templates, result: &RuleResult) -> Vec<Active> {
    result
        .series
        .iter()
        // A tenant still learning its baseline has values, but no alerts yet.
        .filter(|s| s.holds == Some(true) && !s.learning)
        .map(|s| {
            let mut labels: Labels = rule.labels.clone();
            labels.extend(s.labels.clone());
            labels.insert("alertname".into(), rule.name.clone());
            let value = s.values.get(rule.value).copied();
            let ctx = TemplateContext { value, values: &s.values, labels: &labels };
            let annotations: BTreeMap<String, String> =
                rule.annotations.iter().map(|(k, t)| (k.clone(), templates.render(t, &ctx))).collect();
            Active { labels, annotations, value }
        })
        .collect()
}

/// The values of the evaluation the check keeps a history of, keyed for it.
pub fn recorded_values(rule: &Rule, result: &RuleResult) -> Vec<(SeriesKey, f64)> {
    let kind = rule.check.kind();
    result
        .series
        .iter()
        .flat_map(|s| {
            s.values
                .iter()
                .filter(|(name, _)| kind.recorded(name))
                .map(|(name, v)| (SeriesKey { labels: s.labels.clone(), name: name.to_string() }, *v))
        })
        .collect()
}

/// The distributions of the evaluation's drift series, keyed for the state.
pub fn distributions(result: &RuleResult) -> Vec<(Labels, std::sync::Arc<crate::checks::drift::distribution::Distribution>)> {
    result.series.iter().filter_map(|s| Some((s.labels.clone(), s.distribution.clone()?))).collect()
}
