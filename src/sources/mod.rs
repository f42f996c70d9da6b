//! Sources: where samples come from. Each yields polars DataFrames for a time
//! window, one per tenant when asked. Sources know nothing of checks or rules.

pub mod file;
pub mod log;
pub mod path_template;
mod polars_text;
pub mod read;
mod read_cache;
pub mod remote;
pub mod window;

use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::{DataFrame, PolarsError};
use serde::Deserialize;

use crate::shard::Shard;

pub use file::{FileSource, FileSourceConfig};
pub use log::{LogSource, LogSourceConfig};
pub use window::Window;

/// A source as written under `sources:` in `mlwatch.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// Parquet, CSV or JSON-lines files.
    File(FileSourceConfig),
    /// JSON-lines serving logs, followed and aggregated into buckets.
    Log(LogSourceConfig),
}

/// A validated source.
#[derive(Debug, Clone)]
pub enum Source {
    File(FileSource),
    Log(LogSource),
}

impl SourceConfig {
    pub fn validate(&self, base_dir: &Path) -> Result<Source, String> {
        match self {
            SourceConfig::File(c) => c.validate(base_dir).map(Source::File),
            SourceConfig::Log(c) => c.validate(base_dir).map(Source::Log),
        }
    }
}

impl Source {
    /// Whether rows can be told apart by tenant.
    pub fn has_tenant(&self) -> bool {
        match self {
            Source::File(s) => s.has_tenant(),
            Source::Log(s) => s.has_tenant(),
        }
    }

    /// The column holding each row's event time (Unix ms once sampled).
    pub fn timestamp_column(&self) -> Option<&str> {
        match self {
            Source::File(s) => s.timestamp_column(),
            Source::Log(_) => None,
        }
    }

    /// Whether rows carry an event time, so a window can be selected.
    pub fn has_timestamp(&self) -> bool {
        match self {
            Source::File(s) => s.has_timestamp(),
            Source::Log(_) => true,
        }
    }

    /// The rows in `window` (all rows when `None`), reading only `columns`,
    /// of the tenants `shard` owns (all without one).
    /// Files unchanged since the last read are reused (an evaluation's read).
    pub fn sample(&self, columns: &[String], window: Option<Window>, by_tenant: bool, shard: Option<Shard>) -> Result<Sample, SourceError> {
        match self {
            Source::File(s) => s.sample(columns, window, by_tenant, shard, true),
            Source::Log(_) => Err(SourceError::NoTable),
        }
    }

    /// Like [`Source::sample`], for a one-off period (a baseline): nothing is
    /// kept, so the evaluation's reads stay cached.
    pub fn sample_period(&self, columns: &[String], window: Window, by_tenant: bool, shard: Option<Shard>) -> Result<Sample, SourceError> {
        match self {
            Source::File(s) => s.sample(columns, Some(window), by_tenant, shard, false),
            Source::Log(_) => Err(SourceError::NoTable),
        }
    }
}

/// What one read of a source found.
#[derive(Debug, Default)]
pub struct Sample {
    /// One per tenant that had files (or one for all, when not split by tenant).
    pub partitions: Vec<Partition>,
    /// Files read and parsed for this read.
    pub files_read: u64,
    /// Tenants left out because one of their files could not be read.
    pub failed: Vec<(String, SourceError)>,
    /// Why each matching path that was not read was skipped.
    pub skipped: Vec<path_template::SkipReason>,
}

/// The rows of one tenant (or of all tenants, when `tenant` is `None`).
#[derive(Debug, Clone)]
pub struct Partition {
    pub tenant: Option<String>,
    pub frame: DataFrame,
    pub meta: SourceMeta,
}

/// What a source saw of one tenant in one read: checks of freshness and
/// volume look at this rather than at the rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceMeta {
    /// Files read.
    pub files: u64,
    /// Rows in the window.
    pub rows: u64,
    /// Newest event time among the rows read, up to the window's end.
    pub newest: Option<DateTime<Utc>>,
    /// Newest modification time of the files read.
    pub modified: Option<DateTime<Utc>>,
    /// Newest partition read (the start of its date parts' period).
    pub partition: Option<DateTime<Utc>>,
}

impl SourceMeta {
    /// Add what another file showed.
    pub fn merge(&mut self, other: &SourceMeta) {
        self.files += other.files;
        self.rows += other.rows;
        self.newest = self.newest.max(other.newest);
        self.modified = self.modified.max(other.modified);
        self.partition = self.partition.max(other.partition);
    }
}

/// Why a source could not be sampled.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot list files for `{pattern}`: {message}")]
    Discover { pattern: String, message: String },
    #[error(transparent)]
    Read(#[from] read::ReadError),
    #[error("{what}: {}", polars_text::describe(.source))]
    Frame { what: String, source: PolarsError },
    #[error("a log source keeps counts, not rows: it has no table to profile or to read columns from")]
    NoTable,
}

impl SourceError {
    /// A short, bounded reason for the failure counter's `reason` label.
    pub fn reason(&self) -> &'static str {
        match self {
            SourceError::Discover { .. } => "source_missing",
            SourceError::Read(read::ReadError::MissingColumn { .. }) => "missing_column",
            SourceError::Read(
                read::ReadError::Corrupt { .. }
                | read::ReadError::UnknownFormat { .. }
                | read::ReadError::TooDeep { .. }
                | read::ReadError::NotAnObject { .. }
                | read::ReadError::ReaderFailed { .. },
            ) => "source_corrupt",
            SourceError::Read(read::ReadError::Open { .. }) => "source_missing",
            SourceError::Frame { .. } | SourceError::NoTable => "source_data",
        }
    }
}
