//! `/metrics` under the real tools: `promtool check metrics` and a real
//! Prometheus scraping the agent on 127.0.0.1.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Agent, Service, StandIn, free_port, required_program, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, write_config};

async fn drifting_agent(dir: &std::path::Path) -> Agent {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    build_baseline(dir);
    write_csv(&dir.join("data/current.csv"), "x", drifted());
    let slack = StandIn::start(vec![]).await;
    write_config(dir, &slack.url, DRIFT_GROUP);
    let agent = Agent::start(&dir.join("mlwatch.yaml")).await;
    wait_for("the first values", async || agent.metrics().await.contains("mlwatch_drift_psi{").then_some(())).await;
    agent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool() {
    let Some(promtool) = required_program("promtool") else { return };
    let dir = tempfile::tempdir().unwrap();
    let agent = drifting_agent(dir.path()).await;
    let text = agent.metrics().await;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.trim().is_empty(), "promtool check metrics:\n{report}\n--- metrics ---\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_agent() {
    let Some(prometheus) = required_program("prometheus") else { return };
    let dir = tempfile::tempdir().unwrap();
    let agent = drifting_agent(dir.path()).await;
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global: {{ scrape_interval: 1s }}\nscrape_configs:\n  - job_name: mlwatch\n    static_configs: [{{ targets: ['{}'] }}]\n",
            agent.address
        ),
    )
    .unwrap();
    let port = free_port();
    let _prom = Service(
        Command::new(prometheus)
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let query = format!("http://127.0.0.1:{port}/api/v1/query?query=mlwatch_drift_psi");
    let series = wait_for("Prometheus to have scraped mlwatch_drift_psi", async || {
        let v: serde_json::Value = reqwest::get(&query).await.ok()?.json().await.ok()?;
        v["data"]["result"].as_array().filter(|r| !r.is_empty()).cloned()
    })
    .await;
    assert_eq!(series.len(), 1, "{series:?}");
    let labels = &series[0]["metric"];
    assert_eq!(labels["rule"], "Drift");
    assert_eq!(labels["column"], "x");
    assert_eq!(labels["job"], "mlwatch");
    assert_eq!(labels["instance"], agent.address.as_str());
    let psi: f64 = series[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(psi > 0.2, "psi {psi}");
    // And the scrape itself is healthy.
    let up: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/query?query=up")).await.unwrap().json().await.unwrap();
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
}
