//! What a backtest found: the alert timeline, the notifications each
//! receiver would have got, and a summary. The JSON form is a stable,
//! versioned contract (`docs/backtest.md`); the table is for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::Options;
use crate::alerting::notification::{GroupNotification, Status};
use crate::labels::Labels;
use crate::state::AlertEvent;

/// The `format` field of the JSON report.
pub const REPORT_FORMAT: &str = "mlwatch-backtest";
/// Its version; bumped only for changes that break readers.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub version: u32,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The step that replaced the groups' schedules, in seconds, if any.
    pub step_seconds: Option<f64>,
    /// Group evaluations replayed.
    pub evaluations: u64,
    /// Files opened and rows read (in windows) by those evaluations.
    pub files_read: u64,
    pub rows_read: u64,
    /// One entry per pending period of an alert, oldest first.
    pub alerts: Vec<AlertPeriod>,
    /// Notifications in the order they would have been sent.
    pub notifications: Vec<Notification>,
    /// Tenants that were learning a baseline: their values were computed,
    /// their alerts held.
    pub learning: Vec<Learning>,
    pub summary: Summary,
}

/// A tenant learning its baseline for a rule during the replay.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Learning {
    pub rule: String,
    pub tenant: String,
    /// The first evaluation that saw it learning.
    pub since: DateTime<Utc>,
    /// When its learning period ends.
    pub until: DateTime<Utc>,
}

