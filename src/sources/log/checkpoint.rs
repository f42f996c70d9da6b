//! What a live read leaves in the state file: the offset reached in each
//! file and the buckets it changed. Written in the transaction of the
//! evaluation that consumed the lines (`Store::commit_evaluation`).

use super::LogState;
use crate::events::{Histogram, SeriesId};
use crate::state::{StateError, Store};

/// Where a file was read to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCursor {
    /// Bytes of complete lines read.
    pub offset: u64,
    /// Lines read (for the line numbers of examples).
    pub lines: u64,
    /// Where the file was last seen (it may have been renamed since).
    pub path: String,
    /// When it was last seen, Unix ms: cursors of files gone for longer than
    /// the retention are dropped.
    pub seen_ms: i64,
}

/// One bucket of one series, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBucket {
    /// The SLI's key, prefixed with the bucket width (`60000|valid=...`).
    pub sli: String,
    pub series: SeriesId,
    pub bucket: i64,
    pub valid: u64,
    pub good: u64,
    pub latency: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    pub source: String,
    pub files: Vec<(String, FileCursor)>,
    pub buckets: Vec<StoredBucket>,
    /// Buckets before this one are past the retention.
    pub drop_before: i64,
    /// Buckets whose latency histograms stopped being kept since the last
    /// checkpoint (after a start: the day below the cut).
    pub clear_latency: (i64, i64),
    pub forgotten_tenants: Vec<String>,
    /// Cursors of files not seen since (Unix ms) are dropped.
    pub drop_files_before_ms: i64,
}

fn stored_key(bucket_ms: i64, key: &str) -> String {
    format!("{bucket_ms}|{key}")
}

/// Take what changed since the last checkpoint.
pub fn take(state: &mut LogState, drop_before: i64, drop_latency_before: i64, forgotten: &[String], drop_files_before_ms: i64) -> Checkpoint {
    state.cursors.retain(|_, c| c.seen_ms >= drop_files_before_ms);
    let bucket_ms = state.aggregates.bucket_ms;
    let mut buckets = Vec::new();
    for (key, id, counts) in state.aggregates.all_series_mut() {
        for b in counts.take_dirty() {
            let [valid, good] = counts.bucket(b);
            let latency = counts.latency_of(b).map(Histogram::to_bytes);
            buckets.push(StoredBucket { sli: stored_key(bucket_ms, key), series: id.clone(), bucket: b, valid, good, latency });
        }
    }
    Checkpoint {
        source: state.name.clone(),
        files: state.cursors.iter().map(|(fp, c)| (fp.clone(), c.clone())).collect(),
        buckets,
        drop_before,
        clear_latency: (
            state.latency_cut.replace(drop_latency_before).unwrap_or(drop_latency_before - 24 * 3600 * 1000 / bucket_ms),
            drop_latency_before,
        ),
        forgotten_tenants: forgotten.to_vec(),
        drop_files_before_ms,
    }
}

/// A checkpoint that was not written: its buckets are changed again, so the
/// next one writes them (the cursors are always written whole).
pub fn unwritten(state: &mut LogState, cp: &Checkpoint) {
    let bucket_ms = state.aggregates.bucket_ms;
    for b in &cp.buckets {
        let Some(key) = b.sli.strip_prefix(&format!("{bucket_ms}|")) else { continue };
        if let Some(c) = state.aggregates.series_mut(key, &b.series) {
            c.mark_dirty([b.bucket]);
        }
    }
}

/// Restore the offsets and buckets of the last checkpoint.
pub fn restore(store: &Store, state: &mut LogState) -> Result<(), StateError> {
    let bucket_ms = state.aggregates.bucket_ms;
    let keys: Vec<String> = state.aggregates.slis().iter().map(|s| stored_key(bucket_ms, s.key())).collect();
    let (files, buckets) = store.load_log_source(&state.name, &keys)?;
    state.cursors = files.into_iter().collect();
    let mut restored = 0usize;
    for b in buckets {
        let Some(key) = b.sli.strip_prefix(&format!("{bucket_ms}|")) else { continue };
        let latency = b.latency.as_deref().and_then(Histogram::from_bytes);
        if state.aggregates.restore(key, b.series, b.bucket, [b.valid, b.good], latency) {
            restored += 1;
        }
    }
    state.aggregates.settle();
    tracing::info!(source = %state.name, files = state.cursors.len(), buckets = restored, "log source restored from the state file");
    Ok(())
}
