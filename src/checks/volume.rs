//! The `volume` check: rows (or events) in the window against what the
//! tenant had in the same window a week earlier (from the rule's history),
//! or against its baseline. Comparing with the same window of the week
//! before takes weekly seasonality in: a quiet Saturday is compared with the
//! Saturday before, not with a busy Friday.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};
use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, Unit, ValueSpec};
use super::{CheckError, Series};
use crate::labels::Labels;

pub const SPEC: CheckSpec = CheckSpec {
    kind: "volume",
    summary: "Rows or events in the window against the same window a week earlier, or the baseline.",
    labels: &[],
    values: &[
        ValueSpec { name: "count", help: "Rows (or log events) of the tenant in the window.", unit: Unit::Count, metric: Some("mlwatch_volume_count") },
        ValueSpec { name: "expected", help: "The count to compare with: the rule's `count` one `offset` earlier, or the baseline's rows.", unit: Unit::Count, metric: Some("mlwatch_volume_expected") },
        ValueSpec { name: "ratio", help: "count / expected; absent while nothing is expected (no history yet, or 0).", unit: Unit::Ratio, metric: Some("mlwatch_volume_ratio") },
        ValueSpec { name: "hour", help: "Hour of the evaluation (UTC, 0-23), to keep nights out of a condition.", unit: Unit::None, metric: None },
        ValueSpec { name: "weekday", help: "Day of the week of the evaluation (UTC, Monday 0 … Sunday 6).", unit: Unit::None, metric: None },
    ],
    primary: "ratio",
};

/// What the count is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// The baseline's rows (give the baseline the group's window length).
    Baseline,
}

/// `check: { volume: { offset: 7d } }` or `{ volume: { compare: baseline } }`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeConfig {
    /// How far back the window compared with is (humantime). Default `7d`.
    #[serde(default)]
    pub offset: Option<String>,
    /// `baseline` to compare with the baseline's rows instead.
    #[serde(default)]
    pub compare: Option<Compare>,
}

#[derive(Debug, Clone)]
pub struct VolumeCheck {
    /// `None`: compare with the baseline.
    offset: Option<chrono::Duration>,
}

pub const DEFAULT_OFFSET: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// How far from exactly `offset` ago a recorded count may be and still be compared with.
const TOLERANCE: chrono::Duration = chrono::Duration::minutes(30);

impl VolumeConfig {
    pub fn validate(&self) -> Result<VolumeCheck, String> {
        let offset = match (&self.compare, &self.offset) {
            (Some(_), Some(_)) => return Err("volume: set `offset` or `compare: baseline`, not both".into()),
            (Some(Compare::Baseline), None) => None,
            (None, text) => {
                let d = match text {
                    Some(t) => crate::rules::schedule::parse_duration("volume: offset", t)?,
                    None => DEFAULT_OFFSET,
                };
                if d.is_zero() || d > std::time::Duration::from_secs(366 * 86_400) {
                    return Err("volume: offset must be greater than zero and at most 366d".into());
                }
                Some(chrono::Duration::from_std(d).expect("bounded"))
            }
        };
        Ok(VolumeCheck { offset })
    }
}

impl VolumeCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;
}

impl CheckKind for VolumeCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn columns(&self) -> Vec<String> {
        Vec::new()
    }

    fn needs_baseline(&self) -> bool {
        self.offset.is_none()
    }

    fn history_needed(&self) -> Option<chrono::Duration> {
        self.offset.map(|o| o + TOLERANCE)
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        let labels = Labels::new();
        let count = cx.source.rows as f64;
        let expected = match self.offset {
            None => Some(cx.baseline.ok_or(CheckError::NoBaseline)?.profile.rows as f64),
            Some(offset) => {
                // The count recorded nearest to one offset ago.
                let target = cx.now - offset;
                cx.history
                    .values(&labels, "count", target - TOLERANCE)
                    .into_iter()
                    .filter(|p| (p.at - target).abs() <= TOLERANCE)
                    .min_by_key(|p| (p.at - target).abs())
                    .map(|p| p.value)
            }
        };
        let mut values = BTreeMap::from([
            ("count", count),
            ("hour", cx.now.hour() as f64),
            ("weekday", cx.now.weekday().num_days_from_monday() as f64),
        ]);
        let mut note = None;
        match expected {
            Some(e) => {
                values.insert("expected", e);
                if e > 0.0 {
                    values.insert("ratio", count / e);
                }
            }
            None => note = Some("nothing to compare with yet: no count recorded one offset ago".to_string()),
        }
        Ok(vec![Series::new(labels, values, note)])
    }
}
