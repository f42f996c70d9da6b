//! The `anomaly` check: a value of another check (a volume, a CTR, a
//! coverage, a latency: figures with no natural fixed threshold) against its
//! own recorded history, as a robust z-score — distance from the median of a
//! trailing window in units of 1.4826 × MAD — optionally against the same
//! hour of the week or day of the week only.
//!
//! The inner check runs as it would on its own; its value is recorded under
//! this rule (as `value`), which is the history the next evaluations read.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};
use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, SideRead, Unit, ValueSpec};
use super::{Check, CheckConfig, CheckError, Series};
use crate::events::Sli;
use crate::sources::Source;
use crate::stats::robust::{robust_score, seasonal_score};

pub const SPEC: CheckSpec = CheckSpec {
    kind: "anomaly",
    summary: "A value of another check against its own trailing history: a robust z-score (median and MAD), optionally seasonal.",
    labels: &[],
    values: &[
        ValueSpec { name: "value", help: "The watched value of the inner check now.", unit: Unit::None, metric: Some("mlwatch_anomaly_value") },
        ValueSpec { name: "anomaly_score", help: "(value − median) / (1.4826 × MAD): signed. Seasonal: the median of the same season's values, the MAD of every recorded value's deviation from its own season's median.", unit: Unit::None, metric: Some("mlwatch_anomaly_score") },
        ValueSpec { name: "median", help: "Median of the recorded values of the same season (all of the window's without seasonality).", unit: Unit::None, metric: Some("mlwatch_anomaly_median") },
        ValueSpec { name: "mad", help: "Median absolute deviation the score is measured in.", unit: Unit::None, metric: Some("mlwatch_anomaly_mad") },
        ValueSpec { name: "history_points", help: "Recorded values of the same season in the window (all of the window's without seasonality).", unit: Unit::Count, metric: Some("mlwatch_anomaly_history_points") },
    ],
    primary: "anomaly_score",
};

/// Which past values a value is compared with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seasonality {
    /// Every recorded value of the window.
    #[default]
    None,
    /// Those of the same day of the week (UTC).
    DayOfWeek,
    /// Those of the same hour of the same day of the week (UTC).
    HourOfWeek,
}

/// `check: { anomaly: { of: { volume: {} }, value: count, window: 28d, seasonality: hour_of_week } }`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyConfig {
    /// The check whose value is watched.
    pub of: Box<CheckConfig>,
    /// Which of its values.
    pub value: String,
    /// How far back the history reaches (humantime). Default `14d`.
    #[serde(default)]
    pub window: Option<String>,
    #[serde(default)]
    pub seasonality: Seasonality,
    /// Recorded values needed before a score is given. Default 12.
    #[serde(default)]
    pub min_history: Option<usize>,
}

pub const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(14 * 86_400);
pub const DEFAULT_MIN_HISTORY: usize = 12;

#[derive(Debug, Clone)]
pub struct AnomalyCheck {
    inner: Box<Check>,
    value: &'static str,
    window: chrono::Duration,
    seasonality: Seasonality,
    min_history: usize,
}

impl AnomalyConfig {
    pub fn validate(&self) -> Result<AnomalyCheck, String> {
        if matches!(*self.of, CheckConfig::Anomaly(_)) {
            return Err("anomaly: `of` is another kind of check, not an anomaly".into());
        }
        let inner = self.of.validate()?;
        let Some(value) = inner.kind().values().into_iter().find(|v| *v == self.value) else {
            let names = inner.kind().values().join(", ");
            return Err(format!("anomaly: value: `{}` is not a value of the {} check ({names})", self.value, inner.spec().kind));
        };
        let window = match &self.window {
            None => DEFAULT_WINDOW,
            Some(t) => crate::rules::schedule::parse_duration("anomaly: window", t)?,
        };
        if window.is_zero() || window > std::time::Duration::from_secs(400 * 86_400) {
            return Err("anomaly: window must be greater than zero and at most 400d".into());
        }
        let min_history = self.min_history.unwrap_or(DEFAULT_MIN_HISTORY);
        if min_history < 3 {
            return Err("anomaly: min_history must be at least 3 (a median and a spread need a few points)".into());
        }
        Ok(AnomalyCheck {
            inner: Box::new(inner),
            value,
            window: chrono::Duration::from_std(window).expect("bounded"),
            seasonality: self.seasonality,
            min_history,
        })
    }
}

