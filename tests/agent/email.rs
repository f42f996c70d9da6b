//! E-mail through a real SMTP server (aiosmtpd, run from tests/peers/) on
//! 127.0.0.1: subject, recipients, both body parts, authentication; a server
//! that refuses and one that is down.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{Agent, Service, free_port, metric_value, required_program, required_python_module, wait_for, write_csv};
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

/// A test CA and a server certificate for 127.0.0.1 it signed, made with openssl.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=mlwatch test CA"]].concat());
    run(&[&["req"][..], &ec, &["-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    run(&[
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem", "-days", "2",
        "-extfile", "leaf.ext",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_uses_starttls_or_implicit_tls_and_refuses_to_go_without() {
    if !required_python_module("aiosmtpd") || required_program("openssl").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    build_baseline(dir.path());
    write_csv(&dir.path().join("data/current.csv"), "x", drifted());
    make_certificates(dir.path());
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let inbox = |name: &str| dir.path().join(name);
    let _starttls = start_sink(&inbox("starttls"), ports[0], &["--starttls", cert, key, "--user", "mlwatch", "--password", PASSWORD]);
    let _implicit = start_sink(&inbox("implicit"), ports[1], &["--implicit-tls", cert, key]);
    let _plain = start_sink(&inbox("plain"), ports[2], &[]);
    let _untrusted = start_sink(&inbox("untrusted"), ports[3], &["--starttls", cert, key]);
    std::fs::write(dir.path().join("smtp-pass"), PASSWORD).unwrap();
    let mail = |port: u16, extra: &str| {
        format!("[{{ to: oncall@example.com, from: mlwatch@example.com, smarthost: \"127.0.0.1:{port}\", timeout: 5s{extra} }}]")
    };
    let ca = ", tls_config: { ca_file: ca.pem }";
    let receivers = format!(
        "  - name: starttls\n    email: {}\n  - name: implicit\n    email: {}\n  - name: plain\n    email: {}\n  - name: untrusted\n    email: {}\n",
        mail(ports[0], &format!("{ca}, auth_username: mlwatch, auth_password_file: smtp-pass")),
        mail(ports[1], &format!("{ca}, implicit_tls: true")),
        mail(ports[2], ca),
        mail(ports[3], ""),
    );
    let every = |r: &str| format!("{{ matchers: ['alertname=Drift'], receiver: {r}, continue: true }}");
    let route = format!(
        "{{ receiver: starttls, group_wait: 0s, routes: [{}, {}, {}, {}] }}",
        every("starttls"),
        every("implicit"),
        every("plain"),
        every("untrusted")
    );
    write_agent_config(dir.path(), "{}", &route, &receivers, DRIFT_GROUP);
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    for name in ["starttls", "implicit"] {
        let (eml, _) = wait_for(&format!("the e-mail over {name}"), async || message(&inbox(name), 1)).await;
        assert!(eml.contains("Subject: [FIRING:1] Drift\r\n"), "{eml}");
    }
    // No STARTTLS where TLS is required: a permanent failure. An untrusted
    // certificate: refused at every attempt (it may be fixed on the server).
    wait_for("both refusals to go without trusted TLS", async || {
        let m = agent.metrics().await;
        let count = |r: &str, result: &str| {
            metric_value(&m, &format!(r#"mlwatch_notifications_total{{integration="email",receiver="{r}",result="{result}"}}"#))
        };
        (count("plain", "failure")? == 1.0 && count("untrusted", "retry")? >= 1.0).then_some(())
    })
    .await;
    for name in ["plain", "untrusted"] {
        assert!(message(&inbox(name), 1).is_none(), "{name}: nothing may be sent");
    }
    let logs = agent.log_messages();
    assert!(logs.contains("STARTTLS is not supported"), "{logs}");
    assert!(logs.contains("invalid peer certificate"), "{logs}");
    assert_eq!(agent.terminate().await, Some(0));
}
