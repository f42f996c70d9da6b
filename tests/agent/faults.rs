//! The fault suite: a full disk, a source file rewritten while it is read,
//! SIGKILL at arbitrary points, and the wall clock jumping. In each, every
//! notification arrives exactly once, the agent does not crash, and tenants
//! that are not affected keep their values. (Peer faults, SIGKILL with a
//! delivery in flight, broken reloads and bad input have their own tests in
//! delivery.rs, email.rs, alertmanager.rs, reload.rs and alerts.rs.)

use std::path::Path;
use std::time::Duration;

use crate::support::{Agent, Reply, StandIn, metric_value, required_program, wait_for, write_csv};
use crate::{DRIFT_GROUP, build_baseline, drifted, healthy, write_agent_config};

const ROUTE: &str = "{ receiver: oncall, group_wait: 0s, group_interval: 1s }";

fn webhook_receiver(url: &str) -> String {
    format!("  - name: oncall\n    webhook: [{{ url: \"{url}\", timeout: 5s }}]\n")
}

/// The statuses the receiver acknowledged, in order.
fn statuses(hook: &StandIn) -> Vec<String> {
    hook.delivered().iter().map(|b| b["status"].as_str().unwrap_or("?").to_string()).collect()
}

/// The `Drift` rule on drifted data, notifying a webhook stand-in that
/// answers `script` first; `extra` is appended to the config.
async fn drifting(dir: &Path, script: Vec<Reply>, extra: &str) -> StandIn {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    build_baseline(dir);
    write_csv(&dir.join("data/current.csv"), "x", drifted());
    let hook = StandIn::scripted(script).await;
    let server = format!("{{ external_url: \"http://mlwatch.test\" }}\n{extra}");
    write_agent_config(dir, &server, ROUTE, &webhook_receiver(&hook.url), DRIFT_GROUP);
    hook
}

/// Wait for `n` more evaluations of `rule` than now.
async fn evaluations(agent: &Agent, rule: &str, n: f64) {
    let series = format!("mlwatch_rule_evaluations_total{{rule=\"{rule}\"}}");
    let start = agent.metric(&series).await.unwrap_or(0.0);
    wait_for(&format!("{n} more evaluations of {rule}"), async || (agent.metric(&series).await? >= start + n).then_some(())).await;
}

