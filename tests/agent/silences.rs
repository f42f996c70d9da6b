//! Silences end to end: `mlwatch silence` against the agent's API (with its
//! bearer token), kept across a restart, muting an alert until expired.

use std::path::Path;

use crate::support::{Agent, StandIn, bin, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, healthy, write_agent_config};

fn silence(agent: &Agent, dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .args(["silence"])
        .args(&args[..1])
        .args(["--url", &agent.url(""), "--token-file"])
        .arg(dir.join("token"))
        .args(&args[1..])
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_survives_a_restart_and_mutes_until_expired() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", healthy(4));
    std::fs::write(dir.path().join("token"), "silence-token\n").unwrap();
    let hook = StandIn::start(vec![]).await;
    let receivers = format!("  - name: oncall\n    webhook: [{{ url: \"{}\" }}]\n", hook.url);
    let route = "{ receiver: oncall, group_wait: 0s, group_interval: 1s }";
    write_agent_config(dir.path(), "{ bearer_token_file: token }", route, &receivers, DRIFT_GROUP);
    let config = dir.path().join("mlwatch.yaml");
    let agent = Agent::start(&config).await;

    // Without the token the agent refuses.
    let refused = std::process::Command::new(bin())
        .args(["silence", "add", "--url", &agent.url(""), "--comment", "x", "alertname=Drift"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));

    let id = stdout(&silence(&agent, dir.path(), &["add", "--duration", "2h", "--author", "sre", "--comment", "backfill", "alertname=Drift", "column=~\"x|y\""]));
    let id = id.trim().to_string();
    assert_eq!(id.len(), 16, "{id}");
    assert_eq!(agent.terminate().await, Some(0));

    // Restarted: the silence is still there, and mutes the alert.
    let agent = Agent::start(&config).await;
    let list = stdout(&silence(&agent, dir.path(), &["list"]));
    assert!(list.contains(&id) && list.contains("active") && list.contains(r#"alertname="Drift", column=~"x|y" / backfill"#), "{list}");
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    wait_for("the alert to fire", async || {
        let v = agent.get_json("/api/v1/alerts").await;
        (v["data"]["alerts"][0]["state"] == "firing").then_some(())
    })
    .await;
    let evals = r#"mlwatch_rule_evaluations_total{rule="Drift"}"#;
    let n = agent.metric(evals).await.unwrap();
    wait_for("three more evaluations", async || (agent.metric(evals).await? >= n + 3.0).then_some(())).await;
    assert_eq!(hook.attempts(), 0, "silenced");
    let alerts = agent.get_json("/api/v1/alerts").await;
    assert_eq!(alerts["data"]["alerts"][0]["silencedBy"], serde_json::json!([id]), "{alerts}");
    assert_eq!(alerts["data"]["alerts"][0]["inhibited"], false);
    assert_eq!(agent.metric(r#"mlwatch_silences{state="active"}"#).await, Some(1.0));

    // Expired: the alert is news now.
    assert!(stdout(&silence(&agent, dir.path(), &["expire", &id])).contains("expired"));
    wait_for("the firing notification", async || (!hook.delivered().is_empty()).then_some(())).await;
    assert_eq!(hook.delivered()[0]["status"], "firing");
    let list = stdout(&silence(&agent, dir.path(), &["list"]));
    assert!(list.contains("expired"), "{list}");
    assert_eq!(agent.terminate().await, Some(0));
}