/// One alert from the moment its condition held until it resolved (or was
/// dropped while pending, or the replay ended).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertPeriod {
    pub rule: String,
    pub labels: Labels,
    pub severity: Option<String>,
    pub pending_at: DateTime<Utc>,
    pub firing_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// When a pending alert stopped holding before its `for`.
    pub dropped_at: Option<DateTime<Utc>>,
    /// The largest and the last value of the rule's primary figure.
    pub peak_value: Option<f64>,
    pub last_value: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Notification {
    pub at: DateTime<Utc>,
    pub receiver: String,
    /// The integration, e.g. `slack[0]`.
    pub integration: String,
    pub group_labels: Labels,
    pub alerts: Vec<NotifiedAlert>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NotifiedAlert {
    /// `firing` or `resolved`.
    pub status: &'static str,
    pub labels: Labels,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    /// Alerts that fired, by rule, then by tenant (`""` without one).
    pub fired: BTreeMap<String, BTreeMap<String, u32>>,
    /// Alerts that were pending but never fired, by rule.
    pub dropped: BTreeMap<String, u32>,
    /// Notifications per day (UTC date) and receiver.
    pub notifications_per_day: BTreeMap<String, BTreeMap<String, u32>>,
    /// Notifications per day that carry a firing alert with `severity="page"`.
    pub pages_per_day: BTreeMap<String, u32>,
}

impl Notification {
    pub fn new(at: DateTime<Utc>, integration: &str, n: &GroupNotification) -> Notification {
        Notification {
            at,
            receiver: n.receiver.clone(),
            integration: integration.to_string(),
            group_labels: n.group_labels.clone(),
            alerts: n
                .alerts
                .iter()
                .map(|a| NotifiedAlert {
                    status: if a.status == Status::Resolved { "resolved" } else { "firing" },
                    labels: a.labels.clone(),
                })
                .collect(),
        }
    }
}

impl Report {
    pub fn new(opts: &Options, evaluations: u64, history: Vec<AlertEvent>, notifications: Vec<Notification>, learning: Vec<Learning>) -> Report {
        let alerts = timeline(history);
        let mut summary = Summary::default();
        for a in &alerts {
            if a.firing_at.is_some() {
                let tenant = a.labels.get("tenant").cloned().unwrap_or_default();
                *summary.fired.entry(a.rule.clone()).or_default().entry(tenant).or_default() += 1;
            } else if a.dropped_at.is_some() {
                *summary.dropped.entry(a.rule.clone()).or_default() += 1;
            }
        }
        for n in &notifications {
            let day = n.at.format("%Y-%m-%d").to_string();
            *summary.notifications_per_day.entry(day.clone()).or_default().entry(n.receiver.clone()).or_default() += 1;
            if n.alerts.iter().any(|a| a.status == "firing" && a.labels.get("severity").is_some_and(|s| s == "page")) {
                *summary.pages_per_day.entry(day).or_default() += 1;
            }
        }
        Report {
            format: REPORT_FORMAT,
            version: REPORT_VERSION,
            from: opts.from,
            to: opts.to,
            step_seconds: opts.step.map(|s| s.as_secs_f64()),
            evaluations,
            files_read: 0,
            rows_read: 0,
            alerts,
            notifications,
            learning,
            summary,
        }
    }

    /// The report as text tables.
    pub fn to_table(&self) -> String {
        let t = |d: &Option<DateTime<Utc>>| d.map_or("-".to_string(), stamp);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "backtest {} .. {}: {} evaluations, {} files and {} rows read",
            stamp(self.from),
            stamp(self.to),
            self.evaluations,
            self.files_read,
            self.rows_read
        );
        let _ = writeln!(out, "\nALERTS ({})", self.alerts.len());
        let _ = writeln!(out, "{:<24} {:<46} {:<20} {:<20} {:<20} {:>10}", "RULE", "LABELS", "PENDING", "FIRING", "RESOLVED", "PEAK");
        for a in &self.alerts {
            let labels = format_labels(&a.labels, &["alertname"]);
            let resolved = if a.dropped_at.is_some() { format!("(dropped {})", t(&a.dropped_at)) } else { t(&a.resolved_at) };
            let peak = a.peak_value.map_or("-".into(), crate::alerting::format_value);
            let _ = writeln!(out, "{:<24} {:<46} {:<20} {:<20} {:<20} {:>10}", a.rule, labels, stamp(a.pending_at), t(&a.firing_at), resolved, peak);
        }
        let _ = writeln!(out, "\nNOTIFICATIONS ({})", self.notifications.len());
        for n in &self.notifications {
            let firing = n.alerts.iter().filter(|a| a.status == "firing").count();
            let resolved = n.alerts.len() - firing;
            let _ = writeln!(
                out,
                "{}  {} {}  firing {firing} resolved {resolved}  {}",
                stamp(n.at),
                n.receiver,
                n.integration,
                format_labels(&n.group_labels, &[])
            );
        }
        if !self.learning.is_empty() {
            let _ = writeln!(out, "\nLEARNING (values computed, alerts held)");
            for l in &self.learning {
                let _ = writeln!(out, "{:<24} {:<20} {} .. {}", l.rule, l.tenant, stamp(l.since), stamp(l.until));
            }
        }
        let _ = writeln!(out, "\nSUMMARY");
        for (rule, tenants) in &self.summary.fired {
            let per: Vec<String> = tenants.iter().map(|(t, n)| if t.is_empty() { format!("{n}") } else { format!("{t}: {n}") }).collect();
            let _ = writeln!(out, "fired  {rule}: {}", per.join(", "));
        }
        for (rule, n) in &self.summary.dropped {
            let _ = writeln!(out, "pending, never fired  {rule}: {n}");
        }
        for (day, receivers) in &self.summary.notifications_per_day {
            let per: Vec<String> = receivers.iter().map(|(r, n)| format!("{r}: {n}")).collect();
            let pages = self.summary.pages_per_day.get(day).copied().unwrap_or(0);
            let _ = writeln!(out, "{day}  notifications {}  pages {pages}", per.join(", "));
        }
        out
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn format_labels(labels: &Labels, skip: &[&str]) -> String {
    let parts: Vec<String> = labels.iter().filter(|(k, _)| !skip.contains(&k.as_str())).map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Fold the alert history into one period per pending spell.
pub fn timeline(history: Vec<AlertEvent>) -> Vec<AlertPeriod> {
    let mut open: BTreeMap<(String, Labels), usize> = BTreeMap::new();
    let mut out: Vec<AlertPeriod> = Vec::new();
    for e in history {
        let key = (e.rule.clone(), e.labels.clone());
        if e.state == "pending" {
            open.insert(key, out.len());
            out.push(AlertPeriod {
                rule: e.rule,
                severity: e.labels.get("severity").cloned(),
                labels: e.labels,
                pending_at: e.at,
                firing_at: None,
                resolved_at: None,
                dropped_at: None,
                peak_value: e.value,
                last_value: e.value,
            });
            continue;
        }
        let Some(&i) = open.get(&key) else { continue };
        let p = &mut out[i];
        p.last_value = e.value.or(p.last_value);
        p.peak_value = match (p.peak_value, e.value) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        match e.state.as_str() {
            "firing" => p.firing_at = Some(e.at),
            "resolved" => {
                p.resolved_at = Some(e.at);
                open.remove(&key);
            }
            _ => {
                p.dropped_at = Some(e.at);
                open.remove(&key);
            }
        }
    }
    out
}
