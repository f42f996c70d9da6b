//! The `slo` check: an SLI (good events / valid events) against an
//! objective over a period, per tenant and per the SLI's `by` fields, with
//! burn rates over the windows of multi-window alerting ([`windows`]).
//!
//! On a log source the counts come from the source's buckets; on a table
//! source (the `file` source) they are counted from the window's rows.

pub mod windows;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, Unit, ValueSpec};
use super::table;
use super::{CheckError, Series};
use crate::events::counts::Pair as Counted;
use crate::events::histogram::{self, BINS};
use crate::events::{Aggregates, Counts, Sli};
use crate::labels::Labels;
use crate::rules::expr::{self, Type};
use crate::sources::Source;
use windows::{AlertWindows, RawAlertWindows, label};

const fn value(name: &'static str, help: &'static str, unit: Unit, metric: Option<&'static str>) -> ValueSpec {
    ValueSpec { name, help, unit, metric }
}

pub const SPEC: CheckSpec = CheckSpec {
    kind: "slo",
    summary: "An SLI (good / valid events) against an objective, with burn rates over multi-window alerting pairs.",
    labels: &["window"],
    values: &[
        value("valid_events", "Valid events in the window.", Unit::Count, Some("mlwatch_slo_valid_events")),
        value("good_events", "Good events in the window.", Unit::Count, Some("mlwatch_slo_good_events")),
        value("sli_ratio", "Good / valid events in the window; absent when it had no valid events.", Unit::Ratio, Some("mlwatch_slo_sli_ratio")),
        value("burn_rate", "Error ratio in the window / error budget (1 − objective); 0 with no valid events.", Unit::None, Some("mlwatch_slo_burn_rate")),
        value("window_complete", "1 when the window starts at or after the series' first event, else 0 (an incomplete window cannot fire).", Unit::None, Some("mlwatch_slo_window_complete")),
        value("latency_p50", "Median of the latency field over the `latency_window` series.", Unit::None, Some("mlwatch_slo_latency_p50")),
        value("latency_p90", "90th percentile of the latency field over the `latency_window` series.", Unit::None, Some("mlwatch_slo_latency_p90")),
        value("latency_p99", "99th percentile of the latency field over the `latency_window` series.", Unit::None, Some("mlwatch_slo_latency_p99")),
        value("objective", "The objective as a ratio (period series).", Unit::Ratio, Some("mlwatch_slo_objective")),
        value("error_budget_remaining", "Share of the period's error budget left, 1 − error ratio / budget (period series); below 0 when overspent, 1 with no events.", Unit::Ratio, Some("mlwatch_slo_error_budget_remaining")),
        value("page", "1 when a page pair fires (both its windows burn faster than its factor, past the guards), else 0 (period series).", Unit::None, Some("mlwatch_slo_page")),
        value("ticket", "1 when a ticket pair fires, else 0 (period series).", Unit::None, Some("mlwatch_slo_ticket")),
        value("burn_rate_long", "Burn rate of the long window of the pair that fires (the page pair first), or of the pair nearest to firing (period series).", Unit::None, None),
        value("burn_rate_short", "Burn rate of that pair's short window (period series).", Unit::None, None),
        value("long_window_seconds", "That pair's long window (period series).", Unit::Seconds, None),
        value("short_window_seconds", "That pair's short window (period series).", Unit::Seconds, None),
        value("factor", "That pair's burn-rate factor (period series).", Unit::None, None),
        value("exhaustion_seconds", "Time until the budget is spent at `burn_rate_long`: remaining × period / burn rate; 0 once spent, absent at no burn (period series).", Unit::Seconds, Some("mlwatch_slo_budget_exhaustion_seconds")),
    ],
    primary: "burn_rate_long",
};

