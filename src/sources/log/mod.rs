//! The `log` source: JSON-lines serving logs, followed across rotation and
//! aggregated as they are read into per-tenant buckets of the counts each
//! SLI needs (`crate::events`). Raw lines are never kept.
//!
//! Live, each evaluation reads the lines appended since the last one. The
//! offsets reached and the buckets changed go into the state file in the
//! same transaction as the evaluation ([`Checkpoint`]), so after a restart
//! no line is counted twice and none is skipped. Replayed (`mlwatch
//! backtest`), every file is read once, whole, and each evaluation sees the
//! buckets before its time.

pub mod checkpoint;
mod files;
pub mod line;
pub mod tail;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub use checkpoint::Checkpoint;
use checkpoint::FileCursor;
use files::LogFile;
use line::{FieldSpec, LineFormat, Rejected};

use super::remote::{ObjectStoreConfig, Remote};
use super::window::TimestampUnit;
use crate::events::{Aggregates, Event, Sli};
use crate::rules::expr::Val;
use crate::state::Store;

/// A log source as written in `mlwatch.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSourceConfig {
    /// Glob of the files to follow, relative to the config file; include the
    /// rotated names (`logs/api.log*`). Compressed rotations are not read.
    /// Or a glob of objects (`s3://bucket/logs/api/*.jsonl`, `gs://`, `az://`).
    pub path: String,
    /// Key of each line's event time: RFC 3339, or a number in `timestamp_unit`.
    pub timestamp: String,
    /// Unit of a numeric timestamp (`s`, `ms`, `us`, `ns`). Default `ms`.
    #[serde(default)]
    pub timestamp_unit: Option<TimestampUnit>,
    /// Key of the tenant (a string); without it every line is one tenant's.
    #[serde(default)]
    pub tenant_field: Option<String>,
    /// The keys SLIs may read, with their type: `number`, `string` or `bool`,
    /// with `?` when a line may lack it (`arm: string?`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Most tenants counted; lines of further tenants are counted as rejected
    /// (`too_many_tenants`) and their tenants logged. Default 1000.
    #[serde(default)]
    pub max_tenants: Option<usize>,
    /// A tenant without lines for this long is forgotten (humantime). Default `7d`.
    #[serde(default)]
    pub forget_tenants_after: Option<String>,
    /// Bucket width of the counts (humantime). Default `1m`.
    #[serde(default)]
    pub bucket: Option<String>,
    /// How long buckets are kept: at least the longest SLO `period` (humantime). Default `30d`.
    #[serde(default)]
    pub retention: Option<String>,
    /// Longest line read; longer ones are skipped and counted (`too_long`). Default 1 MiB.
    #[serde(default)]
    pub max_line_bytes: Option<usize>,
    /// How to reach the bucket of an `s3://`, `gs://` or `az://` path.
    #[serde(default)]
    pub object_store: Option<ObjectStoreConfig>,
}

pub const DEFAULT_MAX_TENANTS: usize = 1000;
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
pub const DEFAULT_BUCKET: Duration = Duration::from_secs(60);
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
pub const DEFAULT_FORGET_TENANTS_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long latency histograms are kept: the longest `latency_window`.
pub const LATENCY_KEPT: Duration = Duration::from_secs(24 * 3600);

/// A validated log source. Clones share their state: every group reading
/// the source sees the same buckets.
#[derive(Debug, Clone)]
pub struct LogSource {
    pattern: PathBuf,
    /// The bucket, when `path` is a URL.
    remote: Option<Arc<Remote>>,
    format: LineFormat,
    max_line: usize,
    forget_after_ms: i64,
    pub retention: Duration,
    pub bucket: Duration,
    max_tenants: usize,
    state: Arc<Mutex<LogState>>,
    /// Held from a read until its checkpoint is committed, so two groups'
    /// checkpoints of one source never interleave.
    serial: Arc<tokio::sync::Mutex<()>>,
}

