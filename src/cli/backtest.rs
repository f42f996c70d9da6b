//! `mlwatch backtest`: what the rules would have done over a past period.

use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};

use super::{BacktestArgs, OutputFormat};
use crate::agent::Prepared;
use crate::backtest::{self, Options};
use crate::state::Store;

pub fn backtest(args: BacktestArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("mlwatch backtest: {message}");
            ExitCode::from(code)
        }
    }
}

fn run(args: BacktestArgs) -> Result<(), (u8, String)> {
    let from = parse_time("--from", &args.from).map_err(|e| (2, e))?;
    let to = parse_time("--to", &args.to).map_err(|e| (2, e))?;
    if to <= from {
        return Err((2, "--to must be after --from".into()));
    }
    let step = match &args.step {
        None => None,
        Some(s) => Some(crate::rules::schedule::parse_duration("--step", s).map_err(|e| (2, e))?).filter(|d| !d.is_zero()),
    };
    if args.step.is_some() && step.is_none() {
        return Err((2, "--step must be greater than zero".into()));
    }
    let prepared = Prepared::load(&args.config.config).map_err(|d| (2, format!("{}: configuration is invalid:\n{d}", args.config.config.display())))?;
    // The agent's silences apply, as they would have; its state is only read.
    let silences = if args.ignore_silences {
        Vec::new()
    } else {
        let dir = &prepared.config.storage_path;
        match Store::open_read_only(dir).and_then(|s| s.map(|s| s.silences()).transpose()) {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => return Err((2, format!("cannot read the agent's silences ({e}); --ignore-silences replays without them"))),
        }
    };
    let started = std::time::Instant::now();
    let report = backtest::run(&prepared, &Options { from, to, step, silences, groups: None }).map_err(|e| (2, e))?;
    tracing::info!(evaluations = report.evaluations, seconds = started.elapsed().as_secs_f64(), "backtest done");
    match args.format {
        OutputFormat::Table => print!("{}", report.to_table()),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report).expect("reports serialize")),
    }
    Ok(())
}

/// RFC 3339 (`2026-11-01T12:00:00Z`) or a UTC date (`2026-11-01`, midnight).
pub fn parse_time(flag: &str, text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        .map_err(|_| format!("{flag}: `{text}` is not a time (2026-11-01T12:00:00Z) or a date (2026-11-01)"))
}
