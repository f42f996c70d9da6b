//! The latest distribution of each drift series beside its baseline's, for
//! the pictures of `/` and `mlwatch report`: one row per series, replaced at
//! every evaluation, pruned with the history.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{StateError, Store};
use crate::checks::drift::distribution::Distribution;
use crate::labels::Labels;

/// A rule's series' distributions at one evaluation.
pub type SeriesDistributions = [(Labels, Arc<Distribution>)];

/// One stored distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDistribution {
    pub labels: Labels,
    /// The evaluation it is from.
    pub at: DateTime<Utc>,
    pub distribution: Distribution,
}

pub(super) fn replace(tx: &Transaction<'_>, rule: &str, at_ms: i64, list: &SeriesDistributions) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare_cached("INSERT OR REPLACE INTO distributions (rule, labels, at, body) VALUES (?1, ?2, ?3, ?4)")?;
    for (labels, d) in list {
        let labels = serde_json::to_string(labels).expect("labels serialize");
        upsert.execute(params![rule, labels, at_ms, serde_json::to_string(&**d).expect("distributions serialize")])?;
    }
    Ok(())
}

impl Store {
    /// The latest distribution of each series of `rule`.
    pub fn distributions(&self, rule: &str) -> Result<Vec<StoredDistribution>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT labels, at, body FROM distributions WHERE rule = ?1 ORDER BY labels")?;
        let mut rows = stmt.query([rule])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let bad = || StateError::Unusable { path: self.path.clone(), reason: format!("a distribution of rule `{rule}` is unreadable") };
            out.push(StoredDistribution {
                labels: serde_json::from_str(&row.get::<_, String>(0)?).map_err(|_| bad())?,
                at: DateTime::from_timestamp_millis(row.get(1)?).unwrap_or_default(),
                distribution: serde_json::from_str(&row.get::<_, String>(2)?).map_err(|_| bad())?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::drift::compare::Kind;
    use crate::state::RuleRecord;

    #[test]
    fn the_latest_distribution_of_each_series_is_kept() {
        let s = Store::in_memory();
        let labels = Labels::from([("column".to_string(), "age".to_string())]);
        let d = |current: u64| Arc::new(Distribution { kind: Kind::Numeric, bins: vec!["≤ 1".into(), "> 1".into()], baseline: vec![5, 5], current: vec![current, 1] });
        for (t, c) in [(1000, 3), (2000, 9)] {
            let list = vec![(labels.clone(), d(c))];
            s.commit_evaluation(&[RuleRecord { rule: "Drift", at_ms: t, alerts: None, values: &[], transitions: &[], distributions: &list }], None, None).unwrap();
        }
        let got = s.distributions("Drift").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].at.timestamp_millis(), got[0].distribution.current[0]), (2000, 9));
        assert!(s.distributions("Other").unwrap().is_empty());
    }
}
