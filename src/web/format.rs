//! Numbers and times for people: thousands separators, units, percentages,
//! durations and relative times.

use chrono::{DateTime, Utc};

use crate::checks::Unit;

/// `12,345`, `-1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A plain number in about 4 significant digits: `0.2143`, `12.5`, `1,234`, `3.1e-7`.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() { "–".into() } else if v > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return thousands(v as i64);
    }
    let a = v.abs();
    if a >= 1e4 {
        return thousands(v.round() as i64);
    }
    if a < 1e-3 {
        return format!("{v:.1e}");
    }
    let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A value in its unit: counts with separators, ratios as percentages,
/// seconds as durations.
pub fn value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => number(v.round()),
        Unit::Ratio => percent(v),
        Unit::Probability if v != 0.0 && v.abs() < 1e-3 => format!("{v:.1e}"),
        Unit::Probability => number(v),
        Unit::Seconds => duration(v),
        Unit::None => number(v),
    }
}

/// `12.3%`, `0.05%`, `100%`.
pub fn percent(v: f64) -> String {
    if !v.is_finite() {
        return number(v);
    }
    let p = v * 100.0;
    let s = if p.abs() >= 10.0 || p == 0.0 { format!("{p:.1}") } else { format!("{p:.2}") };
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// `45s`, `12m`, `3h 5m`, `2d 4h`: the two largest units.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return number(seconds);
    }
    let s = seconds.abs().round() as u64;
    let sign = if seconds < 0.0 { "-" } else { "" };
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let text = match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) if sec == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    };
    format!("{sign}{text}")
}

/// `just now`, `5m ago`, `in 2h 5m`, relative to `now`.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    match secs {
        -4..=4 => "just now".into(),
        s if s > 0 => format!("{} ago", duration(s as f64)),
        s => format!("in {}", duration(-s as f64)),
    }
}

/// `2026-11-05 14:12 UTC`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-999), "-999");
        assert_eq!(number(0.21434), "0.2143");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(12345.6), "12,346");
        assert_eq!(number(3.1e-7), "3.1e-7");
        assert_eq!(value(0.123, Unit::Ratio), "12.3%");
        assert_eq!(value(0.0005, Unit::Ratio), "0.05%");
        assert_eq!(value(1.0, Unit::Ratio), "100%");
        assert_eq!(value(4321.0, Unit::Count), "4,321");
        assert_eq!(value(183_600.0, Unit::Seconds), "2d 3h");
        assert_eq!(value(3900.0, Unit::Seconds), "1h 5m");
    }

    #[test]
    fn times_are_relative_to_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-05T14:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(relative(now - chrono::Duration::seconds(300), now), "5m ago");
        assert_eq!(relative(now + chrono::Duration::seconds(7500), now), "in 2h 5m");
        assert_eq!(relative(now, now), "just now");
        assert_eq!(timestamp(now), "2026-11-05 14:00 UTC");
    }
}
