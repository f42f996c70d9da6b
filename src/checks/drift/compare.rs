//! Comparing one column of current data with its baseline profile, by one or
//! more methods. Shared by the `drift` check in rules and `mlwatch drift`;
//! the statistics themselves live in `crate::stats`.

use std::collections::HashMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::baseline::column_kind::{ColumnKind, column_kind};
use crate::baseline::{CategoricalProfile, ColumnProfile, NumericProfile, category_counts, numeric_values};
use crate::stats::{self, chi2, divergence, ks, psi};

/// A drift test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DriftMethod {
    /// Pick per column by type, cardinality and size (see [`choose`]).
    Auto,
    /// Population Stability Index over the baseline's bins or categories.
    Psi,
    /// Two-sample Kolmogorov–Smirnov test (numeric columns).
    Ks,
    /// Chi-square goodness of fit against the baseline proportions.
    Chi2,
    /// Jensen–Shannon distance (base 2, in [0, 1]) over bins or categories.
    Js,
    /// Wasserstein-1 distance divided by the baseline's standard deviation (numeric).
    Wasserstein,
}

impl DriftMethod {
    /// Every method but `auto`.
    pub const ALL: [DriftMethod; 5] = [DriftMethod::Psi, DriftMethod::Ks, DriftMethod::Chi2, DriftMethod::Js, DriftMethod::Wasserstein];

    pub fn as_str(self) -> &'static str {
        match self {
            DriftMethod::Auto => "auto",
            DriftMethod::Psi => "psi",
            DriftMethod::Ks => "ks",
            DriftMethod::Chi2 => "chi2",
            DriftMethod::Js => "js",
            DriftMethod::Wasserstein => "wasserstein",
        }
    }

    /// Whether the method yields a p-value (then thresholds apply to it).
    pub fn has_p_value(self) -> bool {
        matches!(self, DriftMethod::Ks | DriftMethod::Chi2)
    }

    /// The default threshold: drift when the p-value is below it (tests) or the
    /// statistic above it (distances).
    pub fn default_threshold(self) -> f64 {
        match self {
            DriftMethod::Psi => 0.2,
            DriftMethod::Ks | DriftMethod::Chi2 => 0.05,
            DriftMethod::Js => 0.1,
            DriftMethod::Wasserstein => 0.1,
            DriftMethod::Auto => f64::NAN,
        }
    }

    /// The names of this method's values, as `when` conditions and metrics see them.
    pub fn value_names(self) -> &'static [&'static str] {
        match self {
            DriftMethod::Psi => &["psi"],
            DriftMethod::Ks => &["ks_statistic", "ks_pvalue"],
            DriftMethod::Chi2 => &["chi2_statistic", "chi2_pvalue"],
            DriftMethod::Js => &["js_distance"],
            DriftMethod::Wasserstein => &["wasserstein", "wasserstein_raw"],
            DriftMethod::Auto => &[],
        }
    }
}

/// The kind of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Numeric,
    Categorical,
}

/// The current window's values of one column.
#[derive(Debug, Clone)]
pub enum Current {
    /// Ascending finite values, with nulls and NaN/inf counted.
    Numeric { sorted: Vec<f64>, nulls: u64, non_finite: u64 },
    Categorical { counts: HashMap<String, u64>, nulls: u64 },
}

impl Current {
    /// Read a column shaped like its baseline: numeric columns as numbers,
    /// categorical ones as strings.
    pub fn from_column(col: &Column, baseline: &ColumnProfile) -> Result<Current, String> {
        match baseline {
            ColumnProfile::Numeric(_) => {
                if column_kind(col.dtype()) != Ok(ColumnKind::Numeric) {
                    return Err(format!("is {}, but the baseline profiled it as numeric", col.dtype()));
                }
                let clean = numeric_values(col).map_err(|e| e.to_string())?;
                Ok(Current::Numeric {
                    nulls: clean.nulls as u64,
                    non_finite: clean.non_finite as u64,
                    sorted: stats::sorted(clean.values),
                })
            }
            ColumnProfile::Categorical(_) => {
                let (counts, nulls) = category_counts(col).map_err(|e| e.to_string())?;
                Ok(Current::Categorical { counts, nulls })
            }
        }
    }

