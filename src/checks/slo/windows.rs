//! Multi-window, multi-burn-rate alerting (the SRE workbook, chapter 5):
//! pairs of a long and a short window, each firing when both burn the error
//! budget faster than a factor. The factors come from the share of the
//! budget a pair may spend before it fires, scaled to the SLO's period as
//! Sloth does: factor = share × period / long window.

use std::time::Duration;

use serde::Deserialize;

const H: u64 = 3600;

/// One pair of windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub long: Duration,
    pub short: Duration,
    pub factor: f64,
}

/// The pairs of each severity.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertWindows {
    pub page: Vec<Pair>,
    pub ticket: Vec<Pair>,
}

/// The workbook's pairs and the share of the budget each may spend: for a
/// 30-day period, factors 14.4, 6, 3 and 1.
const DEFAULTS: [(&str, u64, u64, f64); 4] =
    [("page", H, 300, 0.02), ("page", 6 * H, 1800, 0.05), ("ticket", 24 * H, 2 * H, 0.10), ("ticket", 72 * H, 6 * H, 0.10)];

/// `windows:` as written: either side replaces the defaults of its severity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlertWindows {
    #[serde(default)]
    pub page: Option<Vec<RawPair>>,
    #[serde(default)]
    pub ticket: Option<Vec<RawPair>>,
}

/// A pair as written: its factor, or the budget share it may spend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPair {
    pub long: String,
    pub short: String,
    #[serde(default)]
    pub factor: Option<f64>,
    /// Percent of the period's budget the long window may burn before it fires.
    #[serde(default)]
    pub budget_percent: Option<f64>,
}

fn factor(share: f64, period: Duration, long: Duration) -> f64 {
    share * period.as_secs_f64() / long.as_secs_f64()
}

impl AlertWindows {
    /// The default pairs, with factors for `period`.
    pub fn defaults(period: Duration) -> AlertWindows {
        let mut w = AlertWindows { page: Vec::new(), ticket: Vec::new() };
        for (severity, long, short, share) in DEFAULTS {
            let (long, short) = (Duration::from_secs(long), Duration::from_secs(short));
            let pair = Pair { long, short, factor: factor(share, period, long) };
            if severity == "page" { w.page.push(pair) } else { w.ticket.push(pair) }
        }
        w
    }

    pub fn from_raw(raw: &RawAlertWindows, period: Duration) -> Result<AlertWindows, String> {
        let mut w = AlertWindows::defaults(period);
        for (severity, pairs, out) in [("page", &raw.page, &mut w.page), ("ticket", &raw.ticket, &mut w.ticket)] {
            let Some(pairs) = pairs else { continue };
            out.clear();
            for p in pairs {
                let d = |field: &str, t: &str| crate::rules::schedule::parse_duration(&format!("windows.{severity}.{field}"), t);
                let (long, short) = (d("long", &p.long)?, d("short", &p.short)?);
                if short.is_zero() || short >= long || long > period {
                    return Err(format!("windows.{severity}: `short` must be shorter than `long`, and `long` at most the period ({} / {})", p.short, p.long));
                }
                let f = match (p.factor, p.budget_percent) {
                    (Some(f), None) if f > 0.0 && f.is_finite() => f,
                    (None, Some(b)) if b > 0.0 && b <= 100.0 => factor(b / 100.0, period, long),
                    _ => return Err(format!("windows.{severity}: give each pair a positive `factor` or a `budget_percent` in (0, 100]")),
                };
                out.push(Pair { long, short, factor: f });
            }
        }
        Ok(w)
    }

    /// Every window a pair uses, shortest first, without repeats.
    pub fn all(&self) -> Vec<Duration> {
        let mut v: Vec<Duration> = self.page.iter().chain(&self.ticket).flat_map(|p| [p.long, p.short]).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// A window as its `window` label shows it: `5m`, `6h`, `30d`.
pub fn label(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= size && s % size == 0 {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_factors_for_30_days_and_sloths_scaling_for_28() {
        let w = AlertWindows::defaults(Duration::from_secs(30 * 86_400));
        let f: Vec<f64> = w.page.iter().chain(&w.ticket).map(|p| p.factor).collect();
        for (got, want) in f.iter().zip([14.4, 6.0, 3.0, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        // Sloth's 28-day factors: 13.44, 5.6, 2.8, 0.933…
        let w = AlertWindows::defaults(Duration::from_secs(28 * 86_400));
        assert!((w.page[0].factor - 13.44).abs() < 1e-12);
        assert!((w.ticket[1].factor - 28.0 * 0.1 / 3.0).abs() < 1e-12);
        assert_eq!(w.all().iter().map(|d| label(*d)).collect::<Vec<_>>(), ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    }

    #[test]
    fn pairs_can_be_overridden_per_severity() {
        let raw = RawAlertWindows {
            page: Some(vec![RawPair { long: "2h".into(), short: "10m".into(), factor: None, budget_percent: Some(5.0) }]),
            ticket: None,
        };
        let w = AlertWindows::from_raw(&raw, Duration::from_secs(30 * 86_400)).unwrap();
        assert_eq!(w.page.len(), 1);
        assert!((w.page[0].factor - 18.0).abs() < 1e-12);
        assert_eq!(w.ticket.len(), 2);
        let bad = RawAlertWindows { page: Some(vec![RawPair { long: "5m".into(), short: "1h".into(), factor: Some(2.0), budget_percent: None }]), ticket: None };
        assert!(AlertWindows::from_raw(&bad, Duration::from_secs(86_400)).unwrap_err().contains("shorter"));
    }
}
