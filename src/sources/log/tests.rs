//! The log source over rotation, restarts and bad lines: every line counted
//! exactly once.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn source(dir: &Path, extra: &str) -> LogSource {
    let yaml = format!(
        "path: logs/api.log*\ntimestamp: ts\ntenant_field: tenant\nfields: {{status: number}}\n{extra}"
    );
    let config: LogSourceConfig = serde_saphyr::from_str(&yaml).unwrap();
    let s = config.validate(dir).unwrap();
    s.register("api", Vec::new());
    s
}

fn line(i: usize) -> String {
    // Minute i of the day, tenants alternating.
    format!("{{\"ts\":\"2026-11-02T{:02}:{:02}:00Z\",\"tenant\":\"t{}\",\"status\":200}}\n", i / 60 % 24, i % 60, i % 2)
}

fn append(path: &Path, lines: std::ops::Range<usize>) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    for i in lines {
        f.write_all(line(i).as_bytes()).unwrap();
    }
}

/// One live evaluation: read, then commit the checkpoint as the agent does.
fn evaluate(source: &LogSource, store: &Store) -> LogRead {
    let (state, mut read) = source.read(Some(store), ReadMode::Live, at("2026-11-03T00:00:00Z"));
    drop(state);
    store.commit_evaluation(&[], None, read.checkpoint.as_ref()).unwrap();
    read.checkpoint = None;
    read
}

/// Events counted, from the buckets (what every SLO window sums).
fn counted(source: &LogSource) -> u64 {
    let state = source.lock();
    ["t0", "t1"].iter().filter_map(|t| state.aggregates.traffic(t)).map(|c| c.sum(i64::MIN, i64::MAX)[0]).sum()
}

#[test]
fn rotation_of_both_kinds_and_restarts_count_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let live = logs.join("api.log");
    let store = Store::open(&dir.path().join("state")).unwrap();

    let s = source(dir.path(), "");
    append(&live, 0..100);
    assert_eq!(evaluate(&s, &store).lines, 100);
    // A partial line at the end waits for its newline.
    std::fs::OpenOptions::new().append(true).open(&live).unwrap().write_all(br#"{"ts":"2026-11-02T02:00:00Z","#).unwrap();
    assert_eq!(evaluate(&s, &store).lines, 0);
    std::fs::OpenOptions::new().append(true).open(&live).unwrap().write_all(b"\"tenant\":\"t0\",\"status\":200}\n").unwrap();
    append(&live, 101..150);

    // Rename-and-create mid-read: the renamed file is finished, the new one read whole.
    std::fs::rename(&live, logs.join("api.log.1")).unwrap();
    append(&live, 150..200);
    assert_eq!(evaluate(&s, &store).lines, 100);
    assert_eq!(counted(&s), 200);

    // A restart mid-file: a new source (as after a restart) continues from the checkpoint.
    append(&live, 200..260);
    drop(s);
    let s = source(dir.path(), "");
    assert_eq!(evaluate(&s, &store).lines, 60);
    assert_eq!(counted(&s), 260, "the restored buckets and the new lines, nothing twice");

    // Copy-truncate: the copy holds the lines up to the copy; the truncated file starts again.
    append(&live, 260..280);
    std::fs::copy(&live, logs.join("api.log.2")).unwrap();
    std::fs::File::create(&live).unwrap();
    append(&live, 280..300);
    let read = evaluate(&s, &store);
    assert_eq!(read.lines, 40, "the copy's 20 unread lines and the 20 new ones");
    assert_eq!(counted(&s), 300);

    // A read whose checkpoint is never written (a crash before the commit)
    // is read again after the restart.
    append(&live, 300..310);
    let (state, read) = s.read(Some(&store), ReadMode::Live, at("2026-11-03T00:00:00Z"));
    assert_eq!(read.lines, 10);
    drop(state);
    drop(s);
    let s = source(dir.path(), "");
    assert_eq!(evaluate(&s, &store).lines, 10);
    assert_eq!(counted(&s), 310);
}

#[test]
fn bad_lines_are_counted_by_reason_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let live = dir.path().join("logs/api.log");
    let store = Store::open(&dir.path().join("state")).unwrap();
    let s = source(dir.path(), "max_line_bytes: 4096\nmax_tenants: 2\n");
    let mut content = Vec::new();
    content.extend(line(0).as_bytes());
    content.extend(b"not json at all\n");
    content.extend(b"{\"ts\":\"2026-11-02T00:01:00Z\",\"tenant\":\"t1\",\"status\":\"ok\"}\n");
    content.extend(b"{\"ts\":\"2026-11-02T00:01:00Z\",\"tenant\":\"t1\"}\n");
    content.extend(b"{\"ts\":\"2026-11-02T00:01:00Z\",\"tenant\":\"t\xff\xfe\",\"status\":200}\n");
    // A 10 MB line, far over the bound.
    content.extend(b"{\"ts\":\"2026-11-02T00:01:00Z\",\"pad\":\"");
    content.extend(std::iter::repeat_n(b'x', 10 << 20));
    content.extend(b"\"}\n");
    content.extend(line(1).as_bytes());
    content.extend(b"{\"ts\":\"2026-11-02T00:03:00Z\",\"tenant\":\"third\",\"status\":200}\n");
    content.extend(b"\n");
    content.extend(line(2).as_bytes());
    std::fs::write(&live, content).unwrap();

    let read = evaluate(&s, &store);
    assert_eq!(read.lines, 3);
    let reasons: Vec<(&str, u64)> = read.rejected.iter().map(|(r, n)| (r.as_str(), *n)).collect();
    assert_eq!(
        reasons,
        [("not_utf8", 1), ("not_json", 1), ("missing_field", 1), ("wrong_type", 1), ("too_long", 1), ("too_many_tenants", 1)]
    );
    assert!(read.example.as_deref().unwrap().ends_with("api.log:2: not_json"), "{:?}", read.example);
    assert_eq!(read.refused_tenants.iter().collect::<Vec<_>>(), ["third"]);
    assert_eq!(counted(&s), 3);
}

#[test]
fn a_replay_reads_every_file_once_and_keeps_no_offsets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    append(&dir.path().join("logs/api.log.1"), 0..50);
    append(&dir.path().join("logs/api.log"), 50..80);
    let s = source(dir.path(), "");
    let (state, read) = s.read(None, ReadMode::Replay, at("2026-11-02T00:30:00Z"));
    assert_eq!((read.lines, read.checkpoint.is_none()), (80, true));
    // Each evaluation sees the buckets before its time only.
    let c = state.aggregates.traffic("t0").unwrap();
    let hi = at("2026-11-02T00:30:00Z").timestamp_millis() / 60_000;
    assert_eq!(c.sum(i64::MIN, hi)[0], 15);
    drop(state);
    let (_state, again) = s.read(None, ReadMode::Replay, at("2026-11-02T01:00:00Z"));
    assert_eq!(again.lines, 0, "read once");
}

