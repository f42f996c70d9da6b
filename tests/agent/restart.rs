//! Restarts without amnesia: SIGKILL, then a new process on the same state.


use chrono::{DateTime, Utc};

use crate::support::{Agent, StandIn, wait_for, write_csv};
use crate::{build_baseline, drift_group, drift_rule, drifted, status_of, write_config};

const HOLD_SECS: i64 = 15;

fn pending_group() -> String {
    drift_group(&[drift_rule("Drift", "psi", "psi > 0.2", &format!("for: {HOLD_SECS}s"))])
}

/// The one alert the API shows, once `pred` holds for it.
async fn the_alert(agent: &Agent, what: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    wait_for(what, async || {
        let v = agent.get_json("/api/v1/alerts").await;
        let alerts = v["data"]["alerts"].as_array()?.clone();
        assert!(alerts.len() <= 1, "{v}");
        alerts.into_iter().next().filter(|a| pred(a))
    })
    .await
}

fn time(v: &serde_json::Value) -> DateTime<Utc> {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a time: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_and_firing_alerts_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    let slack = StandIn::start(vec![]).await;
    write_config(dir.path(), &slack.url, &pending_group());
    let config = dir.path().join("mlwatch.yaml");

    // Pending for a while, then killed without warning.
    let agent = Agent::start(&config).await;
    let pending = the_alert(&agent, "an alert pending for 3 s", |a| {
        a["state"] == "pending" && Utc::now() - time(&a["activeAt"]) >= chrono::Duration::seconds(3)
    })
    .await;
    let active_at = time(&pending["activeAt"]);
    agent.kill9();
    let restarted_at = Utc::now();

    // The new process goes on from the stored `activeAt`: it fires at the
    // original deadline, not `for` after the restart.
    let agent = Agent::start(&config).await;
    let firing = the_alert(&agent, "the alert to fire", |a| a["state"] == "firing").await;
    assert_eq!(time(&firing["activeAt"]), active_at, "activeAt kept across the restart");
    let fired_at = time(&firing["firedAt"]);
    let hold = chrono::Duration::seconds(HOLD_SECS);
    assert!(fired_at >= active_at + hold, "fired early: {fired_at} < {active_at} + {HOLD_SECS}s");
    assert!(fired_at < restarted_at + hold, "waited `for` again after the restart: fired {fired_at}, restarted {restarted_at}");
    wait_for("the firing notification", async || slack.delivered().iter().any(|b| status_of(b) == "firing").then_some(())).await;

    // Killed while firing: the next process neither resolves nor fires again.
    agent.kill9();
    let agent = Agent::start(&config).await;
    let evals = r#"mlwatch_rule_evaluations_total{rule="Drift"}"#;
    wait_for("three evaluations after the restart", async || (agent.metric(evals).await? >= 3.0).then_some(())).await;
    let again = the_alert(&agent, "the alert, still firing", |a| a["state"] == "firing").await;
    assert_eq!(time(&again["firedAt"]), fired_at);
    let statuses: Vec<String> = slack.delivered().iter().map(|b| status_of(b).to_string()).collect();
    assert_eq!(statuses, ["firing"], "one FIRING in all, no RESOLVED");
    assert_eq!(agent.metric(r#"mlwatch_alerts{alertstate="firing"}"#).await, Some(1.0));
    assert_eq!(agent.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_state_file_stops_the_agent_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data/mlwatch")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    let state = dir.path().join("data/mlwatch/state.db");
    std::fs::write(&state, vec![7u8; 4096]).unwrap();
    write_config(dir.path(), "http://127.0.0.1:9/hook", &pending_group());

    let out = std::process::Command::new(crate::support::bin())
        .args(["run", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.path().join("mlwatch.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("state file {} cannot be used", state.display())), "{stderr}");
    assert!(stderr.contains("move the file aside"), "{stderr}");
    assert_eq!(std::fs::read(&state).unwrap(), vec![7u8; 4096], "the file is left for inspection");
}
