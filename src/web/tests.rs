//! Golden tests of the pictures: a fixed dataset drawn as SVG and as the
//! report's HTML, compared with files under tests/fixtures/web/. After an
//! intended change, `MLWATCH_UPDATE_GOLDEN=1 cargo test --lib web` rewrites
//! them; review the diff (and open the HTML) before committing.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use super::model::{AlertSpan, Chart, DistributionAt, Line, Panel, RuleReport};
use super::{ReportInput, report, svg};
use crate::checks::Unit;
use crate::checks::drift::compare::Kind;
use crate::checks::drift::distribution::Distribution;
use crate::labels::Labels;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web").join(name);
    if std::env::var_os("MLWATCH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (MLWATCH_UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        got == want,
        "{} differs from what is drawn now; if the change is intended, run MLWATCH_UPDATE_GOLDEN=1 cargo test --lib web and review the diff",
        path.display()
    );
}

/// globex's `sessions_7d` doubles at 15:00; the alert fires at 15:10.
fn fixed() -> RuleReport {
    let (from, to) = (at("2026-11-05T12:00:00Z"), at("2026-11-05T18:00:00Z"));
    let psi: Vec<(DateTime<Utc>, f64)> =
        (0..=12).map(|i| (from + Duration::minutes(30 * i), if i < 6 { 0.01 + 0.002 * i as f64 } else { 1.05 + 0.01 * (i % 3) as f64 })).collect();
    let labels = Labels::from([("column".to_string(), "sessions_7d".to_string()), ("tenant".to_string(), "globex".to_string())]);
    let distribution = Distribution {
        kind: Kind::Numeric,
        bins: vec!["≤ 3".into(), "3 – 5".into(), "5 – 8".into(), "8 – 13".into(), "> 13".into()],
        baseline: vec![2000, 2100, 2300, 2000, 1600],
        current: vec![150, 200, 350, 700, 2600],
    };
    let firing = vec![(at("2026-11-05T15:10:00Z"), to)];
    RuleReport {
        rule: "FeatureDrift".into(),
        kind: "drift",
        when: "psi > 0.2".into(),
        for_seconds: 600.0,
        tenant: Some("globex".into()),
        from,
        to,
        panels: vec![Panel {
            title: "column=sessions_7d".into(),
            labels: labels.clone(),
            distribution: Some(DistributionAt { at: to, distribution }),
            charts: vec![Chart { title: "psi over time".into(), unit: Unit::None, threshold: Some(0.2), lines: vec![Line { name: "psi".into(), points: psi }], firing }],
        }],
        alerts: vec![AlertSpan { labels, firing_at: at("2026-11-05T15:10:00Z"), resolved_at: None }],
    }
}

