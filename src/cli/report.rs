//! `mlwatch report`: the pictures of a period in one self-contained HTML
//! file (inline SVG and CSS, nothing fetched), from the agent's history or
//! from a backtest of the period, for an incident or a model review.
//! `--format json` gives the data the pictures draw.

use std::process::ExitCode;

use chrono::{Duration, Utc};

use super::backtest::parse_time;
use super::{ReportArgs, ReportFormat};
use crate::agent::Prepared;
use crate::backtest::{self, Options};
use crate::rules::Rule;
use crate::state::Store;
use crate::web::{self, ReportInput, model};

pub fn report(args: ReportArgs) -> ExitCode {
    match run(&args) {
        Ok(summary) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("mlwatch report: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &ReportArgs) -> Result<String, String> {
    let now = Utc::now();
    let to = match &args.to {
        Some(t) => parse_time("--to", t)?,
        None => now,
    };
    let from = match &args.from {
        Some(t) => parse_time("--from", t)?,
        None => to - Duration::days(1),
    };
    if to <= from {
        return Err("--to must be after --from".into());
    }
    let path = &args.config.config;
    let prepared = Prepared::load(path).map_err(|d| format!("{}: configuration is invalid:\n{d}", path.display()))?;
    let all: Vec<&Rule> = prepared.config.rules.groups.iter().flat_map(|g| &g.rules).collect();
    let rules: Vec<&Rule> = if args.rule.is_empty() {
        all.clone()
    } else {
        let mut chosen = Vec::new();
        for name in &args.rule {
            let found = all.iter().find(|r| &r.name == name).ok_or_else(|| {
                format!("--rule: no rule `{name}`{}", crate::config::diag::did_you_mean(name, all.iter().map(|r| r.name.as_str())))
            })?;
            chosen.push(*found);
        }
        chosen
    };

    let (store, source) = if args.backtest {
        let store = Store::in_memory();
        let opts = Options { from, to, step: None, silences: Vec::new(), groups: None };
        backtest::replay(&prepared, &opts, &store, &mut |_| {})?;
        (store, format!("a backtest of {}", path.display()))
    } else {
        let dir = &prepared.config.storage_path;
        let store = Store::snapshot(dir)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no agent state in {}: run the agent first, or report a replay with --backtest", dir.display()))?;
        (store, format!("the agent's state in {}", dir.display()))
    };

    let mut reports = Vec::new();
    for rule in rules {
        let tenants: Vec<Option<String>> = match &args.tenant {
            Some(t) => vec![Some(t.clone())],
            None => {
                let t = model::tenants(&store, rule).map_err(|e| e.to_string())?;
                if t.is_empty() { vec![None] } else { t.into_iter().map(Some).collect() }
            }
        };
        for tenant in tenants {
            let r = model::rule_report(&store, rule, tenant.as_deref(), from, to).map_err(|e| e.to_string())?;
            if !r.panels.is_empty() {
                reports.push(r);
            }
        }
    }
    let text = match args.format {
        ReportFormat::Html => web::report(&ReportInput { source, from, to, written: now, rules: &reports }),
        ReportFormat::Json => serde_json::to_string_pretty(&serde_json::json!({
            "format": "mlwatch-report",
            "version": 1,
            "from": from,
            "to": to,
            "rules": reports,
        }))
        .expect("reports serialize"),
    };
    std::fs::write(&args.out, text).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let fired: usize = reports.iter().map(|r| r.alerts.len()).sum();
    Ok(format!("wrote {}: {} rule and tenant report{}, {fired} alert period{}", args.out.display(), reports.len(), plural(reports.len()), plural(fired)))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
