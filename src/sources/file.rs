//! The `file` source: Parquet, CSV and JSON-lines files found by a path template.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use rand::SeedableRng;
use serde::Deserialize;

use chrono::{DateTime, Utc};

use super::path_template::{Discovered, Matched, PathTemplate, SkipReason, Skipped};
use super::read::{FileFormat, ReadError, read_bytes, read_file};
use super::remote::{ObjectStoreConfig, Remote};
use super::read_cache::{FileStamp, Files, ReadCache};
use super::window::{TimestampUnit, Window, select_window};
use super::{Partition, Sample, SourceError, SourceMeta};
use crate::shard::{Shard, owned};

/// A source of files, as written in `mlwatch.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// Path or glob, relative to the config file, or a URL of object storage
    /// (`s3://bucket/...`, `gs://`, `az://`). `{tenant}` marks the path part
    /// that names the tenant; date parts (`{date}`, `{year}`, `{month}`, `{day}`,
    /// `{hour}`, `{date:%Y/%m/%d}`) limit reading to the partitions a window
    /// can touch; other `{name}` placeholders match anything.
    pub path: String,
    /// File format; by default taken from each file's extension.
    #[serde(default)]
    pub format: Option<FileFormat>,
    /// Column holding each row's event time; needed for a group's `window`.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Unit of an integer `timestamp` column (`s`, `ms`, `us`, `ns`).
    #[serde(default)]
    pub timestamp_unit: TimestampUnit,
    /// Column holding the tenant, for data that is not split into files per tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Cap on rows per tenant and evaluation; above it a seeded random sample is taken.
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Seed of that sample, so evaluations are reproducible.
    #[serde(default)]
    pub seed: u64,
    /// How much later than its rows' event time a partition may be named: the
    /// partitions read for a window run from its start to its end plus this
    /// (humantime). Default `1h`.
    #[serde(default)]
    pub partition_lateness: Option<String>,
    /// Read files that a symlink places outside the path's root directory
    /// (the part of `path` before its first placeholder or glob). Off by
    /// default: a tenant-writable directory must not lead the agent elsewhere.
    #[serde(default)]
    pub follow_symlinks: bool,
    /// A file modified less than this long ago is still being written and is
    /// skipped until it settles (humantime). Default `0s`: files are written
    /// whole (to a temporary name, then renamed).
    #[serde(default)]
    pub settle_time: Option<String>,
    /// How to reach the bucket of an `s3://`, `gs://` or `az://` path.
    #[serde(default)]
    pub object_store: Option<ObjectStoreConfig>,
}

/// The default of `partition_lateness`.
pub const DEFAULT_PARTITION_LATENESS: std::time::Duration = std::time::Duration::from_secs(3600);

/// A validated file source.
#[derive(Debug, Clone)]
pub struct FileSource {
    template: PathTemplate,
    format: Option<FileFormat>,
    timestamp: Option<String>,
    timestamp_unit: TimestampUnit,
    tenant_column: Option<String>,
    max_rows: Option<usize>,
    seed: u64,
    lateness: chrono::Duration,
    follow_symlinks: bool,
    settle_time: std::time::Duration,
    /// The bucket, when `path` is a URL.
    remote: Option<Arc<Remote>>,
    /// Skipped paths already logged (each is logged once, counted every time).
    reported: Arc<std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>>,
    /// Files of the last read, reused while unchanged (shared by the clones
    /// of this source: every group that reads it).
    cache: Arc<ReadCache>,
}

