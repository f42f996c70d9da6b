//! The `quality` check: per column of the tenant's rows, its schema against
//! the baseline (missing, new and retyped columns), null ratio, values out
//! of range, and categories the baseline never had; per key, duplicates.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use polars::prelude::*;
use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, Unit, ValueSpec};
use super::{CheckError, Series};
use crate::baseline::column_kind::{ColumnKind, column_kind};
use crate::baseline::{ColumnProfile, Profile, category_counts, numeric_values};
use crate::labels::Labels;

pub const SPEC: CheckSpec = CheckSpec {
    kind: "quality",
    summary: "Per column: schema against the baseline, null ratio, out-of-range and new-category ratios; per key: duplicates.",
    labels: &["column"],
    values: &[
        ValueSpec { name: "missing", help: "1 when the baseline has the column and the window's rows do not.", unit: Unit::None, metric: Some("mlwatch_quality_column_missing") },
        ValueSpec { name: "new", help: "1 when the rows have a column the baseline does not.", unit: Unit::None, metric: Some("mlwatch_quality_column_new") },
        ValueSpec { name: "retyped", help: "1 when the column is numeric on one side and categorical on the other.", unit: Unit::None, metric: Some("mlwatch_quality_column_retyped") },
        ValueSpec { name: "null_ratio", help: "Share of the column's values that are null (or NaN).", unit: Unit::Ratio, metric: Some("mlwatch_quality_null_ratio") },
        ValueSpec { name: "out_of_range_ratio", help: "Share of a numeric column's values outside the declared range, else the baseline's [min, max].", unit: Unit::Ratio, metric: Some("mlwatch_quality_out_of_range_ratio") },
        ValueSpec { name: "new_category_ratio", help: "Share of a categorical column's values in categories the baseline never had (absent when the baseline kept only its top categories).", unit: Unit::Ratio, metric: Some("mlwatch_quality_new_category_ratio") },
        ValueSpec { name: "duplicate_key_ratio", help: "Share of rows whose `key` repeats an earlier row's (series `column` = the key columns joined by `+`).", unit: Unit::Ratio, metric: Some("mlwatch_quality_duplicate_key_ratio") },
    ],
    primary: "null_ratio",
};

/// `check: { quality: { key: [user_id, rank], ranges: { score: [0, 1] } } }`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    /// Columns to check; by default every column of the baseline and the rows.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Columns that together identify a row: their duplicates are counted.
    #[serde(default)]
    pub key: Vec<String>,
    /// Declared ranges `[min, max]`, instead of the baseline's.
    #[serde(default)]
    pub ranges: BTreeMap<String, [f64; 2]>,
}

#[derive(Debug, Clone)]
pub struct QualityCheck {
    config: QualityConfig,
}

impl QualityConfig {
    pub fn validate(&self) -> Result<QualityCheck, String> {
        for (c, [lo, hi]) in &self.ranges {
            if !(lo <= hi) {
                return Err(format!("quality: ranges: `{c}`: [min, max] with min <= max"));
            }
        }
        Ok(QualityCheck { config: self.clone() })
    }
}

impl QualityCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;
}

/// Reading every column of the source (a schema check must see them all).
pub const ALL_COLUMNS: &str = "*";

impl CheckKind for QualityCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn columns(&self) -> Vec<String> {
        vec![ALL_COLUMNS.to_string()]
    }

    fn fits_source(&self, source: &crate::sources::Source) -> Result<(), String> {
        match source {
            crate::sources::Source::Log(_) => Err("a quality check reads rows, and a log source keeps counts: read the data with a `file` source".into()),
            crate::sources::Source::File(_) => Ok(()),
        }
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        if cx.frame.height() == 0 {
            return Ok(Vec::new());
        }
        let profile = cx.baseline.map(|b| &*b.profile);
        let mut out = Vec::new();
        for name in self.columns_of(cx.frame, profile) {
            out.push(self.column(cx.frame, profile, &name)?);
        }
        if !self.config.key.is_empty() {
            out.push(duplicates(cx.frame, &self.config.key)?);
        }
        Ok(out)
    }
}

fn labels(column: &str) -> Labels {
    Labels::from([("column".to_string(), column.to_string())])
}

