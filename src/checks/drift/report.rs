//! A column-by-column drift report of a dataset against a baseline profile:
//! what `mlwatch drift` prints. Its JSON form is a documented, stable contract
//! (`docs/drift.md`).

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::compare::{self, Current, DriftMethod, Kind};
use crate::baseline::{ColumnProfile, Profile};
use crate::stats::multiple::{self, Correction};

/// How to compare.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub columns: Vec<String>,
    pub methods: Vec<DriftMethod>,
    /// Overrides every method's default threshold.
    pub threshold: Option<f64>,
    pub correction: Correction,
}

/// One (column, method) line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    pub column: String,
    pub kind: Kind,
    /// The method applied (for `auto`, the one it chose).
    pub method: DriftMethod,
    /// Why `auto` chose it; absent for explicit methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_reason: Option<String>,
    /// `null` when the column had no usable values on one side (see `note`).
    pub statistic: Option<f64>,
    /// Two-sided p-value (after `correction`); `null` for distances.
    pub p_value: Option<f64>,
    pub threshold: f64,
    pub drift: bool,
    pub baseline_count: u64,
    pub current_count: u64,
    /// Nulls (and NaN/±inf for numbers) dropped before the test.
    pub baseline_nulls: u64,
    pub current_nulls: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseen_ratio: Option<f64>,
    /// Wasserstein: the distance in the column's units (`statistic` is divided by the baseline std).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_statistic: Option<f64>,
    /// KS: `exact` or `asymptotic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value_method: Option<crate::stats::ks::KsMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub columns: Vec<ColumnReport>,
    /// Lines with `drift: true`.
    pub drifted: usize,
    pub correction: Correction,
    /// Columns not compared, with why (a list, binary data, ...), when
    /// columns were not named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// A column left out of a report.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOut {
    pub column: String,
    pub reason: String,
}

/// Columns both sides have, in the profile's order, when none are named.
pub fn default_columns(profile: &Profile, current: &DataFrame) -> Vec<String> {
    let have: Vec<String> = current.get_column_names().iter().map(|n| n.to_string()).collect();
    profile.columns.keys().filter(|c| have.contains(c)).cloned().collect()
}

/// Compare every column by every method, in parallel across columns. Each
/// task owns its current column and frees it once read, so memory shrinks as
/// the report goes.
pub fn drift_report(profile: &Profile, current: DataFrame, opts: &ReportOptions) -> Result<DriftReport, String> {
    let tasks: Vec<(&String, Column)> = opts.columns.iter().zip(take_named(current, &opts.columns)?).collect();
    let per_column: Vec<Result<Vec<ColumnReport>, String>> = tasks
        .into_par_iter()
        .map(|(name, col)| {
            let base = profile.columns.get(name).ok_or_else(|| format!("column `{name}` is not in the baseline"))?;
            let cur = Current::from_column(&col, base).map_err(|e| format!("column `{name}`: {e}"))?;
            drop(col);
            Ok(opts.methods.iter().map(|&m| column_report(name, base, &cur, m, profile.psi_epsilon, opts.threshold)).collect())
        })
        .collect();
    let mut columns = Vec::new();
    for r in per_column {
        columns.extend(r?);
    }
    if opts.correction != Correction::None {
        // Adjust within each method: the family is the columns tested by it.
        for method in [DriftMethod::Ks, DriftMethod::Chi2] {
            let idx: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].method == method && columns[i].p_value.is_some()).collect();
            let ps: Vec<f64> = idx.iter().map(|&i| columns[i].p_value.expect("filtered")).collect();
            for (&i, p) in idx.iter().zip(multiple::adjust(&ps, opts.correction)) {
                columns[i].p_value = Some(p);
                columns[i].drift = p < columns[i].threshold;
            }
        }
    }
    let drifted = columns.iter().filter(|c| c.drift).count();
    Ok(DriftReport { columns, drifted, correction: opts.correction, left_out: Vec::new() })
}

/// The named columns of `df`, in order, owned (the rest of the frame is dropped).
fn take_named(df: DataFrame, names: &[String]) -> Result<Vec<Column>, String> {
    let mut by_name: std::collections::HashMap<String, Column> =
        df.into_columns().into_iter().map(|c| (c.name().to_string(), c)).collect();
    names
        .iter()
        .map(|n| by_name.remove(n).ok_or_else(|| format!("column `{n}` is not in the current data")))
        .collect()
}

fn column_report(name: &str, base: &ColumnProfile, cur: &Current, requested: DriftMethod, eps: f64, threshold: Option<f64>) -> ColumnReport {
    let (method, auto_reason) = match requested {
        DriftMethod::Auto => {
            let (m, why) = compare::choose(base, cur.count());
            (m, Some(why))
        }
        m => (m, None),
    };
    let threshold = threshold.unwrap_or(method.default_threshold());
    let kind = match base {
        ColumnProfile::Numeric(_) => Kind::Numeric,
        ColumnProfile::Categorical(_) => Kind::Categorical,
    };
    let (baseline_count, baseline_nulls) = (base.count(), base.dropped());
    let mut line = ColumnReport {
        column: name.to_string(),
        kind,
        method,
        auto_reason,
        statistic: None,
        p_value: None,
        threshold,
        drift: false,
        baseline_count,
        current_count: cur.count(),
        baseline_nulls,
        current_nulls: cur.dropped(),
        unseen_ratio: compare::unseen_ratio(base, cur),
        raw_statistic: None,
        p_value_method: None,
        note: None,
    };
    match compare::compare(base, cur, method, eps) {
        Ok(r) => {
            line.drift = match r.p_value {
                Some(p) => p < threshold,
                None => r.statistic > threshold,
            };
            line.statistic = Some(r.statistic);
            line.p_value = r.p_value;
            line.raw_statistic = r.raw;
            line.p_value_method = r.p_value_method;
        }
        Err(e) => line.note = Some(e.to_string()),
    }
    line
}