impl FileSourceConfig {
    /// Check the config; relative paths are taken from `base_dir`. Reads
    /// only the credential files of `object_store`; makes no request.
    pub fn validate(&self, base_dir: &Path) -> Result<FileSource, String> {
        let remote = Remote::for_path(&self.path, self.object_store.as_ref(), base_dir)?;
        let path = if remote.is_some() { self.path.clone() } else { crate::util::paths::resolve(base_dir, &self.path).to_string_lossy().into_owned() };
        let template = PathTemplate::parse(&path).map_err(|e| format!("path: {e}"))?;
        if template.has_tenant() && self.tenant.is_some() {
            return Err("set either a `{tenant}` part in `path` or a `tenant` column, not both".into());
        }
        if self.max_rows == Some(0) {
            return Err("max_rows must be at least 1".into());
        }
        let lateness = match &self.partition_lateness {
            None => DEFAULT_PARTITION_LATENESS,
            Some(text) => crate::rules::schedule::parse_duration("partition_lateness", text)?,
        };
        Ok(FileSource {
            template,
            format: self.format,
            timestamp: self.timestamp.clone(),
            timestamp_unit: self.timestamp_unit,
            tenant_column: self.tenant.clone(),
            max_rows: self.max_rows,
            seed: self.seed,
            lateness: chrono::Duration::from_std(lateness).unwrap_or(chrono::Duration::MAX),
            follow_symlinks: self.follow_symlinks,
            settle_time: match &self.settle_time {
                None => std::time::Duration::ZERO,
                Some(text) => crate::rules::schedule::parse_duration("settle_time", text)?,
            },
            remote,
            reported: Arc::default(),
            cache: Arc::default(),
        })
    }
}

impl FileSource {
    pub fn has_tenant(&self) -> bool {
        self.template.has_tenant() || self.tenant_column.is_some()
    }

    pub fn has_timestamp(&self) -> bool {
        self.timestamp.is_some()
    }

    /// Whether the path names partitions by date.
    pub fn has_date_parts(&self) -> bool {
        self.template.has_date()
    }

    pub fn timestamp_column(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }

