//! The `drift` check: how far each column's current distribution is from the
//! baseline profile. The comparison itself is [`compare`], shared with
//! `mlwatch drift`; the statistics are in `crate::stats`.

pub mod compare;
pub mod distribution;
pub mod report;

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Deserializer};

use super::contract::{CheckKind, CheckSpec, EvalContext, Unit, ValueSpec};
use super::{CheckError, Series};
use crate::baseline::Profile;
use distribution::Distribution;
use crate::labels::Labels;
use crate::stats::multiple::{self, Correction};
pub use compare::DriftMethod;
use compare::{Current, choose};

const fn value(name: &'static str, help: &'static str, unit: Unit, metric: Option<&'static str>) -> ValueSpec {
    ValueSpec { name, help, unit, metric }
}

/// What a drift check yields: one series per column.
pub const SPEC: CheckSpec = CheckSpec {
    kind: "drift",
    summary: "How far each column's distribution in the window is from the tenant's baseline.",
    labels: &["column"],
    values: &[
        value("psi", "Population Stability Index of the window against the baseline (method `psi`).", Unit::None, Some("mlwatch_drift_psi")),
        value("ks_statistic", "Two-sample Kolmogorov-Smirnov statistic against the baseline (method `ks`).", Unit::None, Some("mlwatch_drift_ks_statistic")),
        value("ks_pvalue", "Two-sided p-value of the Kolmogorov-Smirnov test (after `correction`).", Unit::Probability, Some("mlwatch_drift_ks_pvalue")),
        value("chi2_statistic", "Chi-square goodness-of-fit statistic against the baseline proportions (method `chi2`).", Unit::None, Some("mlwatch_drift_chi2_statistic")),
        value("chi2_pvalue", "P-value of the chi-square goodness-of-fit test (after `correction`).", Unit::Probability, Some("mlwatch_drift_chi2_pvalue")),
        value("js_distance", "Jensen-Shannon distance (base 2, 0..1) to the baseline (method `js`).", Unit::None, Some("mlwatch_drift_js_distance")),
        value("wasserstein", "Wasserstein-1 distance divided by the baseline standard deviation (method `wasserstein`).", Unit::None, Some("mlwatch_drift_wasserstein_normalized")),
        value("wasserstein_raw", "Wasserstein-1 distance to the baseline, in the column's units.", Unit::None, Some("mlwatch_drift_wasserstein")),
        value("unseen_ratio", "Share of the window's values in categories the baseline never had (categorical columns).", Unit::Ratio, Some("mlwatch_drift_unseen_category_ratio")),
        value("count", "Usable (finite, non-null) values in the window.", Unit::Count, Some("mlwatch_drift_sample_values")),
        value("dropped", "Null, NaN and infinite values dropped from the window.", Unit::Count, Some("mlwatch_drift_dropped_values")),
        value("baseline_count", "Usable values in the baseline.", Unit::Count, None),
        value("statistic", "The first method's statistic.", Unit::None, None),
        value("p_value", "The first method's p-value, when it has one (after `correction`).", Unit::Probability, None),
    ],
    primary: "statistic",
};

/// `check: { drift: ... }` as written in a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// Columns to test (numeric or categorical, as profiled in the baseline).
    pub columns: Vec<String>,
    /// One method or a list; the first one's figures are also `statistic` and `p_value`.
    #[serde(default = "default_methods", deserialize_with = "one_or_many")]
    pub method: Vec<DriftMethod>,
    /// Adjust each method's p-values across the columns tested: `none`,
    /// `bonferroni`, `benjamini_hochberg` (as `mlwatch drift --correction`).
    #[serde(default)]
    pub correction: Correction,
}

fn default_methods() -> Vec<DriftMethod> {
    vec![DriftMethod::Psi]
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DriftMethod>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(DriftMethod),
        Many(Vec<DriftMethod>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(m) => vec![m],
        OneOrMany::Many(v) => v,
    })
}

/// A validated drift check.
#[derive(Debug, Clone)]
pub struct DriftCheck {
    pub columns: Vec<String>,
    pub methods: Vec<DriftMethod>,
    pub correction: Correction,
}

