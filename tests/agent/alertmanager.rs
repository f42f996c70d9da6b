//! Pushing to a real Alertmanager (Debian's `prometheus-alertmanager`) on
//! 127.0.0.1: down at first, then up; the alert shows up there, then resolves.

use std::process::{Command, Stdio};

use crate::support::{Agent, Reply, Service, StandIn, free_port, required_program, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, healthy, write_agent_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_pushed_to_alertmanager_and_resolve_there() {
    let Some(binary) = required_program("prometheus-alertmanager") else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    std::fs::write(dir.path().join("am.yml"), "route: { receiver: blackhole }\nreceivers: [{ name: blackhole }]\n").unwrap();
    let port = free_port();
    let am = format!("http://127.0.0.1:{port}");
    let receivers = format!("  - name: oncall\n    alertmanager: [{{ url: \"{am}\" }}]\n");
    write_agent_config(dir.path(), r#"{ external_url: "http://mlwatch.test" }"#, "{ receiver: oncall }", &receivers, DRIFT_GROUP);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    // Alertmanager is down at first: pushes fail and are counted...
    wait_for("pushes to a down Alertmanager to fail", async || {
        let failed = agent.metric(r#"mlwatch_notifications_total{integration="alertmanager",receiver="oncall",result="failure"}"#).await?;
        (failed >= 2.0).then_some(())
    })
    .await;
    // ...and once it is up, the next evaluation's push brings it the alert.
    let _am = Service(
        Command::new(binary)
            .arg(format!("--config.file={}", dir.path().join("am.yml").display()))
            .arg(format!("--storage.path={}", dir.path().join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let alerts_url = format!("{am}/api/v2/alerts");
    let active = wait_for("Alertmanager to hold the alert", async || {
        let v: serde_json::Value = reqwest::get(&alerts_url).await.ok()?.json().await.ok()?;
        v.as_array()?.iter().find(|a| a["labels"]["alertname"] == "Drift").cloned()
    })
    .await;
    assert_eq!(active["status"]["state"], "active", "{active}");
    assert_eq!(active["labels"]["column"], "x");
    assert_eq!(active["labels"]["severity"], "page");
    assert!(active["annotations"]["summary"].as_str().unwrap().starts_with("PSI "), "{active}");
    assert_eq!(active["generatorURL"], "http://mlwatch.test/api/v1/alerts");

    write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
    wait_for("the alert to resolve in Alertmanager", async || {
        let v: serde_json::Value = reqwest::get(&alerts_url).await.ok()?.json().await.ok()?;
        let still_active = v.as_array()?.iter().any(|a| a["labels"]["alertname"] == "Drift" && a["status"]["state"] == "active");
        (!still_active).then_some(())
    })
    .await;
    assert_eq!(agent.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_pushes_in_flight() {
    // Regression: pushes ran on a detached task that shutdown did not wait
    // for, so a push in flight at SIGTERM was dropped half-way.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    let am = StandIn::scripted(vec![Reply::Slow(std::time::Duration::from_secs(3))]).await;
    let receivers = format!("  - name: oncall\n    alertmanager: [{{ url: \"{}\" }}]\n", am.url);
    write_agent_config(dir.path(), r#"{ external_url: "http://mlwatch.test" }"#, "{ receiver: oncall }", &receivers, DRIFT_GROUP);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;
    wait_for("the first push to arrive", async || (am.attempts() >= 1).then_some(())).await;
    let logs = agent.logs.clone();
    assert_eq!(agent.terminate().await, Some(0));
    let pushed = logs.lock().unwrap().iter().filter(|v| v["message"] == "alerts pushed to Alertmanager").count();
    assert_eq!(pushed, am.attempts(), "every push that reached Alertmanager completed, the slow first one included");
}
