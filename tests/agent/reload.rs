//! Reloads: a broken config keeps the running one; a good one swaps rules
//! without losing alert states.

use crate::support::{Agent, StandIn, metric_value, wait_for, write_csv};
use crate::{build_baseline, drift_group, drift_rule, drifted, status_of, write_config};

fn rule(name: &str, method: &str) -> String {
    drift_rule(name, method, "statistic > 0.2", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_reload_keeps_the_old_rules_and_a_good_one_keeps_alert_states() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    let slack = StandIn::start(vec![]).await;
    write_config(dir.path(), &slack.url, &drift_group(&[rule("Drift", "psi"), rule("Old", "ks")]));
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;
    let firing_alert = async || {
        let v = agent.get_json("/api/v1/alerts").await;
        v["data"]["alerts"].as_array()?.iter().find(|a| a["labels"]["alertname"] == "Drift" && a["state"] == "firing").cloned()
    };
    let before = wait_for("Drift to fire", firing_alert).await;

    // Broken: an unknown key. The reload is refused with the file and line.
    std::fs::write(dir.path().join("rules.yaml"), drift_group(&[rule("Drift", "psi")]).replace("interval: 1s", "interval: 1s\n    intervl: 2s")).unwrap();
    let (status, body) = agent.post("/-/reload", None).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("rules.yaml:") && body.contains("intervl"), "{body}");
    let m = agent.metrics().await;
    assert_eq!(metric_value(&m, "mlwatch_config_last_reload_successful"), Some(0.0));
    let st = agent.get_json("/api/v1/status").await;
    assert_eq!(st["data"]["reload"]["successful"], false);
    assert!(st["data"]["reload"]["lastError"].as_str().unwrap().contains("intervl"), "{st}");
    let evals = r#"mlwatch_rule_evaluations_total{rule="Old"}"#;
    let n = agent.metric(evals).await.unwrap();
    wait_for("the old rules to keep running", async || (agent.metric(evals).await? >= n + 2.0).then_some(())).await;

    // Good, by SIGHUP: Old goes, New comes, Drift stays firing as it was.
    std::fs::write(dir.path().join("rules.yaml"), drift_group(&[rule("Drift", "psi"), rule("New", "js")])).unwrap();
    agent.signal("HUP");
    wait_for("the reload", async || (agent.metric("mlwatch_config_last_reload_successful").await? == 1.0).then_some(())).await;
    let new_evals = r#"mlwatch_rule_evaluations_total{rule="New"}"#;
    wait_for("New to run twice", async || (agent.metric(new_evals).await? >= 2.0).then_some(())).await;
    let after = wait_for("Drift, still firing", firing_alert).await;
    assert_eq!(after["activeAt"], before["activeAt"]);
    assert_eq!(after["firedAt"], before["firedAt"]);

    let rules = agent.get_json("/api/v1/rules").await;
    let names: Vec<&str> =
        rules["data"]["groups"][0]["rules"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Drift", "New"]);
    let m = agent.metrics().await;
    assert!(!m.contains(r#"rule="Old""#), "every series of the removed rule is gone:\n{m}");
    assert!(m.contains(r#"mlwatch_drift_js_distance{column="x",rule="New",tenant=""}"#), "{m}");
    let statuses: Vec<String> = slack.delivered().iter().map(|b| status_of(b).to_string()).collect();
    assert_eq!(statuses.iter().filter(|s| *s == "resolved").count(), 0, "{statuses:?}");
    assert_eq!(agent.terminate().await, Some(0));
}
