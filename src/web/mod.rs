//! Pictures: the agent's page at `/` (an overview, and a drill-down per
//! rule and tenant) and the self-contained HTML of `mlwatch report`.
//! Server-rendered HTML with inline SVG charts and CSS: no script, no
//! external request, readable offline, light or dark as the reader's system.

pub mod format;
pub mod model;
pub mod render;
pub mod svg;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::agent::live::{GroupView, Health};
use crate::alerting::silence::Silence;
use crate::labels::Labels;
use crate::rules::alert::AlertState;
use crate::state::{StateError, Store};
use model::RuleReport;

/// What the overview needs besides the live view and the state.
pub struct OverviewInput<'a> {
    pub version: &'a str,
    pub started_at: DateTime<Utc>,
    pub reload_error: Option<String>,
    pub groups: Vec<GroupView>,
    pub silences: Vec<Silence>,
    pub now: DateTime<Utc>,
    /// Show only this tenant's alerts.
    pub tenant: Option<String>,
    /// The outcome of a form just sent, and whether it failed.
    pub message: Option<(String, bool)>,
    pub token_required: bool,
}

#[derive(Serialize)]
struct Overview {
    home: &'static str,
    version: String,
    started: String,
    now: String,
    reload_error: Option<String>,
    tenant: Option<String>,
    message: Option<String>,
    message_is_error: bool,
    token_required: bool,
    alerts: Vec<AlertRow>,
    groups: Vec<GroupRow>,
    tenants: Vec<TenantRow>,
    silences: Vec<SilenceRow>,
}

#[derive(Serialize)]
struct AlertRow {
    rule: String,
    state: &'static str,
    labels: String,
    since: String,
    since_at: String,
    value: String,
    summary: String,
    link: String,
}

#[derive(Serialize)]
struct GroupRow {
    name: String,
    source: String,
    schedule: String,
    next: String,
    rules: Vec<RuleRow>,
}

#[derive(Serialize)]
struct RuleRow {
    name: String,
    kind: &'static str,
    health: &'static str,
    error: Option<String>,
    last: String,
    firing: usize,
    pending: usize,
    link: String,
}

#[derive(Serialize, Default)]
struct TenantRow {
    name: String,
    firing: usize,
    pending: usize,
    /// When learning ends, if the tenant is learning a baseline for some rule.
    learning: Option<String>,
}

#[derive(Serialize)]
struct SilenceRow {
    id: String,
    matchers: String,
    state: &'static str,
    ends: String,
    ends_at: String,
    author: String,
    comment: String,
}

/// `/rules/Name?tenant=acme`
pub fn rule_link(rule: &str, tenant: Option<&str>) -> String {
    match tenant {
        Some(t) => format!("/rules/{}?tenant={}", url_encode(rule), url_encode(t)),
        None => format!("/rules/{}", url_encode(rule)),
    }
}

/// Percent-encoding of everything but unreserved characters.
pub fn url_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The overview page: alerts, rules, tenants and silences. The tenants are
/// every tenant a group knows (`store`) and every one an alert names.
pub fn overview(input: OverviewInput<'_>, store: &Store) -> Result<String, StateError> {
    let now = input.now;
    let mut tenants: BTreeMap<String, TenantRow> = BTreeMap::new();
    for g in &input.groups {
        for t in store.load_tenants(&g.name)?.into_keys() {
            tenants.entry(t.clone()).or_insert_with(|| TenantRow { name: t, ..TenantRow::default() });
        }
    }
    let mut alerts = Vec::new();
    let mut groups = Vec::new();
    for g in &input.groups {
        let mut rules = Vec::new();
        for r in &g.rules {
            let (mut firing, mut pending) = (0, 0);
            for a in r.alerts.iter().filter(|a| a.state != AlertState::Resolved) {
                let tenant = a.labels.get("tenant");
                if a.state == AlertState::Firing { firing += 1 } else { pending += 1 }
                if let Some(t) = tenant {
                    let row = tenants.entry(t.clone()).or_insert_with(|| TenantRow { name: t.clone(), ..TenantRow::default() });
                    if a.state == AlertState::Firing { row.firing += 1 } else { row.pending += 1 }
                }
                if input.tenant.is_some() && tenant != input.tenant.as_ref() {
                    continue;
                }
                alerts.push(AlertRow {
                    rule: r.name.clone(),
                    state: a.state.as_str(),
                    labels: show_labels(&a.labels, &["alertname"]),
                    since: format::relative(if a.state == AlertState::Firing { a.fired_at.unwrap_or(a.active_at) } else { a.active_at }, now),
                    since_at: format::timestamp(a.active_at),
                    value: a.value.map(format::number).unwrap_or_default(),
                    summary: a.annotations.get("summary").cloned().unwrap_or_default(),
                    link: rule_link(&r.name, tenant.map(String::as_str)),
                });
            }
            for (t, until) in &r.learning {
                let row = tenants.entry(t.clone()).or_insert_with(|| TenantRow { name: t.clone(), ..TenantRow::default() });
                row.learning = Some(format::timestamp(*until));
            }
            rules.push(RuleRow {
                name: r.name.clone(),
                kind: r.check,
                health: match r.health {
                    Health::Unknown => "unknown",
                    Health::Ok => "ok",
                    Health::Error => "error",
                },
                error: r.last_error.clone(),
                last: r.last_evaluation.map(|t| format::relative(t, now)).unwrap_or_else(|| "not yet".into()),
                firing,
                pending,
                link: rule_link(&r.name, None),
            });
        }
        groups.push(GroupRow {
            name: g.name.clone(),
            source: g.source.clone(),
            schedule: g.schedule.clone(),
            next: g.next_evaluation.map(|t| format::relative(t, now)).unwrap_or_default(),
            rules,
        });
    }
    // Firing first, then pending; the longest-standing first within each.
    alerts.sort_by(|a, b| (a.state != "firing", &a.since_at, &a.rule).cmp(&(b.state != "firing", &b.since_at, &b.rule)));
    let silences = input
        .silences
        .iter()
        .map(|s| SilenceRow {
            id: s.id.clone(),
            matchers: s.matchers.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
            state: match s.state(now) {
                crate::alerting::silence::SilenceState::Pending => "pending",
                crate::alerting::silence::SilenceState::Active => "active",
                crate::alerting::silence::SilenceState::Expired => "expired",
            },
            ends: format::relative(s.ends_at, now),
            ends_at: format::timestamp(s.ends_at),
            author: s.created_by.clone(),
            comment: s.comment.clone(),
        })
        .collect();
    let (message, message_is_error) = input.message.map_or((None, false), |(m, e)| (Some(m), e));
    Ok(render::page(
        "overview.html",
        &Overview {
            home: "/",
            version: input.version.to_string(),
            started: format::relative(input.started_at, now),
            now: format::timestamp(now),
            reload_error: input.reload_error,
            tenant: input.tenant,
            message,
            message_is_error,
            token_required: input.token_required,
            alerts,
            groups,
            tenants: tenants.into_values().collect(),
            silences,
        },
    ))
}