/// A tmpfs of `size` mounted on `dir`, unmounted on drop (needs root).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the filesystem of `dir` until a write fails; returns the filler.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while f.write_all(&chunk).and_then(|_| f.sync_all()).is_ok() {}
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_and_repeats_no_notification() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_disk) = Tmpfs::mount(&dir.path().join("state"), "4m") else {
        assert!(std::env::var_os("MLWATCH_REQUIRE_SERVICES").is_none(), "mounting a tmpfs needs root");
        eprintln!("skipped: cannot mount a tmpfs (not root)");
        return;
    };
    // The firing notification is held by the receiver until the disk is full.
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let hook = drifting(dir.path(), vec![Reply::Gate(gate.clone())], "storage: { path: state }").await;
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;
    wait_for("the firing notification in flight", async || (hook.attempts() == 1).then_some(())).await;

    // The disk fills up: the delivered notification cannot be taken out of
    // the outbox, and the resolution cannot be stored or queued.
    let filler = fill(&dir.path().join("state"));
    gate.notify_one();
    write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
    wait_for("evaluations that cannot be stored", async || {
        (agent.metric("mlwatch_state_write_failures_total").await? >= 3.0).then_some(())
    })
    .await;
    // Space again: the resolution goes out, and nothing is sent twice.
    std::fs::remove_file(filler).unwrap();
    wait_for("the resolved notification", async || (hook.delivered().len() >= 2).then_some(())).await;
    evaluations(&agent, "Drift", 3.0).await;
    assert_eq!(statuses(&hook), ["firing", "resolved"], "each exactly once");
    assert_eq!(agent.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rewritten_while_read_fails_only_its_tenant() {
    let dir = tempfile::tempdir().unwrap();
    for t in ["stable", "churn"] {
        std::fs::create_dir_all(dir.path().join("lake").join(t)).unwrap();
    }
    build_baseline(dir.path());
    write_csv(&dir.path().join("lake/stable/a.csv"), "x", drifted());
    write_csv(&dir.path().join("lake/churn/a.csv"), "x", healthy(1));
    let hook = StandIn::start(vec![]).await;
    std::fs::write(
        dir.path().join("mlwatch.yaml"),
        format!(
            "sources:\n  lake: {{ kind: file, path: \"lake/{{tenant}}/*.csv\" }}\nrule_files: [rules.yaml]\nroute: {ROUTE}\nreceivers:\n{}",
            webhook_receiver(&hook.url)
        ),
    )
    .unwrap();
    let rules = DRIFT_GROUP.replace("source: current", "source: lake\n    per_tenant: true");
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();
    let agent = Agent::start(&dir.path().join("mlwatch.yaml")).await;

    // One tenant's file is truncated and rewritten in place, over and over,
    // while the agent reads it (a pipeline that overwrites instead of renaming).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let (stop, path) = (stop.clone(), dir.path().join("lake/churn/a.csv"));
        let rows: String = std::iter::once("x".to_string()).chain(healthy(1)).collect::<Vec<_>>().join("\n");
        std::thread::spawn(move || {
            use std::io::Write;
            let mut rewrites = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut f = std::fs::File::create(&path).unwrap();
                for chunk in rows.as_bytes().chunks(512) {
                    f.write_all(chunk).unwrap();
                    f.flush().unwrap();
                }
                rewrites += 1;
            }
            rewrites
        })
    };
    evaluations(&agent, "Drift", 15.0).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rewrites = churn.join().unwrap();
    assert!(rewrites > 15, "the file was rewritten during the evaluations ({rewrites})");
    evaluations(&agent, "Drift", 2.0).await;

    let alerts: Vec<String> = hook.delivered().iter().map(|b| format!("{} {}", b["status"], b["alerts"][0]["labels"]["tenant"])).collect();
    assert_eq!(alerts, [r#""firing" "stable""#], "the stable tenant's alert, once; none for the churning one");
    let m = agent.metrics().await;
    assert!(metric_value(&m, r#"mlwatch_drift_psi{column="x",rule="Drift",tenant="stable"}"#).is_some(), "{m}");
    assert!(metric_value(&m, r#"mlwatch_drift_psi{column="x",rule="Drift",tenant="churn"}"#).is_some(), "churn has values again: {m}");
    assert_eq!(agent.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_any_point_loses_and_repeats_no_notification() {
    let dir = tempfile::tempdir().unwrap();
    let hook = drifting(dir.path(), vec![], "").await;
    let config = dir.path().join("mlwatch.yaml");
    // Killed at staggered moments: during start-up, evaluation, the state
    // write and delivery, wherever they fall; the assertions do not depend on it.
    for (i, ms) in [50u64, 300, 700, 150, 1100, 20, 500, 900].into_iter().enumerate() {
        if i == 5 {
            write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
        }
        let agent = Agent::start(&config).await;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        agent.kill9();
    }
    let agent = Agent::start(&config).await;
    wait_for("the resolved notification", async || statuses(&hook).contains(&"resolved".to_string()).then_some(())).await;
    evaluations(&agent, "Drift", 3.0).await;
    // A kill between the receiver's acknowledgement and the agent recording
    // it makes the agent send that notification again, as any at-least-once
    // sender must; it carries the same Idempotency-Key, so the receiver can
    // tell. Distinct notifications: one firing, one resolved.
    let mut distinct: Vec<(String, String)> = Vec::new();
    for r in hook.requests().iter().filter(|r| r.status == 200) {
        let key = r.key.clone().expect("webhooks carry an Idempotency-Key");
        let status = r.body["status"].as_str().unwrap().to_string();
        if let Some((_, seen)) = distinct.iter().find(|(k, _)| *k == key) {
            assert_eq!(*seen, status, "a repeated key is a repeat of the same notification");
        } else {
            distinct.push((key, status));
        }
    }
    let sent: Vec<&str> = distinct.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(sent, ["firing", "resolved"], "each exactly once across eight SIGKILLs");
    assert_eq!(agent.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_jumping_forward_and_back_loses_and_repeats_nothing() {
    let lib = Path::new("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1");
    if required_program("faketime").is_none() {
        return;
    }
    assert!(lib.exists(), "{} (Debian's libfaketime) is missing", lib.display());
    let dir = tempfile::tempdir().unwrap();
    let hook = drifting(dir.path(), vec![], "").await;
    // The agent's wall clock is offset by what this file says; its monotonic
    // clock (timers, timeouts) is left alone, as NTP leaves it.
    let offset = dir.path().join("clock-offset");
    std::fs::write(&offset, "+0\n").unwrap();
    let env = [
        ("LD_PRELOAD", lib.to_str().unwrap()),
        ("FAKETIME_TIMESTAMP_FILE", offset.to_str().unwrap()),
        ("FAKETIME_NO_CACHE", "1"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ];
    let agent = Agent::start_with(&dir.path().join("mlwatch.yaml"), "debug", &env).await;
    wait_for("the firing notification", async || (!hook.delivered().is_empty()).then_some(())).await;

    std::fs::write(&offset, "+2h\n").unwrap();
    evaluations(&agent, "Drift", 3.0).await;
    std::fs::write(&offset, "-1h\n").unwrap();
    evaluations(&agent, "Drift", 3.0).await;
    write_csv(&dir.path().join("data/current.csv"), "x", healthy(5));
    wait_for("the resolved notification", async || (hook.delivered().len() >= 2).then_some(())).await;
    std::fs::write(&offset, "+0\n").unwrap();
    evaluations(&agent, "Drift", 3.0).await;
    assert_eq!(statuses(&hook), ["firing", "resolved"], "each exactly once across the jumps");
    assert_eq!(agent.terminate().await, Some(0));
}
