//! The alert history: every change of an alert's state (pending, firing,
//! resolved, or dropped while pending), kept for `storage.retention`. The
//! agent and `mlwatch backtest` write the same rows, so a backtest's timeline
//! and the live agent's history can be compared line by line.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};
use serde::Serialize;

use super::{StateError, Store};
use crate::labels::Labels;
use crate::rules::alert::Transition;

/// One change of state of one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    pub rule: String,
    pub labels: Labels,
    /// `pending`, `firing`, `resolved` or `inactive`.
    pub state: String,
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
}

pub(super) fn append(tx: &Transaction<'_>, rule: &str, at_ms: i64, transitions: &[Transition]) -> rusqlite::Result<()> {
    let mut insert =
        tx.prepare_cached("INSERT OR REPLACE INTO alert_history (rule, labels, state, at, value) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for t in transitions {
        let labels = serde_json::to_string(&t.alert().labels).expect("labels serialize");
        insert.execute(params![rule, labels, t.state(), at_ms, t.alert().value])?;
    }
    Ok(())
}

impl Store {
    /// Every recorded change of alert state since `since`, oldest first.
    pub fn alert_history(&self, since: DateTime<Utc>) -> Result<Vec<AlertEvent>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT rule, labels, state, at, value FROM alert_history WHERE at >= ?1
             ORDER BY at, rule, labels, CASE state WHEN 'pending' THEN 0 WHEN 'firing' THEN 1 ELSE 2 END",
        )?;
        let events = stmt
            .query_map([since.timestamp_millis()], |r| {
                let labels: String = r.get(1)?;
                Ok(AlertEvent {
                    rule: r.get(0)?,
                    labels: serde_json::from_str(&labels).unwrap_or_default(),
                    state: r.get(2)?,
                    at: DateTime::from_timestamp_millis(r.get(3)?).unwrap_or_default(),
                    value: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(events)
    }
}
