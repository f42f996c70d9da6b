//! The log source in the real agent: lines appended, rotated both ways and
//! read across a SIGKILL are each counted once, as its SLO's counts show.

use std::io::Write;
use std::path::Path;

use crate::support::{Agent, wait_for};

const CONFIG: &str = r#"
sources:
  api: { kind: log, path: "logs/api.log*", timestamp: ts, tenant_field: tenant, fields: { status: number } }
storage: { path: data }
rule_files: [rules.yaml]
route: { receiver: r }
receivers: [{ name: r, stdout: [{}] }]
"#;

/// An availability SLO per tenant, evaluated every second (also over log
/// objects in a bucket: object_store.rs).
pub const RULES: &str = r#"
groups:
  - name: serving
    source: api
    per_tenant: true
    interval: 1s
    rules:
      - alert: Availability
        check: { slo: { good: "status < 500", objective: 99, period: 1d, windows: { page: [{ long: 1h, short: 5m, factor: 14.4 }], ticket: [] } } }
        when: "page == 1"
"#;

/// Lines `range`, a few milliseconds apart over the last minutes, two tenants.
fn append(path: &Path, range: std::ops::Range<u64>, start_ms: i64) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    let mut text = String::new();
    for i in range {
        let ts = chrono::DateTime::from_timestamp_millis(start_ms + i as i64 * 10).unwrap();
        text.push_str(&format!("{{\"ts\":\"{}\",\"tenant\":\"t{}\",\"status\":200}}\n", ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), i % 2));
    }
    f.write_all(text.as_bytes()).unwrap();
}

/// Events the agent's SLO counts over its period, all tenants.
pub async fn counted(agent: &Agent) -> Option<f64> {
    let text = agent.metrics().await;
    let n = |t: &str| crate::support::metric_value(&text, &format!(r#"mlwatch_slo_valid_events{{rule="Availability",tenant="{t}",window="1d"}}"#));
    Some(n("t0")? + n("t1")?)
}

pub async fn wait_counted(agent: &Agent, n: f64) {
    wait_for(&format!("{n} lines counted"), async || (counted(agent).await? == n).then_some(())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_are_counted_once_across_rotation_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mlwatch.yaml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let live = logs.join("api.log");
    let start = chrono::Utc::now().timestamp_millis() - 10 * 60 * 1000;
    let config = dir.path().join("mlwatch.yaml");

    append(&live, 0..1000, start);
    let agent = Agent::start(&config).await;
    wait_counted(&agent, 1000.0).await;

    // Rename-and-create, then killed at once: mid-read or between reads.
    append(&live, 1000..1500, start);
    std::fs::rename(&live, logs.join("api.log.1")).unwrap();
    append(&live, 1500..1800, start);
    agent.kill9();

    let agent = Agent::start(&config).await;
    append(&live, 1800..2000, start);
    wait_counted(&agent, 2000.0).await;
    let evals = r#"mlwatch_rule_evaluations_total{rule="Availability"}"#;
    let now = agent.metric(evals).await.unwrap();
    wait_for("three more evaluations", async || (agent.metric(evals).await? >= now + 3.0).then_some(())).await;
    assert_eq!(counted(&agent).await, Some(2000.0), "nothing counted twice");

    // Copy-truncate.
    append(&live, 2000..2100, start);
    std::fs::copy(&live, logs.join("api.log.2")).unwrap();
    std::fs::File::create(&live).unwrap();
    append(&live, 2100..2200, start);
    wait_counted(&agent, 2200.0).await;
    assert_eq!(agent.metric(r#"mlwatch_source_lines_rejected_total{reason="not_json",source="api"}"#).await, None);
    assert_eq!(agent.terminate().await, Some(0));
}
