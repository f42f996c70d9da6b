//! When a group is evaluated: a fixed interval or a cron expression.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A group's schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    Every(Duration),
    Cron(Box<cron::Schedule>),
}

impl Schedule {
    pub fn cron(expr: &str) -> Result<Self, String> {
        const FIELDS: &str = "sec min hour day-of-month month day-of-week [year]";
        let n = expr.split_whitespace().count();
        if !(6..=7).contains(&n) {
            return Err(format!("invalid cron expression `{expr}`: {n} fields, expected 6 or 7 ({FIELDS})"));
        }
        cron::Schedule::from_str(expr).map(|s| Schedule::Cron(Box::new(s))).map_err(|e| {
            // The crate's message draws a caret under the expression on extra lines.
            let detail = e.to_string().lines().next().unwrap_or_default().trim().to_string();
            format!("invalid cron expression `{expr}`: {detail} ({FIELDS})")
        })
    }

    /// The next evaluation strictly after `after`. Intervals are aligned to the
    /// Unix epoch, so restarts keep the same rhythm.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(d) => {
                let step = d.as_millis().max(1) as i64;
                let now = after.timestamp_millis();
                DateTime::from_timestamp_millis((now / step + 1) * step)
            }
            Schedule::Cron(s) => s.after(&after).next(),
        }
    }
}

impl Schedule {
    /// The time between the next two evaluations after `after` (the
    /// interval; for cron, the gap it has then). Zero when there are none.
    pub fn period_after(&self, after: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(_) => {
                let first = self.next_after(after);
                let second = first.and_then(|t| self.next_after(t));
                match (first, second) {
                    (Some(a), Some(b)) => (b - a).to_std().unwrap_or_default(),
                    _ => Duration::ZERO,
                }
            }
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", humantime::format_duration(*d)),
            Schedule::Cron(s) => write!(f, "cron `{s}`"),
        }
    }
}

/// Parse a humantime duration (`30s`, `15m`, `1h 30m`), naming the field on error.
pub fn parse_duration(field: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("{field}: invalid duration `{text}`: {e} (e.g. 30s, 15m, 1h)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn intervals_align_to_the_epoch() {
        let s = Schedule::Every(Duration::from_secs(900));
        assert_eq!(s.next_after(at("2026-11-28T10:07:00Z")), Some(at("2026-11-28T10:15:00Z")));
        assert_eq!(s.next_after(at("2026-11-28T10:15:00Z")), Some(at("2026-11-28T10:30:00Z")));
    }

    #[test]
    fn cron_uses_six_fields_with_seconds() {
        let s = Schedule::cron("0 */15 * * * *").unwrap();
        assert_eq!(s.next_after(at("2026-11-28T10:07:00Z")), Some(at("2026-11-28T10:15:00Z")));
        assert!(Schedule::cron("*/15 * * *").unwrap_err().contains("invalid cron expression"));
    }

    #[test]
    fn the_period_is_the_gap_between_runs_not_the_wait_for_the_next() {
        let almost = at("2026-11-28T10:14:59Z");
        assert_eq!(Schedule::Every(Duration::from_secs(900)).period_after(almost), Duration::from_secs(900));
        let hourly = Schedule::cron("0 0 * * * *").unwrap();
        assert_eq!(hourly.period_after(almost), Duration::from_secs(3600));
    }

    #[test]
    fn bad_duration_names_the_field() {
        assert!(parse_duration("for", "5 minutes please").unwrap_err().starts_with("for: invalid duration"));
        assert_eq!(parse_duration("for", "1h 30m").unwrap(), Duration::from_secs(5400));
    }
}
