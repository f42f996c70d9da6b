//! The agent end to end: the real binary on fixture data, a stand-in Slack
//! webhook on 127.0.0.1, /metrics, bad input, restarts, reloads, the HTTP API,
//! and a real Prometheus scraping it.

#[path = "../support/mod.rs"]
mod support;

use std::path::Path;

mod alerts;
mod alertmanager;
mod api;
mod delivery;
mod email;
mod faults;
mod logs;
mod object_store;
mod pages;
mod prometheus;
mod reload;
mod restart;
mod shards;
mod silences;

use support::{mlwatch, write_csv};

/// Healthy data: a smooth spread over 0..100.
pub fn healthy(seed: u64) -> impl Iterator<Item = String> {
    (0..2000u64).map(move |i| format!("{}", ((i * 7919 + seed) % 1000) as f64 / 10.0))
}

/// Drifted data: the same spread, shifted up by 40.
pub fn drifted() -> impl Iterator<Item = String> {
    (0..2000u64).map(|i| format!("{}", ((i * 7919) % 1000) as f64 / 10.0 + 40.0))
}

pub fn build_baseline(dir: &Path) {
    write_csv(&dir.join("reference.csv"), "x", healthy(3));
    let out = mlwatch(&[
        "baseline",
        "build",
        "--source",
        dir.join("reference.csv").to_str().unwrap(),
        "--out",
        dir.join("base.json").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

pub fn write_config(dir: &Path, slack_url: &str, groups: &str) {
    write_config_with(dir, slack_url, groups, r#"{ external_url: "http://mlwatch.test" }"#);
}

/// [`write_config`] with its own `server:` section.
pub fn write_config_with(dir: &Path, slack_url: &str, groups: &str, server: &str) {
    std::fs::write(dir.join("slack-url"), format!("{slack_url}\n")).unwrap();
    let receivers = "  - name: oncall\n    slack: [{ api_url_file: slack-url, send_resolved: true, username: mlwatch }]\n";
    write_agent_config(dir, server, "{ receiver: oncall, group_wait: 0s, group_interval: 1s }", receivers, groups);
}

/// The whole config: `server:`, `route:`, the `receivers:` list (indented
/// items) and the rule file.
pub fn write_agent_config(dir: &Path, server: &str, route: &str, receivers: &str, groups: &str) {
    std::fs::write(
        dir.join("mlwatch.yaml"),
        format!(
            r#"
server: {server}
sources:
  current: {{ kind: file, path: "data/current.csv" }}
  missing: {{ kind: file, path: "nowhere/*.csv" }}
  corrupt: {{ kind: file, path: "data/corrupt.parquet" }}
rule_files: ["rules.yaml"]
route: {route}
receivers:
{receivers}"#
        ),
    )
    .unwrap();
    std::fs::write(dir.join("rules.yaml"), groups).unwrap();
}

/// One drift rule on column `x` against `base.json`; `extra` adds YAML keys
/// (e.g. `for: 15s`) at the rule's indentation.
pub fn drift_rule(name: &str, method: &str, when: &str, extra: &str) -> String {
    let mut r = format!(
        "      - alert: {name}\n        check: {{ drift: {{ columns: [x], method: {method} }} }}\n        baseline: {{ profile: base.json }}\n        when: \"{when}\"\n"
    );
    if !extra.is_empty() {
        r.push_str(&format!("        {extra}\n"));
    }
    r
}

/// A rule file with one group, `drift`, on source `current`, every second.
pub fn drift_group(rules: &[String]) -> String {
    format!("groups:\n  - name: drift\n    source: current\n    interval: 1s\n    rules:\n{}", rules.concat())
}

pub const DRIFT_GROUP: &str = r#"
groups:
  - name: drift
    source: current
    interval: 1s
    rules:
      - alert: Drift
        check: { drift: { columns: [x], method: [psi, ks] } }
        baseline: { profile: base.json }
        when: "psi > 0.2"
        labels: { severity: page }
        annotations:
          summary: "PSI {{ value | round(3) }} on {{ labels.column }}"
          runbook_url: "https://runbooks.example.com/drift"
"#;

pub fn status_of(body: &serde_json::Value) -> &str {
    let text = body["text"].as_str().unwrap_or_default();
    if text.starts_with("[FIRING") {
        "firing"
    } else if text.starts_with("[RESOLVED]") {
        "resolved"
    } else {
        "other"
    }
}