impl DriftConfig {
    pub fn validate(&self) -> Result<DriftCheck, String> {
        if self.columns.is_empty() {
            return Err("drift: `columns` must name at least one column".into());
        }
        if self.method.is_empty() {
            return Err("drift: `method` must name at least one method".into());
        }
        let mut methods: Vec<DriftMethod> = Vec::new();
        for m in &self.method {
            if !methods.contains(m) {
                methods.push(*m);
            }
        }
        Ok(DriftCheck { columns: self.columns.clone(), methods, correction: self.correction })
    }
}

impl DriftCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;
}

impl CheckKind for DriftCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    fn values(&self) -> Vec<&'static str> {
        let mut v = vec!["statistic", "count", "baseline_count", "dropped", "unseen_ratio"];
        if self.methods[0].has_p_value() || self.methods[0] == DriftMethod::Auto {
            v.push("p_value");
        }
        for m in &self.methods {
            v.extend(m.value_names());
        }
        if self.methods.contains(&DriftMethod::Auto) {
            for m in DriftMethod::ALL {
                v.extend(m.value_names());
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    fn needs_baseline(&self) -> bool {
        true
    }

    fn fits_source(&self, source: &crate::sources::Source) -> Result<(), String> {
        match source {
            crate::sources::Source::Log(_) => Err("a drift check compares rows, and a log source keeps counts: read the data with a `file` source".into()),
            crate::sources::Source::File(_) => Ok(()),
        }
    }

    fn fits_baseline(&self, profile: &Profile) -> Result<(), String> {
        for c in &self.columns {
            let Some(col) = profile.columns.get(c) else {
                let known: Vec<&str> = profile.columns.keys().map(String::as_str).collect();
                return Err(format!("column `{c}` is not in the baseline profile (it has: {})", known.join(", ")));
            };
            if matches!(col, crate::baseline::ColumnProfile::Categorical(_))
                && let Some(m) = self.methods.iter().find(|m| matches!(m, DriftMethod::Ks | DriftMethod::Wasserstein))
            {
                return Err(format!("column `{c}` is categorical; {} needs a numeric column", m.as_str()));
            }
        }
        Ok(())
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        if cx.frame.height() == 0 {
            // No rows at all (the tenant's data stopped): series without
            // figures, so `rows == 0` can still be alerted on, baseline or not.
            let profile = cx.baseline.map(|b| &*b.profile);
            return Ok(self.columns.iter().map(|c| no_rows(c, profile)).collect());
        }
        let baseline = cx.baseline.ok_or(CheckError::NoBaseline)?;
        self.compare(cx.frame, &baseline.profile)
    }
}

/// The series of a column when the window has no rows.
fn no_rows(column: &str, profile: Option<&Profile>) -> Series {
    let mut values = BTreeMap::from([("count", 0.0), ("dropped", 0.0)]);
    if let Some(c) = profile.and_then(|p| p.columns.get(column)) {
        values.insert("baseline_count", c.count() as f64);
    }
    Series::new(Labels::from([("column".to_string(), column.to_string())]), values, Some("no rows in the window".into()))
}

impl DriftCheck {
    /// The series of every column of `frame` against `profile`.
    pub fn compare(&self, frame: &DataFrame, profile: &Profile) -> Result<Vec<Series>, CheckError> {
        let mut out = Vec::with_capacity(self.columns.len());
        // Per series, the value `p_value` stands for (the first method's p-value).
        let mut first_p: Vec<Option<&'static str>> = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let err = |message: String| CheckError::Column { column: column.clone(), message };
            let base = profile.columns.get(column).ok_or_else(|| err("not in the baseline profile".into()))?;
            first_p.push(None);
            let labels = Labels::from([("column".to_string(), column.clone())]);
            let col = frame.column(column).map_err(|_| err("not in the source data".into()))?;
            let current = Current::from_column(col, base).map_err(err)?;
            let mut series = Series::new(labels, BTreeMap::new(), None);
            series.distribution = Some(std::sync::Arc::new(Distribution::of(base, &current)));
            series.values.insert("count", current.count() as f64);
            series.values.insert("dropped", current.dropped() as f64);
            if let Some(u) = compare::unseen_ratio(base, &current) {
                series.values.insert("unseen_ratio", u);
            }
            for (i, &requested) in self.methods.iter().enumerate() {
                let method = if requested == DriftMethod::Auto { choose(base, current.count()).0 } else { requested };
                match compare::compare(base, &current, method, profile.psi_epsilon) {
                    Ok(r) => {
                        let names = method.value_names();
                        series.values.insert(names[0], r.statistic);
                        match (method, r.p_value, r.raw) {
                            (_, Some(p), _) => series.values.insert(names[1], p),
                            (_, None, Some(raw)) => series.values.insert(names[1], raw),
                            _ => None,
                        };
                        if i == 0 {
                            series.values.insert("statistic", r.statistic);
                            if let Some(p) = r.p_value {
                                series.values.insert("p_value", p);
                                *first_p.last_mut().expect("pushed above") = Some(names[1]);
                            }
                        }
                    }
                    Err(e) => series.note = Some(e.to_string()),
                }
            }
            series.values.insert("baseline_count", base.count() as f64);
            if series.note.is_some() {
                series.values.retain(|k, _| matches!(*k, "count" | "dropped" | "baseline_count"));
            }
            out.push(series);
        }
        if self.correction != Correction::None {
            // One meaning everywhere (as in `mlwatch drift`): each method's
            // p-values are adjusted across the columns that method tested;
            // `p_value` is the first method's, so it follows that one.
            for name in ["ks_pvalue", "chi2_pvalue"] {
                let idx: Vec<usize> = (0..out.len()).filter(|&i| out[i].values.contains_key(name)).collect();
                let ps: Vec<f64> = idx.iter().map(|&i| out[i].values[name]).collect();
                for (&i, p) in idx.iter().zip(multiple::adjust(&ps, self.correction)) {
                    out[i].values.insert(name, p);
                }
            }
            for (series, name) in out.iter_mut().zip(&first_p) {
                if let Some(p) = name.and_then(|n| series.values.get(n).copied()) {
                    series.values.insert("p_value", p);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{BuildOptions, build_profile};

    fn check(yaml: &str) -> DriftCheck {
        let cfg: DriftConfig = serde_saphyr::from_str(yaml).unwrap();
        cfg.validate().unwrap()
    }

    #[test]
    fn same_data_shows_no_drift_and_shifted_data_does() {
        let base = df!("x" => (0..1000).map(|i| i as f64).collect::<Vec<_>>()).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let c = check("{columns: [x], method: [psi, ks, js, wasserstein]}");
        let same = c.compare(&base, &profile).unwrap();
        assert_eq!(same[0].values["psi"], 0.0);
        assert_eq!(same[0].values["ks_statistic"], 0.0);
        assert_eq!(same[0].values["js_distance"], 0.0);
        assert_eq!(same[0].values["wasserstein"], 0.0);
        let shifted = df!("x" => (0..1000).map(|i| i as f64 + 300.0).collect::<Vec<_>>()).unwrap();
        let drifted = c.compare(&shifted, &profile).unwrap();
        assert!(drifted[0].values["psi"] > 1.0);
        assert!((drifted[0].values["ks_statistic"] - 0.3).abs() < 1e-12);
        assert!((drifted[0].values["wasserstein_raw"] - 300.0).abs() < 1e-9);
        assert_eq!(drifted[0].values["statistic"], drifted[0].values["psi"]);
    }

    #[test]
    fn p_value_stays_the_first_methods_after_correction() {
        // Regression: the second method's adjusted p-value overwrote `p_value`.
        let base = df!("x" => (0..200).map(|i| i as f64).collect::<Vec<_>>(), "y" => (0..200).map(|i| (i * 7 % 200) as f64).collect::<Vec<_>>()).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let cur = df!("x" => (0..100).map(|i| i as f64 * 1.5).collect::<Vec<_>>(), "y" => (0..100).map(|i| i as f64 * 2.0).collect::<Vec<_>>()).unwrap();
        let out = check("{columns: [x, y], method: [ks, chi2], correction: bonferroni}").compare(&cur, &profile).unwrap();
        assert!(out.iter().any(|s| s.values["ks_pvalue"] != s.values["chi2_pvalue"]), "the methods disagree somewhere");
        for s in &out {
            assert_eq!(s.values["p_value"], s.values["ks_pvalue"]);
        }
    }

    #[test]
    fn categorical_columns_use_categories_and_count_unseen_values() {
        let base = df!("d" => ["ios", "android", "ios", "web"]).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let cur = df!("d" => ["ios", "ios", "tv", "tv"]).unwrap();
        let out = check("{columns: [d], method: [chi2, psi]}").compare(&cur, &profile).unwrap();
        assert_eq!(out[0].values["unseen_ratio"], 0.5);
        assert!(out[0].values["p_value"] < 1e-6);
        assert!(out[0].values["psi"] > 1.0);
    }

    #[test]
    fn no_rows_at_all_is_a_series_without_figures() {
        let base = df!("x" => [1.0, 2.0, 3.0]).unwrap();
        let baseline = crate::baseline::Baseline::of_profile(std::sync::Arc::new(build_profile(&base, "mem", &BuildOptions::default()).unwrap()));
        let meta = crate::sources::SourceMeta::default();
        let empty = DataFrame::empty();
        let cx = EvalContext { tenant: Some("acme"), baseline: Some(&baseline), ..EvalContext::new(&empty, &meta, chrono::DateTime::UNIX_EPOCH) };
        let out = check("{columns: [x]}").evaluate(&cx).unwrap();
        assert_eq!(out[0].values.get("baseline_count"), Some(&3.0));
        let cx = EvalContext { baseline: None, ..cx };
        let out = check("{columns: [x]}").evaluate(&cx).unwrap();
        assert_eq!(out[0].values.get("count"), Some(&0.0));
        assert!(!out[0].values.contains_key("statistic"));
    }

    #[test]
    fn empty_window_is_a_note_not_a_value() {
        let base = df!("x" => [1.0, 2.0, 3.0]).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let empty = df!("x" => [None::<f64>, None]).unwrap();
        let out = check("{columns: [x]}").compare(&empty, &profile).unwrap();
        assert!(!out[0].values.contains_key("psi") && !out[0].values.contains_key("statistic"));
        assert!(out[0].note.as_deref().unwrap().contains("not enough data"));
    }

    #[test]
    fn string_data_for_a_numeric_baseline_is_a_named_error() {
        let base = df!("x" => [1.0, 2.0]).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let cur = df!("x" => ["a", "b"]).unwrap();
        let err = check("{columns: [x]}").compare(&cur, &profile).unwrap_err().to_string();
        assert!(err.contains("column `x`: is str, but the baseline profiled it as numeric"), "{err}");
    }

    #[test]
    fn bonferroni_adjusts_p_value_across_columns() {
        let base = df!("x" => (0..200).map(|i| i as f64).collect::<Vec<_>>(), "y" => (0..200).map(|i| (i * 7 % 200) as f64).collect::<Vec<_>>()).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let cur = df!("x" => (0..100).map(|i| i as f64 * 1.5).collect::<Vec<_>>(), "y" => (0..100).map(|i| i as f64 * 2.0).collect::<Vec<_>>()).unwrap();
        let raw = check("{columns: [x, y], method: ks}").compare(&cur, &profile).unwrap();
        let adj = check("{columns: [x, y], method: ks, correction: bonferroni}").compare(&cur, &profile).unwrap();
        for (r, a) in raw.iter().zip(&adj) {
            assert!((a.values["p_value"] - (r.values["p_value"] * 2.0).min(1.0)).abs() < 1e-15);
            assert_eq!(a.values["ks_pvalue"], a.values["p_value"], "one meaning: every method's p-values are adjusted");
        }
    }
}