impl QualityCheck {
    /// The columns to report: as configured, else the baseline's and the rows'.
    fn columns_of(&self, frame: &DataFrame, profile: Option<&Profile>) -> BTreeSet<String> {
        if !self.config.columns.is_empty() {
            return self.config.columns.iter().cloned().collect();
        }
        let mut all: BTreeSet<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        all.extend(profile.into_iter().flat_map(|p| p.columns.keys().cloned()));
        all
    }

    fn column(&self, frame: &DataFrame, profile: Option<&Profile>, name: &str) -> Result<Series, CheckError> {
        let err = |message: String| CheckError::Column { column: name.to_string(), message };
        let base = profile.and_then(|p| p.columns.get(name));
        let mut values = BTreeMap::new();
        let Ok(col) = frame.column(name) else {
            if profile.is_some() {
                values.insert("missing", if base.is_some() { 1.0 } else { 0.0 });
            }
            return Ok(Series::new(labels(name), values, Some("not in the rows".into())));
        };
        let kind = column_kind(col.dtype());
        if let Some(p) = profile {
            values.insert("missing", 0.0);
            values.insert("new", if p.columns.contains_key(name) { 0.0 } else { 1.0 });
            if let (Some(b), Ok(k)) = (base, &kind) {
                let was = match b {
                    ColumnProfile::Numeric(_) => ColumnKind::Numeric,
                    ColumnProfile::Categorical(_) => ColumnKind::Categorical,
                };
                values.insert("retyped", if was == *k { 0.0 } else { 1.0 });
            }
        }
        let rows = frame.height() as f64;
        match kind {
            Ok(ColumnKind::Numeric) => {
                let clean = numeric_values(col).map_err(|e| err(e.to_string()))?;
                values.insert("null_ratio", (clean.nulls + clean.non_finite) as f64 / rows);
                let range = self.config.ranges.get(name).map(|r| (r[0], r[1])).or(match base {
                    Some(ColumnProfile::Numeric(n)) => Some((n.min, n.max)),
                    _ => None,
                });
                if let Some((lo, hi)) = range
                    && !clean.values.is_empty()
                {
                    let out = clean.values.iter().filter(|v| **v < lo || **v > hi).count();
                    values.insert("out_of_range_ratio", out as f64 / clean.values.len() as f64);
                }
            }
            Ok(ColumnKind::Categorical) => {
                let (counts, nulls) = category_counts(col).map_err(|e| err(e.to_string()))?;
                values.insert("null_ratio", nulls as f64 / rows);
                // Only a baseline that kept every category can tell a new one.
                if let Some(ColumnProfile::Categorical(c)) = base
                    && c.other == 0
                {
                    let total: u64 = counts.values().sum();
                    let unseen: u64 = counts.iter().filter(|(k, _)| !c.categories.contains_key(*k)).map(|(_, n)| n).sum();
                    if total > 0 {
                        values.insert("new_category_ratio", unseen as f64 / total as f64);
                    }
                }
            }
            Err(_) => {
                values.insert("null_ratio", col.null_count() as f64 / rows);
            }
        }
        Ok(Series::new(labels(name), values, None))
    }
}

/// Share of rows whose key repeats an earlier row's.
fn duplicates(frame: &DataFrame, key: &[String]) -> Result<Series, CheckError> {
    let joined = key.join("+");
    let mut texts = Vec::with_capacity(key.len());
    for k in key {
        let col = frame.column(k).map_err(|_| CheckError::Column { column: k.clone(), message: "key column not in the rows".into() })?;
        let s = col.cast(&DataType::String).map_err(|e| CheckError::Column { column: k.clone(), message: e.to_string() })?;
        texts.push(s);
    }
    let cas: Vec<&StringChunked> = texts.iter().map(|c| c.str().expect("cast to string")).collect();
    let iters: Vec<Vec<Option<&str>>> = cas.iter().map(|c| c.iter().collect()).collect();
    let mut seen: HashSet<Vec<Option<&str>>> = HashSet::with_capacity(frame.height());
    let mut repeats = 0u64;
    for i in 0..frame.height() {
        if !seen.insert(iters.iter().map(|v| v[i]).collect()) {
            repeats += 1;
        }
    }
    let values = BTreeMap::from([("duplicate_key_ratio", repeats as f64 / frame.height() as f64)]);
    Ok(Series::new(labels(&joined), values, None))
}
