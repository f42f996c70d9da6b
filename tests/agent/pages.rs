//! The agent's page: the overview and the drill-down over plain HTTP, the
//! silence form behind the token, and the page in a real headless Chromium
//! (no console error, no request outside the agent, the charts drawn).

use std::time::Duration;

use crate::support::{Agent, StandIn, bin, required_program, required_python_module, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, status_of, write_config_with};

const TOKEN: &str = "page-t0ken";

/// An agent with a firing drift alert, behind a bearer token.
async fn drifting_agent(dir: &std::path::Path) -> (Agent, StandIn) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    build_baseline(dir);
    write_csv(&dir.join("data/current.csv"), "x", drifted());
    let slack = StandIn::start(vec![]).await;
    std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
    write_config_with(dir, &slack.url, DRIFT_GROUP, "{ bearer_token_file: token }");
    let agent = Agent::start(&dir.join("mlwatch.yaml")).await;
    wait_for("the firing notification", async || slack.delivered().iter().any(|b| status_of(b) == "firing").then_some(())).await;
    (agent, slack)
}

fn form_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn post_form(agent: &Agent, path: &str, body: &str) -> (u16, String) {
    let res = form_client()
        .post(agent.url(path))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let location = res.headers().get(reqwest::header::LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (res.status().as_u16(), location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_alert_its_distribution_and_history_and_silences_through_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let (agent, _slack) = drifting_agent(dir.path()).await;

    let page = reqwest::get(agent.url("/")).await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<span class="badge firing">firing</span>"#), "{page}");
    // (minijinja escapes `/` in attributes as `&#x2f;`, which browsers read as `/`.)
    assert!(page.contains(r#"<a href="&#x2f;rules&#x2f;Drift">Drift</a>"#), "{page}");
    assert!(page.contains("PSI ") && page.contains("on x"), "the summary: {page}");
    assert!(!page.contains("<script") && !page.contains("https://"), "nothing fetched from elsewhere");
    assert!(page.contains(r#"name="token""#), "the form asks for the token");

    let drill = reqwest::get(agent.url("/rules/Drift")).await.unwrap().text().await.unwrap();
    assert!(drill.contains(r#"<svg class="chart histogram""#), "{drill}");
    assert!(drill.contains(r#"<rect class="baseline""#) && drill.contains(r#"<rect class="current""#));
    assert!(drill.contains(r#"<svg class="chart timeline""#) && drill.contains(r#"class="threshold""#) && drill.contains(r#"<rect class="firing""#), "{drill}");
    assert!(drill.contains("still firing"));
    assert_eq!(reqwest::get(agent.url("/rules/Nope")).await.unwrap().status(), 404);

    // The form: refused without the token, then a silence, then expired.
    let add = "matchers=alertname%3DDrift+column%3D%22x%22&duration=2h&author=sre&comment=known+backfill";
    assert_eq!(post_form(&agent, "/silences", add).await.0, 401);
    assert_eq!(post_form(&agent, "/silences", &format!("{add}&token=wrong")).await.0, 401);
    let (code, location) = post_form(&agent, "/silences", &format!("{add}&token={TOKEN}")).await;
    assert_eq!(code, 303);
    assert!(location.starts_with("/?done=silence%20") && location.ends_with("%20added"), "{location}");
    let silences = agent.get_json("/api/v1/silences").await;
    let silence = &silences["data"][0];
    assert_eq!((silence["createdBy"].as_str(), silence["status"]["state"].as_str()), (Some("sre"), Some("active")), "{silences}");
    let id = silence["id"].as_str().unwrap().to_string();
    let page = reqwest::get(agent.url(&location)).await.unwrap().text().await.unwrap();
    assert!(page.contains("known backfill") && page.contains(&format!("/silences/{id}/expire")), "{page}");
    let (code, location) = post_form(&agent, &format!("/silences/{id}/expire"), &format!("token={TOKEN}")).await;
    assert_eq!((code, location.as_str()), (303, format!("/?done=silence%20{id}%20expired").as_str()));
    assert_eq!(agent.get_json("/api/v1/silences").await["data"][0]["status"]["state"], "expired");
    // A bad matcher comes back as a message, not a silence.
    let (code, location) = post_form(&agent, "/silences", &format!("matchers=tenant%3D~%22(%22&duration=1h&author=a&comment=c&token={TOKEN}")).await;
    assert!(code == 303 && location.starts_with("/?failed="), "{location}");
    assert_eq!(agent.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_a_report_render_in_headless_chromium_offline() {
    let Some(chromium) = required_program("chromium") else { return };
    if !required_python_module("playwright") || !required_python_module("PIL") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (agent, _slack) = drifting_agent(dir.path()).await;
    // A report of the agent's state, written while it runs.
    let report = dir.path().join("report.html");
    let out = std::process::Command::new(bin())
        .args(["report", "--config", dir.path().join("mlwatch.yaml").to_str().unwrap(), "--out", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/browser.py");
    let args: Vec<String> = vec![
        script.into(),
        "--chromium".into(),
        chromium.to_string_lossy().into_owned(),
        "--agent".into(),
        agent.url(""),
        "--report".into(),
        report.to_string_lossy().into_owned(),
        "--shots".into(),
        dir.path().to_string_lossy().into_owned(),
    ];
    // Playwright bounds each step (30 s); this bounds the whole run.
    let run = tokio::task::spawn_blocking(move || std::process::Command::new("python3").args(&args).output());
    let out = tokio::time::timeout(Duration::from_secs(300), run).await.expect("the browser finishes").unwrap().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    for line in ["overview: ok", "drill-down: ok", "screenshot: ok", "report: ok"] {
        assert!(text.contains(line), "`{line}` missing:\n{text}");
    }
    assert_eq!(agent.terminate().await, Some(0));
}
