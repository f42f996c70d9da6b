//! The `ab` check: the health of an A/B split. Sample ratio mismatch (arm
//! counts against the declared split), each arm's ratio metric (CTR) against
//! control's with a two-proportion z-test, and arms that stop receiving
//! traffic. Counts come from a log source's buckets, or from a table's rows.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::Deserialize;

use super::contract::{CheckKind, CheckSpec, EvalContext, Unit, ValueSpec};
use super::{CheckError, Series, table};
use crate::events::sli::label_value;
use crate::events::{Aggregates, Sli};
use crate::labels::Labels;
use crate::rules::expr;
use crate::sources::Source;
use crate::stats::ab::{srm, two_proportions};

const fn value(name: &'static str, help: &'static str, unit: Unit, metric: Option<&'static str>) -> ValueSpec {
    ValueSpec { name, help, unit, metric }
}

pub const SPEC: CheckSpec = CheckSpec {
    kind: "ab",
    summary: "An A/B split: sample ratio mismatch against the declared split, each arm's ratio metric against control, lost traffic.",
    // `arm` is a label of every series, but not reserved: an SLO may split by
    // a field of that name too (it is in `extra_labels`).
    labels: &[],
    values: &[
        value("units", "Units (exposures, or distinct users) of the arm in the window; on the `arm=\"all\"` series, of every arm.", Unit::Count, Some("mlwatch_ab_units")),
        value("undeclared_units", "Units of arms the split does not declare (`arm=\"all\"` series); they are left out of the test.", Unit::Count, Some("mlwatch_ab_undeclared_units")),
        value("srm_chi2", "Chi-square statistic of the declared arms' units against the split (`arm=\"all\"` series).", Unit::None, Some("mlwatch_ab_srm_chi2")),
        value("srm_p_value", "P-value of the sample ratio mismatch test (`arm=\"all\"` series).", Unit::Probability, Some("mlwatch_ab_srm_p_value")),
        value("srm_ready", "1 when every declared arm has `min_per_arm` units, else 0 (`arm=\"all\"` series).", Unit::None, Some("mlwatch_ab_srm_ready")),
        value("srm", "1 when ready and the p-value is below `srm_alpha` (default 0.001), else 0 (`arm=\"all\"` series).", Unit::None, Some("mlwatch_ab_srm")),
        value("expected_share", "The arm's share of the declared split.", Unit::Ratio, Some("mlwatch_ab_expected_share")),
        value("observed_share", "The arm's share of the declared arms' units.", Unit::Ratio, Some("mlwatch_ab_observed_share")),
        value("exposures", "Exposure events of the arm in the window.", Unit::Count, Some("mlwatch_ab_exposures")),
        value("successes", "Success events (e.g. clicks) of the arm in the window.", Unit::Count, Some("mlwatch_ab_successes")),
        value("success_ratio", "successes / exposures (e.g. CTR).", Unit::Ratio, Some("mlwatch_ab_success_ratio")),
        value("diff", "The arm's success ratio − control's.", Unit::None, Some("mlwatch_ab_diff")),
        value("diff_low", "Lower end of diff's two-sided interval at 1 − alpha (unpooled standard error).", Unit::None, Some("mlwatch_ab_diff_low")),
        value("diff_high", "Upper end of that interval.", Unit::None, Some("mlwatch_ab_diff_high")),
        value("lift", "The arm's success ratio / control's − 1.", Unit::Ratio, Some("mlwatch_ab_lift")),
        value("z", "Two-proportion z statistic of the arm against control (pooled standard error).", Unit::None, Some("mlwatch_ab_z")),
        value("p_worse", "One-sided p-value that the arm's ratio is lower than control's.", Unit::Probability, Some("mlwatch_ab_p_worse")),
        value("worse", "1 when both arms have `min_per_arm` exposures, the arm is lower than control by more than `min_drop` and p_worse < alpha, else 0.", Unit::None, Some("mlwatch_ab_worse")),
        value("recent_exposures", "Exposures of the arm in the last `loss_window`.", Unit::Count, Some("mlwatch_ab_recent_exposures")),
        value("traffic_lost", "1 when the arm had no exposure in the last `loss_window` though its share of the others' would be at least 14 (a chance below 1e-6), else 0.", Unit::None, Some("mlwatch_ab_traffic_lost")),
    ],
    primary: "srm_p_value",
};