/// `check: { slo: ... }` as written in a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// Filter of good events, e.g. `status < 500`.
    pub good: String,
    /// Filter of the events that count; every event when absent.
    #[serde(default)]
    pub valid: Option<String>,
    /// Percent of valid events that must be good, e.g. `99.7`.
    pub objective: f64,
    /// The period the objective holds over (humantime), e.g. `30d`.
    pub period: String,
    /// Fields that split the SLI into series (labels), besides the tenant.
    #[serde(default)]
    pub by: Vec<String>,
    /// A numeric field whose p50/p90/p99 are reported, e.g. `latency_ms`.
    #[serde(default)]
    pub latency: Option<String>,
    /// The window those percentiles are of (humantime). Default `5m`, at most `1d`.
    #[serde(default)]
    pub latency_window: Option<String>,
    /// Valid events the long window needs before its pair may fire. Default 100.
    #[serde(default)]
    pub min_events: Option<u64>,
    /// Replace the default window pairs of `page` or `ticket`.
    #[serde(default)]
    pub windows: Option<RawAlertWindows>,
}

pub const DEFAULT_MIN_EVENTS: u64 = 100;
pub const DEFAULT_LATENCY_WINDOW: Duration = Duration::from_secs(300);

/// A validated slo check.
#[derive(Debug, Clone)]
pub struct SloCheck {
    sli: Sli,
    good: String,
    valid: Option<String>,
    /// As a ratio (0.997).
    objective: f64,
    period: Duration,
    windows: AlertWindows,
    latency_window: Duration,
    min_events: u64,
}

impl SloConfig {
    pub fn validate(&self) -> Result<SloCheck, String> {
        let good = expr::parse_filter(&self.good, &expr::any_field).map_err(|e| format!("slo: good: {e}"))?;
        let valid = match &self.valid {
            Some(v) => Some((expr::parse_filter(v, &expr::any_field).map_err(|e| format!("slo: valid: {e}"))?, v.as_str())),
            None => None,
        };
        if !(self.objective > 0.0 && self.objective < 100.0) {
            return Err(format!("slo: objective is a percentage between 0 and 100 (exclusive), e.g. 99.7; got {}", self.objective));
        }
        let period = crate::rules::schedule::parse_duration("slo: period", &self.period)?;
        if period < Duration::from_secs(3600) || period > Duration::from_secs(400 * 86_400) {
            return Err("slo: period must be between 1h and 400d".into());
        }
        let windows = AlertWindows::from_raw(&self.windows.clone().unwrap_or_default(), period).map_err(|e| format!("slo: {e}"))?;
        if windows.all().last().is_some_and(|w| *w > period) {
            return Err(format!("slo: the default window pairs reach back 3d, longer than the period {}: set `windows`", self.period));
        }
        let latency_window = match &self.latency_window {
            None => DEFAULT_LATENCY_WINDOW,
            Some(t) => crate::rules::schedule::parse_duration("slo: latency_window", t)?,
        };
        if latency_window.is_zero() || latency_window > crate::sources::log::LATENCY_KEPT {
            return Err("slo: latency_window must be greater than zero and at most 1d".into());
        }
        for f in &self.by {
            crate::rules::check_label_name(f).map_err(|e| format!("slo: by: `{f}` {e}"))?;
        }
        let sli = Sli::new(valid, (good, &self.good), self.by.clone(), self.latency.clone());
        Ok(SloCheck {
            sli,
            good: self.good.clone(),
            valid: self.valid.clone(),
            objective: self.objective / 100.0,
            period,
            windows,
            latency_window,
            min_events: self.min_events.unwrap_or(DEFAULT_MIN_EVENTS),
        })
    }
}

impl SloCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;

    fn budget(&self) -> f64 {
        1.0 - self.objective
    }

    /// Burn rate of `counts`: error ratio over the budget, 0 with no events.
    fn burn(&self, [valid, good]: Counted) -> f64 {
        if valid == 0 { 0.0 } else { (valid - good) as f64 / valid as f64 / self.budget() }
    }

    /// Every window reported: the pairs', the latency window and the period.
    fn reported_windows(&self) -> Vec<Duration> {
        let mut w = self.windows.all();
        w.push(self.latency_window);
        w.push(self.period);
        w.sort();
        w.dedup();
        w
    }
}

