//! `mlwatch drift BASELINE CURRENT`: an ad-hoc, column-by-column comparison.
//! Exit 0 when nothing drifted, 1 when something did, 2 on error.

use std::path::Path;
use std::process::ExitCode;

use super::{CorrectionArg, DriftArgs, OutputFormat, baseline::options, data};
use polars::prelude::DataFrame;

use crate::baseline::Profile;
use crate::checks::drift::report::{DriftReport, LeftOut, ReportOptions, default_columns, drift_report};
use crate::stats::multiple::Correction;

pub fn drift(args: DriftArgs) -> ExitCode {
    match run(&args) {
        Ok(report) => {
            match args.format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report).expect("reports serialize")),
                OutputFormat::Table => print_table(&report),
            }
            if report.drifted > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            eprintln!("mlwatch drift: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &DriftArgs) -> Result<DriftReport, String> {
    let named = (!args.profile.columns.is_empty()).then_some(args.profile.columns.as_slice());
    // Named columns are read alone; otherwise both files are read whole and the
    // columns both sides have are compared.
    let read = |path: &Path| data::read_all(&[path.to_string_lossy().into_owned()], named).map(|(df, _)| df);
    let correction = match args.correction {
        CorrectionArg::None => Correction::None,
        CorrectionArg::Bonferroni => Correction::Bonferroni,
        CorrectionArg::BenjaminiHochberg => Correction::BenjaminiHochberg,
    };
    let opts = |columns| ReportOptions { columns, methods: args.method.clone(), threshold: args.threshold, correction };
    if is_profile(&args.baseline) {
        if args.profile.bins != 10 || args.profile.binning != crate::baseline::Binning::Quantile {
            return Err("--bins and --binning apply when BASELINE is data; a profile's bins are fixed when it is built".into());
        }
        let profile = Profile::load(&args.baseline).map_err(|e| e.to_string())?;
        let current = read(&args.current)?;
        let columns = pick_columns(named, &profile, &current)?;
        let mut left_out = Vec::new();
        note_left_out(named, &current, &mut left_out);
        return drift_report(&profile, current, &opts(columns)).map(|r| DriftReport { left_out, ..r });
    }
    // Profile the baseline first and free its rows before reading the current
    // data: peak memory stays near one dataset plus the sorted baseline values.
    // Every baseline value is kept: KS and Wasserstein on the raw data, no sampling.
    let mut left_out = Vec::new();
    let profile = {
        let base = read(&args.baseline)?;
        note_left_out(named, &base, &mut left_out);
        crate::baseline::build_profile(&base, &args.baseline.to_string_lossy(), &options(&args.profile, usize::MAX, 0))?
    };
    let current = read(&args.current)?;
    note_left_out(named, &current, &mut left_out);
    let columns = pick_columns(named, &profile, &current)?;
    drift_report(&profile, current, &opts(columns)).map(|r| DriftReport { left_out, ..r })
}

/// Without named columns, the columns that cannot be compared, and why: a
/// report must not pass over them in silence.
fn note_left_out(named: Option<&[String]>, df: &DataFrame, into: &mut Vec<LeftOut>) {
    if named.is_some() {
        return;
    }
    for (column, reason) in crate::baseline::left_out(df) {
        if !into.iter().any(|l| l.column == column) {
            into.push(LeftOut { column, reason });
        }
    }
}

fn pick_columns(named: Option<&[String]>, profile: &Profile, current: &DataFrame) -> Result<Vec<String>, String> {
    let columns = match named {
        Some(c) => c.to_vec(),
        None => default_columns(profile, current),
    };
    if columns.is_empty() {
        return Err("the baseline and the current data have no column in common".into());
    }
    Ok(columns)
}

/// A profile is JSON whose `format` is ours; JSON-lines data is not.
fn is_profile(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = crate::util::fs::open_regular(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    text.trim_start().starts_with('{') && text.contains(crate::baseline::PROFILE_FORMAT)
}

fn print_table(r: &DriftReport) {
    println!(
        "{:<22} {:<11} {:<11} {:>11} {:>11} {:>9}  {:<5} {:>9} {:>9} {:>11}",
        "column", "kind", "method", "statistic", "p_value", "threshold", "drift", "baseline", "current", "nulls b/c"
    );
    let num = |v: Option<f64>| match v {
        None => "-".to_string(),
        Some(x) if x != 0.0 && x.abs() < 1e-3 => format!("{x:.3e}"),
        Some(x) => format!("{x:.4}"),
    };
    for c in &r.columns {
        println!(
            "{:<22} {:<11} {:<11} {:>11} {:>11} {:>9}  {:<5} {:>9} {:>9} {:>11}",
            c.column,
            serde_json::to_value(c.kind).expect("serializes").as_str().unwrap_or_default(),
            c.method.as_str(),
            num(c.statistic),
            num(c.p_value),
            c.threshold,
            if c.drift { "DRIFT" } else { "ok" },
            c.baseline_count,
            c.current_count,
            format!("{}/{}", c.baseline_nulls, c.current_nulls),
        );
        if let Some(why) = &c.auto_reason {
            println!("{:<22} auto: {why}", "");
        }
        if let Some(note) = &c.note {
            println!("{:<22} note: {note}", "");
        }
    }
    for l in &r.left_out {
        println!("{:<22} left out: {}", l.column, l.reason);
    }
    let left_out = match r.left_out.len() {
        0 => String::new(),
        1 => "; 1 column left out".to_string(),
        n => format!("; {n} columns left out"),
    };
    println!("{} of {} drifted{left_out}", r.drifted, r.columns.len());
}
