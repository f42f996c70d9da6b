//! Helpers shared by the integration tests: running the real binary, waiting on
//! conditions (never on fixed sleeps), and stand-in receivers on 127.0.0.1.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous: CI machines are shared and slow, and nothing here waits this long
/// unless something is broken.
pub const DEADLINE: Duration = Duration::from_secs(90);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mlwatch")
}

pub fn mlwatch(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().expect("run mlwatch")
}

/// Like [`mlwatch`], but a run still going at the deadline is killed and
/// fails the test (for input that used to block for ever).
pub fn mlwatch_bounded(args: &[&str]) -> Output {
    let mut child = Command::new(bin()).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run mlwatch");
    let start = Instant::now();
    while child.try_wait().expect("wait for mlwatch").is_none() {
        if start.elapsed() > DEADLINE {
            child.kill().ok();
            panic!("mlwatch {args:?} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("mlwatch output")
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Poll `cond` until it holds or the deadline passes (then panic with `what`).
pub async fn wait_for<T>(what: &str, mut cond: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        if start.elapsed() > DEADLINE {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The agent binary, running with JSON logs captured.
pub struct Agent {
    pub child: Child,
    pub address: String,
    pub logs: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Agent {
    /// Start `mlwatch run` on a free port and wait until it listens.
    pub async fn start(config: &Path) -> Agent {
        Agent::start_at_level(config, "debug").await
    }

    /// Like [`Agent::start`], logging at `level`.
    pub async fn start_at_level(config: &Path, level: &str) -> Agent {
        Agent::start_with(config, level, &[]).await
    }

    /// Like [`Agent::start_at_level`], with extra environment variables.
    pub async fn start_with(config: &Path, level: &str, env: &[(&str, &str)]) -> Agent {
        let mut child = Command::new(bin())
            .args(["--log-format", "json", "--log-level", level, "run", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mlwatch run");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line).unwrap_or(serde_json::json!({ "raw": line }));
                sink.lock().unwrap().push(v);
            }
        });
        let l = logs.clone();
        let address = wait_for("the agent to listen", async || {
            l.lock().unwrap().iter().find(|v| v["message"] == "listening").and_then(|v| v["address"].as_str().map(String::from))
        })
        .await;
        Agent { child, address, logs }
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.address)).await.unwrap().text().await.unwrap()
    }

    /// The value of one series in /metrics, e.g. `mlwatch_rule_evaluations_total{rule="Drift"}`.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        metric_value(&self.metrics().await, series)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// GET a JSON endpoint of the API.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        reqwest::get(self.url(path)).await.unwrap().json().await.unwrap()
    }

    /// POST with an optional bearer token; returns the status and body.
    pub async fn post(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut req = reqwest::Client::new().post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Send a signal by name (`HUP`, `TERM`, ...).
    pub fn signal(&self, name: &str) {
        assert!(Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap().success());
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn log_messages(&self) -> String {
        self.logs.lock().unwrap().iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n")
    }

    /// Send SIGTERM and wait for the exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        self.signal("TERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(start.elapsed() < DEADLINE, "agent did not exit after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Find `series` (name with labels, as printed) in a Prometheus text exposition.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
}

/// What a stand-in webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The status answered; 0 when the reply was held or slow (the sender gave up).
    pub status: u16,
    pub body: serde_json::Value,
    pub at: Instant,
    /// The `Idempotency-Key` header: the same for every attempt at one notification.
    pub key: Option<String>,
}

/// How a stand-in answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// 429 with `Retry-After: N` seconds.
    RetryAfter(u64),
    /// An error status with Slack's style of body, e.g. 400 `invalid_payload`.
    Error(u16, &'static str),
    /// Answer 200 only after this long (past the sender's timeout).
    Slow(Duration),
    /// Never answer.
    Hold,
    /// Answer 200 once the test notifies this (recorded as 200 on arrival).
    Gate(Arc<tokio::sync::Notify>),
}

impl From<u16> for Reply {
    fn from(s: u16) -> Reply {
        Reply::Status(s)
    }
}

/// An HTTP receiver on 127.0.0.1 that records every POST and answers with the
/// scripted replies in turn (then 200).
#[derive(Clone)]
pub struct StandIn {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl StandIn {
    pub async fn start(script: Vec<u16>) -> StandIn {
        StandIn::scripted(script.into_iter().map(Reply::from).collect()).await
    }

    pub async fn scripted(script: Vec<Reply>) -> StandIn {
        use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::post};
        type Shared = (Arc<Mutex<Vec<Received>>>, Arc<Mutex<std::collections::VecDeque<Reply>>>);
        async fn hook(State((got, script)): State<Shared>, headers: axum::http::HeaderMap, body: String) -> axum::response::Response {
            let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from);
            let reply = script.lock().unwrap().pop_front().unwrap_or(Reply::Status(200));
            let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
            let status = match &reply {
                Reply::Status(s) | Reply::Error(s, _) => *s,
                Reply::Gate(_) => 200,
                Reply::RetryAfter(_) => 429,
                Reply::Slow(_) | Reply::Hold => 0,
            };
            got.lock().unwrap().push(Received { status, body, at: Instant::now(), key });
            match reply {
                Reply::Status(s) => (StatusCode::from_u16(s).unwrap(), if s == 200 { "ok" } else { "injected_failure" }).into_response(),
                Reply::Error(s, text) => (StatusCode::from_u16(s).unwrap(), text).into_response(),
                Reply::RetryAfter(secs) => {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], "rate_limited").into_response()
                }
                Reply::Slow(d) => {
                    tokio::time::sleep(d).await;
                    (StatusCode::OK, "ok").into_response()
                }
                Reply::Hold => std::future::pending().await,
                Reply::Gate(gate) => {
                    gate.notified().await;
                    (StatusCode::OK, "ok").into_response()
                }
            }
        }
        let received = Arc::new(Mutex::new(Vec::new()));
        let state: Shared = (received.clone(), Arc::new(Mutex::new(script.into())));
        let app = Router::new().route("/hook", post(hook)).route("/hook/{*rest}", post(hook)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandIn { url, received }
    }

    /// Bodies of the requests that were answered 200.
    pub fn delivered(&self) -> Vec<serde_json::Value> {
        self.received.lock().unwrap().iter().filter(|r| r.status == 200).map(|r| r.body.clone()).collect()
    }

    pub fn attempts(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Write a CSV of one numeric column `x` atomically (write, then rename), so the
/// agent never reads half a file.
pub fn write_csv(path: &Path, header: &str, rows: impl IntoIterator<Item = String>) {
    let mut text = String::from(header);
    text.push('\n');
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// A free TCP port on 127.0.0.1 (for services that cannot be told to pick one).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A helper service (Prometheus, Alertmanager, ...) started by a test; killed when dropped.
pub struct Service(pub Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The path of a program a test needs, such as `promtool`. When it is not
/// installed the test is skipped, unless `MLWATCH_REQUIRE_SERVICES` is set (as
/// `.ci/run` does), where a missing program fails the test.
pub fn required_program(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(std::env::var_os("MLWATCH_REQUIRE_SERVICES").is_none(), "`{name}` is required but not installed");
        eprintln!("skipping: `{name}` is not installed (CI installs it; see .ci/run)");
    }
    found
}

/// Whether python3 can import `module` (a test peer such as aiosmtpd). Skips
/// like [`required_program`] when it cannot, unless `MLWATCH_REQUIRE_SERVICES` is set.
pub fn required_python_module(module: &str) -> bool {
    let ok = required_program("python3").is_some()
        && Command::new("python3").args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("MLWATCH_REQUIRE_SERVICES").is_none(), "python module `{module}` is required but not installed");
        eprintln!("skipping: python module `{module}` is not installed (CI installs it; see .ci/run)");
    }
    ok
}
