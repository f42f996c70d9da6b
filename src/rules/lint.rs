//! Warnings about rules that load fine but will likely disappoint: what
//! `mlwatch check` reports besides errors. Each names the rule's position.

use chrono::{DateTime, Utc};

use super::{BaselineSource, Group, Rule, RuleSet};
use crate::checks::{Check, DriftMethod};
use crate::config::Diagnostic;

/// Drift values that measure how large a shift is, whatever the sample size.
const DRIFT_EFFECT_SIZES: &[&str] = &["psi", "ks_statistic", "js_distance", "wasserstein", "wasserstein_raw", "unseen_ratio"];
/// Drift values that only say whether a shift is significant.
const DRIFT_P_VALUES: &[&str] = &["p_value", "ks_pvalue", "chi2_pvalue"];

/// Every warning about `rules`, in file order; `retention` is how long
/// the state keeps the history of values (`storage.retention`).
pub fn lint(rules: &RuleSet, retention: std::time::Duration) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for group in &rules.groups {
        for rule in &group.rules {
            for message in rule_warnings(group, rule, retention) {
                out.push(rule.at.error(format!("warning: rule `{}`: {message}", rule.name)));
            }
        }
    }
    out
}

fn rule_warnings(group: &Group, rule: &Rule, retention: std::time::Duration) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(needed) = rule.check.kind().history_needed().and_then(|d| d.to_std().ok())
        && needed > retention
    {
        w.push(format!(
            "the check reads {} of its recorded history, but `storage.retention` keeps {}: it can never see what it compares with; raise the retention",
            humantime::format_duration(needed),
            humantime::format_duration(retention)
        ));
    }
    let has = |name: &str| rule.annotations.iter().any(|(n, _)| n == name);
    if !has("runbook_url") {
        w.push("no `runbook_url` annotation: whoever is paged needs to know what to do".into());
    }
    for name in ["summary", "description"].into_iter().filter(|n| !has(n)) {
        w.push(format!("no `{name}` annotation: the notification says little more than the alert's name"));
    }
    if let Some(interval) = period(group)
        && !rule.hold_for.is_zero()
        && rule.hold_for < interval
    {
        w.push(format!(
            "`for: {}` is shorter than the group's interval ({}): the condition is judged once per interval, so it acts as `for: {}`",
            humantime::format_duration(rule.hold_for),
            humantime::format_duration(interval),
            humantime::format_duration(interval)
        ));
    }
    if let Check::Drift(d) = &rule.check {
        // `statistic` is the first method's: an effect size unless that is a test's.
        let statistic_is_effect = !matches!(d.methods[0], DriftMethod::Chi2 | DriftMethod::Auto);
        let effect = DRIFT_EFFECT_SIZES.iter().any(|v| rule.when.uses(v)) || (statistic_is_effect && rule.when.uses("statistic"));
        if DRIFT_P_VALUES.iter().any(|v| rule.when.uses(v)) && !effect {
            w.push("the condition tests a p-value without an effect size: at large samples every tiny shift is significant; add e.g. `and statistic > 0.1`".into());
        }
    }
    if group.per_tenant
        && let Some(BaselineSource::Profile(path)) = rule.baseline.as_ref().map(|b| &b.source)
        && !path.contains("{tenant}")
    {
        w.push("a per-tenant rule compares every tenant with one shared profile: use a `{tenant}` path, `reference` or `learn` so each tenant has its own healthy baseline".into());
    }
    w
}

/// The gap between evaluations: the interval, or a cron schedule's next gap.
fn period(group: &Group) -> Option<std::time::Duration> {
    let first = group.schedule.next_after(DateTime::<Utc>::UNIX_EPOCH)?;
    let second = group.schedule.next_after(first)?;
    (second - first).to_std().ok()
}