#[test]
fn the_charts_of_a_fixed_dataset_are_drawn_as_before() {
    let r = fixed();
    let p = &r.panels[0];
    let hist = svg::histogram("sessions_7d: current against baseline", &p.distribution.as_ref().unwrap().distribution);
    let c = &p.charts[0];
    let lines: Vec<svg::Line> = c.lines.iter().map(|l| svg::Line { name: l.name.clone(), points: l.points.clone() }).collect();
    let timeline = svg::time_chart(&svg::TimeChart { title: "sessions_7d: psi", unit: c.unit, from: r.from, to: r.to, lines: &lines, threshold: c.threshold, firing: &c.firing });
    for s in [&hist, &timeline] {
        assert!(s.starts_with("<svg ") && s.ends_with("</svg>") && s.matches("<svg").count() == 1, "{s}");
    }
    assert_eq!(hist.matches(r#"<rect class="baseline""#).count(), 5);
    assert!(timeline.contains(r#"<rect class="firing""#) && timeline.contains(r#"class="threshold""#));
    golden("histogram.svg", &hist);
    golden("timeline.svg", &timeline);
}

#[test]
fn the_report_of_a_fixed_dataset_is_one_self_contained_page() {
    let r = fixed();
    let html = report(&ReportInput { source: "a backtest of mlwatch.yaml".into(), from: r.from, to: r.to, written: at("2026-11-06T09:00:00Z"), rules: &[r] });
    // Nothing to fetch: no script, no stylesheet link, no address but the SVG namespace.
    assert!(!html.contains("<script") && !html.contains("<link rel=\"stylesheet\""));
    let addresses = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(addresses, html.matches("xmlns='http://www.w3.org/2000/svg'").count() + html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert!(html.contains("FeatureDrift") && html.contains("still firing") && html.contains("2026-11-05 15:10 UTC"));
    assert!(html.contains("prefers-color-scheme: dark"));
    golden("report.html", &html);
}

#[test]
fn the_overview_shows_alerts_tenants_learning_and_silences_escaped() {
    use crate::agent::live::{AgentInfo, Live};
    use crate::alerting::matcher::Matcher;
    use crate::alerting::silence::Silence;
    use crate::rules::alert::{Alert, AlertState};
    use crate::state::Store;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mlwatch.yaml"),
        "sources:\n  s: { kind: file, path: \"d/{tenant}.csv\", timestamp: ts }\nrule_files: [r.yaml]\nroute: { receiver: r }\nreceivers: [{ name: r }]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "groups:\n  - name: g\n    source: s\n    window: 1h\n    per_tenant: true\n    rules:\n      - alert: Drift\n        check: { drift: { columns: [x] } }\n        baseline: { learn: 7d }\n        when: \"psi > 0.2\"\n",
    )
    .unwrap();
    let config = crate::config::load(&dir.path().join("mlwatch.yaml")).unwrap();
    let now = at("2026-11-05T15:00:00Z");
    let live = Live::new(AgentInfo { version: "0.1.0", started_at: now - Duration::hours(2), config_file: String::new(), state_file: String::new(), reload: Default::default(), config: serde_json::Value::Null });
    let firing = Alert {
        labels: Labels::from([("alertname".into(), "Drift".into()), ("column".into(), "x".into()), ("tenant".into(), "<b>acme</b>".into())]),
        annotations: [("summary".to_string(), "PSI 0.4 & rising".to_string())].into(),
        state: AlertState::Firing,
        active_at: now - Duration::minutes(30),
        fired_at: Some(now - Duration::minutes(20)),
        resolved_at: None,
        value: Some(0.4123),
    };
    live.set_groups(&config.rules.groups, &|_| vec![firing.clone()]);
    live.update_rule("g", "Drift", |v| {
        v.learning.insert("globex".into(), now + Duration::days(3));
    });
    let store = Store::in_memory();
    let seen = vec![("initech".to_string(), now)];
    store.commit_evaluation(&[], Some(("g", &seen)), None).unwrap();
    let silence = Silence {
        id: "s1".into(),
        matchers: vec![Matcher::parse("tenant=acme").unwrap()],
        starts_at: now - Duration::hours(1),
        ends_at: now + Duration::hours(1),
        created_by: "sre".into(),
        comment: "backfill".into(),
        updated_at: now,
    };
    let input = super::OverviewInput {
        version: "0.1.0",
        started_at: now - Duration::hours(2),
        reload_error: None,
        groups: live.groups(),
        silences: vec![silence],
        now,
        tenant: None,
        message: Some(("silence s1 added".into(), false)),
        token_required: true,
    };
    let html = super::overview(input, &store).unwrap();
    assert!(html.contains(r#"<span class="badge firing">firing</span>"#), "{html}");
    assert!(html.contains("20m ago") && html.contains("0.4123") && html.contains("PSI 0.4 &amp; rising"), "{html}");
    assert!(html.contains("&lt;b&gt;acme&lt;&#x2f;b&gt;") && !html.contains("<b>acme"), "labels are escaped: {html}");
    assert!(html.contains(r#"<span class="badge learning" title="learning its baseline until 2026-11-08 15:00 UTC">learning</span>"#), "{html}");
    assert!(html.contains(">initech</a>"), "a tenant the group knows without alerts: {html}");
    assert!(html.contains("backfill") && html.contains("/silences/s1/expire") && html.contains(r#"name="token""#), "{html}");
    assert!(html.contains(r#"<p class="notice">silence s1 added</p>"#), "{html}");
}
