//! Time windows over a timestamp column.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use polars::prelude::*;
use serde::Deserialize;

/// The unit of integer timestamps (datetime and date columns carry their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampUnit {
    #[default]
    S,
    Ms,
    Us,
    Ns,
}

impl TimestampUnit {
    pub fn to_ms(self, v: i64) -> i64 {
        match self {
            TimestampUnit::S => v.saturating_mul(1000),
            TimestampUnit::Ms => v,
            TimestampUnit::Us => v / 1000,
            TimestampUnit::Ns => v / 1_000_000,
        }
    }
}

/// A half-open interval of time, (start, end].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn ending_at(end: DateTime<Utc>, length: std::time::Duration) -> Self {
        let length = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
        Window { start: end.checked_sub_signed(length).unwrap_or(DateTime::<Utc>::MIN_UTC), end }
    }
}

/// The column as Unix milliseconds, or an error naming its type.
pub fn epoch_millis(column: &Column, unit: TimestampUnit) -> PolarsResult<Vec<Option<i64>>> {
    Ok(match column.dtype() {
        DataType::Datetime(tu, _) => {
            let scale = |v: i64| match tu {
                TimeUnit::Milliseconds => v,
                TimeUnit::Microseconds => v / 1000,
                TimeUnit::Nanoseconds => v / 1_000_000,
            };
            column.cast(&DataType::Int64)?.i64()?.iter().map(|v| v.map(scale)).collect()
        }
        DataType::Date => column.cast(&DataType::Int32)?.i32()?.iter().map(|v| v.map(|d| d as i64 * 86_400_000)).collect(),
        dt if dt.is_integer() => column.cast(&DataType::Int64)?.i64()?.iter().map(|v| v.map(|v| unit.to_ms(v))).collect(),
        dt if dt.is_float() => column.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.map(|v| unit.to_ms(v as i64))).collect(),
        DataType::String => column.str()?.iter().map(|v| v.and_then(parse_text_timestamp)).collect(),
        other => polars_bail!(ComputeError: "timestamp column `{}` has type {other}, expected a datetime, date, integer or RFC 3339 string", column.name()),
    })
}

/// RFC 3339, or `YYYY-MM-DD HH:MM:SS[.f]` / `YYYY-MM-DD` taken as UTC.
fn parse_text_timestamp(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis())
}

/// Keep the rows whose timestamp lies in the window; rows without one are dropped.
/// The timestamp column is replaced by Unix milliseconds (Int64), so frames from
/// files of different formats stack. Also returns the newest timestamp not
/// after the window's end, in the window or before it (how fresh the data is).
pub fn select_window(
    df: &DataFrame,
    column: &str,
    unit: TimestampUnit,
    window: Option<Window>,
) -> PolarsResult<(DataFrame, Option<DateTime<Utc>>)> {
    let millis = epoch_millis(df.column(column)?, unit)?;
    let (lo, hi) = match window {
        Some(w) => (w.start.timestamp_millis(), w.end.timestamp_millis()),
        None => (i64::MIN, i64::MAX),
    };
    let newest = millis.iter().flatten().copied().filter(|t| *t <= hi).max().and_then(DateTime::from_timestamp_millis);
    let mask: BooleanChunked = millis.iter().map(|t| Some(matches!(t, Some(t) if *t > lo && *t <= hi))).collect();
    let mut out = df.filter(&mask)?;
    let kept: Vec<Option<i64>> = millis.into_iter().filter(|t| matches!(t, Some(t) if *t > lo && *t <= hi)).collect();
    out.with_column(Column::new(column.into(), kept))?;
    Ok((out, newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_rows_in_start_exclusive_end_inclusive_range() {
        let df = df!(
            "ts" => ["2026-11-28T10:00:00Z", "2026-11-28T10:30:00Z", "2026-11-28T11:00:00Z", "garbage"],
            "x" => [1.0, 2.0, 3.0, 4.0]
        )
        .unwrap();
        let end = DateTime::parse_from_rfc3339("2026-11-28T11:00:00Z").unwrap().with_timezone(&Utc);
        let w = Window::ending_at(end, std::time::Duration::from_secs(3600));
        let (out, newest) = select_window(&df, "ts", TimestampUnit::S, Some(w)).unwrap();
        assert_eq!(newest, Some(end));
        let xs: Vec<f64> = out.column("x").unwrap().f64().unwrap().into_no_null_iter().collect();
        assert_eq!(xs, [2.0, 3.0]);
    }

    #[test]
    fn integer_timestamps_use_the_configured_unit() {
        let c = Column::new("ts".into(), [1_700_000_000i64]);
        assert_eq!(epoch_millis(&c, TimestampUnit::S).unwrap(), [Some(1_700_000_000_000)]);
        assert_eq!(epoch_millis(&c, TimestampUnit::Ms).unwrap(), [Some(1_700_000_000)]);
    }
}