/// What the source keeps between reads.
#[derive(Debug)]
pub struct LogState {
    /// The source's name (the state file's key), once rules registered their SLIs.
    name: String,
    pub aggregates: Aggregates,
    cursors: BTreeMap<String, FileCursor>,
    /// Live: restored from the state file; replay: every file read.
    started: bool,
    /// Buckets before this one had their latency histograms cleared from the
    /// state file by an earlier checkpoint.
    latency_cut: Option<i64>,
}

impl LogSourceConfig {
    pub fn validate(&self, base_dir: &Path) -> Result<LogSource, String> {
        let duration = |field: &str, text: &Option<String>, default: Duration| -> Result<Duration, String> {
            match text {
                None => Ok(default),
                Some(t) => match crate::rules::schedule::parse_duration(field, t)? {
                    d if d.is_zero() => Err(format!("{field} must be greater than zero")),
                    d => Ok(d),
                },
            }
        };
        let bucket = duration("bucket", &self.bucket, DEFAULT_BUCKET)?;
        if bucket.as_millis() % 1000 != 0 || bucket > Duration::from_secs(3600) {
            return Err("bucket must be whole seconds, at most 1h".into());
        }
        let retention = duration("retention", &self.retention, DEFAULT_RETENTION)?;
        if retention > Duration::from_secs(400 * 24 * 3600) {
            return Err("retention is longer than 400d".into());
        }
        let forget = duration("forget_tenants_after", &self.forget_tenants_after, DEFAULT_FORGET_TENANTS_AFTER)?;
        let mut fields = Vec::new();
        for (name, kind) in &self.fields {
            if Some(name) == self.tenant_field.as_ref() || *name == self.timestamp {
                return Err(format!("fields: `{name}` is the timestamp or the tenant, which are read anyway"));
            }
            fields.push(FieldSpec::parse(name, kind).map_err(|e| format!("fields: {e}"))?);
        }
        let max_tenants = self.max_tenants.unwrap_or(DEFAULT_MAX_TENANTS);
        let max_line = self.max_line_bytes.unwrap_or(DEFAULT_MAX_LINE_BYTES);
        if max_tenants == 0 || max_line < 64 {
            return Err("max_tenants must be at least 1 and max_line_bytes at least 64".into());
        }
        let remote = Remote::for_path(&self.path, self.object_store.as_ref(), base_dir)?;
        let pattern = if remote.is_some() { PathBuf::from(&self.path) } else { crate::util::paths::resolve(base_dir, &self.path) };
        glob::Pattern::new(&pattern.to_string_lossy()).map_err(|e| format!("path: invalid glob `{}`: {e}", self.path))?;
        let format = LineFormat {
            timestamp: self.timestamp.clone(),
            timestamp_unit: self.timestamp_unit.unwrap_or(TimestampUnit::Ms),
            tenant: self.tenant_field.clone(),
            fields,
        };
        let bucket_ms = bucket.as_millis() as i64;
        Ok(LogSource {
            pattern,
            remote,
            format,
            max_line,
            forget_after_ms: forget.as_millis().min(i64::MAX as u128) as i64,
            retention,
            bucket,
            max_tenants,
            state: Arc::new(Mutex::new(LogState {
                name: String::new(),
                aggregates: Aggregates::new(bucket_ms, Vec::new(), max_tenants),
                cursors: BTreeMap::new(),
                started: false,
                latency_cut: None,
            })),
            serial: Arc::default(),
        })
    }
}

/// How a read goes: following the files, or replaying them by event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    Live,
    Replay,
}

/// What one read found.
#[derive(Debug, Default)]
pub struct LogRead {
    /// Lines counted into buckets.
    pub lines: u64,
    pub files_read: u64,
    /// Lines not counted, by reason.
    pub rejected: BTreeMap<Rejected, u64>,
    /// The first rejected line: where, and why.
    pub example: Option<String>,
    /// Tenants refused by `max_tenants` (a sample of them).
    pub refused_tenants: BTreeSet<String>,
    /// Tenants forgotten for having no lines for `forget_tenants_after`.
    pub forgotten: Vec<String>,
    /// Files that could not be read, with why.
    pub failed: Vec<String>,
    /// What to write to the state with the evaluation (live reads).
    pub checkpoint: Option<Checkpoint>,
}

impl LogSource {
    pub fn has_tenant(&self) -> bool {
        self.format.tenant.is_some()
    }