#[derive(Serialize)]
struct RulePage<'a> {
    home: &'static str,
    now: String,
    r: &'a RuleReport,
    hold: Option<String>,
    period: String,
    base: String,
    hours: u32,
    tenants: Vec<String>,
    alerts: Vec<SpanRow>,
    panels: Vec<render::PanelView>,
}

#[derive(Serialize)]
struct SpanRow {
    labels: String,
    firing_at: String,
    resolved_at: String,
}

fn span_rows(r: &RuleReport) -> Vec<SpanRow> {
    r.alerts
        .iter()
        .map(|a| SpanRow {
            labels: show_labels(&a.labels, &["alertname"]),
            firing_at: format::timestamp(a.firing_at),
            resolved_at: a.resolved_at.map(format::timestamp).unwrap_or_else(|| "still firing".into()),
        })
        .collect()
}

/// The drill-down of one rule (and tenant) over the last `hours`.
pub fn rule_page(r: &RuleReport, tenants: Vec<String>, hours: u32, now: DateTime<Utc>) -> String {
    // The period links add `&hours=`.
    let base = match &r.tenant {
        Some(t) => rule_link(&r.rule, Some(t)),
        None => format!("{}?", rule_link(&r.rule, None)),
    };
    render::page(
        "rule.html",
        &RulePage {
            home: "/",
            now: format::timestamp(now),
            r,
            hold: (r.for_seconds > 0.0).then(|| format::duration(r.for_seconds)),
            period: render::period(r.from, r.to),
            base,
            hours,
            tenants,
            alerts: span_rows(r),
            panels: render::panels(r),
        },
    )
}

/// What `mlwatch report` was made of.
pub struct ReportInput<'a> {
    /// `the agent's state (path)` or `a backtest`.
    pub source: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub written: DateTime<Utc>,
    pub rules: &'a [RuleReport],
}

#[derive(Serialize)]
struct ReportPage {
    home: &'static str,
    source: String,
    period: String,
    written: String,
    alerts: Vec<ReportAlert>,
    rules: Vec<ReportRule>,
}

#[derive(Serialize)]
struct ReportAlert {
    rule: String,
    anchor: String,
    labels: String,
    firing_at: String,
    resolved_at: String,
}

#[derive(Serialize)]
struct ReportRule {
    anchor: String,
    rule: String,
    tenant: Option<String>,
    kind: &'static str,
    when: String,
    hold: Option<String>,
    panels: Vec<render::PanelView>,
}

/// The report: one self-contained HTML file.
pub fn report(input: &ReportInput<'_>) -> String {
    let mut alerts = Vec::new();
    let mut rules = Vec::new();
    for r in input.rules {
        let anchor = render::anchor(&[&r.rule, r.tenant.as_deref().unwrap_or("all")]);
        for row in span_rows(r) {
            alerts.push(ReportAlert { rule: r.rule.clone(), anchor: anchor.clone(), labels: row.labels, firing_at: row.firing_at, resolved_at: row.resolved_at });
        }
        rules.push(ReportRule {
            anchor,
            rule: r.rule.clone(),
            tenant: r.tenant.clone(),
            kind: r.kind,
            when: r.when.clone(),
            hold: (r.for_seconds > 0.0).then(|| format::duration(r.for_seconds)),
            panels: render::panels(r),
        });
    }
    alerts.sort_by(|a, b| a.firing_at.cmp(&b.firing_at));
    render::page(
        "report.html",
        &ReportPage { home: "#", source: input.source.clone(), period: render::period(input.from, input.to), written: format::timestamp(input.written), alerts, rules },
    )
}

/// `tenant=acme, column=age`, without the keys in `skip`.
fn show_labels(labels: &Labels, skip: &[&str]) -> String {
    labels.iter().filter(|(k, _)| !skip.contains(&k.as_str())).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}