    pub fn count(&self) -> u64 {
        match self {
            Current::Numeric { sorted, .. } => sorted.len() as u64,
            Current::Categorical { counts, .. } => counts.values().sum(),
        }
    }

    /// Values dropped before testing: nulls, and NaN/inf for numbers.
    pub fn dropped(&self) -> u64 {
        match self {
            Current::Numeric { nulls, non_finite, .. } => nulls + non_finite,
            Current::Categorical { nulls, .. } => *nulls,
        }
    }
}

/// One method's outcome on one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodResult {
    pub method: DriftMethod,
    /// PSI, KS D, chi-square, JS distance, or normalised Wasserstein.
    pub statistic: f64,
    pub p_value: Option<f64>,
    /// Wasserstein only: the distance in the column's own units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<f64>,
    /// KS only: `exact` or `asymptotic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value_method: Option<ks::KsMethod>,
}

/// Why a method could not be applied to a column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    #[error("{method} needs a numeric column")]
    NeedsNumeric { method: &'static str },
    #[error("not enough data: no usable values in the {side}")]
    NotEnoughData { side: &'static str },
}

/// Which method `auto` picks for a column, and why (a sentence for reports).
///
/// - Categorical: chi-square when every expected count is at least 5 (the usual
///   validity rule), else PSI.
/// - Numeric with at most 20 distinct baseline values (a discrete column): PSI.
/// - Numeric, continuous, at most 10,000 current values: KS (a test whose
///   p-value is meaningful at that size).
/// - Numeric, continuous, more values: PSI, an effect size; at large n every
///   difference is significant, so a p-value would only over-alert.
pub fn choose(baseline: &ColumnProfile, current_count: u64) -> (DriftMethod, String) {
    match baseline {
        ColumnProfile::Categorical(c) => {
            let min_share = c.categories.values().copied().min().unwrap_or(0) as f64 / c.count.max(1) as f64;
            let min_expected = min_share * current_count as f64;
            if min_expected >= 5.0 {
                (DriftMethod::Chi2, format!("categorical, smallest expected count {min_expected:.1} ≥ 5"))
            } else {
                (DriftMethod::Psi, format!("categorical, smallest expected count {min_expected:.1} < 5: chi-square invalid"))
            }
        }
        ColumnProfile::Numeric(n) => {
            let distinct = distinct_sorted(&n.sample);
            if distinct <= 20 {
                (DriftMethod::Psi, format!("numeric with {distinct} distinct baseline values"))
            } else if current_count <= ks::EXACT_MAX_N as u64 {
                (DriftMethod::Ks, format!("continuous numeric, {current_count} values ≤ {}", ks::EXACT_MAX_N))
            } else {
                (DriftMethod::Psi, format!("continuous numeric, {current_count} values: effect size over p-value"))
            }
        }
    }
}

fn distinct_sorted(sorted: &[f64]) -> usize {
    if sorted.is_empty() { 0 } else { 1 + sorted.windows(2).filter(|w| w[0] != w[1]).count() }
}

/// Apply `method` (not `Auto`) to a column.
pub fn compare(baseline: &ColumnProfile, current: &Current, method: DriftMethod, epsilon: f64) -> Result<MethodResult, CompareError> {
    if baseline.count() == 0 {
        return Err(CompareError::NotEnoughData { side: "baseline" });
    }
    if current.count() == 0 {
        return Err(CompareError::NotEnoughData { side: "current window" });
    }
    let plain = |statistic| MethodResult { method, statistic, p_value: None, raw: None, p_value_method: None };
    Ok(match (baseline, current) {
        (ColumnProfile::Numeric(b), Current::Numeric { sorted, .. }) => match method {
            DriftMethod::Psi => plain(psi::psi_from_counts(&b.bin_counts, &psi::bin_counts_sorted(&b.bin_edges, sorted), epsilon).expect("non-empty")),
            DriftMethod::Js => plain(divergence::jensen_shannon(&b.bin_counts, &psi::bin_counts_sorted(&b.bin_edges, sorted)).expect("non-empty")),
            DriftMethod::Chi2 => {
                let r = chi2::chi2_gof(&b.bin_counts, &psi::bin_counts_sorted(&b.bin_edges, sorted), 0, epsilon)
                    .map_err(|_| CompareError::NotEnoughData { side: "baseline" })?;
                MethodResult { p_value: Some(r.p_value), ..plain(r.statistic) }
            }
            DriftMethod::Ks => {
                let r = ks::ks_2samp(&b.sample, sorted).map_err(|_| CompareError::NotEnoughData { side: "baseline" })?;
                MethodResult { p_value: Some(r.p_value), p_value_method: Some(r.method), ..plain(r.statistic) }
            }
            DriftMethod::Wasserstein => wasserstein(b, sorted, method),
            DriftMethod::Auto => unreachable!("resolve auto with `choose` first"),
        },
        (ColumnProfile::Categorical(b), Current::Categorical { counts, .. }) => {
            let cells = Cells::new(b, counts);
            match method {
                DriftMethod::Psi => plain(psi::psi_from_counts(&cells.reference, &cells.current, epsilon).expect("non-empty")),
                DriftMethod::Js => plain(divergence::jensen_shannon(&cells.reference, &cells.current).expect("non-empty")),
                DriftMethod::Chi2 => {
                    let (r, o) = (&cells.reference[..cells.known], &cells.current[..cells.known]);
                    let res = chi2::chi2_gof(r, o, cells.unseen, epsilon).map_err(|_| CompareError::NotEnoughData { side: "baseline" })?;
                    MethodResult { p_value: Some(res.p_value), ..plain(res.statistic) }
                }
                DriftMethod::Ks => return Err(CompareError::NeedsNumeric { method: "ks" }),
                DriftMethod::Wasserstein => return Err(CompareError::NeedsNumeric { method: "wasserstein" }),
                DriftMethod::Auto => unreachable!("resolve auto with `choose` first"),
            }
        }
        _ => unreachable!("Current::from_column shapes the current values like the baseline"),
    })
}

fn wasserstein(b: &NumericProfile, sorted: &[f64], method: DriftMethod) -> MethodResult {
    let raw = divergence::wasserstein_1(&b.sample, sorted).expect("non-empty");
    // A constant baseline has no spread to scale by: report the raw distance.
    let statistic = if b.std > 0.0 { raw / b.std } else { raw };
    MethodResult { method, statistic, p_value: None, raw: Some(raw), p_value_method: None }
}

/// Category counts aligned cell by cell: the baseline's categories, then its
/// pooled `other` (when it has one), then one cell for unseen categories.
struct Cells {
    reference: Vec<u64>,
    current: Vec<u64>,
    /// Cells before the unseen one.
    known: usize,
    unseen: u64,
}

impl Cells {
    fn new(b: &CategoricalProfile, counts: &HashMap<String, u64>) -> Cells {
        let mut reference: Vec<u64> = b.categories.values().copied().collect();
        let mut current: Vec<u64> = b.categories.keys().map(|k| counts.get(k).copied().unwrap_or(0)).collect();
        let outside: u64 = counts.iter().filter(|(k, _)| !b.categories.contains_key(*k)).map(|(_, v)| v).sum();
        let unseen = if b.other > 0 {
            // Values beyond the profile's cap may be pooled ones: count them as `other`.
            reference.push(b.other);
            current.push(outside);
            0
        } else {
            outside
        };
        let known = reference.len();
        reference.push(0);
        current.push(unseen);
        Cells { reference, current, known, unseen }
    }
}

/// The share of current values in categories the baseline never had.
pub fn unseen_ratio(baseline: &ColumnProfile, current: &Current) -> Option<f64> {
    match (baseline, current) {
        (ColumnProfile::Categorical(b), Current::Categorical { counts, .. }) if b.other == 0 => {
            let total: u64 = counts.values().sum();
            let unseen: u64 = counts.iter().filter(|(k, _)| !b.categories.contains_key(*k)).map(|(_, v)| v).sum();
            (total > 0).then(|| unseen as f64 / total as f64)
        }
        _ => None,
    }
}