/// What the sample ratio test counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    /// Exposure events (requests, impressions).
    Requests,
    /// Distinct users among the exposures (table sources only).
    Users,
}

/// `check: { ab: { arm: arm, split: { control: 50, treatment: 50 }, ... } }`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbConfig {
    /// The field (or column) naming the arm.
    pub arm: String,
    /// Every arm and its weight, e.g. `{ control: 50, treatment: 50 }`.
    pub split: BTreeMap<String, f64>,
    /// The arm others are compared with. Default `control`.
    #[serde(default)]
    pub control: Option<String>,
    /// Filter of exposure events; every event when absent.
    #[serde(default)]
    pub exposure: Option<String>,
    /// Filter of success events (e.g. `event == 'click'`): the ratio metric.
    #[serde(default)]
    pub success: Option<String>,
    /// `requests` (default) or `users`.
    #[serde(default)]
    pub unit: Option<Counted>,
    /// The user field, for `unit: users`.
    #[serde(default)]
    pub user: Option<String>,
    /// Units every arm needs before the split or an arm can be judged. Default 100.
    #[serde(default)]
    pub min_per_arm: Option<u64>,
    /// Significance of the sample ratio mismatch test. Default 0.001.
    #[serde(default)]
    pub srm_alpha: Option<f64>,
    /// Significance of an arm's ratio being worse. Default 0.05.
    #[serde(default)]
    pub alpha: Option<f64>,
    /// The relative drop below control's ratio that counts as worse, e.g. 0.1. Default 0.
    #[serde(default)]
    pub min_drop: Option<f64>,
    /// How recent traffic must be for an arm to count as receiving it (humantime). Default `15m`.
    #[serde(default)]
    pub loss_window: Option<String>,
}

pub const DEFAULT_MIN_PER_ARM: u64 = 100;
pub const DEFAULT_SRM_ALPHA: f64 = 0.001;
pub const DEFAULT_ALPHA: f64 = 0.05;
pub const DEFAULT_LOSS_WINDOW: Duration = Duration::from_secs(900);
/// Expected exposures above which seeing none is a lost arm: P(0 | Poisson(14)) < 1e-6.
const LOSS_EXPECTED: f64 = 14.0;
/// The label value of the series that holds the split's test.
pub const ALL_ARMS: &str = "all";

