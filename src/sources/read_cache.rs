//! Files read by the last evaluation, kept while they are unchanged.
//!
//! Consecutive windows of a group mostly fall in the same partitions (a 1h
//! window evaluated every 15 minutes reads today's file 96 times a day), and
//! a backtest steps through them the same way. A file whose modification time
//! and length are unchanged is taken from here instead of being parsed again.
//! Only the files of the last read of each column set are kept, so memory is
//! bounded by what one evaluation reads anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use polars::prelude::DataFrame;

/// What a file was when it was read: its frame is valid while this holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    pub modified: Option<SystemTime>,
    pub len: u64,
    /// An object's entity tag: a rewrite within the same second with the
    /// same length is still a change.
    pub tag: Option<String>,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<FileStamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp { modified: m.modified().ok(), len: m.len(), tag: None })
    }

    pub fn of_object(o: &super::remote::Listed) -> FileStamp {
        FileStamp { modified: Some(o.modified.into()), len: o.size, tag: o.e_tag.clone() }
    }
}

/// Per column set, per file: the frame read (before windowing).
#[derive(Debug, Default)]
pub struct ReadCache {
    by_columns: Mutex<HashMap<Vec<String>, Files>>,
}

pub type Files = HashMap<PathBuf, (FileStamp, DataFrame)>;

impl ReadCache {
    /// Take the files kept for `columns` (the caller puts back what it read).
    pub fn take(&self, columns: &[String]) -> Files {
        self.by_columns.lock().unwrap_or_else(|p| p.into_inner()).remove(columns).unwrap_or_default()
    }

    /// Keep `files`, the ones the last read of `columns` used.
    pub fn put(&self, columns: &[String], files: Files) {
        self.by_columns.lock().unwrap_or_else(|p| p.into_inner()).insert(columns.to_vec(), files);
    }
}