impl AnomalyCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;

    /// The season of `t`: every time is one season without seasonality.
    fn season(&self, t: chrono::DateTime<chrono::Utc>) -> u32 {
        let day = t.weekday().num_days_from_monday();
        match self.seasonality {
            Seasonality::None => 0,
            Seasonality::DayOfWeek => day,
            Seasonality::HourOfWeek => day * 24 + t.hour(),
        }
    }
}

impl CheckKind for AnomalyCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn columns(&self) -> Vec<String> {
        self.inner.kind().columns()
    }

    fn recorded(&self, name: &str) -> bool {
        matches!(name, "value" | "anomaly_score")
    }

    fn slis(&self) -> Vec<&Sli> {
        self.inner.kind().slis()
    }

    fn side_reads(&self) -> Vec<SideRead> {
        self.inner.kind().side_reads()
    }

    fn extra_labels(&self) -> Vec<String> {
        let mut l: Vec<String> = self.inner.spec().labels.iter().map(|s| s.to_string()).collect();
        l.extend(self.inner.kind().extra_labels());
        l
    }

    fn fits_source(&self, source: &Source) -> Result<(), String> {
        self.inner.kind().fits_source(source)
    }

    fn needs_baseline(&self) -> bool {
        self.inner.kind().needs_baseline()
    }

    fn fits_baseline(&self, baseline: &crate::baseline::Profile) -> Result<(), String> {
        self.inner.kind().fits_baseline(baseline)
    }

    fn history_needed(&self) -> Option<chrono::Duration> {
        Some(self.window)
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        let mut out = Vec::new();
        for s in self.inner.kind().evaluate(cx)? {
            let mut values = BTreeMap::new();
            let Some(&x) = s.values.get(self.value) else {
                let note = s.note.unwrap_or_else(|| format!("the {} check gave no `{}`", self.inner.spec().kind, self.value));
                out.push(Series::new(s.labels, values, Some(note)));
                continue;
            };
            values.insert("value", x);
            let history: Vec<(u32, f64)> = cx
                .history
                .values(&s.labels, "value", cx.now - self.window)
                .into_iter()
                .filter(|p| p.at < cx.now && p.value.is_finite())
                .map(|p| (self.season(p.at), p.value))
                .collect();
            let season = self.season(cx.now);
            let same_season = history.iter().filter(|(s, _)| *s == season).count();
            values.insert("history_points", same_season as f64);
            let mut note = None;
            let scored = match self.seasonality {
                Seasonality::None => robust_score(&history.iter().map(|(_, v)| *v).collect::<Vec<_>>(), x),
                _ => seasonal_score(&history, season, x),
            };
            match scored.filter(|_| same_season >= self.min_history) {
                Some(r) => {
                    values.insert("anomaly_score", r.score);
                    values.insert("median", r.median);
                    values.insert("mad", r.mad);
                }
                None => note = Some(format!("{same_season} of the {} values needed recorded so far", self.min_history)),
            }
            out.push(Series::new(s.labels, values, note));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use chrono::{DateTime, Duration, Utc};
    use polars::prelude::DataFrame;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::checks::History;
    use crate::labels::Labels;
    use crate::sources::SourceMeta;
    use crate::state::HistoryPoint;

    /// The rule's recorded `value`s, as the engine would keep them.
    #[derive(Default)]
    struct Recorded(RefCell<Vec<HistoryPoint>>);

    impl History for Recorded {
        fn values(&self, _: &Labels, name: &str, since: DateTime<Utc>) -> Vec<HistoryPoint> {
            // Only `value` is recorded (the inner volume check asks for `count`).
            if name != "value" {
                return Vec::new();
            }
            self.0.borrow().iter().filter(|p| p.at >= since).cloned().collect()
        }
    }

    fn check(yaml: &str) -> AnomalyCheck {
        serde_saphyr::from_str::<AnomalyConfig>(yaml).unwrap().validate().unwrap()
    }

    /// Evaluate hourly over `series` (the rows of each hour, from a Monday),
    /// recording each value; the scores in order.
    fn run(c: &AnomalyCheck, series: &[f64]) -> Vec<Option<f64>> {
        let start = DateTime::parse_from_rfc3339("2026-09-07T00:00:00Z").unwrap().with_timezone(&Utc);
        let history = Recorded::default();
        let frame = DataFrame::empty();
        let mut scores = Vec::new();
        for (i, &rows) in series.iter().enumerate() {
            let now = start + Duration::hours(i as i64);
            let meta = SourceMeta { rows: rows.max(0.0) as u64, ..Default::default() };
            let cx = EvalContext { tenant: Some("acme"), history: &history, ..EvalContext::new(&frame, &meta, now) };
            let s = c.evaluate(&cx).unwrap().remove(0);
            history.0.borrow_mut().push(HistoryPoint { at: now, value: s.values["value"] });
            scores.push(s.values.get("anomaly_score").copied());
        }
        scores
    }

    /// Hourly traffic with a daily cycle, quieter weekends, and noise.
    fn traffic(hours: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let noise = Normal::new(0.0, 25.0).unwrap();
        (0..hours)
            .map(|h| {
                let daily = 1000.0 + 400.0 * (std::f64::consts::TAU * (h % 24) as f64 / 24.0).sin();
                let weekend = if (h / 24) % 7 >= 5 { 0.7 } else { 1.0 };
                (daily * weekend + noise.sample(&mut rng)).round()
            })
            .collect()
    }

    const SEASONAL: &str = "{ of: { volume: {} }, value: count, window: 42d, seasonality: hour_of_week, min_history: 5 }";

    #[test]
    fn a_level_shift_fires_within_two_points() {
        let c = check(SEASONAL);
        let mut series = traffic(24 * 7 * 8, 1);
        let shift_at = 24 * 7 * 7 + 30; // a Tuesday, 06:00, in the eighth week
        for x in &mut series[shift_at..] {
            *x *= 0.6;
        }
        let scores = run(&c, &series);
        let first = (shift_at..series.len()).find(|&i| scores[i].is_some_and(|s| s < -5.0)).expect("the drop is caught");
        assert!(first - shift_at < 2, "caught {} points after the shift", first - shift_at);
    }

    #[test]
    fn a_noisy_seasonal_series_rarely_fires() {
        // Six weeks of history per hour of the week: with |score| > 5 as the
        // condition, stationary data may fire on at most 1% of points.
        let c = check(SEASONAL);
        let mut fired = 0;
        let mut scored = 0;
        for seed in 0..4 {
            for s in run(&c, &traffic(24 * 7 * 12, 100 + seed)).into_iter().flatten() {
                scored += 1;
                fired += (s.abs() > 5.0) as usize;
            }
        }
        assert!(scored > 4 * 24 * 7 * 6, "{scored} points scored");
        assert!((fired as f64) < 0.01 * scored as f64, "{fired} of {scored} points fired");
    }

    #[test]
    fn nothing_is_scored_before_min_history_and_bad_configs_are_named() {
        let c = check("{ of: { volume: {} }, value: count, min_history: 5 }");
        let scores = run(&c, &[10.0; 8]);
        assert!(scores[..5].iter().all(Option::is_none) && scores[5..].iter().all(Option::is_some), "{scores:?}");
        let err = |yaml: &str| serde_saphyr::from_str::<AnomalyConfig>(yaml).unwrap().validate().unwrap_err();
        assert!(err("{ of: { volume: {} }, value: counts }").contains("`counts` is not a value of the volume check"));
        assert!(err("{ of: { anomaly: { of: { volume: {} }, value: count } }, value: value }").contains("not an anomaly"));
        assert!(err("{ of: { volume: {} }, value: count, min_history: 2 }").contains("at least 3"));
    }
}
