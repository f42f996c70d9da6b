//! `mlwatch eval`: evaluate the rules once, now or at a time, against the
//! real sources, and print every value, whether the condition holds and the
//! alert state it would lead to. It is a backtest of one step: the same
//! replay, started from a copy of the agent's state, so nothing is sent and
//! the agent's state is not changed.

use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::backtest::parse_time;
use super::{EvalArgs, OutputFormat};
use crate::agent::Prepared;
use crate::backtest::{self, Options, Step};
use crate::labels::Labels;
use crate::rules::alert::AlertState;
use crate::labels::show as show_labels;
use crate::state::Store;

/// The `format` field of the JSON output, and its version.
pub const EVAL_FORMAT: &str = "mlwatch-eval";
pub const EVAL_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
struct Evaluation {
    format: &'static str,
    version: u32,
    at: DateTime<Utc>,
    groups: Vec<GroupEval>,
}

#[derive(Debug, Serialize)]
struct GroupEval {
    group: String,
    source: String,
    files_read: u64,
    rows_read: u64,
    rules: Vec<RuleEval>,
}

#[derive(Debug, Serialize)]
struct RuleEval {
    rule: String,
    when: String,
    for_seconds: f64,
    series: Vec<SeriesEval>,
    /// Why the rule, or a tenant of it, could not be evaluated.
    failures: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SeriesEval {
    labels: Labels,
    values: std::collections::BTreeMap<&'static str, f64>,
    /// Whether the condition holds; `null` when a value it needs is missing.
    holds: Option<bool>,
    /// The tenant's baseline is still being learned: no alert yet.
    learning: bool,
    note: Option<String>,
    /// The alert's state after this evaluation: `inactive`, `pending`, `firing` or `resolved`.
    alert: &'static str,
    active_at: Option<DateTime<Utc>>,
}

pub fn eval(args: EvalArgs) -> ExitCode {
    match run(&args) {
        Ok(e) => {
            match args.format {
                OutputFormat::Table => print!("{}", table(&e)),
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&e).expect("evaluations serialize")),
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("mlwatch eval: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &EvalArgs) -> Result<Evaluation, String> {
    let at = match &args.at {
        Some(t) => parse_time("--at", t)?,
        None => Utc::now(),
    };
    let path = &args.config.config;
    let prepared = Prepared::load(path).map_err(|d| format!("{}: configuration is invalid:\n{d}", path.display()))?;
    let groups = &prepared.config.rules.groups;
    let mut chosen: Option<Vec<String>> = None;
    if let Some(g) = &args.group {
        if !groups.iter().any(|x| &x.name == g) {
            return Err(format!("--group: no group `{g}`{}", crate::config::diag::did_you_mean(g, groups.iter().map(|x| x.name.as_str()))));
        }
        chosen = Some(vec![g.clone()]);
    }
    if let Some(r) = &args.rule {
        let Some(g) = groups.iter().find(|g| g.rules.iter().any(|x| &x.name == r)) else {
            let names = groups.iter().flat_map(|g| &g.rules).map(|x| x.name.as_str());
            return Err(format!("--rule: no rule `{r}`{}", crate::config::diag::did_you_mean(r, names)));
        };
        if chosen.as_ref().is_some_and(|c| c[0] != g.name) {
            return Err(format!("--rule: `{r}` is in group `{}`, not in --group", g.name));
        }
        chosen = Some(vec![g.name.clone()]);
    }
    // The agent's alerts, known tenants, history and baselines, copied.
    let store = Store::snapshot(&prepared.config.storage_path).map_err(|e| e.to_string())?.unwrap_or_else(Store::in_memory);
    let opts = Options { from: at, to: at, step: Some(std::time::Duration::from_secs(1)), silences: Vec::new(), groups: chosen };
    let mut out = Vec::new();
    let mut observe = |step: Step<'_>| out.push(group_eval(&step, args));
    backtest::replay(&prepared, &opts, &store, &mut observe)?;
    Ok(Evaluation { format: EVAL_FORMAT, version: EVAL_VERSION, at, groups: out })
}

fn group_eval(step: &Step<'_>, args: &EvalArgs) -> GroupEval {
    let tenant_ok = |labels: &Labels| args.tenant.as_ref().is_none_or(|t| labels.get("tenant") == Some(t));
    let rules = step
        .group
        .rules
        .iter()
        .zip(&step.result.rules)
        .zip(step.alerts)
        .filter(|((rule, _), _)| args.rule.as_ref().is_none_or(|r| *r == rule.name))
        .map(|((rule, result), set)| {
            let series = result
                .series
                .iter()
                .filter(|s| tenant_ok(&s.labels))
                .map(|s| {
                    let mut labels: Labels = rule.labels.clone();
                    labels.extend(s.labels.clone());
                    labels.insert("alertname".into(), rule.name.clone());
                    let alert = set.alerts().find(|a| a.labels == labels);
                    SeriesEval {
                        labels: s.labels.clone(),
                        values: s.values.clone(),
                        holds: s.holds,
                        learning: s.learning,
                        note: s.note.clone(),
                        alert: alert.map_or("inactive", |a| a.state.as_str()),
                        active_at: alert.filter(|a| a.state != AlertState::Resolved).map(|a| a.active_at),
                    }
                })
                .collect();
            let failures = result
                .failures
                .iter()
                .filter(|f| args.tenant.is_none() || f.tenant.is_none() || f.tenant == args.tenant)
                .map(|f| match &f.tenant {
                    Some(t) => format!("tenant {t}: {}", f.message),
                    None => f.message.clone(),
                })
                .collect();
            RuleEval { rule: rule.name.clone(), when: rule.when_text.clone(), for_seconds: rule.hold_for.as_secs_f64(), series, failures }
        })
        .collect();
    GroupEval {
        group: step.group.name.clone(),
        source: step.group.source.clone(),
        files_read: step.result.files_read,
        rows_read: step.result.rows_read,
        rules,
    }
}

fn table(e: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "evaluated at {}", e.at.to_rfc3339_opts(SecondsFormat::Secs, true));
    for g in &e.groups {
        let _ = writeln!(out, "\ngroup {} (source {}: {} rows from {} files)", g.group, g.source, g.rows_read, g.files_read);
        for r in &g.rules {
            let hold = if r.for_seconds > 0.0 { format!(" for {}", humantime::format_duration(std::time::Duration::from_secs_f64(r.for_seconds))) } else { String::new() };
            let _ = writeln!(out, "  {}  when {}{hold}", r.rule, r.when);
            for f in &r.failures {
                let _ = writeln!(out, "    FAILED: {f}");
            }
            if r.series.is_empty() && r.failures.is_empty() {
                let _ = writeln!(out, "    (no series)");
            }
            for s in &r.series {
                let holds = match (s.learning, s.holds) {
                    (true, _) => "learning",
                    (_, Some(true)) => "holds",
                    (_, Some(false)) => "does not hold",
                    (_, None) => "no value",
                };
                let since = s.active_at.map(|t| format!(" since {}", t.to_rfc3339_opts(SecondsFormat::Secs, true))).unwrap_or_default();
                let _ = writeln!(out, "    {}  {holds} → {}{since}", show_labels(&s.labels), s.alert);
                let values: Vec<String> = s.values.iter().map(|(k, v)| format!("{k}={}", number(*v))).collect();
                let _ = writeln!(out, "      {}", values.join(" "));
                if let Some(n) = &s.note {
                    let _ = writeln!(out, "      note: {n}");
                }
            }
        }
    }
    out
}

/// Up to 6 significant digits, without trailing zeros.
fn number(v: f64) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.6}");
    if v.abs() >= 1e-3 || v == 0.0 { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { format!("{v:.3e}") }
}
