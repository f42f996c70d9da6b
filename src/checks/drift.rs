//! The `drift` check: how far each column's current distribution is from the
//! baseline profile. Statistics come from `crate::stats`; nothing is computed here.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Deserializer};

use super::{CheckError, Series};
use crate::baseline::Profile;
use crate::stats::{self, CleanSample, ks, psi};

/// A drift test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftMethod {
    /// Population Stability Index over the baseline's quantile bins.
    Psi,
    /// Two-sample Kolmogorov–Smirnov test against the baseline's sample.
    Ks,
}

/// `check: { drift: ... }` as written in a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// Numeric columns to test.
    pub columns: Vec<String>,
    /// One method or a list; the first one's figures are also `statistic` and `p_value`.
    #[serde(default = "default_methods", deserialize_with = "one_or_many")]
    pub method: Vec<DriftMethod>,
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
}

impl DriftConfig {
    pub fn validate(&self) -> Result<DriftCheck, String> {
        if self.columns.is_empty() {
            return Err("drift: `columns` must name at least one column".into());
        }
        if self.method.is_empty() {
            return Err("drift: `method` must name at least one method".into());
        }
        let mut methods = self.method.clone();
        methods.dedup();
        Ok(DriftCheck { columns: self.columns.clone(), methods })
    }
}

impl DriftCheck {
    pub fn variables(&self) -> Vec<&'static str> {
        let mut v = vec!["statistic", "count", "baseline_count"];
        for m in &self.methods {
            match m {
                DriftMethod::Psi => v.push("psi"),
                DriftMethod::Ks => v.extend(["ks_statistic", "ks_pvalue"]),
            }
        }
        if self.methods[0] == DriftMethod::Ks {
            v.push("p_value");
        }
        v
    }

    pub fn fits_baseline(&self, profile: &Profile) -> Result<(), String> {
        for c in &self.columns {
            if profile.numeric(c).is_none() {
                let known: Vec<&str> = profile.columns.keys().map(String::as_str).collect();
                return Err(format!("column `{c}` is not in the baseline profile (it has: {})", known.join(", ")));
            }
        }
        Ok(())
    }

    pub fn evaluate(&self, frame: &DataFrame, profile: &Profile) -> Result<Vec<Series>, CheckError> {
        let mut out = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let base = profile.numeric(column).ok_or_else(|| CheckError::Column {
                column: column.clone(),
                message: "not in the baseline profile".into(),
            })?;
            let current = numeric_sample(frame, column)?;
            let mut series =
                Series { labels: BTreeMap::from([("column", column.clone())]), values: BTreeMap::new(), note: None };
            if current.values.is_empty() || base.count == 0 {
                let side = if base.count == 0 { "baseline" } else { "current window" };
                series.note = Some(format!("not enough data: no usable values in the {side}"));
                out.push(series);
                continue;
            }
            let sorted = stats::sorted(current.values);
            series.values.insert("count", sorted.len() as f64);
            series.values.insert("baseline_count", base.count as f64);
            for (i, method) in self.methods.iter().enumerate() {
                let (statistic, p_value) = match method {
                    DriftMethod::Psi => {
                        let counts = psi::bin_counts(&base.bin_edges, &sorted);
                        let v = psi::psi_from_counts(&base.bin_counts, &counts, profile.psi_epsilon)
                            .expect("both sides are non-empty");
                        series.values.insert("psi", v);
                        (v, None)
                    }
                    DriftMethod::Ks => {
                        let r = ks::ks_2samp(&base.sample, &sorted).map_err(|e| CheckError::Column {
                            column: column.clone(),
                            message: e.to_string(),
                        })?;
                        series.values.insert("ks_statistic", r.statistic);
                        series.values.insert("ks_pvalue", r.p_value);
                        (r.statistic, Some(r.p_value))
                    }
                };
                if i == 0 {
                    series.values.insert("statistic", statistic);
                    if let Some(p) = p_value {
                        series.values.insert("p_value", p);
                    }
                }
            }
            out.push(series);
        }
        Ok(out)
    }
}

/// The column's finite values, with nulls and NaN/inf counted.
fn numeric_sample(frame: &DataFrame, column: &str) -> Result<CleanSample, CheckError> {
    let err = |message: String| CheckError::Column { column: column.into(), message };
    let col = frame.column(column).map_err(|_| err("not in the source data".into()))?;
    if !col.dtype().is_primitive_numeric() {
        return Err(err(format!("is {}, expected a numeric column", col.dtype())));
    }
    let values = col.cast(&DataType::Float64).map_err(|e| err(e.to_string()))?;
    Ok(CleanSample::from_options(values.f64().expect("cast to f64").iter()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{BuildOptions, build_profile};

    fn check(methods: &str) -> DriftCheck {
        let cfg: DriftConfig = serde_saphyr::from_str(&format!("{{columns: [x], method: {methods}}}")).unwrap();
        cfg.validate().unwrap()
    }

    #[test]
    fn same_data_shows_no_drift_and_shifted_data_does() {
        let base = df!("x" => (0..1000).map(|i| i as f64).collect::<Vec<_>>()).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let c = check("[psi, ks]");
        let same = c.evaluate(&base, &profile).unwrap();
        assert_eq!(same[0].values["psi"], 0.0);
        assert_eq!(same[0].values["ks_statistic"], 0.0);
        let shifted = df!("x" => (0..1000).map(|i| i as f64 + 300.0).collect::<Vec<_>>()).unwrap();
        let drifted = c.evaluate(&shifted, &profile).unwrap();
        assert!(drifted[0].values["psi"] > 1.0);
        assert!((drifted[0].values["ks_statistic"] - 0.3).abs() < 1e-12);
        assert_eq!(drifted[0].values["statistic"], drifted[0].values["psi"]);
    }

    #[test]
    fn empty_window_is_a_note_not_a_value() {
        let base = df!("x" => [1.0, 2.0, 3.0]).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let empty = df!("x" => Vec::<f64>::new()).unwrap();
        let out = check("psi").evaluate(&empty, &profile).unwrap();
        assert!(out[0].values.is_empty());
        assert!(out[0].note.as_deref().unwrap().contains("not enough data"));
    }

    #[test]
    fn string_column_is_a_named_error() {
        let base = df!("x" => [1.0, 2.0]).unwrap();
        let profile = build_profile(&base, "mem", &BuildOptions::default()).unwrap();
        let cur = df!("x" => ["a", "b"]).unwrap();
        let err = check("psi").evaluate(&cur, &profile).unwrap_err().to_string();
        assert!(err.contains("column `x`: is str"), "{err}");
    }
}
