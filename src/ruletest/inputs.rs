//! A test's input written where its sources read: rows as CSV or JSON lines
//! (timestamps relative to the start turned into the source's own), fixture
//! files copied, baselines profiled. Every error names the entry.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};

use super::spec::{BaselineInput, Input, Row, TestCase};
use crate::baseline::{BuildOptions, build_profile};
use crate::sources::SourceConfig;
use crate::sources::read::{Access, read_file_with};
use crate::sources::window::TimestampUnit;

/// A time relative to the test's start: `30m`, `-2h`, `1h30m`, `0`.
pub fn offset(field: &str, text: &str) -> Result<chrono::Duration, String> {
    let t = text.trim();
    let (sign, magnitude) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest.trim()),
        None => (1, t.strip_prefix('+').unwrap_or(t).trim()),
    };
    if magnitude == "0" {
        return Ok(chrono::Duration::zero());
    }
    let d = humantime::parse_duration(magnitude).map_err(|e| format!("{field}: `{text}` is not a time relative to the start ({e}; e.g. 30m, -2h, 1d)"))?;
    chrono::Duration::from_std(d).map(|d| d * sign).map_err(|_| format!("{field}: `{text}` is too long"))
}

/// The key of each row's event time in a source, and its unit.
fn timestamp_of(source: &SourceConfig) -> Option<(&str, TimestampUnit)> {
    match source {
        SourceConfig::File(c) => c.timestamp.as_deref().map(|t| (t, c.timestamp_unit)),
        SourceConfig::Log(c) => Some((c.timestamp.as_str(), c.timestamp_unit.unwrap_or(TimestampUnit::Ms))),
    }
}

/// Write every input of `test` under `data`; fixture paths are relative to `test_dir`.
pub fn write_inputs(test: &TestCase, sources: &BTreeMap<String, SourceConfig>, start: DateTime<Utc>, test_dir: &Path, data: &Path) -> Result<(), String> {
    // Rows are gathered per file first: entries naming one path append.
    let mut files: Vec<(PathBuf, Vec<Row>)> = Vec::new();
    for (source_name, entries) in &test.input {
        let source = sources.get(source_name).ok_or_else(|| {
            format!("input: no source `{source_name}` in the file's `sources`{}", crate::config::diag::did_you_mean(source_name, sources.keys().map(String::as_str)))
        })?;
        for (i, entry) in entries.iter().enumerate() {
            let what = format!("input `{source_name}`[{i}] ({})", entry.path);
            let dest = data.join(relative(&entry.path).map_err(|e| format!("{what}: {e}"))?);
            write_entry(entry, source, start, test_dir, &dest, &mut files).map_err(|e| format!("{what}: {e}"))?;
        }
    }
    for (path, rows) in &files {
        write_rows(path, rows).map_err(|e| format!("input {}: {e}", path.strip_prefix(data).unwrap_or(path).display()))?;
    }
    for (source_name, entries) in &test.input {
        for (i, entry) in entries.iter().enumerate() {
            if let Some(modified) = &entry.modified {
                let at = start + offset("modified", modified).map_err(|e| format!("input `{source_name}`[{i}]: {e}"))?;
                let file = std::fs::File::options().write(true).open(data.join(&entry.path)).map_err(|e| format!("input `{source_name}`[{i}]: {e}"))?;
                file.set_modified(at.into()).map_err(|e| format!("input `{source_name}`[{i}]: cannot set its modification time: {e}"))?;
            }
        }
    }
    for (i, b) in test.baselines.iter().enumerate() {
        write_baseline(b, test_dir, data, i).map_err(|e| format!("baselines[{i}] ({}): {e}", b.path))?;
    }
    Ok(())
}

fn write_entry(entry: &Input, source: &SourceConfig, start: DateTime<Utc>, test_dir: &Path, dest: &Path, files: &mut Vec<(PathBuf, Vec<Row>)>) -> Result<(), String> {
    match (&entry.file, entry.rows.is_empty()) {
        (Some(_), false) => Err("give `rows` or `file`, not both".into()),
        (Some(file), true) => {
            if entry.repeat.is_some() || entry.every.is_some() {
                return Err("`repeat` and `every` apply to `rows`, not to a copied `file`".into());
            }
            copy_fixture(&test_dir.join(file), dest).map_err(|e| format!("fixture `{file}`: {e}"))
        }
        (None, _) => {
            let repeat = entry.repeat.unwrap_or(1);
            let every = match &entry.every {
                Some(e) => offset("every", e)?,
                None => chrono::Duration::zero(),
            };
            let rows = match files.iter_mut().find(|(p, _)| p == dest) {
                Some((_, rows)) => rows,
                None => {
                    files.push((dest.to_path_buf(), Vec::new()));
                    &mut files.last_mut().expect("just pushed").1
                }
            };
            for k in 0..repeat {
                for (r, row) in entry.rows.iter().enumerate() {
                    let mut row = numbered(row, k);
                    if let Some((column, unit)) = timestamp_of(source)
                        && let Some(v) = row.get_mut(column)
                    {
                        let at = event_time(v, unit, start).map_err(|e| format!("rows[{r}].{column}: {e}"))? + every * k as i32;
                        *v = serde_json::Value::from(in_unit(at, unit));
                    }
                    rows.push(row);
                }
            }
            Ok(())
        }
    }
}