    /// The declared type of a field, or why it cannot be read.
    pub fn field_type(&self, name: &str) -> Result<crate::rules::expr::Type, String> {
        use crate::rules::expr::Type;
        match self.format.fields.iter().find(|f| f.name == name) {
            Some(f) => Ok(match f.kind {
                line::FieldType::Number => Type::Num,
                line::FieldType::String => Type::Str,
                line::FieldType::Bool => Type::Bool,
            }),
            None => {
                let known: Vec<&str> = self.format.fields.iter().map(|f| f.name.as_str()).collect();
                let hint = crate::config::diag::did_you_mean(name, known.iter().copied());
                Err(format!("`{name}` is not a declared field of the log source{hint} (its `fields:` are: {})", known.join(", ")))
            }
        }
    }

    /// Name the source and give it the SLIs its rules compute (after the
    /// rules are validated, before any read).
    pub fn register(&self, name: &str, slis: Vec<Sli>) {
        let mut s = self.lock();
        s.name = name.to_string();
        s.aggregates = Aggregates::new(self.bucket.as_millis() as i64, slis, self.max_tenants);
    }

    pub fn serial(&self) -> Arc<tokio::sync::Mutex<()>> {
        self.serial.clone()
    }

    pub fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panic mid-read leaves buckets that were not checkpointed; they are
        // re-read from the last checkpoint after a restart, never doubled.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read what is new (live) or everything once (replay), and return the
    /// state to evaluate on, locked.
    pub fn read(&self, store: Option<&Store>, mode: ReadMode, now: DateTime<Utc>) -> (MutexGuard<'_, LogState>, LogRead) {
        let mut state = self.lock();
        let mut read = LogRead::default();
        match mode {
            ReadMode::Replay => {
                if !state.started {
                    state.started = true;
                    self.read_files(&mut state, &mut read, now, false);
                    state.aggregates.settle();
                }
            }
            ReadMode::Live => {
                if !state.started {
                    state.started = true;
                    if let Some(store) = store
                        && let Err(e) = checkpoint::restore(store, &mut state)
                    {
                        tracing::error!(source = %state.name, error = %e, "cannot restore the log source's offsets and buckets; reading from the start");
                    }
                }
                self.read_files(&mut state, &mut read, now, true);
                state.aggregates.settle();
                let bucket_ms = state.aggregates.bucket_ms;
                let at = |ago: i64| now.timestamp_millis().saturating_sub(ago).div_euclid(bucket_ms);
                read.forgotten = state.aggregates.forget_quiet(at(self.forget_after_ms));
                let retention_ms = self.retention.as_millis() as i64;
                let (keep_from, keep_latency_from) = (at(retention_ms), at(LATENCY_KEPT.as_millis() as i64));
                state.aggregates.drop_before(keep_from, keep_latency_from);
                let files_before = now.timestamp_millis().saturating_sub(retention_ms);
                read.checkpoint = Some(checkpoint::take(&mut state, keep_from, keep_latency_from, &read.forgotten, files_before));
            }
        }
        (state, read)
    }

