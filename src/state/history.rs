//! The history of check values: one series per (rule, labels, value name),
//! one sample per evaluation, kept for `storage.retention`.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{StateError, Store};
use crate::labels::Labels;

/// Which series a value belongs to within its rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    pub labels: Labels,
    pub name: String,
}

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    pub at: DateTime<Utc>,
    pub value: f64,
}

pub(super) fn append(tx: &Transaction<'_>, rule: &str, at_ms: i64, values: &[(SeriesKey, f64)]) -> rusqlite::Result<()> {
    let mut find = tx.prepare_cached("SELECT id FROM series WHERE rule = ?1 AND labels = ?2 AND name = ?3")?;
    let mut create = tx.prepare_cached("INSERT INTO series (rule, labels, name) VALUES (?1, ?2, ?3)")?;
    let mut insert = tx.prepare_cached("INSERT OR REPLACE INTO samples (series, ts, value) VALUES (?1, ?2, ?3)")?;
    for (key, value) in values {
        let labels = serde_json::to_string(&key.labels).expect("labels serialize");
        let id: i64 = match find.query_row(params![rule, labels, key.name], |r| r.get(0)).optional()? {
            Some(id) => id,
            None => {
                create.execute(params![rule, labels, key.name])?;
                tx.last_insert_rowid()
            }
        };
        insert.execute(params![id, at_ms, value])?;
    }
    Ok(())
}

impl Store {
    /// The stored values of one series since `since`, oldest first.
    pub fn history(&self, rule: &str, key: &SeriesKey, since: DateTime<Utc>) -> Result<Vec<HistoryPoint>, StateError> {
        let conn = self.conn();
        let labels = serde_json::to_string(&key.labels).expect("labels serialize");
        let mut stmt = conn.prepare_cached(
            "SELECT s.ts, s.value FROM samples s JOIN series k ON k.id = s.series
             WHERE k.rule = ?1 AND k.labels = ?2 AND k.name = ?3 AND s.ts >= ?4 ORDER BY s.ts",
        )?;
        let points = stmt
            .query_map(params![rule, labels, key.name, since.timestamp_millis()], |r| {
                Ok(HistoryPoint { at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(), value: r.get(1)? })
            })?
            .collect::<Result<_, _>>()?;
        Ok(points)
    }

    /// Every series of `rule` the history holds.
    pub fn series_keys(&self, rule: &str) -> Result<Vec<SeriesKey>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT labels, name FROM series WHERE rule = ?1 ORDER BY labels, name")?;
        let rows: Vec<(String, String)> = stmt.query_map([rule], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(labels, name)| {
                let labels = serde_json::from_str(&labels)
                    .map_err(|_| StateError::Unusable { path: self.path.clone(), reason: format!("a series of rule `{rule}` has unreadable labels") })?;
                Ok(SeriesKey { labels, name })
            })
            .collect()
    }

    /// Delete samples older than `before`, and series left without samples.
    /// Returns how many samples went.
    pub fn prune_history(&self, before: DateTime<Utc>) -> Result<usize, StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let removed = tx.execute("DELETE FROM samples WHERE ts < ?1", [before.timestamp_millis()])?;
        tx.execute("DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM samples WHERE samples.series = series.id)", [])?;
        tx.execute("DELETE FROM alert_history WHERE at < ?1", [before.timestamp_millis()])?;
        tx.execute("DELETE FROM distributions WHERE at < ?1", [before.timestamp_millis()])?;
        tx.commit()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RuleRecord;

    fn key(column: &str) -> SeriesKey {
        SeriesKey { labels: Labels::from([("column".into(), column.into())]), name: "psi".into() }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn values_are_kept_per_series_and_pruned_by_age() {
        let s = Store::in_memory();
        for (i, v) in [0.1, 0.2, 0.3].into_iter().enumerate() {
            let values = [(key("age"), v), (key("income"), v * 10.0)];
            let t = at(60 * i as i64).timestamp_millis();
            s.commit_evaluation(&[RuleRecord { rule: "Drift", at_ms: t, alerts: None, values: &values, transitions: &[], distributions: &[] }], None, None).unwrap();
        }
        let age = s.history("Drift", &key("age"), at(0)).unwrap();
        assert_eq!(age.iter().map(|p| p.value).collect::<Vec<_>>(), [0.1, 0.2, 0.3]);
        assert_eq!(age[2].at, at(120));
        assert_eq!(s.history("Drift", &key("age"), at(61)).unwrap().len(), 1);
        assert!(s.history("Other", &key("age"), at(0)).unwrap().is_empty());

        assert_eq!(s.prune_history(at(60)).unwrap(), 2, "one sample of each series is older");
        assert_eq!(s.history("Drift", &key("income"), at(0)).unwrap().len(), 2);
        assert_eq!(s.prune_history(at(1000)).unwrap(), 4);
        let series: i64 = s.conn().query_row("SELECT count(*) FROM series", [], |r| r.get(0)).unwrap();
        assert_eq!(series, 0, "series without samples are dropped");
    }
}