/// One series' buckets, possibly several series summed (all tenants).
struct Merged<'a> {
    parts: Vec<&'a Counts>,
}

impl Merged<'_> {
    fn sum(&self, lo: i64, hi: i64) -> Counted {
        self.parts.iter().fold([0, 0], |acc, c| {
            let s = c.sum(lo, hi);
            [acc[0] + s[0], acc[1] + s[1]]
        })
    }

    fn first(&self) -> Option<i64> {
        self.parts.iter().filter_map(|c| c.first()).min()
    }

    fn latency(&self, lo: i64, hi: i64) -> [u64; BINS] {
        let mut dense = [0u64; BINS];
        for c in &self.parts {
            for (d, x) in dense.iter_mut().zip(c.latency(lo, hi)) {
                *d += x;
            }
        }
        dense
    }
}

impl CheckKind for SloCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn columns(&self) -> Vec<String> {
        self.sli.fields().into_iter().map(String::from).collect()
    }

    fn slis(&self) -> Vec<&Sli> {
        vec![&self.sli]
    }

    fn recorded(&self, name: &str) -> bool {
        // Counts and completeness are recomputed from the buckets at will;
        // the rest draws the burn-down.
        !matches!(name, "valid_events" | "good_events" | "window_complete" | "long_window_seconds" | "short_window_seconds" | "factor" | "objective" | "rows" | "absent")
    }

    fn extra_labels(&self) -> Vec<String> {
        self.sli.by.clone()
    }

    fn fits_source(&self, source: &Source) -> Result<(), String> {
        match source {
            Source::File(f) if !f.has_timestamp() => Err("an slo check counts events in time: the source needs a `timestamp` column".into()),
            Source::File(_) => Ok(()),
            Source::Log(log) => {
                let typed = |name: &str| log.field_type(name);
                expr::parse_filter(&self.good, &typed).map_err(|e| format!("slo: good: {e}"))?;
                if let Some(v) = &self.valid {
                    expr::parse_filter(v, &typed).map_err(|e| format!("slo: valid: {e}"))?;
                }
                for f in &self.sli.by {
                    log.field_type(f).map_err(|e| format!("slo: by: {e}"))?;
                }
                if let Some(l) = &self.sli.latency
                    && typed(l)? != Type::Num
                {
                    return Err(format!("slo: latency: `{l}` must be a number field"));
                }
                if self.period > log.retention {
                    return Err(format!("slo: the period ({}) is longer than the log source's retention ({}): raise `retention`", label(self.period), label(log.retention)));
                }
                if let Some(w) = self.reported_windows().into_iter().find(|w| w.as_millis() % log.bucket.as_millis() != 0) {
                    return Err(format!("slo: window {} is not a whole number of the source's buckets ({})", label(w), label(log.bucket)));
                }
                Ok(())
            }
        }
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        let (agg, tenant) = table::buckets(cx, &[&self.sli])?;
        let agg: &Aggregates = &agg;
        let mut groups: BTreeMap<Vec<(String, String)>, Merged<'_>> = BTreeMap::new();
        let series: Vec<_> = match tenant {
            Some(t) => agg.series_of(self.sli.key(), t).collect(),
            None => agg.all_series_of(self.sli.key()).collect(),
        };
        for (id, counts) in series {
            groups.entry(id.by.clone()).or_insert_with(|| Merged { parts: Vec::new() }).parts.push(counts);
        }
        if groups.is_empty() {
            // No valid event yet: zeros, not NaN, and nothing can fire.
            let by = self.sli.by.iter().map(|f| (f.clone(), String::new())).collect();
            groups.insert(by, Merged { parts: Vec::new() });
        }
        let mut out = Vec::new();
        for (by, merged) in &groups {
            out.extend(self.series_of(agg.bucket_ms, cx.now.timestamp_millis(), by, merged));
        }
        Ok(out)
    }
}