    /// Read every matching file from its cursor (from the start when not `follow`ing).
    fn read_files(&self, state: &mut LogState, read: &mut LogRead, now: DateTime<Utc>, follow: bool) {
        let files = match self.matching() {
            Ok(f) => f,
            Err(e) => {
                read.failed.push(e);
                return;
            }
        };
        let field_names: Vec<&str> = self.format.fields.iter().map(|f| f.name.as_str()).collect();
        // How far each path was read: an object read to its end needs no request.
        let reached: std::collections::HashMap<String, u64> = state.cursors.values().map(|c| (c.path.clone(), c.offset)).collect();
        for found in files {
            let path = found.name();
            if follow && found.listed_size().is_some_and(|size| reached.get(&path).is_some_and(|&at| at >= size)) {
                if let Some(c) = state.cursors.values_mut().find(|c| c.path == path) {
                    c.seen_ms = now.timestamp_millis();
                }
                continue;
            }
            let mut file = match found.open(self.remote.as_ref()) {
                Ok(f) => f,
                Err(e) => {
                    read.failed.push(format!("{path}: {e}"));
                    continue;
                }
            };
            let fp = match file.fingerprint() {
                Ok(Some(fp)) => fp,
                Ok(None) => continue, // too short to identify yet: read once it has a line
                Err(e) => {
                    read.failed.push(format!("{path}: {e}"));
                    continue;
                }
            };
            let len = file.len();
            let mut cursor = if follow { state.cursors.get(&fp).cloned().unwrap_or_default() } else { FileCursor::default() };
            if cursor.offset > len {
                tracing::warn!(file = %path, "file is shorter than the offset read: truncated and rewritten; reading it from the start");
                cursor = FileCursor::default();
            }
            cursor.path = path.clone();
            cursor.seen_ms = now.timestamp_millis();
            if cursor.offset < len {
                read.files_read += 1;
                let mut line_no = cursor.lines;
                let aggregates = &mut state.aggregates;
                let result = file.read_lines(cursor.offset, self.max_line, |bytes| {
                    line_no += 1;
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        return;
                    }
                    match self.count(aggregates, bytes, &field_names) {
                        Ok(()) => read.lines += 1,
                        Err(reason) => {
                            *read.rejected.entry(reason).or_default() += 1;
                            if let Rejected::TooManyTenants = reason
                                && read.refused_tenants.len() < 20
                                && let Ok(p) = self.format.parse(bytes)
                            {
                                read.refused_tenants.insert(p.tenant.into_owned());
                            }
                            if read.example.is_none() {
                                read.example = Some(format!("{path}:{line_no}: {}", reason.as_str()));
                            }
                        }
                    }
                });
                match result {
                    Ok(t) => {
                        if t.too_long > 0 {
                            *read.rejected.entry(Rejected::TooLong).or_default() += t.too_long;
                            read.example.get_or_insert_with(|| format!("{path}: a line longer than max_line_bytes ({})", self.max_line));
                        }
                        // Line numbers count the skipped long lines too (their
                        // examples name no line: they are not handed over).
                        cursor.lines = line_no + t.too_long;
                        cursor.offset = t.offset;
                    }
                    Err(e) => read.failed.push(format!("{path}: {e}")),
                }
            }
            if follow {
                state.cursors.insert(fp, cursor);
            }
        }
    }

    /// Count one line into the buckets.
    fn count(&self, aggregates: &mut Aggregates, bytes: &[u8], names: &[&str]) -> Result<(), Rejected> {
        let parsed = self.format.parse(bytes)?;
        let fields: Vec<(&str, Option<Val<'_>>)> =
            names.iter().zip(&parsed.fields).map(|(n, v)| (*n, v.as_ref().map(|v| v.val()))).collect();
        let ev = Event { at_ms: parsed.at_ms, tenant: &parsed.tenant, fields: &fields };
        aggregates.add(&ev).map_err(|_| Rejected::TooManyTenants)
    }

    /// The files matching the pattern, oldest first (rotated files before
    /// the live one, so buckets fill in time order).
    fn matching(&self) -> Result<Vec<LogFile>, String> {
        let pattern = self.pattern.to_string_lossy();
        if let Some(remote) = &self.remote {
            let mut objects = remote.list(&[pattern.into_owned()])?;
            objects.retain(|o| !tail::is_compressed(std::path::Path::new(&o.url)));
            objects.sort_by(|a, b| (a.modified, &a.url).cmp(&(b.modified, &b.url)));
            return Ok(objects.into_iter().map(LogFile::Object).collect());
        }
        let paths = glob::glob(&pattern).map_err(|e| format!("cannot list `{pattern}`: {e}"))?;
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file() && !tail::is_compressed(p))
            .map(|p| (std::fs::metadata(&p).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), p))
            .collect();
        files.sort();
        Ok(files.into_iter().map(|(_, p)| LogFile::Local(p)).collect())
    }
}

impl LogState {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Mark a checkpoint's buckets as changed again: it was not written.
    pub fn checkpoint_failed(&mut self, cp: &Checkpoint) {
        checkpoint::unwritten(self, cp);
    }
}

#[cfg(test)]
mod tests;
