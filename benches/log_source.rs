//! The log source at scale: ingest a directory of serving logs live (as the
//! agent's first evaluation after start does), evaluate an availability and
//! a latency SLO with all four window pairs per tenant, commit, then append a
//! minute of new lines and evaluate again. Prints times and peak memory.
//!
//! Run by `scripts/bench-logs.sh`, which generates the logs:
//! `cargo bench --bench log_source -- LOG_DIR NOW NEW_LINES_FILE`

use std::path::Path;
use std::time::Instant;

use mlwatch::agent::Prepared;
use mlwatch::rules::advance::recorded_values;
use mlwatch::rules::eval::{EvalEnv, GroupResult, evaluate_group};
use mlwatch::sources::log::ReadMode;
use mlwatch::state::{RuleRecord, Store};

const RULES: &str = r#"
groups:
  - name: serving
    source: api
    per_tenant: true
    rules:
      - alert: Availability
        check: { slo: { good: "status < 500", objective: 99.7, period: 30d } }
        when: "page == 1 or ticket == 1"
      - alert: Latency
        check: { slo: { good: "latency_ms < 250", objective: 99, period: 30d, latency: latency_ms } }
        when: "page == 1 or ticket == 1"
"#;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

fn commit(store: &Store, prepared: &Prepared, result: &GroupResult, now: chrono::DateTime<chrono::Utc>) {
    let group = &prepared.config.rules.groups[0];
    let values: Vec<_> = group.rules.iter().zip(&result.rules).map(|(r, o)| recorded_values(r, o)).collect();
    let records: Vec<RuleRecord<'_>> = group
        .rules
        .iter()
        .zip(&values)
        .map(|(r, v)| RuleRecord { rule: &r.name, at_ms: now.timestamp_millis(), alerts: None, values: v, transitions: &[] })
        .collect();
    store.commit_evaluation(&records, None, result.checkpoint.as_ref()).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [logs, now, more] = &args[..] else {
        eprintln!("usage: log_source LOG_DIR NOW NEW_LINES_FILE");
        std::process::exit(2);
    };
    let now = chrono::DateTime::parse_from_rfc3339(now).unwrap().with_timezone(&chrono::Utc);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    let config = format!(
        "sources:\n  api: {{ kind: log, path: \"{}/api.log*\", timestamp: ts, tenant_field: tenant, fields: {{ status: number, latency_ms: number }} }}\n\
         storage: {{ path: \"{}\" }}\nrule_files: [rules.yaml]\nroute: {{ receiver: r }}\nreceivers: [{{ name: r, stdout: [{{}}] }}]\n",
        Path::new(logs).canonicalize().unwrap().display(),
        dir.path().join("state").display()
    );
    std::fs::write(dir.path().join("mlwatch.yaml"), config).unwrap();
    let prepared = Prepared::load(&dir.path().join("mlwatch.yaml")).unwrap();
    let store = Store::open(&dir.path().join("state")).unwrap();
    let group = &prepared.config.rules.groups[0];
    let source = &prepared.config.sources["api"];
    let known = Default::default();
    let env = EvalEnv { baselines: &prepared.baselines, store: Some(&store), known_tenants: &known, mode: ReadMode::Live };

    let t = Instant::now();
    let first = evaluate_group(group, source, &env, now);
    let first_time = t.elapsed();
    let t = Instant::now();
    commit(&store, &prepared, &first, now);
    let commit_time = t.elapsed();
    let tenants = first.tenants_seen.len();
    let series: usize = first.rules.iter().map(|r| r.series.len()).sum();
    println!(
        "first evaluation: {} lines read in {:.2} s ({:.0} lines/s, ingest and evaluation), {} tenants, {} series; commit {:.2} s; bucket memory {:.1} MiB; peak RSS {:.0} MiB",
        first.rows_read,
        first_time.as_secs_f64(),
        first.rows_read as f64 / first_time.as_secs_f64(),
        tenants,
        series,
        commit_time.as_secs_f64(),
        first.bucket_bytes.unwrap_or(0) as f64 / (1 << 20) as f64,
        peak_rss_mib()
    );
    // Evaluation alone: nothing new to read.
    let t = Instant::now();
    let again = evaluate_group(group, source, &env, now);
    let eval_time = t.elapsed();
    commit(&store, &prepared, &again, now);
    println!("evaluation with nothing new: {:.1} ms ({} lines read)", eval_time.as_secs_f64() * 1000.0, again.rows_read);

    // A minute of new lines, appended to the live file.
    let new = std::fs::read(more).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(Path::new(logs).join("api.log")).unwrap();
    std::io::Write::write_all(&mut f, &new).unwrap();
    let later = now + chrono::Duration::minutes(1);
    let t = Instant::now();
    let next = evaluate_group(group, source, &env, later);
    let next_time = t.elapsed();
    let t = Instant::now();
    commit(&store, &prepared, &next, later);
    println!(
        "next evaluation after a minute of logs: {} lines read, {:.1} ms (commit {:.1} ms); peak RSS {:.0} MiB",
        next.rows_read,
        next_time.as_secs_f64() * 1000.0,
        t.elapsed().as_secs_f64() * 1000.0,
        peak_rss_mib()
    );
}
