//! Alerts end to end: firing, retries, resolving; bad input.

use crate::support::{self, Agent, StandIn, mlwatch, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, healthy, status_of, write_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_alert_fires_once_retries_through_a_500_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    // The first delivery attempt fails with a 500; the agent must retry it.
    let slack = StandIn::start(vec![500]).await;
    write_config(dir.path(), &slack.url, DRIFT_GROUP);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    let firing = wait_for("the firing notification", async || {
        slack.delivered().into_iter().find(|b| status_of(b) == "firing")
    })
    .await;
    assert_eq!(slack.attempts(), 2, "one failed attempt, one retry");
    let blocks = firing["blocks"].to_string();
    assert!(firing["text"].as_str().unwrap().starts_with("[FIRING:1] Drift\n*[FIRING]* PSI "), "{firing}");
    assert!(blocks.contains("`column=x`") && blocks.contains("`severity=page`"), "{blocks}");
    assert!(blocks.contains("<https://runbooks.example.com/drift|runbook>"), "{blocks}");
    assert!(blocks.contains("<http://mlwatch.test|mlwatch>"), "{blocks}");
    assert_eq!(firing["username"], "mlwatch");

    let metrics = agent.metrics().await;
    let psi = support::metric_value(&metrics, r#"mlwatch_drift_psi{column="x",rule="Drift",tenant=""}"#).expect(&metrics);
    assert!(psi > 0.2, "psi {psi}");
    assert!(metrics.contains(r#"mlwatch_drift_ks_pvalue{column="x",rule="Drift",tenant=""}"#));
    assert_eq!(support::metric_value(&metrics, r#"mlwatch_alerts{alertstate="firing"}"#), Some(1.0));

    // Healthy again: exactly one RESOLVED.
    write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
    wait_for("the resolved notification", async || {
        slack.delivered().iter().any(|b| status_of(b) == "resolved").then_some(())
    })
    .await;
    // Let a few more evaluations pass: nothing more may be sent.
    let evals = r#"mlwatch_rule_evaluations_total{rule="Drift"}"#;
    let at_resolve = agent.metric(evals).await.unwrap();
    wait_for("three more evaluations", async || (agent.metric(evals).await? >= at_resolve + 3.0).then_some(())).await;
    let statuses: Vec<String> = slack.delivered().iter().map(|b| status_of(b).to_string()).collect();
    assert_eq!(statuses, ["firing", "resolved"]);
    let metrics = agent.metrics().await;
    assert_eq!(
        support::metric_value(&metrics, r#"mlwatch_notifications_total{integration="slack",receiver="oncall",result="success"}"#),
        Some(2.0)
    );
    assert_eq!(
        support::metric_value(&metrics, r#"mlwatch_notifications_total{integration="slack",receiver="oncall",result="retry"}"#),
        Some(1.0)
    );

    // The webhook URL is a secret: it never appears in the logs.
    let logs = agent.log_messages();
    assert!(!logs.contains(&slack.url), "secret leaked into logs");
    assert_eq!(agent.terminate().await, Some(0), "SIGTERM exits cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_counted_and_does_not_stop_other_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    // Baseline with x and y; the current data has only x.
    write_csv(&dir.path().join("reference.csv"), "x,y", healthy(1).map(|v| format!("{v},{v}")));
    let out = mlwatch(&[
        "baseline",
        "build",
        "--source",
        dir.path().join("reference.csv").to_str().unwrap(),
        "--out",
        dir.path().join("base.json").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    write_csv(&dir.path().join("data/current.csv"), "x", healthy(2));
    std::fs::write(dir.path().join("data/corrupt.parquet"), b"PAR1 but not really parquet").unwrap();
    let slack = StandIn::start(vec![]).await;
    let rule = |name: &str, source: &str, column: &str| {
        format!(
            r#"
  - name: {name}
    source: {source}
    interval: 1s
    rules:
      - alert: {name}
        check: {{ drift: {{ columns: [{column}] }} }}
        baseline: {{ profile: base.json }}
        when: "psi > 0.2"
"#
        )
    };
    let groups = format!(
        "groups:{}{}{}{}",
        rule("Healthy", "current", "x"),
        rule("MissingFile", "missing", "x"),
        rule("CorruptFile", "corrupt", "x"),
        rule("MissingColumn", "current", "y"),
    );
    write_config(dir.path(), &slack.url, &groups);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    // No files is no rows (a value rules can alert on), not a failure.
    let failures = [
        ("CorruptFile", "source_corrupt"),
        ("MissingColumn", "missing_column"),
    ];
    wait_for("every bad rule to fail twice and the good one to run twice", async || {
        let m = agent.metrics().await;
        let failed_twice = failures.iter().all(|(rule, reason)| {
            let series = format!(r#"mlwatch_rule_evaluation_failures_total{{reason="{reason}",rule="{rule}"}}"#);
            support::metric_value(&m, &series).is_some_and(|v| v >= 2.0)
        });
        let good = support::metric_value(&m, r#"mlwatch_rule_evaluations_total{rule="Healthy"}"#).is_some_and(|v| v >= 2.0);
        (failed_twice && good).then_some(())
    })
    .await;
    let m = agent.metrics().await;
    assert!(m.contains(r#"mlwatch_drift_psi{column="x",rule="Healthy",tenant=""}"#), "{m}");
    assert_eq!(support::metric_value(&m, r#"mlwatch_window_rows{rule="MissingFile",tenant=""}"#), Some(0.0), "{m}");
    assert!(support::metric_value(&m, r#"mlwatch_window_rows{rule="Healthy",tenant=""}"#).is_some_and(|v| v > 0.0), "{m}");
    let rules = agent.get_json("/api/v1/rules").await;
    for g in rules["data"]["groups"].as_array().unwrap() {
        let r = &g["rules"][0];
        let expected = if matches!(r["name"].as_str(), Some("Healthy" | "MissingFile")) { "ok" } else { "error" };
        assert_eq!(r["health"], expected, "{r}");
        assert_eq!(r["lastError"].is_string(), expected == "error", "{r}");
    }
    let healthy_failures = m.lines().filter(|l| l.starts_with("mlwatch_rule_evaluation_failures_total") && l.contains(r#"rule="Healthy""#));
    assert_eq!(healthy_failures.count(), 0, "{m}");

    let logs = agent.log_messages();
    for needle in [
        "corrupt.parquet: not a readable Parquet file",
        "column `y` not found (the file has: x)",
    ] {
        assert!(logs.contains(needle), "logs lack `{needle}`:\n{logs}");
    }
    // A persisting failure is logged once, not on every evaluation.
    let warnings = agent.logs.lock().unwrap().iter().filter(|v| v["message"] == "evaluation failed").count();
    assert_eq!(warnings, 2, "{logs}");
    assert!(slack.delivered().is_empty(), "healthy data raises no alert");
    assert_eq!(agent.terminate().await, Some(0));
}