    /// Read `columns` of the files that can hold rows of `window` (every
    /// matching file without one), keep the rows in `window`, and split by
    /// tenant when `by_tenant` (else one partition). No files is no rows, not
    /// an error: the caller decides what an empty window means. A file that
    /// cannot be read fails its tenant only (when the path names tenants).
    /// With `shard`, only its tenants are read (by path) or kept (by column).
    /// With `cached`, files unchanged since the last cached read are reused.
    pub fn sample(&self, columns: &[String], window: Option<Window>, by_tenant: bool, shard: Option<Shard>, cached: bool) -> Result<Sample, SourceError> {
        let range = window.map(|w| (w.start, w.end.checked_add_signed(self.lateness).unwrap_or(w.end)));
        let discover_failed = |message: String| SourceError::Discover { pattern: self.template.as_str().to_string(), message };
        let (Discovered { mut files, mut skipped }, objects) = match &self.remote {
            Some(remote) => {
                let listed = remote.list(&self.template.globs(range)).map_err(discover_failed)?;
                let files = listed.iter().filter_map(|o| self.template.matched(&o.url)).collect();
                let stamps = listed.iter().map(|o| (PathBuf::from(&o.url), FileStamp::of_object(o))).collect();
                (Discovered { files, skipped: Vec::new() }, stamps)
            }
            None => (self.template.discover(range, self.follow_symlinks).map_err(|e| discover_failed(e.to_string()))?, HashMap::new()),
        };
        // An object's stamp is its listing's; a file's is asked of the file system.
        let stamp_of = |path: &Path| match &self.remote {
            Some(_) => objects.get(path).cloned(),
            None => FileStamp::of(path),
        };
        files.retain(|m| m.tenant.as_deref().is_none_or(|t| owned(shard, t)));
        self.hold_unsettled(&mut files, &mut skipped, &stamp_of);
        self.log_skipped(&skipped);
        // A schema check reads every column (`*`).
        let every = columns.iter().any(|c| c == crate::checks::quality::ALL_COLUMNS);
        let mut wanted: Vec<String> = columns.to_vec();
        wanted.extend(self.timestamp.iter().cloned());
        wanted.extend(self.tenant_column.iter().cloned());
        wanted.sort();
        wanted.dedup();

        // Frames and what was seen, per tenant key (None when not splitting,
        // or when the tenant is a column: split below).
        let mut frames: BTreeMap<Option<String>, (DataFrame, SourceMeta)> = BTreeMap::new();
        let mut failed: BTreeMap<String, SourceError> = BTreeMap::new();
        let mut files_read = 0;
        let mut kept = if cached { self.cache.take(&wanted) } else { Files::new() };
        let mut read = Files::new();
        for Matched { path, tenant } in files {
            if tenant.as_ref().is_some_and(|t| failed.contains_key(t)) {
                continue;
            }
            let stamp = stamp_of(&path);
            let frame = match (kept.remove(&path), &stamp) {
                (Some((was, df)), Some(now)) if was == *now => {
                    read.insert(path.clone(), (was, df.clone()));
                    Ok(df)
                }
                _ => {
                    files_read += 1;
                    self.read(&path, (!every).then_some(&wanted[..])).inspect(|df| {
                        if let Some(stamp) = stamp.clone() {
                            read.insert(path.clone(), (stamp, df.clone()));
                        }
                    })
                }
            };
            let seen = frame.map_err(SourceError::from).and_then(|df| self.window_of(&path, df, window, stamp.as_ref()));
            let (df, seen) = match (seen, &tenant) {
                (Ok(s), _) => s,
                (Err(e), Some(t)) => {
                    failed.insert(t.clone(), e);
                    continue;
                }
                (Err(e), None) => return Err(e),
            };
            let key = if by_tenant { tenant.clone() } else { None };
            match frames.get_mut(&key) {
                // A file with no rows in the window adds none, nor its
                // columns: yesterday's schema does not clash with today's.
                Some((_, meta)) if df.height() == 0 => meta.merge(&seen),
                Some((acc, meta)) => {
                    if acc.height() == 0 {
                        *acc = df;
                    } else if let Err(e) = acc.vstack_mut(&df) {
                        // Files of one tenant with different columns in one
                        // window fail that tenant, not the others.
                        let e = SourceError::Frame {
                            what: format!("{} does not stack with the tenant's other files in the window (its columns: {})", path.display(), df.get_column_names().iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")),
                            source: e,
                        };
                        match tenant {
                            Some(t) => {
                                failed.insert(t, e);
                                continue;
                            }
                            None => return Err(e),
                        }
                    }
                    meta.merge(&seen);
                }
                None => {
                    frames.insert(key, (df, seen));
                }
            }
        }
        // A tenant with a bad file is not judged on the rest of its files.
        frames.retain(|key, _| key.as_ref().is_none_or(|t| !failed.contains_key(t)));
        if !by_tenant && let Some((_, e)) = failed.pop_first() {
            return Err(e);
        }
        let failed_tenants: Vec<(String, SourceError)> = failed.into_iter().collect();

        if cached {
            self.cache.put(&wanted, read);
        }
        let mut parts = Vec::new();
        for (tenant, (df, meta)) in frames {
            match (&self.tenant_column, by_tenant) {
                (Some(col), true) => parts.extend(
                    split_by_column(&df, col, self.timestamp.as_deref(), &meta)?.into_iter().filter(|p| p.tenant.as_deref().is_none_or(|t| owned(shard, t))),
                ),
                _ => parts.push(Partition { tenant, frame: df, meta }),
            }
        }
        if let Some(max) = self.max_rows {
            for p in &mut parts {
                p.frame = sample_rows(&p.frame, max, self.seed)?;
            }
        }
        Ok(Sample { partitions: parts, files_read, failed: failed_tenants, skipped: skipped.iter().map(|s| s.reason).collect() })
    }

    /// `columns` (all when `None`) of one file or object.
    fn read(&self, path: &Path, columns: Option<&[String]>) -> Result<DataFrame, ReadError> {
        match &self.remote {
            None => read_file(path, self.format, columns),
            Some(remote) => {
                let url = path.to_string_lossy();
                let bytes = remote.get(&url).map_err(|e| ReadError::Open { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
                read_bytes(path, self.format, columns, bytes)
            }
        }
    }

    /// Move files modified within `settle_time` (still being written) from
    /// `files` to `skipped`.
    fn hold_unsettled(&self, files: &mut Vec<Matched>, skipped: &mut Vec<Skipped>, stamp_of: &dyn Fn(&Path) -> Option<FileStamp>) {
        if self.settle_time.is_zero() {
            return;
        }
        // Real time, whatever clock the evaluation runs on: mtimes are real.
        let settled_before = std::time::SystemTime::now() - self.settle_time;
        files.retain(|m| {
            let settled = stamp_of(&m.path).and_then(|s| s.modified).is_none_or(|t| t <= settled_before);
            if !settled {
                skipped.push(Skipped { path: m.path.clone(), reason: SkipReason::Settling });
            }
            settled
        });
    }

    /// Log each skipped path the first time it is skipped.
    fn log_skipped(&self, skipped: &[Skipped]) {
        let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        for s in skipped {
            if s.reason == SkipReason::Settling {
                tracing::debug!(path = %s.path.display(), "file not read yet: {}", s.reason.explain());
            } else if reported.insert(s.path.clone()) {
                tracing::warn!(path = %s.path.display(), reason = s.reason.as_str(), "file not read: {}", s.reason.explain());
            }
        }
    }

    /// The rows of one file in `window`, as Float64 numbers, with what they show.
    fn window_of(&self, path: &Path, df: DataFrame, window: Option<Window>, stamp: Option<&FileStamp>) -> Result<(DataFrame, SourceMeta), SourceError> {
        let (df, newest) = match &self.timestamp {
            Some(ts) => select_window(&df, ts, self.timestamp_unit, window).map_err(|e| SourceError::frame(path, e))?,
            None => (df, None),
        };
        let df = normalize_types(df, self.timestamp.as_deref()).map_err(|e| SourceError::frame(path, e))?;
        let modified = stamp.and_then(|s| s.modified).map(DateTime::<Utc>::from);
        let partition = self.template.partition_of(path);
        let meta = SourceMeta { files: 1, rows: df.height() as u64, newest, modified, partition };
        Ok((df, meta))
    }
}

/// Numbers become Float64, and dictionary-encoded strings plain strings, so
/// files that store a column differently (integers in one, floats or decimals
/// in another; a pandas `category` here, a string there) still stack. The
/// timestamp stays Unix ms (Int64).
fn normalize_types(mut df: DataFrame, timestamp: Option<&str>) -> PolarsResult<DataFrame> {
    let casts: Vec<(PlSmallStr, DataType)> = df
        .columns()
        .iter()
        .filter(|c| Some(c.name().as_str()) != timestamp)
        .filter_map(|c| match c.dtype() {
            DataType::Float64 => None,
            d if d.is_numeric() => Some((c.name().clone(), DataType::Float64)),
            d if d.is_categorical() || d.is_enum() => Some((c.name().clone(), DataType::String)),
            _ => None,
        })
        .collect();
    for (name, dtype) in casts {
        let cast = df.column(&name)?.cast(&dtype)?;
        df.with_column(cast)?;
    }
    Ok(df)
}

/// One partition per value of the tenant column. Files and modification
/// times are the source's; rows and the newest event time are the tenant's own.
fn split_by_column(df: &DataFrame, column: &str, timestamp: Option<&str>, meta: &SourceMeta) -> Result<Vec<Partition>, SourceError> {
    let tenants = df
        .column(column)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|e| SourceError::Frame { what: format!("tenant column `{column}`"), source: e })?;
    let mut rows: BTreeMap<String, Vec<IdxSize>> = BTreeMap::new();
    for (i, t) in tenants.str().expect("cast to string").iter().enumerate() {
        if let Some(t) = t {
            rows.entry(t.to_string()).or_default().push(i as IdxSize);
        }
    }
    rows.into_iter()
        .map(|(tenant, idx)| {
            let frame = df
                .take(&IdxCa::from_vec("idx".into(), idx))
                .map_err(|e| SourceError::Frame { what: format!("tenant `{tenant}`"), source: e })?;
            let newest = timestamp.and_then(|ts| frame.column(ts).ok()?.i64().ok()?.max()).and_then(DateTime::from_timestamp_millis);
            let meta = SourceMeta { rows: frame.height() as u64, newest, ..meta.clone() };
            Ok(Partition { tenant: Some(tenant), frame, meta })
        })
        .collect()
}

/// A seeded uniform sample of `max` rows (in their original order), or the frame itself.
fn sample_rows(df: &DataFrame, max: usize, seed: u64) -> Result<DataFrame, SourceError> {
    if df.height() <= max {
        return Ok(df.clone());
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut idx: Vec<IdxSize> = rand::seq::index::sample(&mut rng, df.height(), max).into_iter().map(|i| i as IdxSize).collect();
    idx.sort_unstable();
    df.take(&IdxCa::from_vec("idx".into(), idx)).map_err(|e| SourceError::Frame { what: "sample".into(), source: e })
}

impl SourceError {
    fn frame(path: &Path, source: PolarsError) -> Self {
        SourceError::Frame { what: path.display().to_string(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(dir: &Path, yaml: &str) -> FileSource {
        let cfg: FileSourceConfig = serde_saphyr::from_str(yaml).unwrap();
        cfg.validate(dir).unwrap()
    }

    #[test]
    fn splits_by_path_tenant_and_stacks_files() {
        let dir = tempfile::tempdir().unwrap();
        for (t, body) in [("acme", "x\n1\n2\n"), ("globex", "x\n3.5\n")] {
            std::fs::create_dir_all(dir.path().join(t)).unwrap();
            std::fs::write(dir.path().join(t).join("a.csv"), body).unwrap();
            std::fs::write(dir.path().join(t).join("b.csv"), "x\n10\n").unwrap();
        }
        let s = source(dir.path(), "path: '{tenant}/*.csv'");
        let parts = s.sample(&["x".into()], None, true, None, true).unwrap().partitions;
        let got: Vec<(String, usize)> = parts.iter().map(|p| (p.tenant.clone().unwrap(), p.frame.height())).collect();
        assert_eq!(got, [("acme".to_string(), 3), ("globex".to_string(), 2)]);
        let all = s.sample(&["x".into()], None, false, None, true).unwrap().partitions;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].frame.height(), 5);
    }

    #[test]
    fn splits_by_tenant_column_and_samples_reproducibly() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::from("tenant,x\n");
        for i in 0..100 {
            body.push_str(&format!("{},{}\n", if i % 2 == 0 { "a" } else { "b" }, i));
        }
        std::fs::write(dir.path().join("d.csv"), body).unwrap();
        let s = source(dir.path(), "{path: d.csv, tenant: tenant, max_rows: 10, seed: 7}");
        let p1 = s.sample(&["x".into()], None, true, None, true).unwrap().partitions;
        let p2 = s.sample(&["x".into()], None, true, None, true).unwrap().partitions;
        assert_eq!(p1.len(), 2);
        assert_eq!(p1[0].frame.height(), 10);
        assert!(p1[0].frame.equals(&p2[0].frame));
    }

    #[test]
    fn a_shard_reads_only_its_tenants_by_path_and_by_column() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::from("tenant,x\n");
        for t in 0..20 {
            std::fs::create_dir_all(dir.path().join(format!("t{t}"))).unwrap();
            std::fs::write(dir.path().join(format!("t{t}/a.csv")), "x\n1\n").unwrap();
            body.push_str(&format!("t{t},1\n"));
        }
        std::fs::write(dir.path().join("all.csv"), body).unwrap();
        let shard: Shard = "1/3".parse().unwrap();
        let mine: Vec<String> = (0..20).map(|t| format!("t{t}")).filter(|t| shard.owns(t)).collect();
        let by_path = source(dir.path(), "path: '{tenant}/a.csv'");
        let sample = by_path.sample(&["x".into()], None, true, Some(shard), true).unwrap();
        let got: Vec<String> = sample.partitions.iter().map(|p| p.tenant.clone().unwrap()).collect();
        let mut want = mine.clone();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(sample.files_read as usize, mine.len(), "the other shards' files are not opened");
        let by_column = source(dir.path(), "{path: all.csv, tenant: tenant}");
        let got: Vec<String> = by_column.sample(&["x".into()], None, true, Some(shard), true).unwrap().partitions.iter().map(|p| p.tenant.clone().unwrap()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn an_unreadable_file_fails_its_tenant_only() {
        let dir = tempfile::tempdir().unwrap();
        for t in ["acme", "globex"] {
            std::fs::create_dir_all(dir.path().join(t)).unwrap();
            std::fs::write(dir.path().join(t).join("a.csv"), "x\n1\n").unwrap();
        }
        std::fs::write(dir.path().join("globex/b.parquet"), b"PAR1 caught mid-write").unwrap();
        let s = source(dir.path(), "path: '{tenant}/*'");
        let sample = s.sample(&["x".into()], None, true, None, true).unwrap();
        let tenants: Vec<_> = sample.partitions.iter().map(|p| p.tenant.clone().unwrap()).collect();
        assert_eq!(tenants, ["acme"], "globex is not judged on half its files");
        assert_eq!(sample.failed.len(), 1);
        assert_eq!(sample.failed[0].0, "globex");
        assert!(sample.failed[0].1.to_string().contains("b.parquet"), "{}", sample.failed[0].1);
        // Not split by tenant, the group's one read fails, named.
        assert!(s.sample(&["x".into()], None, false, None, true).unwrap_err().to_string().contains("b.parquet"));
    }

    #[test]
    fn files_storing_a_column_differently_still_stack() {
        // A category and a decimal in the Parquet file, a string and an
        // integer in the CSV file: one frame, strings and Float64.
        let dir = tempfile::tempdir().unwrap();
        let types = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/types/types.parquet");
        std::fs::copy(types, dir.path().join("a.parquet")).unwrap();
        std::fs::write(dir.path().join("b.csv"), "cat,dec,u8\nweb,3,7\n").unwrap();
        let s = source(dir.path(), "path: '*'");
        let frame = &s.sample(&["cat".into(), "dec".into(), "u8".into()], None, false, None, true).unwrap().partitions[0].frame;
        assert_eq!(frame.height(), 41);
        let dtypes: Vec<String> = frame.dtypes().iter().map(|d| d.to_string()).collect();
        assert_eq!(dtypes, ["str", "f64", "f64"]);
    }

    #[test]
    fn a_file_still_being_written_waits_for_its_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        for t in ["acme", "globex"] {
            std::fs::create_dir_all(dir.path().join(t)).unwrap();
            std::fs::write(dir.path().join(t).join("a.csv"), "x\n1\n").unwrap();
        }
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(dir.path().join("acme/a.csv")).unwrap().set_modified(an_hour_ago).unwrap();
        let s = source(dir.path(), "{path: '{tenant}/*.csv', settle_time: 10m}");
        let sample = s.sample(&["x".into()], None, true, None, true).unwrap();
        let tenants: Vec<_> = sample.partitions.iter().map(|p| p.tenant.clone().unwrap()).collect();
        assert_eq!(tenants, ["acme"], "globex's file was modified just now");
        assert_eq!(sample.skipped, [SkipReason::Settling]);
        std::fs::File::options().write(true).open(dir.path().join("globex/a.csv")).unwrap().set_modified(an_hour_ago).unwrap();
        assert_eq!(s.sample(&["x".into()], None, true, None, true).unwrap().partitions.len(), 2);
    }

    #[test]
    fn no_matching_files_is_no_rows_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = source(dir.path(), "path: 'missing/*.parquet'");
        let sample = s.sample(&["x".into()], None, false, None, true).unwrap();
        assert!(sample.partitions.is_empty());
        assert_eq!(sample.files_read, 0);
    }

    #[test]
    fn a_window_reads_only_its_days_and_reports_what_it_saw() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=60u32 {
            let (month, day) = if day <= 30 { (11, day) } else { (12, day - 30) };
            let p = dir.path().join("acme").join(format!("dt=2026-{month}-{day:02}"));
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("a.csv"), format!("ts,x\n2026-{month}-{day:02}T10:30:00Z,{day}\n2026-{month}-{day:02}T12:00:00Z,{day}\n")).unwrap();
        }
        let s = source(dir.path(), "{path: '{tenant}/dt={date}/*.csv', timestamp: ts}");
        let end = DateTime::parse_from_rfc3339("2026-11-20T11:00:00Z").unwrap().with_timezone(&Utc);
        let sample = s.sample(&["x".into()], Some(Window::ending_at(end, std::time::Duration::from_secs(3600))), true, None, true).unwrap();
        assert_eq!(sample.files_read, 1, "only dt=2026-11-20 of 60 partitions is opened");
        let again = s.sample(&["x".into()], Some(Window::ending_at(end, std::time::Duration::from_secs(1800))), true, None, true).unwrap();
        assert_eq!((again.files_read, again.partitions[0].meta.files), (0, 1), "an unchanged file is not parsed again");
        let p = dir.path().join("acme/dt=2026-11-20/a.csv");
        std::fs::write(&p, "ts,x\n2026-11-20T10:45:00Z,1\n2026-11-20T10:50:00Z,2\n").unwrap();
        let changed = s.sample(&["x".into()], Some(Window::ending_at(end, std::time::Duration::from_secs(3600))), true, None, true).unwrap();
        assert_eq!((changed.files_read, changed.partitions[0].frame.height()), (1, 2), "a changed file is read again");
        let p = &sample.partitions[0];
        assert_eq!((p.frame.height(), p.meta.rows, p.meta.files), (1, 1, 1));
        assert_eq!(p.meta.newest, Some(DateTime::parse_from_rfc3339("2026-11-20T10:30:00Z").unwrap().with_timezone(&Utc)));
    }
}
