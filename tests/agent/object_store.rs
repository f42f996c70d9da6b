//! Sources in object storage: the agent reads a lake and a log from an S3
//! bucket served by moto (`python3 -m moto.server`, from PyPI) on 127.0.0.1, lists only
//! the partitions a window needs, finds new tenants, follows log objects
//! across a SIGKILL, and rides out throttling.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::support::{Agent, Service, free_port, required_python_module, wait_for};
use crate::logs::{RULES, counted, wait_counted};
use crate::{build_baseline, drifted, healthy};

/// Credentials moto accepts (it does not check them); the agent takes them
/// from the environment, as from any AWS credential chain.
const CREDENTIALS: [(&str, &str); 3] = [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")];

/// moto's S3 on a free port, logging its requests to `log`, with bucket `lake`.
async fn moto(log: &std::path::Path) -> Option<(Service, String)> {
    if !required_python_module("moto.server") {
        return None;
    }
    let port = free_port();
    let service = Service(
        Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_for("moto to create the bucket", async || {
        let r = client.put(format!("{endpoint}/lake")).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    Some((service, endpoint))
}

fn bucket(endpoint: &str) -> AmazonS3 {
    let [(_, key), (_, secret), (_, region)] = CREDENTIALS;
    let b = AmazonS3Builder::new().with_endpoint(endpoint).with_allow_http(true).with_bucket_name("lake");
    b.with_access_key_id(key).with_secret_access_key(secret).with_region(region).build().unwrap()
}

async fn put(store: &AmazonS3, key: &str, body: String) {
    store.put(&ObjectPath::from(key), PutPayload::from(body)).await.unwrap();
}

/// A CSV of `x` with a timestamp ten minutes ago on every row.
fn csv(values: impl Iterator<Item = String>) -> String {
    let ts = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut text = String::from("ts,x\n");
    for v in values {
        text.push_str(&format!("{ts},{v}\n"));
    }
    text
}

fn write_config(dir: &std::path::Path, sources: &str, rules: &str) {
    std::fs::write(
        dir.join("mlwatch.yaml"),
        format!("sources:\n{sources}\nstorage: {{ path: state }}\nrule_files: [rules.yaml]\nroute: {{ receiver: r }}\nreceivers: [{{ name: r }}]\n"),
    )
    .unwrap();
    std::fs::write(dir.join("rules.yaml"), rules).unwrap();
}

/// The `prefix` of every listing moto served, decoded.
fn listed_prefixes(log: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .filter(|l| l.contains("\"GET /lake?") && l.contains("list-type=2"))
        .map(|l| {
            let query = l.split("\"GET /lake?").nth(1).unwrap().split(' ').next().unwrap();
            let prefix = query.split('&').find_map(|p| p.strip_prefix("prefix=")).unwrap_or("");
            prefix.replace("%2F", "/").replace("%3D", "=")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lake_in_s3_is_read_by_partition_and_new_tenants_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("moto.log");
    let Some((_moto, endpoint)) = moto(&log).await else { return };
    let store = bucket(&endpoint);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    put(&store, &format!("features/acme/dt={today}/part-0.csv"), csv(drifted())).await;
    put(&store, &format!("features/globex/dt={today}/part-0.csv"), csv(healthy(1))).await;
    // Old days the window never needs: never listed.
    for day in ["2026-01-01", "2026-01-02", "2025-12-31"] {
        put(&store, &format!("features/acme/dt={day}/part-0.csv"), csv(healthy(2))).await;
    }
    build_baseline(dir.path());
    let sources = format!(
        "  features:\n    kind: file\n    path: \"s3://lake/features/{{tenant}}/dt={{date}}/*.csv\"\n    timestamp: ts\n    object_store: {{ endpoint: \"{endpoint}\", allow_http: true }}\n"
    );
    let rules = "groups:\n  - name: drift\n    source: features\n    interval: 1s\n    window: 1h\n    per_tenant: true\n    rules:\n      - alert: Drift\n        check: { drift: { columns: [x], method: psi } }\n        baseline: { profile: base.json }\n        when: \"psi > 0.2\"\n";
    write_config(dir.path(), &sources, rules);
    let agent = Agent::start_with(&dir.path().join("mlwatch.yaml"), "info", &CREDENTIALS).await;
    let psi = |t: &str| format!(r#"mlwatch_drift_psi{{column="x",rule="Drift",tenant="{t}"}}"#);
    let acme = wait_for("acme's PSI", async || agent.metric(&psi("acme")).await).await;
    let globex = wait_for("globex's PSI", async || agent.metric(&psi("globex")).await).await;
    assert!(acme > 0.2 && globex < 0.2, "acme drifts ({acme}), globex does not ({globex})");

    // A tenant that appears in the bucket is monitored without a reload.
    put(&store, &format!("features/initech/dt={today}/part-0.csv"), csv(drifted())).await;
    wait_for("the new tenant's PSI", async || agent.metric(&psi("initech")).await).await;
    assert_eq!(agent.terminate().await, Some(0));

    // Listings: the tenants, then each tenant's partitions of the window
    // (today, and the hour around it), never the old days.
    let prefixes = listed_prefixes(&log);
    assert!(prefixes.contains(&"features/".to_string()), "{prefixes:?}");
    let window_days: Vec<String> = [-1i64, 0, 1]
        .iter()
        .map(|h| (chrono::Utc::now() + chrono::Duration::hours(*h)).format("dt=%Y-%m-%d").to_string())
        .collect();
    for p in &prefixes {
        assert!(p == "features/" || window_days.iter().any(|d| p.ends_with(&format!("/{d}/"))), "listed {p}: {prefixes:?}");
    }
}

/// JSON lines `range`, two tenants, 10 ms apart from `start` (Unix ms).
fn lines(range: std::ops::Range<u64>, start: i64) -> String {
    range
        .map(|i| {
            let ts = chrono::DateTime::from_timestamp_millis(start + i as i64 * 10).unwrap();
            format!("{{\"ts\":\"{}\",\"tenant\":\"t{}\",\"status\":200}}\n", ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), i % 2)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_objects_are_counted_once_across_new_objects_rewrites_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_moto, endpoint)) = moto(&dir.path().join("moto.log")).await else { return };
    let store = bucket(&endpoint);
    let sources = format!(
        "  api: {{ kind: log, path: \"s3://lake/logs/api/*.jsonl\", timestamp: ts, tenant_field: tenant, fields: {{ status: number }}, object_store: {{ endpoint: \"{endpoint}\", allow_http: true }} }}\n"
    );
    write_config(dir.path(), &sources, RULES);
    let config = dir.path().join("mlwatch.yaml");
    let start = chrono::Utc::now().timestamp_millis() - 10 * 60 * 1000;

    put(&store, "logs/api/0001.jsonl", lines(0..1000, start)).await;
    let agent = Agent::start_with(&config, "info", &CREDENTIALS).await;
    wait_counted(&agent, 1000.0).await;
    // A new object; then killed before or after reading it.
    put(&store, "logs/api/0002.jsonl", lines(1000..1500, start)).await;
    wait_counted(&agent, 1500.0).await;
    agent.kill9();

    let agent = Agent::start_with(&config, "info", &CREDENTIALS).await;
    // An object rewritten longer (a shipper's compose or re-upload) is read on from where it was.
    put(&store, "logs/api/0002.jsonl", lines(1000..1800, start)).await;
    wait_counted(&agent, 1800.0).await;
    let evals = r#"mlwatch_rule_evaluations_total{rule="Availability"}"#;
    let now = agent.metric(evals).await.unwrap();
    wait_for("three more evaluations", async || (agent.metric(evals).await? >= now + 3.0).then_some(())).await;
    assert_eq!(counted(&agent).await, Some(1800.0), "nothing counted twice");
    assert_eq!(agent.terminate().await, Some(0));
}

/// Between the agent and moto: answers the first `throttle` requests with
/// 503 SlowDown (as S3 does under load), forwards the rest.
async fn throttling_proxy(upstream: String, throttle: usize) -> (String, Arc<Mutex<usize>>) {
    use axum::{Router, body::Bytes, extract::State, http::{HeaderMap, Method, StatusCode, Uri}, response::IntoResponse};
    type Shared = (String, Arc<Mutex<usize>>, usize, reqwest::Client);
    async fn forward(State((upstream, refused, throttle, client)): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> axum::response::Response {
        {
            let mut n = refused.lock().unwrap();
            if *n < throttle {
                *n += 1;
                let xml = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                return (StatusCode::SERVICE_UNAVAILABLE, xml).into_response();
            }
        }
        let url = format!("{upstream}{}", uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let mut request = client.request(method, url).body(body);
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            request = request.header(k, v);
        }
        let r = request.send().await.unwrap();
        let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
        let mut out = HeaderMap::new();
        for (k, v) in r.headers().iter().filter(|(k, _)| *k != "transfer-encoding" && *k != "content-length") {
            out.insert(k.clone(), v.clone());
        }
        (status, out, r.bytes().await.unwrap()).into_response()
    }
    let refused = Arc::new(Mutex::new(0));
    let state: Shared = (upstream, refused.clone(), throttle, reqwest::Client::new());
    let app = Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_requests_are_retried_with_backoff_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_moto, endpoint)) = moto(&dir.path().join("moto.log")).await else { return };
    let store = bucket(&endpoint);
    put(&store, "logs/api/0001.jsonl", lines(0..100, chrono::Utc::now().timestamp_millis() - 60_000)).await;
    let (proxy, refused) = throttling_proxy(endpoint, 3).await;
    let sources = format!(
        "  api: {{ kind: log, path: \"s3://lake/logs/api/*.jsonl\", timestamp: ts, tenant_field: tenant, fields: {{ status: number }}, object_store: {{ endpoint: \"{proxy}\", allow_http: true }} }}\n"
    );
    write_config(dir.path(), &sources, RULES);
    let agent = Agent::start_with(&dir.path().join("mlwatch.yaml"), "info", &CREDENTIALS).await;
    wait_for("the lines to be counted", async || (counted(&agent).await? == 100.0).then_some(())).await;
    assert_eq!(*refused.lock().unwrap(), 3, "three requests were throttled");
    let text = agent.metrics().await;
    assert!(!text.contains("mlwatch_rule_evaluation_failures_total{"), "no evaluation failed:\n{text}");
    let logs = agent.log_messages();
    assert!(!logs.contains("log file not read"), "{logs}");
    assert_eq!(agent.terminate().await, Some(0));
}