#[derive(Debug, Clone)]
pub struct AbCheck {
    arm: String,
    /// Declared arms and weights, control first.
    split: Vec<(String, f64)>,
    exposures: Sli,
    successes: Option<Sli>,
    filters: Vec<(&'static str, String)>,
    users: Option<String>,
    min_per_arm: u64,
    srm_alpha: f64,
    alpha: f64,
    min_drop: f64,
    loss_window: Duration,
}

fn probability(name: &str, v: Option<f64>, default: f64) -> Result<f64, String> {
    let p = v.unwrap_or(default);
    if p > 0.0 && p < 1.0 { Ok(p) } else { Err(format!("ab: {name} must be between 0 and 1 (exclusive), got {p}")) }
}

impl AbConfig {
    pub fn validate(&self) -> Result<AbCheck, String> {
        if self.arm.is_empty() {
            return Err("ab: arm: name the field that holds the arm".into());
        }
        let control = self.control.clone().unwrap_or_else(|| "control".into());
        if self.split.len() < 2 {
            return Err("ab: split declares at least two arms, e.g. { control: 50, treatment: 50 }".into());
        }
        if let Some((arm, w)) = self.split.iter().find(|(_, w)| !(w.is_finite() && **w > 0.0)) {
            return Err(format!("ab: split: arm `{arm}` needs a positive weight, got {w}"));
        }
        if self.split.contains_key(ALL_ARMS) {
            return Err(format!("ab: split: `{ALL_ARMS}` names the series of the whole split; rename the arm"));
        }
        let Some(&control_weight) = self.split.get(&control) else {
            let arms: Vec<&str> = self.split.keys().map(String::as_str).collect();
            return Err(format!("ab: control arm `{control}` is not in the split ({}); set `control`", arms.join(", ")));
        };
        let mut split = vec![(control.clone(), control_weight)];
        split.extend(self.split.iter().filter(|(a, _)| **a != control).map(|(a, w)| (a.clone(), *w)));
        let yes = || expr::parse_filter("true", &expr::any_field).expect("a literal");
        let filter = |name: &str, text: &str| expr::parse_filter(text, &expr::any_field).map_err(|e| format!("ab: {name}: {e}"));
        let exposure = match &self.exposure {
            Some(t) => Some((filter("exposure", t)?, t.as_str())),
            None => None,
        };
        let exposures = Sli::new(exposure, (yes(), "true"), vec![self.arm.clone()], None);
        let successes = match &self.success {
            Some(t) => Some(Sli::new(Some((filter("success", t)?, t.as_str())), (yes(), "true"), vec![self.arm.clone()], None)),
            None => None,
        };
        let mut filters = Vec::new();
        filters.extend(self.exposure.iter().map(|t| ("exposure", t.clone())));
        filters.extend(self.success.iter().map(|t| ("success", t.clone())));
        let users = match (self.unit.unwrap_or(Counted::Requests), &self.user) {
            (Counted::Requests, None) => None,
            (Counted::Requests, Some(_)) => return Err("ab: `user` is for `unit: users`".into()),
            (Counted::Users, None) => return Err("ab: `unit: users` needs `user`: the field naming the user".into()),
            (Counted::Users, Some(u)) => Some(u.clone()),
        };
        let loss_window = match &self.loss_window {
            None => DEFAULT_LOSS_WINDOW,
            Some(t) => crate::rules::schedule::parse_duration("ab: loss_window", t)?,
        };
        if loss_window.is_zero() {
            return Err("ab: loss_window must be greater than zero".into());
        }
        let min_drop = self.min_drop.unwrap_or(0.0);
        if !(0.0..1.0).contains(&min_drop) {
            return Err(format!("ab: min_drop is a relative drop between 0 and 1, got {min_drop}"));
        }
        Ok(AbCheck {
            arm: self.arm.clone(),
            split,
            exposures,
            successes,
            filters,
            users,
            min_per_arm: self.min_per_arm.unwrap_or(DEFAULT_MIN_PER_ARM),
            srm_alpha: probability("srm_alpha", self.srm_alpha, DEFAULT_SRM_ALPHA)?,
            alpha: probability("alpha", self.alpha, DEFAULT_ALPHA)?,
            min_drop,
            loss_window,
        })
    }
}

/// Counts of one arm.
#[derive(Debug, Default, Clone, Copy)]
struct Arm {
    units: u64,
    exposures: u64,
    successes: u64,
    recent: u64,
}

impl AbCheck {
    pub const SPEC: &'static CheckSpec = &SPEC;

    /// Valid events per arm of `sli` in buckets `[lo, hi)`.
    fn per_arm(&self, agg: &Aggregates, sli: &Sli, tenant: Option<&str>, lo: i64, hi: i64) -> BTreeMap<String, u64> {
        let series: Vec<_> = match tenant {
            Some(t) => agg.series_of(sli.key(), t).collect(),
            None => agg.all_series_of(sli.key()).collect(),
        };
        let mut out = BTreeMap::new();
        for (id, counts) in series {
            let arm = id.by.first().map(|(_, v)| v.clone()).unwrap_or_default();
            *out.entry(arm).or_default() += counts.sum(lo, hi)[0];
        }
        out
    }

    /// Distinct users among the window's exposure rows, per arm.
    fn users_per_arm(&self, cx: &EvalContext<'_>, user: &str, from_ms: i64, to_ms: i64) -> Result<BTreeMap<String, u64>, CheckError> {
        let mut names: Vec<&str> = self.exposures.fields();
        names.push(user);
        names.sort_unstable();
        names.dedup();
        let mut seen: BTreeMap<String, HashSet<String>> = BTreeMap::new();
        table::for_each_event(cx.frame, &names, cx.timestamp_column, &mut |ev| {
            if ev.at_ms < from_ms || ev.at_ms >= to_ms || self.exposures.classify(ev).is_none() {
                return;
            }
            let (Some(arm), Some(u)) = (ev.field(&self.arm), ev.field(user)) else { return };
            seen.entry(label_value(arm)).or_default().insert(label_value(u));
        })?;
        Ok(seen.into_iter().map(|(a, s)| (a, s.len() as u64)).collect())
    }
}

impl CheckKind for AbCheck {
    fn spec(&self) -> &'static CheckSpec {
        &SPEC
    }

