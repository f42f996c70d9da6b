//! Scale-out: shards split the tenants between them, and two replicas of one
//! shard behind a real two-node Alertmanager cluster (Debian's
//! `prometheus-alertmanager`, gossiping on 127.0.0.1) notify once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{Agent, Service, StandIn, free_port, required_program, wait_for, write_csv};
use crate::{build_baseline, drifted, healthy, write_agent_config};

const TENANTS: usize = 12;

/// A lake of `TENANTS` tenants, `data/<tenant>/current.csv`; those in
/// `drifting` drift.
fn lake(dir: &Path, drifting: &[&str]) {
    build_baseline(dir);
    for i in 0..TENANTS {
        let tenant = format!("t{i:02}");
        std::fs::create_dir_all(dir.join("data").join(&tenant)).unwrap();
        let rows: Vec<String> = if drifting.contains(&tenant.as_str()) { drifted().collect() } else { healthy(i as u64).collect() };
        write_csv(&dir.join("data").join(&tenant).join("current.csv"), "x", rows);
    }
}

fn per_tenant_config(dir: &Path, receivers: &str, route: &str) {
    write_agent_config(dir, r#"{ external_url: "http://mlwatch.test" }"#, route, receivers, PER_TENANT_GROUP);
    // The tenants' files, in place of the shared fixture source.
    let config = std::fs::read_to_string(dir.join("mlwatch.yaml")).unwrap();
    std::fs::write(dir.join("mlwatch.yaml"), config.replace(r#"path: "data/current.csv""#, r#"path: "data/{tenant}/current.csv""#)).unwrap();
}

const PER_TENANT_GROUP: &str = r#"
groups:
  - name: drift
    source: current
    interval: 1s
    per_tenant: true
    rules:
      - alert: Drift
        check: { drift: { columns: [x], method: psi } }
        baseline: { profile: base.json }
        when: "psi > 0.2"
        labels: { severity: page }
        annotations: { summary: "PSI on {{ labels.tenant }}" }
"#;

/// The tenants an agent exports drift values for.
async fn exported_tenants(agent: &Agent) -> BTreeSet<String> {
    let text = agent.metrics().await;
    text.lines()
        .filter(|l| l.starts_with("mlwatch_drift_psi{"))
        .filter_map(|l| l.split("tenant=\"").nth(1)?.split('"').next().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_split_the_tenants_without_overlap() {
    let dir = tempfile::tempdir().unwrap();
    lake(dir.path(), &[]);
    let hook = StandIn::start(vec![]).await;
    let receivers = format!("  - name: oncall\n    webhook: [{{ url: \"{}\" }}]\n", hook.url);
    per_tenant_config(dir.path(), &receivers, "{ receiver: oncall }");
    // Each shard keeps its own state: a directory per agent.
    let mut agents = Vec::new();
    for i in 0..2 {
        let config = std::fs::read_to_string(dir.path().join("mlwatch.yaml")).unwrap();
        let own = dir.path().join(format!("shard{i}.yaml"));
        std::fs::write(&own, format!("{config}\nstorage: {{ path: state{i} }}\n")).unwrap();
        agents.push(Agent::start_with(&own, "info", &[("MLWATCH_SHARD", &format!("{i}/2"))]).await);
    }
    let mut owned = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let tenants = wait_for("the shard's values", async || {
            let t = exported_tenants(agent).await;
            (!t.is_empty()).then_some(t)
        })
        .await;
        assert_eq!(agent.metric(&format!(r#"mlwatch_shard_info{{count="2",index="{i}"}}"#)).await, Some(1.0));
        assert_eq!(agent.metric(r#"mlwatch_tenants{group="drift"}"#).await, Some(tenants.len() as f64));
        owned.push(tenants);
    }
    assert!(owned[0].is_disjoint(&owned[1]), "{owned:?}");
    let all: BTreeSet<String> = owned.iter().flatten().cloned().collect();
    assert_eq!(all.len(), TENANTS, "{owned:?}");
    for agent in agents {
        assert_eq!(agent.terminate().await, Some(0));
    }
}

/// One Alertmanager of a two-node cluster, notifying the webhook.
fn alertmanager(binary: &Path, dir: &Path, name: &str, port: u16, gossip: u16, peer: u16) -> Service {
    Service(
        Command::new(binary)
            .arg(format!("--config.file={}", dir.join("am.yml").display()))
            .arg(format!("--storage.path={}", dir.join(name).display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--cluster.listen-address=127.0.0.1:{gossip}"))
            .arg(format!("--cluster.peer=127.0.0.1:{peer}"))
            // Short waits for the gossip, so the second node's pipeline
            // checks the first's notification log soon after it sent.
            .arg("--cluster.peer-timeout=1s")
            .arg("--cluster.gossip-interval=50ms")
            .arg("--cluster.pushpull-interval=1s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A counter of Alertmanager's own `/metrics`, summed over its series whose
/// labels contain `having`.
async fn am_counter(url: &str, name: &str, having: &str) -> f64 {
    let Ok(r) = reqwest::get(format!("{url}/metrics")).await else { return 0.0 };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with(['{', ' ']) && rest.contains(having)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Notifications of the webhook about `tenant`'s alert, firing.
fn notified(hook: &StandIn, tenant: &str) -> usize {
    hook.delivered()
        .iter()
        .filter(|b| b["status"] == "firing" && b["alerts"].as_array().is_some_and(|a| a.iter().any(|x| x["labels"]["tenant"] == tenant)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_and_an_alertmanager_cluster_notify_once_and_survive_a_replica() {
    let Some(binary) = required_program("prometheus-alertmanager") else { return };
    let dir = tempfile::tempdir().unwrap();
    lake(dir.path(), &["t03"]);
    let hook = StandIn::start(vec![]).await;
    std::fs::write(
        dir.path().join("am.yml"),
        format!(
            "route: {{ receiver: hook, group_by: [alertname, tenant], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }}\n\
             receivers: [{{ name: hook, webhook_configs: [{{ url: \"{}\", send_resolved: false }}] }}]\n",
            hook.url
        ),
    )
    .unwrap();
    let (ports, gossip) = ([free_port(), free_port()], [free_port(), free_port()]);
    let _am = [
        alertmanager(&binary, dir.path(), "am0", ports[0], gossip[0], gossip[1]),
        alertmanager(&binary, dir.path(), "am1", ports[1], gossip[1], gossip[0]),
    ];
    let urls: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    for url in &urls {
        wait_for("the Alertmanager cluster to form", async || {
            let v: serde_json::Value = reqwest::get(format!("{url}/api/v2/status")).await.ok()?.json().await.ok()?;
            (v["cluster"]["status"] == "ready" && v["cluster"]["peers"].as_array()?.len() == 2).then_some(())
        })
        .await;
    }
    // Both replicas push every alert to both Alertmanagers, as Prometheus does.
    let receivers = format!("  - name: oncall\n    alertmanager: [{{ url: \"{}\" }}, {{ url: \"{}\" }}]\n", urls[0], urls[1]);
    per_tenant_config(dir.path(), &receivers, "{ receiver: oncall }");
    let mut replicas = Vec::new();
    for i in 0..2 {
        let config = std::fs::read_to_string(dir.path().join("mlwatch.yaml")).unwrap();
        let own = dir.path().join(format!("replica{i}.yaml"));
        std::fs::write(&own, format!("{config}\nstorage: {{ path: state{i} }}\n")).unwrap();
        replicas.push(Agent::start_with(&own, "info", &[]).await);
    }
    wait_for("both Alertmanagers to hold the alert from both replicas", async || {
        for url in &urls {
            let v: serde_json::Value = reqwest::get(format!("{url}/api/v2/alerts")).await.ok()?.json().await.ok()?;
            v.as_array()?.iter().find(|a| a["labels"]["tenant"] == "t03" && a["status"]["state"] == "active")?;
        }
        Some(())
    })
    .await;
    wait_for("the webhook to be notified", async || (notified(&hook, "t03") >= 1).then_some(())).await;
    // Both nodes' pipelines ran past de-duplication (each asked the shared
    // notification log): had the cluster not shared it, the second would
    // have sent by now.
    wait_for("both Alertmanagers to pass the group through their pipeline", async || {
        let mut all = true;
        for url in &urls {
            all &= am_counter(url, "alertmanager_nflog_queries_total", "").await >= 1.0;
        }
        all.then_some(())
    })
    .await;
    let webhook = r#"integration="webhook""#;
    let sent = am_counter(&urls[0], "alertmanager_notifications_total", webhook).await
        + am_counter(&urls[1], "alertmanager_notifications_total", webhook).await;
    assert_eq!((notified(&hook, "t03"), sent), (1, 1.0), "one notification from the cluster, not one per replica or per node");

    // One replica dies; the other keeps the alert alive and brings new ones.
    let mut replicas = replicas.into_iter();
    replicas.next().unwrap().kill9();
    let survivor = replicas.next().unwrap();
    write_csv(&dir.path().join("data/t07/current.csv"), "x", drifted());
    wait_for("the surviving replica's new alert to be notified", async || (notified(&hook, "t07") >= 1).then_some(())).await;
    for url in &urls {
        let v: serde_json::Value = reqwest::get(format!("{url}/api/v2/alerts")).await.unwrap().json().await.unwrap();
        let active = v.as_array().unwrap().iter().any(|a| a["labels"]["tenant"] == "t03" && a["status"]["state"] == "active");
        assert!(active, "t03 still fires in {url}: {v}");
    }
    assert_eq!(notified(&hook, "t03"), 1, "no repeat of the first alert");
    assert_eq!(survivor.terminate().await, Some(0));
}