/// Copy `k` (from 0) of a repeated row: `{i}` in its strings becomes `k`,
/// so `user_id: "u{i}"` writes a different user in every copy.
fn numbered(row: &Row, k: u32) -> Row {
    row.iter()
        .map(|(c, v)| match v {
            serde_json::Value::String(s) if s.contains("{i}") => (c.clone(), serde_json::Value::String(s.replace("{i}", &k.to_string()))),
            _ => (c.clone(), v.clone()),
        })
        .collect()
}

/// A row's event time: relative to the start (`-2h`), RFC 3339, or a number in `unit`.
fn event_time(v: &serde_json::Value, unit: TimestampUnit, start: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match v {
        serde_json::Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Ok(t.with_timezone(&Utc)),
            Err(_) => Ok(start + offset("time", s)?),
        },
        serde_json::Value::Number(n) => {
            let n = n.as_i64().ok_or_else(|| format!("`{n}` is not a whole number"))?;
            DateTime::from_timestamp_millis(unit.to_ms(n)).ok_or_else(|| format!("`{n}` is out of range"))
        }
        other => Err(format!("`{other}` is not a time: write a duration from the start (30m, -2h) or an RFC 3339 time")),
    }
}

fn in_unit(at: DateTime<Utc>, unit: TimestampUnit) -> i64 {
    match unit {
        TimestampUnit::S => at.timestamp(),
        TimestampUnit::Ms => at.timestamp_millis(),
        TimestampUnit::Us => at.timestamp_micros(),
        TimestampUnit::Ns => at.timestamp_nanos_opt().unwrap_or(i64::MAX),
    }
}

/// A path inside the scratch directory: relative, without `..`.
fn relative(path: &str) -> Result<&Path, String> {
    let p = Path::new(path);
    if path.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err("`path` must be relative to the test's scratch directory, without `..`".into());
    }
    Ok(p)
}

fn copy_fixture(from: &Path, to: &Path) -> Result<(), String> {
    if !from.is_file() {
        return Err(format!("cannot read {}: no such file", from.display()));
    }
    create_parent(to)?;
    std::fs::copy(from, to).map(drop).map_err(|e| format!("cannot copy {}: {e}", from.display()))
}

fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display())),
        None => Ok(()),
    }
}

/// Rows as CSV (for `.csv` paths) or JSON lines (anything else but Parquet).
fn write_rows(path: &Path, rows: &[Row]) -> Result<(), String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let text = match ext.as_str() {
        "parquet" | "pq" => return Err("rows are written as CSV or JSON lines: name the file .csv or .jsonl, or copy a Parquet fixture with `file`".into()),
        "csv" => csv(rows)?,
        _ => rows.iter().map(|r| serde_json::to_string(r).expect("rows serialize") + "\n").collect(),
    };
    create_parent(path)?;
    std::fs::write(path, text).map_err(|e| format!("cannot write: {e}"))
}

fn csv(rows: &[Row]) -> Result<String, String> {
    let mut columns: Vec<&str> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !columns.contains(&k.as_str()) {
                columns.push(k);
            }
        }
    }
    let mut out = columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\n";
    for (i, r) in rows.iter().enumerate() {
        let mut fields = Vec::with_capacity(columns.len());
        for c in &columns {
            fields.push(match r.get(*c) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => csv_field(s),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v.to_string(),
                Some(_) => return Err(format!("rows[{i}].{c}: CSV holds no lists or maps; write the file as .jsonl")),
            });
        }
        out += &fields.join(",");
        out.push('\n');
    }
    Ok(out)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn write_baseline(b: &BaselineInput, test_dir: &Path, data: &Path, i: usize) -> Result<(), String> {
    let dest = data.join(relative(&b.path)?);
    create_parent(&dest)?;
    let given = [b.profile.is_some(), b.file.is_some(), !b.rows.is_empty()].iter().filter(|g| **g).count();
    if given != 1 {
        return Err("give exactly one of `rows`, `file` and `profile`".into());
    }
    if b.repeat.is_some() && b.rows.is_empty() {
        return Err("`repeat` applies to `rows`".into());
    }
    if let Some(profile) = &b.profile {
        return copy_fixture(&test_dir.join(profile), &dest).map_err(|e| format!("profile `{profile}`: {e}"));
    }
    let file = match &b.file {
        Some(f) => {
            let p = test_dir.join(f);
            if !p.is_file() {
                return Err(format!("file `{f}`: cannot read {}: no such file", p.display()));
            }
            p
        }
        None => {
            let p = data.join(format!(".mlwatch-test/baseline-{i}.jsonl"));
            let rows: Vec<Row> = (0..b.repeat.unwrap_or(1)).flat_map(|k| b.rows.iter().map(move |r| numbered(r, k))).collect();
            write_rows(&p, &rows)?;
            p
        }
    };
    let frame = read_file_with(&file, None, None, Access::Copied).map_err(|e| e.to_string())?;
    let opts = BuildOptions { bins: b.bins.unwrap_or(10), ..BuildOptions::default() };
    let profile = build_profile(&frame, &b.path, &opts)?;
    profile.save(&dest).map_err(|e| format!("cannot write {}: {e}", dest.display()))
}
