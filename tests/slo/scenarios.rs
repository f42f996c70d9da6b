//! The serving-log scenarios of `generate.py`, through `mlwatch backtest`,
//! the engine at chosen times, and the live agent on simulated time, against
//! the independent computation in `expected.json`.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{mlwatch, write_config_and_rules};

const RULES: &str = r#"
groups:
  - name: serving
    source: api
    per_tenant: true
    interval: 1m
    rules:
      - alert: AvailabilityPage
        check: { slo: { good: "status < 500", objective: 99.7, period: 30d } }
        when: "page == 1"
      - alert: AvailabilityTicket
        check: { slo: { good: "status < 500", objective: 99.7, period: 30d } }
        when: "ticket == 1"
      - alert: LatencyPage
        check: { slo: { good: "latency_ms < 250", objective: 99, period: 30d, latency: latency_ms } }
        when: "page == 1"
      - alert: LatencyTicket
        check: { slo: { good: "latency_ms < 250", objective: 99, period: 30d, latency: latency_ms } }
        when: "ticket == 1"
"#;

const SOURCE: &str = r#"api: { kind: log, path: "logs/api.log*", timestamp: ts, tenant_field: tenant, fields: { status: number, latency_ms: number, items_returned: number, fallback: bool, endpoint: string, arm: string } }"#;

/// The generated logs (53 MB, 10 s), once per test run.
fn logs() -> &'static Path {
    static LOGS: OnceLock<tempfile::TempDir> = OnceLock::new();
    LOGS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slo/generate.py");
        let out = std::process::Command::new("python3").arg(script).arg(dir.path()).output().expect("python3 runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        dir
    })
    .path()
}

/// A config over the generated logs (linked, not copied).
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    std::os::unix::fs::symlink(logs().join("api.log"), dir.path().join("logs/api.log")).unwrap();
    write_config_and_rules(dir.path(), SOURCE, RULES);
    dir
}

fn expected() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slo/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The reference's firing intervals of every rule and tenant that overlap
/// `from..=to`, as (rule/tenant, start, end) with `-` for "still firing".
fn expected_periods(from: &str, to: &str) -> Vec<(String, String, String)> {
    let e = expected();
    let (from, to) = (at(from), at(to));
    let mut out = Vec::new();
    for (slo, prefix) in [("availability", "Availability"), ("latency", "Latency")] {
        for (tenant, kinds) in e["intervals"][slo].as_object().unwrap() {
            for (kind, suffix) in [("page", "Page"), ("ticket", "Ticket")] {
                for i in kinds[kind].as_array().unwrap() {
                    let start = at(i["start"].as_str().unwrap());
                    let end = i["end"].as_str().map(at);
                    if start > to || end.is_some_and(|e| e <= from) {
                        continue;
                    }
                    let end = end.filter(|e| *e <= to).map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                    out.push((format!("{prefix}{suffix}/{tenant}"), start.max(from).to_rfc3339_opts(chrono::SecondsFormat::Secs, true), end.unwrap_or("-".into())));
                }
            }
        }
    }
    out.sort();
    out
}

/// (rule/tenant, firing at, resolved at) of every alert in a report's `alerts`.
fn periods(alerts: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let who = format!("{}/{}", a["rule"].as_str().unwrap(), a["labels"]["tenant"].as_str().unwrap());
            (who, a["firing_at"].as_str().unwrap().to_string(), a["resolved_at"].as_str().unwrap_or("-").to_string())
        })
        .collect();
    out.sort();
    out
}

// The span of every scenario: globex's ticket day, acme's incident, initech's
// night, newco's start.
const FROM: &str = "2026-11-04T17:00:00Z";
const TO: &str = "2026-11-06T13:40:00Z";