impl SloCheck {
    /// The series of one `by` group at `now_ms`: one per window, the period's
    /// with the verdict.
    fn series_of(&self, bucket_ms: i64, now_ms: i64, by: &[(String, String)], m: &Merged<'_>) -> Vec<Series> {
        let ceil = |ms: i64| (ms + bucket_ms - 1).div_euclid(bucket_ms);
        let hi = ceil(now_ms);
        let lo_of = |w: Duration| ceil(now_ms.saturating_sub(w.as_millis() as i64));
        let first = m.first();
        let complete = |w: Duration| first.is_some_and(|f| lo_of(w) >= f);
        let counts = |w: Duration| m.sum(lo_of(w), hi);
        let labels = |w: Duration| {
            let mut l: Labels = by.iter().cloned().collect();
            l.insert("window".into(), label(w));
            l
        };
        let mut out = Vec::new();
        for w in self.reported_windows() {
            let c = counts(w);
            let mut values = BTreeMap::from([
                ("valid_events", c[0] as f64),
                ("good_events", c[1] as f64),
                ("burn_rate", self.burn(c)),
                ("window_complete", complete(w) as u8 as f64),
            ]);
            if c[0] > 0 {
                values.insert("sli_ratio", c[1] as f64 / c[0] as f64);
            }
            if w == self.latency_window && self.sli.latency.is_some() {
                let dense = m.latency(lo_of(w), hi);
                for (name, q) in [("latency_p50", 0.5), ("latency_p90", 0.9), ("latency_p99", 0.99)] {
                    if let Some(v) = histogram::quantile(&dense, q) {
                        values.insert(name, v);
                    }
                }
            }
            if w == self.period {
                self.verdict(&mut values, c, &|w| (counts(w), complete(w)));
            }
            let note = (c[0] == 0).then(|| "no valid events in the window".to_string());
            out.push(Series::new(labels(w), values, note));
        }
        out
    }

