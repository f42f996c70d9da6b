//! The checkpoints of log sources (`crate::sources::log::checkpoint`).

use rusqlite::{Transaction, params};

use super::{StateError, Store};
use crate::events::SeriesId;
use crate::sources::log::Checkpoint;
use crate::sources::log::checkpoint::{FileCursor, StoredBucket};

pub(super) fn write(tx: &Transaction<'_>, cp: &Checkpoint) -> rusqlite::Result<()> {
    let mut file = tx.prepare_cached(
        "INSERT INTO log_files (source, fingerprint, offset, lines, path, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (source, fingerprint) DO UPDATE SET offset = excluded.offset, lines = excluded.lines,
             path = excluded.path, seen_at = excluded.seen_at",
    )?;
    for (fp, c) in &cp.files {
        file.execute(params![cp.source, fp, c.offset as i64, c.lines as i64, c.path, c.seen_ms])?;
    }
    tx.execute("DELETE FROM log_files WHERE source = ?1 AND seen_at < ?2", params![cp.source, cp.drop_files_before_ms])?;
    let mut bucket = tx.prepare_cached(
        "INSERT INTO log_buckets (source, sli, tenant, labels, bucket, valid, good, latency) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (source, sli, tenant, labels, bucket) DO UPDATE SET valid = excluded.valid, good = excluded.good,
             latency = excluded.latency",
    )?;
    for b in &cp.buckets {
        let labels = serde_json::to_string(&b.series.by).expect("pairs serialize");
        bucket.execute(params![cp.source, b.sli, b.series.tenant, labels, b.bucket, b.valid as i64, b.good as i64, b.latency])?;
    }
    tx.execute("DELETE FROM log_buckets WHERE source = ?1 AND bucket < ?2", params![cp.source, cp.drop_before])?;
    let (from, to) = cp.clear_latency;
    tx.execute(
        "UPDATE log_buckets SET latency = NULL WHERE source = ?1 AND bucket >= ?2 AND bucket < ?3 AND latency IS NOT NULL",
        params![cp.source, from, to],
    )?;
    for t in &cp.forgotten_tenants {
        tx.execute("DELETE FROM log_buckets WHERE source = ?1 AND tenant = ?2", params![cp.source, t])?;
    }
    Ok(())
}

impl Store {
    /// A log source's file cursors, and its buckets of the SLIs `keys`
    /// (buckets of any other SLI, one no rule defines any more, are deleted).
    #[allow(clippy::type_complexity)]
    pub fn load_log_source(&self, source: &str, keys: &[String]) -> Result<(Vec<(String, FileCursor)>, Vec<StoredBucket>), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let keep = serde_json::to_string(keys).expect("keys serialize");
        tx.execute("DELETE FROM log_buckets WHERE source = ?1 AND sli NOT IN (SELECT value FROM json_each(?2))", params![source, keep])?;
        let files = {
            let mut stmt = tx.prepare("SELECT fingerprint, offset, lines, path, seen_at FROM log_files WHERE source = ?1")?;
            let rows = stmt.query_map(params![source], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    FileCursor { offset: r.get::<_, i64>(1)? as u64, lines: r.get::<_, i64>(2)? as u64, path: r.get(3)?, seen_ms: r.get(4)? },
                ))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let buckets = {
            let mut stmt = tx.prepare("SELECT sli, tenant, labels, bucket, valid, good, latency FROM log_buckets WHERE source = ?1 ORDER BY bucket")?;
            let rows = stmt.query_map(params![source], |r| {
                let labels: String = r.get(2)?;
                Ok(StoredBucket {
                    sli: r.get(0)?,
                    series: SeriesId { tenant: r.get(1)?, by: serde_json::from_str(&labels).unwrap_or_default() },
                    bucket: r.get(3)?,
                    valid: r.get::<_, i64>(4)? as u64,
                    good: r.get::<_, i64>(5)? as u64,
                    latency: r.get(6)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        Ok((files, buckets))
    }
}