    fn values(&self) -> Vec<&'static str> {
        let ratio = ["successes", "success_ratio", "diff", "diff_low", "diff_high", "lift", "z", "p_worse", "worse"];
        SPEC.values.iter().map(|v| v.name).filter(|n| self.successes.is_some() || !ratio.contains(n)).collect()
    }

    fn columns(&self) -> Vec<String> {
        let mut c: Vec<String> = self.slis().iter().flat_map(|s| s.fields()).map(String::from).collect();
        c.extend(self.users.iter().cloned());
        c.sort();
        c.dedup();
        c
    }

    fn extra_labels(&self) -> Vec<String> {
        vec!["arm".to_string()]
    }

    fn slis(&self) -> Vec<&Sli> {
        let mut s = vec![&self.exposures];
        s.extend(self.successes.as_ref());
        s
    }

    fn fits_source(&self, source: &Source) -> Result<(), String> {
        match source {
            Source::File(f) if !f.has_timestamp() => Err("an ab check counts events in time: the source needs a `timestamp` column".into()),
            Source::File(_) => Ok(()),
            Source::Log(log) => {
                if self.users.is_some() {
                    return Err("ab: `unit: users` counts distinct users, which a log source does not keep (it counts events): use `unit: requests`, or a `file` source".into());
                }
                let typed = |name: &str| log.field_type(name);
                for (name, text) in &self.filters {
                    expr::parse_filter(text, &typed).map_err(|e| format!("ab: {name}: {e}"))?;
                }
                log.field_type(&self.arm).map_err(|e| format!("ab: arm: {e}"))?;
                Ok(())
            }
        }
    }

    fn evaluate(&self, cx: &EvalContext<'_>) -> Result<Vec<Series>, CheckError> {
        let (agg, tenant) = table::buckets(cx, &self.slis())?;
        let agg: &Aggregates = &agg;
        let bucket = agg.bucket_ms;
        let ceil = |ms: i64| (ms + bucket - 1).div_euclid(bucket);
        let now_ms = cx.now.timestamp_millis();
        let (hi, lo) = (ceil(now_ms), cx.window.map_or(i64::MIN, |w| ceil(w.start.timestamp_millis())));
        let recent_lo = ceil(now_ms - self.loss_window.as_millis() as i64);
        let exposures = self.per_arm(agg, &self.exposures, tenant, lo, hi);
        let recent = self.per_arm(agg, &self.exposures, tenant, recent_lo, hi);
        let successes = self.successes.as_ref().map(|s| self.per_arm(agg, s, tenant, lo, hi));
        let units = match &self.users {
            None => exposures.clone(),
            Some(u) => self.users_per_arm(cx, u, lo.saturating_mul(bucket), hi.saturating_mul(bucket))?,
        };
        let get = |m: &BTreeMap<String, u64>, arm: &str| m.get(arm).copied().unwrap_or(0);
        let arms: Vec<Arm> = self
            .split
            .iter()
            .map(|(a, _)| Arm {
                units: get(&units, a),
                exposures: get(&exposures, a),
                successes: successes.as_ref().map_or(0, |s| get(s, a)),
                recent: get(&recent, a),
            })
            .collect();
        let declared: u64 = arms.iter().map(|a| a.units).sum();
        let all_units: u64 = units.values().sum();
        let weights: Vec<f64> = self.split.iter().map(|(_, w)| *w).collect();
        let total_weight: f64 = weights.iter().sum();
        let ready = arms.iter().all(|a| a.units >= self.min_per_arm);

        let mut out = Vec::new();
        let mut all = BTreeMap::from([("units", all_units as f64), ("undeclared_units", (all_units - declared) as f64), ("srm_ready", ready as u8 as f64)]);
        let mut note = None;
        match srm(&arms.iter().map(|a| a.units).collect::<Vec<_>>(), &weights) {
            Ok(r) => {
                all.insert("srm_chi2", r.statistic);
                all.insert("srm_p_value", r.p_value);
                all.insert("srm", (ready && r.p_value < self.srm_alpha) as u8 as f64);
            }
            Err(_) => {
                all.insert("srm", 0.0);
                note = Some("no units in the window".to_string());
            }
        }
        out.push(Series::new(Labels::from([("arm".to_string(), ALL_ARMS.to_string())]), all, note));

        let recent_total: u64 = arms.iter().map(|a| a.recent).sum();
        let control = arms[0];
        for (i, ((name, weight), arm)) in self.split.iter().zip(&arms).enumerate() {
            let share = weight / total_weight;
            let mut v = BTreeMap::from([
                ("units", arm.units as f64),
                ("expected_share", share),
                ("exposures", arm.exposures as f64),
                ("recent_exposures", arm.recent as f64),
                ("traffic_lost", (arm.recent == 0 && (recent_total as f64) * share >= LOSS_EXPECTED) as u8 as f64),
            ]);
            if declared > 0 {
                v.insert("observed_share", arm.units as f64 / declared as f64);
            }
            let mut note = None;
            if self.successes.is_some() {
                v.insert("successes", arm.successes as f64);
                if arm.exposures > 0 {
                    v.insert("success_ratio", arm.successes as f64 / arm.exposures as f64);
                }
                if i > 0 {
                    match two_proportions((arm.successes, arm.exposures), (control.successes, control.exposures), 1.0 - self.alpha) {
                        Ok(t) => {
                            v.insert("diff", t.diff);
                            v.insert("diff_low", t.low);
                            v.insert("diff_high", t.high);
                            v.extend(t.lift.map(|l| ("lift", l)));
                            v.insert("z", t.z);
                            v.insert("p_worse", t.p_worse);
                            let enough = arm.exposures >= self.min_per_arm && control.exposures >= self.min_per_arm;
                            let control_ratio = control.successes as f64 / control.exposures as f64;
                            let worse = enough && t.diff < -self.min_drop * control_ratio && t.p_worse < self.alpha;
                            v.insert("worse", worse as u8 as f64);
                        }
                        Err(e) => note = Some(format!("arm `{name}` against control: {e}")),
                    }
                }
            }
            out.push(Series::new(Labels::from([("arm".to_string(), name.clone())]), v, note));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::{DataFrame, df};

    use super::*;
    use crate::sources::{SourceMeta, Window};

    fn check(yaml: &str) -> AbCheck {
        serde_saphyr::from_str::<AbConfig>(yaml).unwrap().validate().unwrap()
    }

    const NOW_MS: i64 = 1_794_614_400_000;

    /// Rows: (milliseconds before now, arm, event, user).
    fn frame(rows: &[(i64, &str, &str, String)]) -> DataFrame {
        df!(
            "ts" => rows.iter().map(|r| NOW_MS - r.0).collect::<Vec<_>>(),
            "arm" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "event" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "user" => rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    /// `n` impressions of `arm` spread over the last hour (none in the last
    /// `quiet_ms`), each `k`th clicked; users cycle through `users`.
    fn arm_rows(arm: &'static str, n: i64, k: i64, users: i64, quiet_ms: i64) -> Vec<(i64, &'static str, &'static str, String)> {
        let mut rows = Vec::new();
        for i in 0..n {
            let ago = quiet_ms + 1 + (3_600_000 - quiet_ms - 2) * i / n;
            rows.push((ago, arm, "impression", format!("{arm}{}", i % users)));
            if i % k == 0 {
                rows.push((ago, arm, "click", format!("{arm}{}", i % users)));
            }
        }
        rows
    }

    fn evaluate(c: &AbCheck, rows: Vec<(i64, &str, &str, String)>) -> BTreeMap<String, Series> {
        let frame = frame(&rows);
        let now = chrono::DateTime::from_timestamp_millis(NOW_MS).unwrap();
        let meta = SourceMeta { rows: frame.height() as u64, ..Default::default() };
        let cx = EvalContext { tenant: Some("acme"), window: Some(Window::ending_at(now, std::time::Duration::from_secs(3600))), timestamp_column: Some("ts"), ..EvalContext::new(&frame, &meta, now) };
        c.evaluate(&cx).unwrap().into_iter().map(|s| (s.labels["arm"].clone(), s)).collect()
    }

    const CTR: &str = "{ arm: arm, split: { control: 50, treatment: 50 }, exposure: \"event == 'impression'\", success: \"event == 'click'\", min_drop: 0.1 }";

    #[test]
    fn a_broken_split_fires_and_an_even_one_does_not() {
        let c = check(CTR);
        let even = evaluate(&c, [arm_rows("control", 5000, 10, 500, 0), arm_rows("treatment", 5000, 10, 500, 0)].concat());
        assert_eq!((even["all"].values["srm_chi2"], even["all"].values["srm_p_value"], even["all"].values["srm"]), (0.0, 1.0, 0.0));
        let broken = evaluate(&c, [arm_rows("control", 4500, 10, 500, 0), arm_rows("treatment", 5500, 10, 500, 0)].concat());
        let all = &broken["all"].values;
        assert_eq!((all["units"], all["srm_chi2"], all["srm_ready"], all["srm"]), (10_000.0, 100.0, 1.0, 1.0));
        assert_eq!((broken["control"].values["observed_share"], broken["control"].values["expected_share"]), (0.45, 0.5));
        // Too few units per arm: the same mismatch cannot fire.
        let small = evaluate(&check(&CTR.replace("min_drop: 0.1", "min_per_arm: 6000")), [arm_rows("control", 4500, 10, 500, 0), arm_rows("treatment", 5500, 10, 500, 0)].concat());
        assert_eq!((small["all"].values["srm_ready"], small["all"].values["srm"]), (0.0, 0.0));
    }

    #[test]
    fn an_arm_whose_ratio_drops_is_worse_and_control_is_not_compared() {
        let c = check(CTR);
        let out = evaluate(&c, [arm_rows("control", 5000, 10, 500, 0), arm_rows("treatment", 5000, 16, 500, 0)].concat());
        let t = &out["treatment"].values;
        assert_eq!((t["exposures"], t["successes"]), (5000.0, 313.0));
        assert!((t["success_ratio"] - 0.0626).abs() < 1e-12 && (t["diff"] + 0.0374).abs() < 1e-12);
        assert!(t["diff_low"] < t["diff"] && t["diff"] < t["diff_high"] && t["diff_high"] < 0.0);
        assert!(t["p_worse"] < 1e-6 && t["z"] < -5.0);
        assert_eq!(t["worse"], 1.0);
        assert!(!out["control"].values.contains_key("worse") && !out["control"].values.contains_key("z"));
        // A drop smaller than min_drop (10% of 0.1) is not worse, however significant.
        let slight = evaluate(&c, [arm_rows("control", 50_000, 10, 500, 0), arm_rows("treatment", 50_000, 11, 500, 0)].concat());
        assert!(slight["treatment"].values["p_worse"] < 0.001);
        assert_eq!(slight["treatment"].values["worse"], 0.0);
    }

    #[test]
    fn an_arm_without_recent_traffic_is_lost() {
        let c = check(CTR);
        let out = evaluate(&c, [arm_rows("control", 2000, 10, 500, 0), arm_rows("treatment", 1500, 10, 500, 20 * 60_000)].concat());
        assert_eq!((out["treatment"].values["recent_exposures"], out["treatment"].values["traffic_lost"]), (0.0, 1.0));
        assert_eq!(out["control"].values["traffic_lost"], 0.0);
    }

    #[test]
    fn users_are_counted_once_per_arm() {
        let c = check("{ arm: arm, split: { control: 90, treatment: 10 }, unit: users, user: user, exposure: \"event == 'impression'\" }");
        let out = evaluate(&c, [arm_rows("control", 9000, 10, 900, 0), arm_rows("treatment", 1000, 10, 100, 0)].concat());
        assert_eq!((out["control"].values["units"], out["treatment"].values["units"]), (900.0, 100.0));
        assert_eq!(out["control"].values["exposures"], 9000.0);
        assert!(out["all"].values["srm_p_value"] > 0.99);
    }

    #[test]
    fn bad_configurations_are_named() {
        let err = |yaml: &str| serde_saphyr::from_str::<AbConfig>(yaml).unwrap().validate().unwrap_err();
        assert!(err("{ arm: arm, split: { a: 50, b: 50 } }").contains("control arm `control` is not in the split (a, b)"));
        assert!(err("{ arm: arm, split: { control: 100 } }").contains("at least two arms"));
        assert!(err("{ arm: arm, split: { control: 50, treatment: 0 } }").contains("positive weight"));
        assert!(err("{ arm: arm, split: { control: 50, treatment: 50 }, unit: users }").contains("needs `user`"));
        assert!(err("{ arm: arm, split: { control: 50, treatment: 50 }, success: 'event ==' }").contains("success:"));
    }
}
