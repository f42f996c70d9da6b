//! The `freshness` check: how old the newest data of a tenant is. A tenant
//! whose daily partition did not arrive, or whose events stopped, ages here:
//! this is how a stalled batch pipeline shows.
//!
//! When the window holds nothing of the tenant, the newest time recorded by
//! an earlier evaluation (the rule's history) is aged on, so the age keeps
//! growing however short the window is.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, Unit, ValueSpec};
use super::{CheckError, Series};
use crate::labels::Labels;
use crate::sources::Source;

pub const SPEC: CheckSpec = CheckSpec {
    kind: "freshness",
    summary: "Age of the tenant's newest data: event time, partition date or file modification time.",
    labels: &[],
    values: &[
        ValueSpec { name: "age_seconds", help: "Now minus the newest data's time (from the rule's history when the window has none).", unit: Unit::Seconds, metric: Some("mlwatch_freshness_age_seconds") },
        ValueSpec { name: "newest_timestamp_seconds", help: "Unix time of the newest data.", unit: Unit::Seconds, metric: Some("mlwatch_freshness_newest_timestamp_seconds") },
    ],
    primary: "age_seconds",
};

/// Where the newest time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum From {
    /// The newest event time among the rows (the source's `timestamp`; a log source's newest line).
    #[default]
    Timestamp,
    /// The newest partition's date from the path's date parts (its start: `2026-11-04` is 00:00 that day).
    Partition,
    /// The newest modification time of the files read.
    Modified,
}

/// `check: { freshness: { from: partition } }`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshnessConfig {
    #[serde(default)]
    pub from: From,
}

#[derive(Debug, Clone)]
pub struct FreshnessCheck {
    from: From,
}

impl FreshnessConfig {
    pub fn validate(&self) -> Result<FreshnessCheck, String> {
        Ok(FreshnessCheck { from: self.from })
    }
}

impl FreshnessCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;
}

/// How far back the history is searched for the newest time seen.
const HISTORY: Duration = Duration::days(400);

impl CheckKind for FreshnessCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn columns(&self) -> Vec<String> {
        Vec::new()
    }

    fn fits_source(&self, source: &Source) -> Result<(), String> {
        match (self.from, source) {
            (From::Timestamp, s) if !s.has_timestamp() => Err("freshness `from: timestamp` needs the source's `timestamp` column".into()),
            (From::Partition, Source::File(f)) if !f.has_date_parts() => Err("freshness `from: partition` needs date parts in the source's path (`{date}`, `{year}/{month}/{day}`)".into()),
            (From::Partition | From::Modified, Source::Log(_)) => Err("a log source's freshness is its newest line: use `from: timestamp`".into()),
            _ => Ok(()),
        }
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        let seen = match self.from {
            From::Timestamp => cx.source.newest,
            From::Partition => cx.source.partition,
            From::Modified => cx.source.modified,
        };
        let labels = Labels::new();
        let remembered = || {
            let points = cx.history.values(&labels, "newest_timestamp_seconds", cx.now - HISTORY);
            points.iter().map(|p| p.value).filter(|v| v.is_finite()).fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        };
        let newest = match seen {
            Some(t) => Some(t.timestamp_millis() as f64 / 1000.0),
            None => remembered(),
        };
        let mut values = BTreeMap::new();
        let mut note = None;
        match newest {
            Some(n) => {
                values.insert("newest_timestamp_seconds", n);
                values.insert("age_seconds", (cx.now.timestamp_millis() as f64 / 1000.0 - n).max(0.0));
            }
            None => note = Some("no data seen yet".to_string()),
        }
        Ok(vec![Series::new(labels, values, note)])
    }
}

