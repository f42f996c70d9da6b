//! What the pictures show, as data: for one rule (and tenant) over a
//! period, a panel per series with its charts (values over time, the
//! threshold the condition compares with, when the alert fired) and, for
//! drift, the latest distribution beside the baseline's. Built from the
//! state (history, alert history, distributions), so the agent's page and
//! `mlwatch report` (of the agent's state or of a backtest's) draw the same.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::checks::Unit;
use crate::checks::drift::distribution::Distribution;
use crate::labels::Labels;
use crate::rules::Rule;
use crate::state::{AlertEvent, SeriesKey, StateError, Store};

/// The values a `recsys` panel draws together.
const RECSYS_CHARTED: &[&str] = &["coverage", "gini", "top2_share"];

#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub rule: String,
    pub kind: &'static str,
    pub when: String,
    pub for_seconds: f64,
    pub tenant: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub panels: Vec<Panel>,
    /// When the rule's alerts (of the tenant) fired in the period.
    pub alerts: Vec<AlertSpan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Panel {
    /// The series' labels but `tenant`, e.g. `column="age"`.
    pub title: String,
    pub labels: Labels,
    pub distribution: Option<DistributionAt>,
    pub charts: Vec<Chart>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistributionAt {
    /// The evaluation it is from.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub distribution: Distribution,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub title: String,
    #[serde(serialize_with = "unit_name")]
    pub unit: Unit,
    pub threshold: Option<f64>,
    pub lines: Vec<Line>,
    pub firing: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub name: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertSpan {
    pub labels: Labels,
    pub firing_at: DateTime<Utc>,
    /// `None` while it still fires at the end of the period.
    pub resolved_at: Option<DateTime<Utc>>,
}

fn unit_name<S: serde::Serializer>(u: &Unit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.as_str())
}

/// The value a rule's charts follow: its own value, or the one its
/// condition compares with a number when that is another (`psi > 0.2` on a
/// rule whose value is `statistic`), with that number.
pub fn charted_value(rule: &Rule) -> (&'static str, Option<f64>) {
    let thresholds = rule.when.thresholds();
    if let Some((_, t)) = thresholds.iter().find(|(v, _)| v == rule.value) {
        return (rule.value, Some(*t));
    }
    for (v, t) in &thresholds {
        if let Some(spec) = rule.check.spec().value(v)
            && rule.check.kind().recorded(spec.name)
        {
            return (spec.name, Some(*t));
        }
    }
    (rule.value, None)
}

/// The tenants the history holds series of for `rule`.
pub fn tenants(store: &Store, rule: &Rule) -> Result<Vec<String>, StateError> {
    let mut t: Vec<String> = store.series_keys(&rule.name)?.into_iter().filter_map(|k| k.labels.get("tenant").cloned()).collect();
    t.sort();
    t.dedup();
    Ok(t)
}

/// The report of `rule` for `tenant` (every series when `None`) over `from ..= to`.
pub fn rule_report(store: &Store, rule: &Rule, tenant: Option<&str>, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<RuleReport, StateError> {
    let of_tenant = |labels: &Labels| tenant.is_none_or(|t| labels.get("tenant").map(String::as_str) == Some(t));
    let mut series: BTreeMap<Labels, Vec<String>> = BTreeMap::new();
    for key in store.series_keys(&rule.name)?.into_iter().filter(|k| of_tenant(&k.labels)) {
        series.entry(key.labels).or_default().push(key.name);
    }
    let alerts = firing_spans(&store.alert_history(DateTime::<Utc>::MIN_UTC)?, &rule.name, from, to, &of_tenant);
    let distributions: BTreeMap<Labels, DistributionAt> = store
        .distributions(&rule.name)?
        .into_iter()
        .filter(|d| of_tenant(&d.labels))
        .map(|d| (d.labels, DistributionAt { at: d.at, distribution: d.distribution }))
        .collect();
    let history = |labels: &Labels, name: &str| -> Result<Vec<(DateTime<Utc>, f64)>, StateError> {
        let points = store.history(&rule.name, &SeriesKey { labels: labels.clone(), name: name.to_string() }, from)?;
        Ok(points.into_iter().filter(|p| p.at <= to).map(|p| (p.at, p.value)).collect())
    };
    let unit = |name: &str| rule.check.spec().value(name).map_or(Unit::None, |v| v.unit);
    let spans_of = |labels: &Labels| -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        alerts.iter().filter(|a| labels.iter().all(|(k, v)| a.labels.get(k) == Some(v))).map(|a| (a.firing_at, a.resolved_at.unwrap_or(to))).collect()
    };

    let mut panels = Vec::new();
    match rule.check.spec().kind {
        "slo" => {
            // One panel per SLO (its series but the window): the burn rate of
            // every window, and the budget left over the period.
            let mut slos: BTreeMap<Labels, Vec<(Labels, &Vec<String>)>> = BTreeMap::new();
            for (labels, names) in &series {
                let mut base = labels.clone();
                base.remove("window");
                slos.entry(base).or_default().push((labels.clone(), names));
            }
            for (base, windows) in slos {
                let mut windows: Vec<_> = windows.into_iter().filter(|(l, _)| l.contains_key("window")).collect();
                windows.sort_by_key(|(l, _)| l.get("window").and_then(|w| humantime::parse_duration(w).ok()).unwrap_or_default());
                let period = windows.iter().find(|(_, names)| names.iter().any(|n| n == "error_budget_remaining")).map(|(l, _)| l.clone());
                let mut burn = Vec::new();
                for (labels, _) in windows.iter().filter(|(l, _)| Some(l) != period.as_ref()) {
                    burn.push(Line { name: format!("{} window", labels["window"]), points: history(labels, "burn_rate")? });
                }
                let firing = spans_of(&base);
                let mut charts = vec![Chart { title: "Burn rate of each window".into(), unit: Unit::None, threshold: None, lines: burn, firing: firing.clone() }];
                if let Some(p) = &period {
                    let line = Line { name: "budget left".into(), points: history(p, "error_budget_remaining")? };
                    charts.push(Chart { title: format!("Error budget left over {}", p["window"]), unit: Unit::Ratio, threshold: Some(0.0), lines: vec![line], firing });
                }
                panels.push(Panel { title: title(&base), labels: base, distribution: None, charts });
            }
        }
        kind => {
            let (value, threshold) = charted_value(rule);
            for (labels, names) in &series {
                let mut charts = Vec::new();
                let firing = spans_of(labels);
                if kind == "recsys" {
                    let lines = RECSYS_CHARTED
                        .iter()
                        .filter(|n| names.iter().any(|m| m == *n))
                        .map(|n| Ok(Line { name: n.replace('_', " "), points: history(labels, n)? }))
                        .collect::<Result<Vec<_>, StateError>>()?;
                    if !lines.is_empty() {
                        charts.push(Chart { title: "Coverage, Gini and the top 2% share".into(), unit: Unit::Ratio, threshold: None, lines, firing: firing.clone() });
                    }
                }
                if names.iter().any(|n| n == value) && !(kind == "recsys" && RECSYS_CHARTED.contains(&value)) {
                    let line = Line { name: value.replace('_', " "), points: history(labels, value)? };
                    charts.push(Chart { title: format!("{value} over time"), unit: unit(value), threshold, lines: vec![line], firing });
                }
                panels.push(Panel { title: title(labels), labels: labels.clone(), distribution: distributions.get(labels).cloned(), charts });
            }
        }
    }
    // Series that fired first.
    panels.sort_by_key(|p| !p.charts.iter().any(|c| !c.firing.is_empty()));
    // A history younger than the period is drawn over its own span (a new
    // agent's first minutes are not a sliver at the right of a day).
    let first = panels.iter().flat_map(|p| &p.charts).flat_map(|c| &c.lines).filter_map(|l| l.points.first().map(|p| p.0)).min();
    let from = match first {
        Some(first) if first > from => (first - (to - first) / 20).max(from),
        _ => from,
    };
    Ok(RuleReport {
        rule: rule.name.clone(),
        kind: rule.check.spec().kind,
        when: rule.when_text.clone(),
        for_seconds: rule.hold_for.as_secs_f64(),
        tenant: tenant.map(str::to_string),
        from,
        to,
        panels,
        alerts,
    })
}

/// `column="age"`, or the tenant alone when there is nothing else.
fn title(labels: &Labels) -> String {
    let own: Vec<String> = labels.iter().filter(|(k, _)| *k != "tenant").map(|(k, v)| format!("{k}={v}")).collect();
    if own.is_empty() { labels.get("tenant").cloned().unwrap_or_else(|| "all rows".into()) } else { own.join(", ") }
}

/// The firing periods of `rule`'s alerts that overlap `from ..= to`.
fn firing_spans(events: &[AlertEvent], rule: &str, from: DateTime<Utc>, to: DateTime<Utc>, keep: &dyn Fn(&Labels) -> bool) -> Vec<AlertSpan> {
    let mut open: BTreeMap<&Labels, DateTime<Utc>> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.rule == rule && keep(&e.labels)) {
        match e.state.as_str() {
            "firing" => {
                open.entry(&e.labels).or_insert(e.at);
            }
            "resolved" | "inactive" => {
                if let Some(start) = open.remove(&e.labels)
                    && e.at >= from
                    && start <= to
                {
                    out.push(AlertSpan { labels: e.labels.clone(), firing_at: start, resolved_at: Some(e.at) });
                }
            }
            _ => {}
        }
    }
    for (labels, start) in open.into_iter().filter(|(_, s)| *s <= to) {
        out.push(AlertSpan { labels: labels.clone(), firing_at: start, resolved_at: None });
    }
    out.sort_by(|a, b| (a.firing_at, &a.labels).cmp(&(b.firing_at, &b.labels)));
    out
}
