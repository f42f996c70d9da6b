//! Pages and the report as HTML: minijinja templates compiled into the
//! binary, with the CSS inline and the charts as inline SVG, so nothing is
//! fetched from anywhere (no CDN, no script, no font).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use minijinja::Environment;
use serde::Serialize;

use super::format;
use super::model::RuleReport;
use super::svg::{self, TimeChart};

const CSS: &str = include_str!("templates/style.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in [
            ("base.html", include_str!("templates/base.html")),
            ("panels.html", include_str!("templates/panels.html")),
            ("overview.html", include_str!("templates/overview.html")),
            ("rule.html", include_str!("templates/rule.html")),
            ("report.html", include_str!("templates/report.html")),
        ] {
            env.add_template(name, text).expect("templates compile");
        }
        env
    })
}

/// Render `template` with `data` plus the CSS.
pub fn page<T: Serialize>(template: &str, data: &T) -> String {
    let tmpl = env().get_template(template).expect("a known template");
    let ctx = minijinja::context! { css => CSS, ..minijinja::Value::from(minijinja::value::Serde(data)) };
    tmpl.render(ctx).unwrap_or_else(|e| format!("<!doctype html><p>cannot render {template}: {e}</p>"))
}

/// One panel, its charts drawn.
#[derive(Debug, Serialize)]
pub struct PanelView {
    pub anchor: String,
    pub title: String,
    pub distribution: Option<String>,
    pub distribution_at: Option<String>,
    pub charts: Vec<String>,
}

/// The panels of a report, drawn.
pub fn panels(r: &RuleReport) -> Vec<PanelView> {
    r.panels
        .iter()
        .map(|p| {
            let mut name = p.title.clone();
            if let Some(t) = p.labels.get("tenant").filter(|_| r.tenant.is_none()) {
                name = format!("{t}: {name}");
            }
            PanelView {
                anchor: anchor(&[&r.rule, &name]),
                distribution: p.distribution.as_ref().map(|d| svg::histogram(&format!("{name}: current against baseline"), &d.distribution)),
                distribution_at: p.distribution.as_ref().map(|d| format::timestamp(d.at)),
                charts: p
                    .charts
                    .iter()
                    .map(|c| {
                        let lines: Vec<svg::Line> = c.lines.iter().map(|l| svg::Line { name: l.name.clone(), points: l.points.clone() }).collect();
                        let unit = match c.unit {
                            crate::checks::Unit::None => String::new(),
                            u => format!(" ({})", u.as_str()),
                        };
                        svg::time_chart(&TimeChart {
                            title: &format!("{name}: {}{unit}", c.title),
                            unit: c.unit,
                            from: r.from,
                            to: r.to,
                            lines: &lines,
                            threshold: c.threshold,
                            firing: &c.firing,
                        })
                    })
                    .collect(),
                title: name,
            }
        })
        .collect()
}

/// An HTML id from parts: letters, digits and dashes.
pub fn anchor(parts: &[&str]) -> String {
    let joined = parts.join("-");
    joined.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// `2026-11-05 13:00 UTC to 2026-11-05 18:00 UTC (5h)`.
pub fn period(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!("{} to {} ({})", format::timestamp(from), format::timestamp(to), format::duration((to - from).num_seconds() as f64))
}
