//! Delivery to Slack and webhooks through injected faults, and after SIGKILL:
//! every firing and resolved message is acknowledged exactly once.

use std::time::Duration;

use crate::support::{Agent, Reply, StandIn, metric_value, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drift_group, drift_rule, drifted, healthy, write_agent_config};

const SERVER: &str = r#"{ external_url: "http://mlwatch.test" }"#;
const ROUTE: &str = "{ receiver: oncall, group_wait: 0s, group_interval: 1s }";

fn webhook_status(body: &serde_json::Value) -> String {
    body["status"].as_str().unwrap_or("?").to_string()
}

fn slack_status(body: &serde_json::Value) -> String {
    crate::status_of(body).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_retried_honoured_or_given_up_and_each_message_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    // Slack: a 500, a 429 asking for 2 s, a reply slower than the 1 s timeout, then fine.
    let slack = StandIn::scripted(vec![Reply::Status(500), Reply::RetryAfter(2), Reply::Slow(Duration::from_secs(3))]).await;
    // The webhook rejects the firing notification for good.
    let hook = StandIn::scripted(vec![Reply::Error(400, "invalid_payload")]).await;
    std::fs::write(dir.path().join("slack-url"), &slack.url).unwrap();
    let receivers = format!(
        "  - name: oncall\n    slack: [{{ api_url_file: slack-url, timeout: 1s }}]\n    webhook: [{{ url: \"{}\", timeout: 1s }}]\n",
        hook.url
    );
    write_agent_config(dir.path(), SERVER, ROUTE, &receivers, DRIFT_GROUP);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    wait_for("Slack to acknowledge the firing message", async || (!slack.delivered().is_empty()).then_some(())).await;
    let tries = slack.requests();
    assert_eq!(tries.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 429, 0, 200], "500, 429, timeout, success");
    assert!(tries[2].at - tries[1].at >= Duration::from_secs(2), "Retry-After: 2 was honoured");
    wait_for("the webhook's rejection to be counted", async || {
        let m = agent.metrics().await;
        (metric_value(&m, r#"mlwatch_notifications_total{integration="webhook",receiver="oncall",result="failure"}"#)? == 1.0).then_some(())
    })
    .await;
    assert!(agent.log_messages().contains("HTTP 400: invalid_payload"), "Slack's error string is logged");

    // Healthy again: one RESOLVED to each.
    write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
    wait_for("the resolved messages", async || {
        (slack.delivered().len() == 2 && hook.delivered().len() == 1).then_some(())
    })
    .await;
    let evals = r#"mlwatch_rule_evaluations_total{rule="Drift"}"#;
    let n = agent.metric(evals).await.unwrap();
    wait_for("three more evaluations", async || (agent.metric(evals).await? >= n + 3.0).then_some(())).await;
    assert_eq!(slack.delivered().iter().map(slack_status).collect::<Vec<_>>(), ["firing", "resolved"]);
    let resolved = &hook.delivered()[0];
    assert_eq!(webhook_status(resolved), "resolved");
    assert_eq!(resolved["version"], "4");
    assert_eq!(resolved["receiver"], "oncall");
    assert_eq!(resolved["groupLabels"]["alertname"], "Drift");
    assert_eq!(resolved["alerts"][0]["labels"]["column"], "x");
    assert_eq!(resolved["alerts"][0]["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(hook.attempts(), 2, "the rejected firing message was not retried");
    let m = agent.metrics().await;
    assert!(m.contains(r#"mlwatch_notification_latency_seconds_count{integration="slack",receiver="oncall"} 2"#), "{m}");
    assert_eq!(metric_value(&m, r#"mlwatch_notification_queue_length{integration="slack",receiver="oncall"}"#), Some(0.0));
    assert_eq!(agent.terminate().await, Some(0));
}

fn three_rules() -> String {
    drift_group(&["DriftA", "DriftB", "DriftC"].map(|name| drift_rule(name, "psi", "psi > 0.2", "")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_notifications_in_flight_loses_none_and_repeats_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    // Three groups (one per alert name). The first is acknowledged; the second
    // is held in flight; the third waits in the outbox behind it.
    let hook = StandIn::scripted(vec![Reply::Status(200), Reply::Hold]).await;
    let receivers = format!("  - name: oncall\n    webhook: [{{ url: \"{}\", timeout: 60s }}]\n", hook.url);
    write_agent_config(dir.path(), SERVER, ROUTE, &receivers, &three_rules());
    let config = dir.path().join("mlwatch.yaml");
    let agent = Agent::start(&config).await;
    wait_for("a notification in flight", async || (hook.attempts() == 2).then_some(())).await;
    agent.kill9();

    let agent = Agent::start(&config).await;
    let names = async || {
        let mut n: Vec<String> =
            hook.delivered().iter().map(|b| b["groupLabels"]["alertname"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    wait_for("every notification to be acknowledged", async || (names().await.len() >= 3).then_some(())).await;
    let evals = r#"mlwatch_rule_evaluations_total{rule="DriftA"}"#;
    wait_for("three evaluations after the restart", async || (agent.metric(evals).await? >= 3.0).then_some(())).await;
    assert_eq!(names().await, ["DriftA", "DriftB", "DriftC"], "each exactly once");
    assert!(hook.delivered().iter().all(|b| b["status"] == "firing"));
    assert_eq!(agent.terminate().await, Some(0));
}