#[test]
fn the_backtest_fires_exactly_when_the_independent_computation_does() {
    let dir = setup();
    let config = dir.path().join("mlwatch.yaml");
    let out = mlwatch(&["backtest", "--config", config.to_str().unwrap(), "--from", FROM, "--to", TO, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = periods(&report["alerts"]);
    assert_eq!(got, expected_periods(FROM, TO));
    // The scenarios, in words: acme pages (latency first, availability after
    // 27 minutes of 8% errors), globex only tickets, initech's noisy night
    // and newco's first error open nothing.
    let first = |who: &str| got.iter().find(|(w, ..)| w == who).map(|(_, f, _)| f.clone());
    assert_eq!(first("LatencyPage/acme").as_deref(), Some("2026-11-05T14:12:00Z"));
    assert_eq!(first("AvailabilityPage/acme").as_deref(), Some("2026-11-05T14:27:00Z"));
    assert_eq!(first("AvailabilityTicket/globex").as_deref(), Some("2026-11-04T17:41:00Z"));
    assert!(got.iter().all(|(w, ..)| !w.ends_with("/initech") && !w.ends_with("/newco") && w != "AvailabilityPage/globex"), "{got:#?}");
}

#[test]
fn burn_rates_and_budgets_match_the_independent_computation() {
    use mlwatch::rules::eval::{EvalEnv, evaluate_group};
    let dir = setup();
    let prepared = mlwatch::agent::Prepared::load(&dir.path().join("mlwatch.yaml")).unwrap();
    let group = &prepared.config.rules.groups[0];
    let source = &prepared.config.sources["api"];
    let known = Default::default();
    let store = mlwatch::state::Store::in_memory();
    let env = EvalEnv { baselines: &prepared.baselines, store: Some(&store), known_tenants: &known, mode: mlwatch::sources::log::ReadMode::Replay, shard: None };
    let close = |got: f64, want: f64, what: &str| assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{what}: {got} vs {want}");
    let points = expected()["points"].as_array().unwrap().clone();
    assert!(points.len() >= 15);
    for p in &points {
        let rule = if p["slo"] == "availability" { 0 } else { 2 };
        let tenant = p["tenant"].as_str().unwrap();
        let result = evaluate_group(group, source, &env, at(p["at"].as_str().unwrap()));
        let series = &result.rules[rule].series;
        let of = |window: &str| {
            series
                .iter()
                .find(|s| s.labels.get("tenant").map(String::as_str) == Some(tenant) && s.labels["window"] == window)
                .unwrap_or_else(|| panic!("{tenant} {window} at {}", p["at"]))
        };
        for (window, want) in p["windows"].as_object().unwrap() {
            let s = of(window);
            let what = format!("{} {tenant} {window} at {}", p["slo"], p["at"]);
            assert_eq!(s.values["valid_events"], want["valid"].as_f64().unwrap(), "{what}");
            assert_eq!(s.values["good_events"], want["good"].as_f64().unwrap(), "{what}");
            close(s.values["burn_rate"], want["burn_rate"].as_f64().unwrap(), &what);
            assert_eq!(s.values["window_complete"] == 1.0, p["complete"][window].as_bool().unwrap(), "{what}");
            assert!(s.values.values().all(|v| v.is_finite()), "{what}: {:?}", s.values);
        }
        let period = of("30d");
        close(period.values["error_budget_remaining"], p["error_budget_remaining"].as_f64().unwrap(), "budget");
        assert_eq!(period.values["page"] == 1.0, p["page"].as_bool().unwrap(), "page {tenant} at {}", p["at"]);
        assert_eq!(period.values["ticket"] == 1.0, p["ticket"].as_bool().unwrap(), "ticket {tenant} at {}", p["at"]);
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_live_agent_on_simulated_time_pages_as_the_backtest_does() {
    use mlwatch::agent::{self, Prepared, RunOptions};
    use mlwatch::util::clock::Clock;
    let dir = setup();
    let config = dir.path().join("mlwatch.yaml");
    // acme's incident, from before it starts until after it resolves.
    let (start, end) = (at("2026-11-05T13:50:00Z"), at("2026-11-05T16:40:00Z"));
    let loaded = mlwatch::config::load(&config).unwrap();
    let opts = RunOptions { listen: Some("127.0.0.1:0".parse().unwrap()), shard: None, clock: Clock::tokio_from(start) };
    let until = (end - start).to_std().unwrap() + std::time::Duration::from_secs(30);
    agent::run(loaded, opts, tokio::time::sleep(until)).await.unwrap();
    let store = mlwatch::state::Store::open(&dir.path().join("data/mlwatch")).unwrap();
    let live = mlwatch::backtest::report::timeline(store.alert_history(DateTime::<Utc>::MIN_UTC).unwrap());

    let prepared = Prepared::load(&config).unwrap();
    let opts = mlwatch::backtest::Options { from: start, to: end, step: None, silences: vec![], groups: None };
    let replayed = mlwatch::backtest::run(&prepared, &opts).unwrap();
    assert_eq!(live, replayed.alerts);
    let live = periods(&serde_json::to_value(&live).unwrap());
    assert_eq!(live, expected_periods("2026-11-05T13:50:00Z", "2026-11-05T16:40:00Z"));
}

/// A config of the serving example's sources over generated data, with the
/// ready rules of `rules/` named.
fn example_setup(rule_files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/serving/batch.py");
    let out = std::process::Command::new("python3").arg(script).arg(root.join("lake")).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::create_dir(root.join("logs")).unwrap();
    std::os::unix::fs::symlink(logs().join("api.log"), root.join("logs/api.log")).unwrap();
    let rules: Vec<String> = rule_files.iter().map(|f| format!("\"{}/rules/{f}\"", env!("CARGO_MANIFEST_DIR"))).collect();
    let config = format!(
        "sources:\n  {}\n  recommendations: {{ kind: file, path: \"lake/{{tenant}}/recommendations/dt={{date}}/*.csv\", timestamp: ts }}\n\
         rule_files: [{}]\n\
         route: {{ receiver: oncall, group_by: [alertname, tenant], group_wait: 0s, group_interval: 1m, repeat_interval: 30d }}\n\
         receivers:\n  - name: oncall\n    stdout: [{{}}]\n",
        SOURCE.replace("api:", "api_logs:"),
        rules.join(", ")
    );
    std::fs::write(root.join("mlwatch.yaml"), config).unwrap();
    dir
}

fn backtest(dir: &Path, from: &str, to: &str) -> Vec<(String, String, String)> {
    let config = dir.join("mlwatch.yaml");
    let out = mlwatch(&["backtest", "--config", config.to_str().unwrap(), "--from", from, "--to", to, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<_> = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let column = a["labels"]["column"].as_str().map(|c| format!("/{c}")).unwrap_or_default();
            let who = format!("{}/{}{column}", a["rule"].as_str().unwrap(), a["labels"]["tenant"].as_str().unwrap());
            (who, a["firing_at"].as_str().unwrap().to_string(), a["resolved_at"].as_str().unwrap_or("-").to_string())
        })
        .collect();
    got.sort();
    got
}

#[test]
fn the_batch_output_rules_catch_a_stalled_job_a_halved_weekday_and_a_renamed_column() {
    let dir = example_setup(&["batch-outputs.yaml"]);
    let got = backtest(dir.path(), "2026-11-02T00:00:00Z", "2026-11-21T23:00:00Z");
    let p = |who: &str, firing: &str, resolved: &str| (who.to_string(), firing.to_string(), resolved.to_string());
    assert_eq!(
        got,
        [
            // acme's job renamed `score`: the alert names both columns.
            p("RecommendationSchemaChanged/acme/model_score", "2026-11-20T03:00:00Z", "-"),
            p("RecommendationSchemaChanged/acme/score", "2026-11-20T03:00:00Z", "-"),
            // globex's Thursday at half its lists fires after `for: 2h` and
            // resolves with Friday's run; no weekend fires (week over week).
            p("RecommendationVolumeDropped/globex", "2026-11-19T05:00:00Z", "2026-11-20T03:00:00Z"),
            // initech's job stopped after the 18th: no rows at all, and its
            // newest partition passes 50h on the 20th.
            p("RecommendationVolumeDropped/initech", "2026-11-19T05:00:00Z", "-"),
            p("RecommendationsStale/initech", "2026-11-20T03:00:00Z", "-"),
        ]
    );
}

#[test]
fn the_prediction_drift_rules_catch_globexs_model_release_and_nothing_else() {
    let dir = example_setup(&["prediction-drift.yaml"]);
    let got = backtest(dir.path(), "2026-11-12T00:00:00Z", "2026-11-19T23:00:00Z");
    let p = |who: &str, firing: &str, resolved: &str| (who.to_string(), firing.to_string(), resolved.to_string());
    assert_eq!(
        got,
        [
            // The release is marked the first hour its lists are judged, and
            // resolves once v2 has served a whole day (the day before is v2 too).
            p("ModelVersionChanged/globex/model_version", "2026-11-16T03:00:00Z", "2026-11-18T00:00:00Z"),
            // Scores and items against a week earlier, after `for: 2h`; they
            // stay until the week-old reference is v2's too.
            p("PredictionScoreDrift/globex/score", "2026-11-16T05:00:00Z", "-"),
            p("RecommendedItemsShifted/globex/item_id", "2026-11-16T05:00:00Z", "-"),
        ]
    );
}

#[test]
fn a_report_of_a_backtest_draws_globexs_release() {
    let dir = example_setup(&["prediction-drift.yaml"]);
    let config = dir.path().join("mlwatch.yaml");
    let (json, html) = (dir.path().join("report.json"), dir.path().join("report.html"));
    let period = ["--from", "2026-11-14T00:00:00Z", "--to", "2026-11-18T06:00:00Z", "--tenant", "globex", "--backtest"];
    for (out, format) in [(&json, "json"), (&html, "html")] {
        let mut args = vec!["report", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--format", format];
        args.extend(period);
        let run = mlwatch(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!((report["format"].as_str(), report["version"].as_u64()), (Some("mlwatch-report"), Some(1)));
    let rule = |name: &str| report["rules"].as_array().unwrap().iter().find(|r| r["rule"] == name).unwrap_or_else(|| panic!("{name}: {report}")).clone();
    let scores = rule("PredictionScoreDrift");
    assert_eq!(scores["tenant"], "globex");
    assert_eq!(scores["alerts"][0]["firing_at"], "2026-11-16T05:00:00Z");
    let panel = &scores["panels"][0];
    assert_eq!(panel["title"], "column=score");
    assert_eq!(panel["distribution"]["bins"].as_array().unwrap().len(), 10, "the baseline's deciles");
    let chart = &panel["charts"][0];
    assert_eq!((chart["threshold"].as_f64(), chart["lines"][0]["name"].as_str()), (Some(0.2), Some("psi")), "psi, the value the condition compares");
    assert_eq!(chart["firing"][0][0], "2026-11-16T05:00:00Z");
    assert!(chart["lines"][0]["points"].as_array().unwrap().len() > 90, "hourly values over four days");
    assert_eq!(rule("ModelVersionChanged")["alerts"][0]["resolved_at"], "2026-11-18T00:00:00Z");
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains(r#"<svg class="chart histogram""#) && html.contains(r#"<rect class="firing""#) && html.contains("2026-11-16 05:00 UTC"));
}

#[test]
fn a_report_of_an_slo_draws_each_windows_burn_and_the_budget() {
    let dir = example_setup(&["serving-slos.yaml"]);
    let (config, out) = (dir.path().join("mlwatch.yaml"), dir.path().join("report.json"));
    let args = [
        "report", "--config", config.to_str().unwrap(), "--backtest", "--rule", "ApiAvailabilityBurnFast", "--tenant", "acme",
        "--from", "2026-11-05T13:00:00Z", "--to", "2026-11-05T16:40:00Z", "--format", "json", "--out", out.to_str().unwrap(),
    ];
    let run = mlwatch(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let r = &report["rules"][0];
    assert_eq!((r["rule"].as_str(), r["alerts"][0]["firing_at"].as_str()), (Some("ApiAvailabilityBurnFast"), Some("2026-11-05T14:27:00Z")));
    let panel = &r["panels"][0];
    let burn = &panel["charts"][0];
    assert_eq!(burn["title"], "Burn rate of each window");
    let windows: Vec<&str> = burn["lines"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(windows, ["5m window", "30m window", "1h window", "2h window", "6h window", "1d window", "3d window"]);
    assert_eq!(burn["firing"][0][0], "2026-11-05T14:27:00Z");
    let budget = &panel["charts"][1];
    assert_eq!((budget["title"].as_str(), budget["unit"].as_str(), budget["threshold"].as_f64()), (Some("Error budget left over 30d"), Some("ratio"), Some(0.0)));
    let left: Vec<f64> = budget["lines"][0]["points"].as_array().unwrap().iter().map(|p| p[1].as_f64().unwrap()).collect();
    assert!(left.first() > left.last(), "the incident spends budget: {left:?}");
}

#[test]
fn the_serving_slo_rules_page_on_acmes_incident_and_nothing_else() {
    let dir = example_setup(&["serving-slos.yaml"]);
    let got = backtest(dir.path(), "2026-11-05T13:50:00Z", "2026-11-05T16:40:00Z");
    let fired: std::collections::BTreeSet<&str> = got.iter().map(|(w, ..)| w.as_str()).collect();
    assert_eq!(fired.into_iter().collect::<Vec<_>>(), ["ApiAvailabilityBurnFast/acme", "ApiAvailabilityBurnSlow/acme", "ApiLatencyBurnFast/acme", "ApiLatencyBurnSlow/acme"], "{got:#?}");
    let first = |who: &str| got.iter().find(|(w, ..)| w == who).map(|(_, f, _)| f.as_str());
    assert_eq!(first("ApiLatencyBurnFast/acme"), Some("2026-11-05T14:12:00Z"));
    assert_eq!(first("ApiAvailabilityBurnFast/acme"), Some("2026-11-05T14:27:00Z"));
    assert_eq!(first("ApiAvailabilityBurnSlow/acme"), Some("2026-11-05T15:39:00Z"), "the 3d/6h pair, as the reference has it");
}

#[test]
fn check_names_bad_filters_with_their_position_and_the_fields_there_are() {
    let dir = tempfile::tempdir().unwrap();
    write_config_and_rules(
        dir.path(),
        r#"api: { kind: log, path: "logs/api.log*", timestamp: ts, tenant_field: tenant, fields: { status: number, endpoint: string } }"#,
        r#"groups:
  - name: g
    source: api
    per_tenant: true
    rules:
      - alert: A
        check: { slo: { good: "status < 500 and endpoint < 3", objective: 99.7, period: 30d } }
        when: "page == 1"
      - alert: B
        check: { slo: { good: "statuss < 500", objective: 99.7, period: 30d } }
        when: "page == 1"
      - alert: C
        check: { drift: { columns: [x] } }
        baseline: { profile: x.json }
        when: "psi > 0.2"
"#,
    );
    let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for want in [
        "rules.yaml:7:16: rule `A`: slo: good: comparisons compare numbers (this is a string) (at character 18)",
        "rules.yaml:10:16: rule `B`: slo: good: `statuss` is not a declared field of the log source (did you mean `status`?) (its `fields:` are: endpoint, status) (at character 1)",
        "rules.yaml:13:16: rule `C`: a drift check compares rows, and a log source keeps counts",
    ] {
        assert!(text.contains(want), "{want}\nnot in:\n{text}");
    }
}
