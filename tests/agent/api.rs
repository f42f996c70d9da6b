//! The HTTP API: readiness, rules, status without secrets, the bearer token on
//! mutating endpoints; and no secret in any log line at any level.

use crate::support::{Agent, StandIn, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, status_of, write_config_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_logs_never_show_secrets_and_reload_needs_the_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    let slack = StandIn::start(vec![500]).await;
    // Recognisable secrets: the webhook's path and the token.
    let slack_secret = format!("{}/T0001/B0001/sEcReTsLaCk", slack.url);
    let token = "tOkEn-4f2a9c";
    std::fs::write(dir.path().join("token"), format!("{token}\n")).unwrap();
    write_config_with(dir.path(), &slack_secret, DRIFT_GROUP, r#"{ bearer_token_file: token }"#);
    let agent = Agent::start_at_level(&dir.path().join("mlwatch.yaml"), "trace").await;

    let ready = reqwest::get(agent.url("/-/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    wait_for("the firing notification", async || slack.delivered().iter().any(|b| status_of(b) == "firing").then_some(())).await;

    let rules = agent.get_json("/api/v1/rules").await;
    let drift = &rules["data"]["groups"][0]["rules"][0];
    assert_eq!(drift["name"], "Drift");
    assert_eq!(drift["health"], "ok");
    assert_eq!(drift["query"], "psi > 0.2");
    assert!(drift["lastEvaluation"].is_string() && drift["evaluationTime"].is_number(), "{drift}");
    assert!(rules["data"]["groups"][0]["nextEvaluation"].is_string(), "{rules}");

    let status = agent.get_json("/api/v1/status").await;
    let text = status.to_string();
    assert_eq!(status["data"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(status["data"]["uptimeSeconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(status["data"]["config"]["server"]["bearer_token_file"], "token");
    assert!(!text.contains("sEcReTsLaCk") && !text.contains(token), "{text}");

    // Mutating endpoints: no token, a wrong one, then the right one.
    assert_eq!(agent.post("/-/reload", None).await.0, 401);
    assert_eq!(agent.post("/-/reload", Some("tOkEn-4f2a9d")).await.0, 401);
    let (code, body) = agent.post("/-/reload", Some(token)).await;
    assert_eq!(code, 200, "{body}");

    // Read-only endpoints need no token.
    assert_eq!(reqwest::get(agent.url("/api/v1/alerts")).await.unwrap().status(), 200);
    let logs = agent.log_messages();
    assert_eq!(agent.terminate().await, Some(0));
    assert!(logs.contains("notification failed; will retry"), "the retry was logged");
    for secret in ["sEcReTsLaCk", token] {
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
    }
}