    /// The period series' values: budget, objective, and whether a pair fires.
    fn verdict(&self, values: &mut BTreeMap<&'static str, f64>, period: Counted, window: &dyn Fn(Duration) -> (Counted, bool)) {
        let remaining = 1.0 - self.burn(period);
        values.insert("objective", self.objective);
        values.insert("error_budget_remaining", remaining);
        // The pair that fires (page before ticket), else the one nearest to firing.
        let mut chosen: Option<(f64, windows::Pair, f64, f64)> = None;
        let mut fires = [false, false];
        for (severity, pairs) in [&self.windows.page, &self.windows.ticket].into_iter().enumerate() {
            for p in pairs {
                let ((long, complete), (short, _)) = (window(p.long), window(p.short));
                let (bl, bs) = (self.burn(long), self.burn(short));
                let fired = complete && long[0] >= self.min_events && bl > p.factor && bs > p.factor;
                fires[severity] |= fired;
                // Fired pairs rank above all others, earlier (page) ones first.
                let rank = if fired { f64::INFINITY } else { (bl / p.factor).min(bs / p.factor) };
                if chosen.as_ref().is_none_or(|(r, ..)| rank > *r) {
                    chosen = Some((rank, *p, bl, bs));
                }
            }
        }
        values.insert("page", fires[0] as u8 as f64);
        values.insert("ticket", fires[1] as u8 as f64);
        if let Some((_, p, bl, bs)) = chosen {
            values.insert("burn_rate_long", bl);
            values.insert("burn_rate_short", bs);
            values.insert("long_window_seconds", p.long.as_secs_f64());
            values.insert("short_window_seconds", p.short.as_secs_f64());
            values.insert("factor", p.factor);
            if remaining <= 0.0 {
                values.insert("exhaustion_seconds", 0.0);
            } else if bl > 0.0 {
                values.insert("exhaustion_seconds", remaining * self.period.as_secs_f64() / bl);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn check(yaml: &str) -> SloCheck {
        serde_saphyr::from_str::<SloConfig>(yaml).unwrap().validate().unwrap()
    }

    #[test]
    fn a_table_source_is_counted_per_window_and_by_field() {
        // 120 rows, one a minute up to now; every 10th of arm `t` fails.
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-02T02:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let ts: Vec<i64> = (0..120).map(|i| now.timestamp_millis() - (120 - i) * 60_000).collect();
        let arm: Vec<&str> = (0..120).map(|i| if i % 2 == 0 { "c" } else { "t" }).collect();
        let status: Vec<i64> = (0..120).map(|i| if i % 2 == 1 && i % 10 == 1 { 503 } else { 200 }).collect();
        let frame = df!("ts" => ts, "arm" => arm, "status" => status).unwrap();
        let c = check("{good: 'status < 500', objective: 99, period: 1d, by: [arm], min_events: 10, windows: {page: [{long: 1h, short: 30m, factor: 2}], ticket: []}}");
        let meta = crate::sources::SourceMeta { rows: 120, ..Default::default() };
        let cx = EvalContext { tenant: Some("acme"), timestamp_column: Some("ts"), ..EvalContext::new(&frame, &meta, now) };
        let out = c.evaluate(&cx).unwrap();
        let get = |arm: &str, window: &str| out.iter().find(|s| s.labels["arm"] == arm && s.labels["window"] == window).unwrap();
        // The last hour: 30 rows per arm; arm t has 6 failures (every 5th of its rows).
        assert_eq!((get("t", "1h").values["valid_events"], get("t", "1h").values["good_events"]), (30.0, 24.0));
        assert!((get("t", "1h").values["burn_rate"] - 20.0).abs() < 1e-9);
        assert_eq!(get("c", "1h").values["burn_rate"], 0.0);
        // The 1d period reaches before the first row: incomplete, but the
        // pair's 1h window is complete, and 3 of arm t's last 15 rows failed.
        assert_eq!(get("t", "1d").values["window_complete"], 0.0);
        assert_eq!(get("t", "1h").values["window_complete"], 1.0);
        assert_eq!(get("t", "1d").values["page"], 1.0);
        assert_eq!(get("c", "1d").values["page"], 0.0);
        assert!(get("c", "1d").values.get("exhaustion_seconds").is_none(), "no burn: no exhaustion, and no NaN");
    }

    #[test]
    fn zero_traffic_gives_zeros_not_nan() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let meta = crate::sources::SourceMeta::default();
        let empty = DataFrame::empty();
        let cx = EvalContext { tenant: Some("quiet"), timestamp_column: Some("ts"), ..EvalContext::new(&empty, &meta, now) };
        let out = check("{good: 'status < 500', objective: 99.7, period: 30d}").evaluate(&cx).unwrap();
        assert_eq!(out.len(), 8, "7 pair windows (the latency window is 5m, one of them) and the period");
        for s in &out {
            assert!(s.values.values().all(|v| v.is_finite()), "{s:?}");
            assert!(!s.values.contains_key("sli_ratio"));
            assert_eq!(s.values["burn_rate"], 0.0);
        }
        let period = out.iter().find(|s| s.labels["window"] == "30d").unwrap();
        assert_eq!((period.values["error_budget_remaining"], period.values["page"], period.values["ticket"]), (1.0, 0.0, 0.0));
    }

    #[test]
    fn bad_configurations_are_named() {
        let err = |yaml: &str| serde_saphyr::from_str::<SloConfig>(yaml).unwrap().validate().unwrap_err();
        assert!(err("{good: 'status <', objective: 99, period: 30d}").contains("good: unexpected end"));
        assert!(err("{good: 'status < 500', objective: 100, period: 30d}").contains("between 0 and 100"));
        assert!(err("{good: 'status < 500', objective: 99, period: 2d}").contains("reach back 3d"));
        assert!(err("{good: 'status < 500', objective: 99, period: 30d, by: [tenant]}").contains("set by mlwatch"));
    }
}
