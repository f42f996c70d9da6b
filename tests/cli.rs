//! The command line: `mlwatch check` diagnostics, `baseline build`, exit codes.

mod support;

use support::{fixture, mlwatch, mlwatch_bounded};

#[test]
fn check_reports_every_error_with_file_line_and_column() {
    let out = mlwatch(&["check", "--config", fixture("check/broken/mlwatch.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let expected = [
        ("semantic.yaml:3:13:", "unknown source `featurs` (did you mean `features`?)"),
        ("semantic.yaml:4:15:", "interval: invalid duration `5 minutes please`"),
        ("semantic.yaml:10:14:", "rule `Dup`: for: invalid duration `10 parsecs`"),
        ("semantic.yaml:12:20:", "annotation `summary`: template error"),
        ("semantic.yaml:13:16:", "duplicate rule name `Dup`"),
        ("semantic.yaml:16:15:", "unknown value `pis` (did you mean `psi`?)"),
        ("semantic.yaml:19:15:", "invalid cron expression `*/15 * * *`: 4 fields"),
        ("syntax.yaml:6:36:", "mismatched bracket"),
        ("unknown-key.yaml:9:9:", "unknown field `fro`"),
        ("unknown-key.yaml:9:9:", "(did you mean `for`?)"),
        ("wrong-type.yaml:4:17:", "per_tenant: invalid boolean"),
    ];
    for (place, message) in expected {
        assert!(
            stdout.lines().any(|l| l.contains(place) && l.contains(message)),
            "missing `{place} … {message}` in:\n{stdout}"
        );
    }
    assert_eq!(stdout.lines().count(), 10, "one line per error:\n{stdout}");
    assert!(String::from_utf8(out.stderr).unwrap().contains("10 errors found"));
}

#[test]
fn check_suggests_the_nearest_config_key() {
    let out = mlwatch(&["check", "--config", fixture("check/config-typo.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("config-typo.yaml:3:1: unknown field `rule_file`"), "{stdout}");
    assert!(stdout.contains("(did you mean `rule_files`?)"), "{stdout}");
}

#[test]
fn check_passes_a_good_config_with_a_summary() {
    let out = mlwatch(&["check", "--config", fixture("check/good/mlwatch.yaml").to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("OK: 1 source, 1 rule file, 1 group, 1 rule, 1 receiver"), "{stdout}");
}

#[test]
fn check_validates_the_demo_config_and_rules() {
    // Every example and its ready rules validate without data (the demo's
    // per-tenant baselines are read when a tenant is first seen), and
    // without a warning.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for example in ["examples/recsys/mlwatch.yaml", "examples/serving/mlwatch.yaml", "examples/recsys/quality.yaml"] {
        let out = mlwatch(&["check", "--strict", "--config", root.join(example).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{example}: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn check_reports_a_missing_baseline_at_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("check/good");
    for f in ["mlwatch.yaml", "rules/drift.yaml", "data/d.csv"] {
        std::fs::create_dir_all(dir.path().join(f).parent().unwrap()).unwrap();
        std::fs::copy(good.join(f), dir.path().join(f)).unwrap();
    }
    let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("drift.yaml:10:19: rule `Drift`: baseline:"), "{stdout}");
    assert!(stdout.contains("base.json: cannot read baseline profile"), "{stdout}");
}

/// A copy of the good fixture config in a temporary directory, with `extra`
/// appended to `mlwatch.yaml`.
fn good_config_with(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("check/good");
    for f in ["mlwatch.yaml", "rules/drift.yaml", "data/d.csv", "base.json"] {
        std::fs::create_dir_all(dir.path().join(f).parent().unwrap()).unwrap();
        std::fs::copy(good.join(f), dir.path().join(f)).unwrap();
    }
    let mut text = std::fs::read_to_string(dir.path().join("mlwatch.yaml")).unwrap();
    text.push_str(extra);
    std::fs::write(dir.path().join("mlwatch.yaml"), text).unwrap();
    dir
}

#[test]
fn check_reads_the_bearer_token_file_as_the_agent_does() {
    // Regression: `check` re-implemented the agent's preparation and skipped the token file.
    let dir = good_config_with("server: { bearer_token_file: missing-token }\n");
    let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("server.bearer_token_file: cannot read") && stdout.contains("missing-token"), "{stdout}");
    std::fs::write(dir.path().join("missing-token"), "\n").unwrap();
    let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("missing-token is empty"));
}

#[test]
fn text_logs_carry_no_colour_codes_when_not_at_a_terminal() {
    // Regression: log lines carried ANSI escapes into files and pipes.
    let dir = good_config_with("storage: { path: not-a-directory }\n");
    std::fs::write(dir.path().join("not-a-directory"), "a file").unwrap();
    let out = mlwatch(&["run", "--listen", "127.0.0.1:0", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("ERROR"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "escape codes in: {stderr:?}");
}

#[test]
fn usage_errors_exit_2_and_invalid_config_stops_run_with_2() {
    assert_eq!(mlwatch(&["check", "--no-such-flag"]).status.code(), Some(2));
    let out = mlwatch(&["run", "--config", fixture("check/config-typo.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("unknown field `rule_file`"));
}

#[test]
fn baseline_build_writes_a_versioned_profile() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ref.csv");
    let mut body = String::from("x,label\n");
    for i in 1..=100 {
        body.push_str(&format!("{i},{}\n", if i % 2 == 0 { "a" } else { "b" }));
    }
    body.push_str(",a\n");
    std::fs::write(&csv, body).unwrap();
    let out_path = dir.path().join("profiles/p.json");
    let out = mlwatch(&["baseline", "build", "--source", csv.to_str().unwrap(), "--out", out_path.to_str().unwrap(), "--sample", "20"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().contains("101 rows from 1 file, 2 columns (label, x)"));
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(p["format"], "mlwatch-profile");
    assert_eq!(p["version"], 1);
    let x = &p["columns"]["x"];
    assert_eq!(x["kind"], "numeric");
    assert_eq!((x["count"].as_u64(), x["nulls"].as_u64()), (Some(100), Some(1)));
    // numpy.quantile(range(1, 101), [0.1, 0.2, ..., 0.9]) with linear interpolation
    let edges: Vec<f64> = x["bin_edges"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let want = [10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1];
    assert!(edges.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9), "{edges:?}");
    assert_eq!(x["sample"].as_array().unwrap().len(), 20);
    let label = &p["columns"]["label"];
    assert_eq!(label["kind"], "categorical");
    assert_eq!((label["categories"]["a"].as_u64(), label["categories"]["b"].as_u64()), (Some(51), Some(50)));

    let show = mlwatch(&["baseline", "show", out_path.to_str().unwrap()]);
    let text = String::from_utf8(show.stdout).unwrap();
    assert!(text.contains("mlwatch-profile version 1"), "{text}");
    assert!(text.contains("2 categories: a 50.5%, b 49.5%"), "{text}");
}

/// Writes `base.csv` (x uniform over 0..1000, d one of three devices) and
/// `cur.csv` with x shifted by `shift` and d as given.
fn drift_data(dir: &std::path::Path, shift: f64, devices: &[&str]) {
    let mut base = String::from("x,d\n");
    for i in 0..1000 {
        base.push_str(&format!("{},{}\n", i as f64 / 10.0, ["ios", "android", "web"][i % 3]));
    }
    std::fs::write(dir.join("base.csv"), base).unwrap();
    let mut cur = String::from("x,d\n");
    for i in 0..600 {
        cur.push_str(&format!("{},{}\n", (i * 7 % 1000) as f64 / 10.0 + shift, devices[i % devices.len()]));
    }
    std::fs::write(dir.join("cur.csv"), cur).unwrap();
}

#[test]
fn drift_exits_0_when_nothing_drifted_and_1_when_something_did() {
    let dir = tempfile::tempdir().unwrap();
    let (b, c) = (dir.path().join("base.csv"), dir.path().join("cur.csv"));
    drift_data(dir.path(), 0.0, &["ios", "android", "web"]);
    let out = mlwatch(&["drift", b.to_str().unwrap(), c.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    drift_data(dir.path(), 30.0, &["ios", "android", "web"]);
    let out = mlwatch(&["drift", b.to_str().unwrap(), c.to_str().unwrap()]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(table.contains("1 of 2 drifted"), "{table}");
    assert!(table.contains("auto: continuous numeric, 600 values"), "{table}");
}

#[test]
fn drift_json_is_the_documented_contract() {
    let dir = tempfile::tempdir().unwrap();
    drift_data(dir.path(), 30.0, &["ios", "tv"]);
    let (b, c) = (dir.path().join("base.csv"), dir.path().join("cur.csv"));
    let out = mlwatch(&[
        "drift", b.to_str().unwrap(), c.to_str().unwrap(), "--method", "psi", "--method", "chi2", "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cols = report["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 4, "two columns × two methods");
    for c in cols {
        for key in [
            "column", "kind", "method", "statistic", "p_value", "threshold", "drift", "baseline_count", "current_count",
            "baseline_nulls", "current_nulls",
        ] {
            assert!(c.get(key).is_some(), "missing `{key}` in {c}");
        }
    }
    let d_chi2 = cols.iter().find(|c| c["column"] == "d" && c["method"] == "chi2").unwrap();
    assert_eq!(d_chi2["kind"], "categorical");
    assert_eq!(d_chi2["unseen_ratio"], 0.5);
    assert_eq!(d_chi2["drift"], true);
    let x_psi = cols.iter().find(|c| c["column"] == "x" && c["method"] == "psi").unwrap();
    assert_eq!((x_psi["p_value"].is_null(), x_psi["threshold"].as_f64()), (true, Some(0.2)));
    assert_eq!(report["drifted"], 4);
}

#[test]
fn drift_accepts_a_profile_and_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    drift_data(dir.path(), 0.0, &["ios"]);
    let (b, c, p) = (dir.path().join("base.csv"), dir.path().join("cur.csv"), dir.path().join("p.json"));
    assert!(mlwatch(&["baseline", "build", "--source", b.to_str().unwrap(), "--out", p.to_str().unwrap()]).status.success());
    let out = mlwatch(&["drift", p.to_str().unwrap(), c.to_str().unwrap(), "--columns", "x", "--method", "ks", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["columns"][0]["p_value_method"], "exact");
    assert_eq!(out.status.code(), Some(0));
    let out = mlwatch(&["drift", p.to_str().unwrap(), c.to_str().unwrap(), "--columns", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("column `nope` not found"));
    let out = mlwatch(&["drift", b.to_str().unwrap(), c.to_str().unwrap(), "--columns", "d", "--method", "ks"]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("note: ks needs a numeric column"));
}

#[test]
fn baseline_build_names_a_missing_source() {
    let out = mlwatch(&["baseline", "build", "--source", "/nonexistent/*.parquet", "--out", "/tmp/never.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("`/nonexistent/*.parquet`: no such file, and no file matches it as a glob pattern"));
}

#[test]
fn check_reports_routing_mistakes() {
    let out = mlwatch(&["check", "--config", fixture("check/routing.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    for (place, message) in [
        ("routing.yaml:3:3:", "route.group_wait: invalid duration `soon`"),
        ("routing.yaml:3:3:", "route.routes[0]: unknown receiver `pagr` (did you mean `pager`?)"),
        ("routing.yaml:9:5:", "`source_matchers` and `target_matchers` must not be empty"),
        ("routing.yaml:12:5:", "receiver `oncall`: email: to: `not an address`"),
    ] {
        assert!(stdout.lines().any(|l| l.contains(place) && l.contains(message)), "missing `{place} … {message}` in:\n{stdout}");
    }
}

#[path = "authoring/mod.rs"]
mod authoring;

#[path = "lake/mod.rs"]
mod lake;

#[path = "slo/scenarios.rs"]
mod slo_scenarios;

#[path = "recsys/scenarios.rs"]
mod recsys_scenarios;

/// The incident lake with a per-tenant baseline for each tenant of day 1
/// (built from days 1-3), and a config with a drift rule and a no-data rule.
fn incident_setup() -> tempfile::TempDir {
    incident_setup_with(r#"{ profile: "baselines/{tenant}.json" }"#)
}

/// [`incident_setup`] with the rules' `baseline:` as given.
fn incident_setup_with(baseline: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    lake::write_lake(&root.join("lake"), &lake::incident_tenants(), 42);
    for t in ["acme", "globex", "initech"] {
        let source = root.join(format!("lake/{t}/features/dt=2026-11-0[1-3]/*.csv"));
        let out = root.join(format!("baselines/{t}.json"));
        let built = mlwatch(&["baseline", "build", "--source", source.to_str().unwrap(), "--columns", "age,sessions_7d", "--out", out.to_str().unwrap()]);
        assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    }
    write_config_and_rules(
        root,
        r#"features: { kind: file, path: "lake/{tenant}/features/dt={date}/*.csv", timestamp: ts }"#,
        &r#"
groups:
  - name: features
    source: features
    interval: 6h
    window: 6h
    per_tenant: true
    rules:
      - alert: FeatureDrift
        check: { drift: { columns: [age, sessions_7d], method: psi } }
        baseline: BASELINE
        when: "psi > 0.2"
        labels: { severity: page }
      - alert: TenantDataStopped
        check: { drift: { columns: [age] } }
        baseline: BASELINE
        when: "rows == 0"
        labels: { severity: ticket }
"#
        .replace("BASELINE", baseline),
    );
    dir
}

/// `mlwatch.yaml` with one source (its YAML) and a stdout receiver, and `rules.yaml`.
fn write_config_and_rules(root: &std::path::Path, source: &str, rules: &str) {
    let config = format!(
        "sources:\n  {source}\nrule_files: [\"rules.yaml\"]\n\
         route: {{ receiver: oncall, group_by: [alertname, tenant], group_wait: 0s, group_interval: 1m, repeat_interval: 30d }}\n\
         receivers:\n  - name: oncall\n    stdout: [{{}}]\n"
    );
    std::fs::write(root.join("mlwatch.yaml"), config).unwrap();
    std::fs::write(root.join("rules.yaml"), rules).unwrap();
}

/// (rule/tenant/column, firing at, resolved at) of every alert in a backtest report.
fn alert_periods(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let column = a["labels"]["column"].as_str().unwrap_or("").to_string();
            let who = format!("{}/{}/{column}", a["rule"].as_str().unwrap(), a["labels"]["tenant"].as_str().unwrap());
            (who, a["firing_at"].as_str().unwrap_or("-").to_string(), a["resolved_at"].as_str().unwrap_or("-").to_string())
        })
        .collect()
}

/// The two incidents of the lake, as `alert_periods` shows them.
fn incident_alerts() -> Vec<(String, String, String)> {
    vec![
        ("FeatureDrift/globex/age".to_string(), "2026-11-08T06:00:00Z".to_string(), "-".to_string()),
        ("TenantDataStopped/initech/age".to_string(), "2026-11-09T06:00:00Z".to_string(), "-".to_string()),
    ]
}

fn backtest_json(dir: &std::path::Path, from: &str, to: &str) -> serde_json::Value {
    let config = dir.join("mlwatch.yaml");
    let out = mlwatch(&["backtest", "--config", config.to_str().unwrap(), "--from", from, "--to", to, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn backtest_shows_the_incidents_of_the_lake_and_nothing_else() {
    let dir = incident_setup();
    let config = dir.path().join("mlwatch.yaml");
    let out = mlwatch(&[
        "backtest",
        "--config",
        config.to_str().unwrap(),
        "--from",
        "2026-11-01T06:00:00Z",
        "--to",
        "2026-11-10T18:00:00Z",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["format"], "mlwatch-backtest");
    assert_eq!(report["evaluations"], 39, "every 6h from day 1 06:00 to day 10 18:00");
    // globex drifts from day 8 (caught by the first window of it); initech's
    // partitions stop after day 8 (no data from the first empty window);
    // acme and the new tenant umbrella stay quiet.
    assert_eq!(alert_periods(&report), incident_alerts(), "{report:#}");
    // Both went to the receiver, once each, grouped by alertname and tenant.
    let told: Vec<String> = report["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| format!("{} {} {}", n["at"].as_str().unwrap(), n["integration"].as_str().unwrap(), n["group_labels"]["tenant"].as_str().unwrap()))
        .collect();
    assert_eq!(told, ["2026-11-08T06:00:00Z stdout[0] globex", "2026-11-09T06:00:00Z stdout[0] initech"]);
    assert_eq!(report["summary"]["pages_per_day"]["2026-11-08"], 1);
    // The tenant without a baseline profile fails alone, named.
    assert!(stderr.contains("tenant `umbrella`") && stderr.contains("umbrella.json"), "{stderr}");
}

#[test]
fn learned_baselines_hold_a_new_tenant_while_it_learns_and_catch_the_incidents() {
    let dir = incident_setup_with("{ learn: 3d }");
    let report = backtest_json(dir.path(), "2026-11-01T06:00:00Z", "2026-11-10T18:00:00Z");
    assert_eq!(alert_periods(&report), incident_alerts(), "{report:#}");
    let learning: Vec<String> = report["learning"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rule"] == "FeatureDrift")
        .map(|l| format!("{} {} {}", l["tenant"].as_str().unwrap(), l["since"].as_str().unwrap(), l["until"].as_str().unwrap()))
        .collect();
    // Each tenant learns its first three days from the window it was first seen in.
    assert_eq!(
        learning,
        [
            "acme 2026-11-01T06:00:00Z 2026-11-04T00:00:00Z",
            "globex 2026-11-01T06:00:00Z 2026-11-04T00:00:00Z",
            "initech 2026-11-01T06:00:00Z 2026-11-04T00:00:00Z",
            "umbrella 2026-11-06T06:00:00Z 2026-11-09T00:00:00Z",
        ]
    );
}

#[test]
fn learned_thresholds_stay_quiet_on_natural_spread_and_catch_real_drift() {
    // One tenant whose `load` wanders a lot from hour to hour (a healthy
    // daily rhythm), then shifts far from day 6.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    use rand::Rng;
    for day in 1..=6u32 {
        let d = root.join(format!("lake/acme/dt=2026-11-{day:02}"));
        std::fs::create_dir_all(&d).unwrap();
        let mut body = String::from("ts,load\n");
        for hour in 0..24 {
            let level = 50.0 + 8.0 * ((hour as f64) / 24.0 * std::f64::consts::TAU).sin() + if day >= 6 { 80.0 } else { 0.0 };
            for i in 0..100 {
                let v = level + rng.random_range(-20.0..20.0);
                body.push_str(&format!("2026-11-{day:02}T{hour:02}:{:02}:{:02}Z,{v:.2}\n", i * 36 / 60, i * 36 % 60));
            }
        }
        std::fs::write(d.join("part-0.csv"), body).unwrap();
    }
    write_config_and_rules(
        root,
        r#"load: { kind: file, path: "lake/{tenant}/dt={date}/*.csv", timestamp: ts }"#,
        r#"
groups:
  - name: load
    source: load
    interval: 1h
    window: 1h
    per_tenant: true
    rules:
      - alert: FixedThreshold
        check: { drift: { columns: [load] } }
        baseline: { reference: { offset: 1d, window: 1d } }
        when: "psi > 0.2"
      - alert: LearnedThreshold
        check: { drift: { columns: [load] } }
        baseline: { reference: { offset: 1d, window: 1d }, threshold: learned }
        when: "psi > threshold"
"#,
    );
    let first = |report: &serde_json::Value, rule: &str| -> Option<String> {
        report["alerts"].as_array().unwrap().iter().find(|a| a["rule"] == rule).map(|a| a["pending_at"].as_str().unwrap().to_string())
    };
    // Healthy days 2-5 (each against the day before): the fixed threshold
    // pages on the daily rhythm, the learned one knows it.
    let healthy = backtest_json(root, "2026-11-02T01:00:00Z", "2026-11-05T23:00:00Z");
    assert!(first(&healthy, "FixedThreshold").is_some(), "{healthy:#}");
    assert_eq!(first(&healthy, "LearnedThreshold"), None, "{healthy:#}");
    // Day 6 drifts: both catch it in its first hour.
    let drift = backtest_json(root, "2026-11-06T01:00:00Z", "2026-11-06T06:00:00Z");
    assert_eq!(first(&drift, "FixedThreshold").as_deref(), Some("2026-11-06T01:00:00Z"), "{drift:#}");
    assert_eq!(first(&drift, "LearnedThreshold").as_deref(), Some("2026-11-06T01:00:00Z"), "{drift:#}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_live_agent_on_simulated_time_records_what_the_backtest_shows() {
    use mlwatch::agent::{self, Prepared, RunOptions};
    use mlwatch::util::clock::Clock;
    let dir = incident_setup_with("{ learn: 3d }");
    let config = dir.path().join("mlwatch.yaml");
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T06:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let end = chrono::DateTime::parse_from_rfc3339("2026-11-10T18:00:00Z").unwrap().with_timezone(&chrono::Utc);

    // The agent, from day 1 06:00 until just after day 10 18:00, on tokio's paused clock.
    let loaded = mlwatch::config::load(&config).unwrap();
    let opts = RunOptions { listen: Some("127.0.0.1:0".parse().unwrap()), shard: None, clock: Clock::tokio_from(start) };
    let until = (end - start).to_std().unwrap() + std::time::Duration::from_secs(60);
    agent::run(loaded, opts, tokio::time::sleep(until)).await.unwrap();
    let store = mlwatch::state::Store::open(&dir.path().join("data/mlwatch")).unwrap();
    let live = mlwatch::backtest::report::timeline(store.alert_history(chrono::DateTime::<chrono::Utc>::MIN_UTC).unwrap());

    // The backtest of the same period, in-process.
    let prepared = Prepared::load(&config).unwrap();
    let opts = mlwatch::backtest::Options { from: start, to: end, step: None, silences: vec![], groups: None };
    let replayed = mlwatch::backtest::run(&prepared, &opts).unwrap();
    assert_eq!(live, replayed.alerts);
    assert_eq!(live.len(), 2, "{live:#?}");
}

#[test]
fn baselines_in_the_state_can_be_pinned_listed_shown_and_forgotten() {
    let dir = incident_setup_with("{ learn: 3d }");
    let config = dir.path().join("mlwatch.yaml");
    let config = config.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = mlwatch(args);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let pin = ["baseline", "pin", "--config", config, "--rule", "FeatureDrift", "--tenant", "acme", "--from", "2026-11-01", "--to", "2026-11-03"];
    let (code, out) = run(&pin);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("pinned 2026-11-01T00:00:00Z .. 2026-11-03T00:00:00Z (4800 rows)"), "{out}");
    let (code, out) = run(&["baseline", "list", "--config", config]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.lines().any(|l| l.starts_with("FeatureDrift") && l.contains("acme") && l.contains("pinned")), "{out}");
    let (code, out) = run(&["baseline", "show", "--config", config, "--rule", "FeatureDrift", "--tenant", "acme"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rule FeatureDrift, tenant `acme`: pinned") && out.contains("age") && out.contains("numeric"), "{out}");
    // A tenant without rows in the period, and a rule without a stored baseline, are named.
    let (code, out) = run(&["baseline", "pin", "--config", config, "--rule", "FeatureDrift", "--tenant", "umbrella", "--from", "2026-11-01", "--to", "2026-11-03"]);
    assert_eq!(code, Some(2));
    assert!(out.contains("no rows in the baseline period 2026-11-01T00:00:00Z .. 2026-11-03T00:00:00Z"), "{out}");
    let (code, out) = run(&["baseline", "forget", "--config", config, "--rule", "FeatureDrift", "--tenant", "acme"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&["baseline", "forget", "--config", config, "--rule", "FeatureDrift", "--tenant", "acme"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("no stored baseline for rule `FeatureDrift` and tenant `acme`"), "{out}");
}

#[test]
fn backtest_applies_the_agents_silences_and_leaves_its_state_alone() {
    use mlwatch::alerting::{matcher::Matcher, silence::Silence};
    let dir = incident_setup();
    let state = dir.path().join("data/mlwatch");
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    let store = mlwatch::state::Store::open(&state).unwrap();
    let silence = Silence {
        id: "maintenance".into(),
        matchers: vec![Matcher::parse("tenant=globex").unwrap()],
        starts_at: at("2026-11-07T00:00:00Z"),
        ends_at: at("2026-11-12T00:00:00Z"),
        created_by: "sre".into(),
        comment: "globex migrates".into(),
        updated_at: at("2026-11-07T00:00:00Z"),
    };
    store.save_silence(&silence).unwrap();
    drop(store);
    let before = std::fs::read(state.join("state.db")).unwrap();

    let told = |report: &serde_json::Value| -> Vec<String> {
        let all = report["notifications"].as_array().unwrap().iter();
        all.map(|n| n["group_labels"]["tenant"].as_str().unwrap().to_string()).collect()
    };
    let report = backtest_json(dir.path(), "2026-11-01T06:00:00Z", "2026-11-10T18:00:00Z");
    assert_eq!(alert_periods(&report), incident_alerts(), "the alert still fires: silences mute notifications");
    assert_eq!(told(&report), ["initech"], "{report:#}");
    assert_eq!(std::fs::read(state.join("state.db")).unwrap(), before, "the agent's state is only read");

    let config = dir.path().join("mlwatch.yaml");
    let out = mlwatch(&["backtest", "--config", config.to_str().unwrap(), "--from", "2026-11-01T06:00:00Z", "--to", "2026-11-10T18:00:00Z", "--format", "json", "--ignore-silences"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(told(&report), ["globex", "initech"]);
}

#[test]
fn a_file_caught_mid_write_fails_its_tenant_and_the_others_go_on() {
    let dir = incident_setup();
    // Cut off after its first line: no `age` column.
    let bad = dir.path().join("lake/globex/features/dt=2026-11-08/part-1.csv");
    std::fs::write(&bad, "ts,ag").unwrap();
    let config = dir.path().join("mlwatch.yaml");
    let out = mlwatch(&["backtest", "--config", config.to_str().unwrap(), "--from", "2026-11-01T06:00:00Z", "--to", "2026-11-10T18:00:00Z", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // globex is not judged on day 8 (its drift is seen from day 9, when the
    // bad file is out of the window); initech's stop is caught as before.
    let alerts = alert_periods(&report);
    assert_eq!(alerts[0], ("FeatureDrift/globex/age".to_string(), "2026-11-09T06:00:00Z".to_string(), "-".to_string()), "{report:#}");
    assert_eq!(alerts[1], incident_alerts()[1], "{report:#}");
    assert!(stderr.contains("tenant `globex`") && stderr.contains("part-1.csv"), "{stderr}");
}

#[test]
fn deeply_nested_json_lines_are_named_not_a_crash() {
    // Regression: `drift` and `baseline build` overflowed the stack at about 5,000 levels.
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.jsonl");
    std::fs::write(&deep, format!("{{\"x\": {}1{}}}\n", "[".repeat(5000), "]".repeat(5000))).unwrap();
    std::fs::write(dir.path().join("base.csv"), "x\n1\n2\n3\n").unwrap();
    let drift = mlwatch(&["drift", dir.path().join("base.csv").to_str().unwrap(), deep.to_str().unwrap()]);
    let build = mlwatch(&["baseline", "build", "--source", deep.to_str().unwrap(), "--out", dir.path().join("p.json").to_str().unwrap()]);
    for out in [drift, build] {
        assert_eq!(out.status.code(), Some(2), "an exit code, not a signal");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("deep.jsonl:1: JSON nested deeper than 64 levels"), "{stderr}");
    }
}

#[test]
fn baseline_build_refuses_data_without_usable_values() {
    // Regression: 0 usable rows exited 0 with an empty profile.
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [("empty.csv", "x,y\n"), ("nulls.csv", "x,y\n,\n,\n")] {
        std::fs::write(dir.path().join(name), body).unwrap();
        let out = mlwatch(&["baseline", "build", "--source", dir.path().join(name).to_str().unwrap(), "--columns", "x", "--out", dir.path().join("p.json").to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no usable values to profile"), "{name}: {stderr}");
        assert!(!dir.path().join("p.json").exists());
    }
}

#[test]
fn file_arguments_are_names_before_patterns_and_fifos_are_refused() {
    // Regression: `cur[1].csv` was taken as a glob and "not found"; a FIFO
    // given to drift, baseline show or check blocked for ever.
    let dir = tempfile::tempdir().unwrap();
    drift_data(dir.path(), 0.0, &["ios", "android", "web"]);
    let literal = dir.path().join("cur[1].csv");
    std::fs::rename(dir.path().join("cur.csv"), &literal).unwrap();
    let base = dir.path().join("base.csv");
    let out = mlwatch(&["drift", base.to_str().unwrap(), literal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let fifo = dir.path().join("pipe.csv");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.to_str().unwrap();
    for args in [vec!["drift", base.to_str().unwrap(), fifo], vec!["baseline", "show", fifo], vec!["check", "--config", fifo]] {
        let out = mlwatch_bounded(&args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(matches!(out.status.code(), Some(1 | 2)), "{args:?}: {text}");
        assert!(text.contains("pipe.csv") && text.contains("not a regular file (a FIFO)"), "{args:?}: {text}");
    }
}

#[test]
fn check_refuses_schedules_that_never_run_and_names_oversized_files() {
    // Regression: a too-large interval silently stopped its group; a cron
    // expression that never fires passed; the size limit read "budget breached".
    for (schedule, expected) in [
        ("interval: 10000d", "interval is longer than 366d"),
        ("schedule: \"0 0 0 30 2 *\"", "never fires"),
        ("timeout: 0s", "timeout must be greater than zero"),
    ] {
        let dir = good_config_with("");
        let rules = dir.path().join("rules/drift.yaml");
        let text = std::fs::read_to_string(&rules).unwrap().replacen("schedule: \"0 */15 * * * *\"", schedule, 1);
        std::fs::write(&rules, text).unwrap();
        let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(1), "{schedule}: {stdout}");
        assert!(stdout.contains("drift.yaml:") && stdout.contains(expected), "{schedule}: {stdout}");
    }
    let dir = good_config_with("");
    let rules = dir.path().join("rules/drift.yaml");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str(&format!("# {}\n", "x".repeat(9 << 20)));
    std::fs::write(&rules, text).unwrap();
    let out = mlwatch(&["check", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("drift.yaml: cannot read file: the file is") && stdout.contains("at most 8388608 are read"), "{stdout}");
}

/// Run the binary as an unprivileged user (as `nobody` when the tests run as
/// root, where permissions are not enforced), from a copy it can execute.
fn mlwatch_unprivileged(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("mlwatch-copy");
    if !bin.exists() {
        std::fs::copy(support::bin(), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    cmd.args(args).env("HOME", dir).output().unwrap()
}

#[test]
fn a_state_file_without_permission_is_named_not_called_corrupt() {
    // Regression: EACCES read as a corrupt state file, with advice to move it aside.
    use std::os::unix::fs::PermissionsExt;
    let dir = good_config_with("storage: { path: state }\n");
    let mode = |p: &std::path::Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mlwatch::state::Store::open(&dir.path().join("state")).unwrap();
    for p in [dir.path().to_path_buf(), dir.path().join("rules"), dir.path().join("data")] {
        mode(&p, 0o755);
    }
    for f in ["mlwatch.yaml", "rules/drift.yaml", "data/d.csv", "base.json"] {
        mode(&dir.path().join(f), 0o644);
    }
    let config = dir.path().join("mlwatch.yaml");
    let config = config.to_str().unwrap();

    // The directory is not writable (and the file not ours): the agent names the directory.
    mode(&dir.path().join("state"), 0o755);
    mode(&dir.path().join("state/state.db"), 0o644);
    let out = mlwatch_unprivileged(dir.path(), &["run", "--listen", "127.0.0.1:0", "--config", config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("state.db: Permission denied") && stderr.contains("read and write access to the state file"), "{stderr}");
    assert!(stderr.contains("is not damaged") && !stderr.contains("mv "), "{stderr}");

    // The file cannot even be read: `baseline list` names the file and the missing right.
    mode(&dir.path().join("state/state.db"), 0o600);
    let out = mlwatch_unprivileged(dir.path(), &["baseline", "list", "--config", config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("state.db: Permission denied") && stderr.contains("read access to the state file"), "{stderr}");

    // A writable file in a directory that is not: the directory is named.
    mode(&dir.path().join("state/state.db"), 0o666);
    let out = mlwatch_unprivileged(dir.path(), &["run", "--listen", "127.0.0.1:0", "--config", config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("state: Permission denied") && stderr.contains("write access to the state directory"), "{stderr}");
}

#[test]
fn every_column_type_pyarrow_writes_is_checked_or_refused_with_a_reason() {
    // Regression: int8/16, uint8/16 and float16 made the file unreadable, a
    // decimal panicked, dictionary strings were refused or skipped in silence,
    // dates and timestamps could not be checked. Expected values: numpy, in
    // tests/fixtures/types/generate.py.
    let file = fixture("types/types.parquet");
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("types/types.expected.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("p.json");
    let out = mlwatch(&["baseline", "build", "--source", file.to_str().unwrap(), "--out", out_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let profile: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    for (column, want) in expected.as_object().unwrap() {
        let got = &profile["columns"][column];
        match want["kind"].as_str().unwrap() {
            "numeric" => {
                let n = got;
                assert_eq!(n["kind"], "numeric", "{column}: {got}");
                assert_eq!((&n["count"], &n["nulls"]), (&want["count"], &want["nulls"]), "{column}: {got}");
                for stat in ["min", "max", "mean"] {
                    assert!(close(n[stat].as_f64().unwrap(), want[stat].as_f64().unwrap()), "{column} {stat}: {got} vs {want}");
                }
            }
            "categorical" => {
                let c = got;
                assert_eq!(c["kind"], "categorical", "{column}: {got}");
                assert_eq!((&c["count"], &c["nulls"], &c["categories"]), (&want["count"], &want["nulls"], &want["categories"]), "{column}: {got}");
            }
            _ => {
                assert!(got.is_null(), "{column} is refused, not profiled");
                let named = mlwatch(&["drift", file.to_str().unwrap(), file.to_str().unwrap(), "--columns", column]);
                let stderr = String::from_utf8_lossy(&named.stderr);
                assert_eq!(named.status.code(), Some(2), "{column}: {stderr}");
                assert!(stderr.contains(&format!("column `{column}` is {}", want["reason"].as_str().unwrap())), "{column}: {stderr}");
            }
        }
    }
    // Unnamed, the refused columns are listed with why, never passed over.
    let out = mlwatch(&["drift", file.to_str().unwrap(), file.to_str().unwrap(), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let left: Vec<&str> = report["left_out"].as_array().unwrap().iter().map(|l| l["column"].as_str().unwrap()).collect();
    assert_eq!(left, ["items", "blob"]);
    assert_eq!(report["columns"].as_array().unwrap().len(), 14);
    let out = mlwatch(&["drift", file.to_str().unwrap(), file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 of 14 drifted; 2 columns left out"));
}
