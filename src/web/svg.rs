//! Small SVG charts, written by hand: a value over time with its threshold
//! and the periods an alert fired, and a distribution beside its baseline.
//! Text and axes take the page's colour (`currentColor`), so dark mode
//! needs nothing here; data colours are Okabe and Ito's, which stay apart
//! for the common colour-vision deficiencies, and firing is also a shape
//! (a shaded band under a labelled bar), not a colour alone.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::format;
use crate::checks::Unit;
use crate::checks::drift::distribution::Distribution;

/// Okabe–Ito: blue, orange, bluish green, reddish purple, sky blue, yellow.
pub const PALETTE: [&str; 6] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442"];
/// Vermillion, for firing periods.
pub const FIRING: &str = "#D55E00";

const WIDTH: f64 = 640.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;

/// One named line of a time chart.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// A value (or several) over a period.
pub struct TimeChart<'a> {
    pub title: &'a str,
    pub unit: Unit,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub lines: &'a [Line],
    pub threshold: Option<f64>,
    /// When the rule's alert fired (from, to).
    pub firing: &'a [(DateTime<Utc>, DateTime<Utc>)],
}

pub fn time_chart(c: &TimeChart<'_>) -> String {
    let height = 230.0;
    let bottom = 30.0;
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, height - TOP - bottom);
    let span = (c.to - c.from).num_milliseconds().max(1) as f64;
    let x = |t: DateTime<Utc>| LEFT + plot_w * ((t - c.from).num_milliseconds() as f64 / span).clamp(0.0, 1.0);
    let values = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).chain(c.threshold).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo.min(0.0), hi) } else { (0.0, 1.0) };
    let ticks = nice_ticks(lo, if hi > lo { hi } else { lo + 1.0 });
    let (y_lo, y_hi) = (ticks[0], *ticks.last().expect("ticks"));
    let y = |v: f64| TOP + plot_h * (1.0 - (v - y_lo) / (y_hi - y_lo));

    let mut s = open("timeline", c.title, height);
    // Firing periods first, under everything.
    for (from, to) in c.firing {
        let (x0, x1) = (x(*from), x((*to).max(*from)));
        let w = (x1 - x0).max(2.0);
        let _ = write!(s, r#"<rect class="firing" x="{x0:.1}" y="{TOP:.1}" width="{w:.1}" height="{plot_h:.1}" fill="{FIRING}" fill-opacity="0.16"/>"#);
        let _ = write!(s, r#"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="4" fill="{FIRING}"/>"#, TOP - 4.0);
    }
    y_grid(&mut s, &ticks, &y, &|t| format::value(t, c.unit));
    for (t, label) in time_ticks(c.from, c.to) {
        let xx = x(t);
        // Labels at the ends stay inside the picture.
        let anchor = if xx > WIDTH - RIGHT - 30.0 { "end" } else { "middle" };
        let _ = write!(
            s,
            r#"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="currentColor" stroke-opacity="0.4"/><text x="{xx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11" fill="currentColor">{}</text>"#,
            TOP + plot_h,
            TOP + plot_h + 4.0,
            TOP + plot_h + 17.0,
            escape(&label)
        );
    }
    let _ = write!(s, r#"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="currentColor" stroke-opacity="0.6"/>"#, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h);
    if let Some(t) = c.threshold.filter(|t| t.is_finite()) {
        let yy = y(t);
        let _ = write!(s, r#"<line class="threshold" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="currentColor" stroke-width="1.5" stroke-dasharray="6 4"/>"#, WIDTH - RIGHT);
    }
    for (i, line) in c.lines.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let pts: Vec<String> = line.points.iter().filter(|p| p.1.is_finite()).map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
        match pts.len() {
            0 => {}
            1 => {
                let (cx, cy) = pts[0].split_once(',').expect("a point");
                let _ = write!(s, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>"#);
            }
            _ => {
                let _ = write!(s, r#"<polyline class="series" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#, pts.join(" "));
            }
        }
    }
    if c.lines.iter().all(|l| l.points.is_empty()) {
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" fill="currentColor" fill-opacity="0.7">no values in this period</text>"#, LEFT + plot_w / 2.0, TOP + plot_h / 2.0);
    }
    let mut legend: Vec<Swatch> = c.lines.iter().enumerate().map(|(i, l)| Swatch::Line(PALETTE[i % PALETTE.len()], l.name.clone())).collect();
    if c.threshold.is_some() {
        legend.push(Swatch::Dashed("threshold".into()));
    }
    if !c.firing.is_empty() {
        legend.push(Swatch::Band(FIRING, "firing".into()));
    }
    write_legend(&mut s, &legend);
    s.push_str("</svg>");
    s
}

/// The window's distribution beside the baseline's, as shares per bin.
pub fn histogram(title: &str, d: &Distribution) -> String {
    let rotate = d.bins.len() > 6 || d.bins.iter().any(|b| b.chars().count() > 9);
    let bottom = if rotate { 70.0 } else { 30.0 };
    let height = 200.0 + bottom;
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, height - TOP - bottom);
    let share = |counts: &[u64]| {
        let total: u64 = counts.iter().sum();
        counts.iter().map(|c| if total == 0 { 0.0 } else { *c as f64 / total as f64 }).collect::<Vec<f64>>()
    };
    let (base, cur) = (share(&d.baseline), share(&d.current));
    let hi = base.iter().chain(&cur).fold(0.0f64, |m, v| m.max(*v));
    let ticks = nice_ticks(0.0, if hi > 0.0 { hi } else { 1.0 });
    let y_hi = *ticks.last().expect("ticks");
    let y = |v: f64| TOP + plot_h * (1.0 - v / y_hi);

    let mut s = open("histogram", title, height);
    y_grid(&mut s, &ticks, &y, &format::percent);
    let n = d.bins.len().max(1) as f64;
    let group = plot_w / n;
    let bar = (group * 0.38).min(40.0);
    for (i, name) in d.bins.iter().enumerate() {
        let gx = LEFT + group * i as f64 + group / 2.0;
        for (k, (v, colour)) in [(base[i], PALETTE[0]), (cur[i], PALETTE[1])].into_iter().enumerate() {
            let bx = gx - bar + bar * k as f64;
            let by = y(v);
            let _ = write!(
                s,
                r#"<rect class="{}" x="{bx:.1}" y="{by:.1}" width="{bar:.1}" height="{:.1}" fill="{colour}"><title>{}: {}</title></rect>"#,
                if k == 0 { "baseline" } else { "current" },
                (TOP + plot_h - by).max(0.0),
                escape(name),
                escape(&format::percent(v))
            );
        }
        let ly = TOP + plot_h + 15.0;
        if rotate {
            let _ = write!(s, r#"<text x="{gx:.1}" y="{ly:.1}" text-anchor="end" font-size="11" fill="currentColor" transform="rotate(-35 {gx:.1} {ly:.1})">{}</text>"#, escape(&clip(name, 18)));
        } else {
            let _ = write!(s, r#"<text x="{gx:.1}" y="{ly:.1}" text-anchor="middle" font-size="11" fill="currentColor">{}</text>"#, escape(name));
        }
    }
    let _ = write!(s, r#"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="currentColor" stroke-opacity="0.6"/>"#, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h);
    let total = |c: &[u64]| format::thousands(c.iter().sum::<u64>() as i64);
    write_legend(
        &mut s,
        &[Swatch::Box(PALETTE[0], format!("baseline (n = {})", total(&d.baseline))), Swatch::Box(PALETTE[1], format!("current (n = {})", total(&d.current)))],
    );
    s.push_str("</svg>");
    s
}

/// A faint grid line and a label at each tick of the value axis.
fn y_grid(s: &mut String, ticks: &[f64], y: &dyn Fn(f64) -> f64, label: &dyn Fn(f64) -> String) {
    for t in ticks {
        let yy = y(*t);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="currentColor" stroke-opacity="0.15"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="currentColor">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            escape(&label(*t))
        );
    }
}

fn open(class: &str, title: &str, height: f64) -> String {
    format!(
        r#"<svg class="chart {class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{t}" font-family="system-ui, sans-serif"><title>{t}</title><text x="{LEFT}" y="15" font-size="13" font-weight="600" fill="currentColor">{t}</text>"#,
        t = escape(title)
    )
}

enum Swatch {
    Line(&'static str, String),
    Box(&'static str, String),
    Band(&'static str, String),
    Dashed(String),
}

/// Legend entries in a row under the title.
fn write_legend(s: &mut String, items: &[Swatch]) {
    let mut x = LEFT;
    let y = 32.0;
    for item in items {
        let name = match item {
            Swatch::Line(c, name) => {
                let _ = write!(s, r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{c}" stroke-width="2"/>"#, y - 4.0, x + 14.0, y - 4.0);
                name
            }
            Swatch::Box(c, name) => {
                let _ = write!(s, r#"<rect x="{x:.1}" y="{:.1}" width="12" height="9" fill="{c}"/>"#, y - 9.0);
                name
            }
            Swatch::Band(c, name) => {
                let _ = write!(s, r#"<rect x="{x:.1}" y="{:.1}" width="14" height="10" fill="{c}" fill-opacity="0.16"/><rect x="{x:.1}" y="{:.1}" width="14" height="3" fill="{c}"/>"#, y - 10.0, y - 10.0);
                name
            }
            Swatch::Dashed(name) => {
                let _ = write!(s, r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="currentColor" stroke-width="1.5" stroke-dasharray="4 3"/>"#, y - 4.0, x + 14.0, y - 4.0);
                name
            }
        };
        let _ = write!(s, r#"<text x="{:.1}" y="{y:.1}" font-size="11" fill="currentColor">{}</text>"#, x + 18.0, escape(name));
        x += 28.0 + 6.2 * name.chars().count() as f64;
    }
}

/// About five round ticks from `lo` to at least `hi`.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = first;
    // Up to the first tick at or above `hi`, and at least two.
    loop {
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        if (t >= hi - step * 1e-9 && ticks.len() >= 2) || ticks.len() > 12 {
            break;
        }
        t += step;
    }
    ticks
}

/// Round times between `from` and `to`, at most seven, with their labels.
fn time_ticks(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    const STEPS: [i64; 12] = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400, 30 * 86_400];
    let span = (to - from).num_seconds().max(1);
    let step = STEPS.iter().copied().find(|s| span / s <= 6).unwrap_or(span / 6 + 1);
    let fmt = if step >= 86_400 { "%b %d" } else if span > 86_400 { "%b %d %H:%M" } else { "%H:%M" };
    let mut t = (from.timestamp() + step - 1).div_euclid(step) * step;
    let mut out = Vec::new();
    while t <= to.timestamp() {
        if let Some(at) = DateTime::from_timestamp(t, 0) {
            out.push((at, at.format(fmt).to_string()));
        }
        t += step;
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).chain(['…']).collect() }
}

/// Text and attribute values, escaped for XML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 0.87), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(nice_ticks(0.0, 30.0), [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(nice_ticks(0.0, 0.113), [0.0, 0.05, 0.1, 0.15000000000000002]);
        assert_eq!(nice_ticks(-1.0, 1.0), [-1.0, -0.5, 0.0, 0.5, 1.0]);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let t = time_ticks(at("2026-11-05T13:07:00Z"), at("2026-11-05T18:00:00Z"));
        assert_eq!(t.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(), ["14:00", "15:00", "16:00", "17:00", "18:00"]);
        let t = time_ticks(at("2026-11-01T00:00:00Z"), at("2026-11-08T00:00:00Z"));
        assert_eq!(t.len(), 4, "{t:?}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
