//! Checks: what a rule computes over a source window and a baseline. A check
//! yields labelled series of named values (`psi{column="age"} = 0.31`); rules
//! decide what is wrong, the metrics module exports every value.

pub mod drift;

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use serde::Deserialize;

use crate::baseline::Profile;
pub use drift::{DriftCheck, DriftConfig, DriftMethod};

/// A check as written in a rule (`check: { drift: {...} }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckConfig {
    /// Distribution drift of columns against a baseline profile.
    Drift(DriftConfig),
}

/// A validated check.
#[derive(Debug, Clone)]
pub enum Check {
    Drift(DriftCheck),
}

/// One labelled series a check produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels that tell series of one check apart (e.g. `column`). Bounded: never ids.
    pub labels: BTreeMap<&'static str, String>,
    /// Named values. Empty when there was not enough data (see `note`).
    pub values: BTreeMap<&'static str, f64>,
    /// Why values are missing, when they are.
    pub note: Option<String>,
}

/// Why a check could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("column `{column}`: {message}")]
    Column { column: String, message: String },
    #[error("this check needs a baseline")]
    NoBaseline,
}

impl CheckConfig {
    pub fn validate(&self) -> Result<Check, String> {
        match self {
            CheckConfig::Drift(c) => c.validate().map(Check::Drift),
        }
    }
}

impl Check {
    /// The kind, as in config and metric names.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Drift(_) => "drift",
        }
    }

    /// Source columns the check reads.
    pub fn columns(&self) -> &[String] {
        match self {
            Check::Drift(c) => &c.columns,
        }
    }

    /// Names a `when` condition may use, each with a short description.
    pub fn variables(&self) -> Vec<&'static str> {
        match self {
            Check::Drift(c) => c.variables(),
        }
    }

    /// The value that `{{ value }}` in templates and an alert's value stand for.
    pub fn primary_value(&self) -> &'static str {
        match self {
            // The first method's statistic (PSI, or the KS statistic).
            Check::Drift(_) => "statistic",
        }
    }

    pub fn needs_baseline(&self) -> bool {
        matches!(self, Check::Drift(_))
    }

    /// Whether a baseline profile has what this check needs; the error names the gap.
    pub fn fits_baseline(&self, profile: &Profile) -> Result<(), String> {
        match self {
            Check::Drift(c) => c.fits_baseline(profile),
        }
    }

    pub fn evaluate(&self, frame: &DataFrame, baseline: Option<&Profile>) -> Result<Vec<Series>, CheckError> {
        match self {
            Check::Drift(c) => c.evaluate(frame, baseline.ok_or(CheckError::NoBaseline)?),
        }
    }
}
