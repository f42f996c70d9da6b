//! E-mail through a real SMTP server (aiosmtpd, run from tests/peers/) on
//! 127.0.0.1: subject, recipients, both body parts, authentication; a server
//! that refuses and one that is down.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{Agent, Service, free_port, metric_value, required_python_module, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, healthy, write_agent_config};

const PASSWORD: &str = "s3cr3t-smtp-pw";

fn start_sink(dir: &Path, port: u16, extra: &[&str]) -> Service {
    std::fs::create_dir_all(dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
    Service(child)
}

fn email(smarthost: u16, auth: bool) -> String {
    let auth = if auth { ", auth_username: mlwatch, auth_password_file: smtp-pass" } else { "" };
    format!(
        "[{{ to: \"oncall@example.com, ml@example.com\", from: \"mlwatch@example.com\", smarthost: \"127.0.0.1:{smarthost}\", require_tls: false, send_resolved: true, timeout: 5s{auth} }}]"
    )
}

fn message(dir: &Path, n: usize) -> Option<(String, String)> {
    let eml = std::fs::read_to_string(dir.join(format!("{n}.eml"))).ok()?;
    let rcpt = std::fs::read_to_string(dir.join(format!("{n}.rcpt"))).ok()?;
    Some((eml, rcpt))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_is_sent_with_both_parts_and_failures_are_told_apart() {
    if !required_python_module("aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    let (good, refusing, down) = (free_port(), free_port(), free_port());
    let inbox = dir.path().join("inbox");
    let _good = start_sink(&inbox, good, &["--user", "mlwatch", "--password", PASSWORD]);
    let _refusing = start_sink(&dir.path().join("refused"), refusing, &["--refuse"]);
    std::fs::write(dir.path().join("smtp-pass"), format!("{PASSWORD}\n")).unwrap();
    let route = "{ receiver: oncall, group_wait: 0s, group_interval: 1s, routes: [{ matchers: ['alertname=Drift'], receiver: oncall, continue: true }, { matchers: ['alertname=Drift'], receiver: refused, continue: true }, { matchers: ['alertname=Drift'], receiver: down }] }";
    let receivers = format!(
        "  - name: oncall\n    email: {}\n  - name: refused\n    email: {}\n  - name: down\n    email: {}\n",
        email(good, true),
        email(refusing, false),
        email(down, false)
    );
    write_agent_config(dir.path(), r#"{ external_url: "http://mlwatch.test" }"#, route, &receivers, DRIFT_GROUP);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    let (eml, rcpt) = wait_for("the firing e-mail", async || message(&inbox, 1)).await;
    assert!(eml.contains("Subject: [FIRING:1] Drift\r\n"), "{eml}");
    assert!(eml.contains("From: mlwatch@example.com"), "{eml}");
    assert!(eml.contains("To: oncall@example.com, ml@example.com"), "{eml}");
    assert_eq!(rcpt.lines().collect::<Vec<_>>(), ["oncall@example.com", "ml@example.com"]);
    assert!(eml.contains("multipart/alternative"), "{eml}");
    assert!(eml.contains("Content-Type: text/plain") && eml.contains("Content-Type: text/html"), "{eml}");
    assert!(eml.contains("[FIRING] PSI") && eml.contains("runbook: https://runbooks.example.com/drift"), "{eml}");
    assert!(eml.contains("<h2>[FIRING:1] Drift</h2>"), "{eml}");

    wait_for("the refusal and the retries to be counted", async || {
        let m = agent.metrics().await;
        let refused = metric_value(&m, r#"mlwatch_notifications_total{integration="email",receiver="refused",result="failure"}"#)?;
        let retried = metric_value(&m, r#"mlwatch_notifications_total{integration="email",receiver="down",result="retry"}"#)?;
        (refused == 1.0 && retried >= 1.0).then_some(())
    })
    .await;
    let logs = agent.log_messages();
    assert!(logs.contains("550"), "the server's refusal is logged");
    assert!(std::fs::read_dir(dir.path().join("refused")).unwrap().next().is_none(), "nothing accepted there");

    write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
    let (resolved, _) = wait_for("the resolved e-mail", async || message(&inbox, 2)).await;
    assert!(resolved.contains("Subject: [RESOLVED] Drift\r\n"), "{resolved}");
    let status = agent.get_json("/api/v1/status").await.to_string();
    let logs = agent.log_messages();
    assert_eq!(agent.terminate().await, Some(0));
    assert!(!logs.contains(PASSWORD) && !status.contains(PASSWORD), "the SMTP password leaked");
}
