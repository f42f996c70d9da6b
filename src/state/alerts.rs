//! Alert states: each rule's alerts replace the previous ones at every
//! evaluation, so the table always holds what the agent would have in memory.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{StateError, Store};
use crate::rules::alert::{Alert, AlertState};

/// Alerts by rule name, as last stored.
pub type StoredAlerts = HashMap<String, Vec<Alert>>;

pub(super) fn replace(tx: &Transaction<'_>, rule: &str, alerts: &[Alert]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM alerts WHERE rule = ?1", [rule])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO alerts (rule, labels, state, active_at, fired_at, resolved_at, value, annotations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for a in alerts {
        insert.execute(params![
            rule,
            serde_json::to_string(&a.labels).expect("labels serialize"),
            a.state.as_str(),
            a.active_at.timestamp_millis(),
            a.fired_at.map(|t| t.timestamp_millis()),
            a.resolved_at.map(|t| t.timestamp_millis()),
            a.value,
            serde_json::to_string(&a.annotations).expect("annotations serialize"),
        ])?;
    }
    Ok(())
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Store {
    /// Every stored alert, by rule.
    pub fn load_alerts(&self) -> Result<StoredAlerts, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT rule, labels, state, active_at, fired_at, resolved_at, value, annotations FROM alerts ORDER BY rule, labels",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = StoredAlerts::new();
        while let Some(row) = rows.next()? {
            let rule: String = row.get(0)?;
            let bad = |what: &str| StateError::Unusable {
                path: self.path.clone(),
                reason: format!("alert of rule `{rule}` has an unreadable {what}"),
            };
            let state = match row.get_ref(2)?.as_str().unwrap_or_default() {
                "pending" => AlertState::Pending,
                "firing" => AlertState::Firing,
                "resolved" => AlertState::Resolved,
                _ => return Err(bad("state")),
            };
            let alert = Alert {
                labels: serde_json::from_str(&row.get::<_, String>(1)?).map_err(|_| bad("labels"))?,
                annotations: serde_json::from_str(&row.get::<_, String>(7)?).map_err(|_| bad("annotations"))?,
                state,
                active_at: millis(row.get(3)?),
                fired_at: row.get::<_, Option<i64>>(4)?.map(millis),
                resolved_at: row.get::<_, Option<i64>>(5)?.map(millis),
                value: row.get(6)?,
            };
            out.entry(rule).or_default().push(alert);
        }
        Ok(out)
    }

    /// Forget the alerts of rules that are no longer configured.
    pub fn retain_alert_rules(&self, rules: &[&str]) -> Result<usize, StateError> {
        let conn = self.conn();
        let stored: Vec<String> =
            conn.prepare("SELECT DISTINCT rule FROM alerts")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut removed = 0;
        for rule in stored.iter().filter(|r| !rules.contains(&r.as_str())) {
            removed += conn.execute("DELETE FROM alerts WHERE rule = ?1", [rule])?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::state::RuleRecord;

    fn alert(column: &str, state: AlertState) -> Alert {
        Alert {
            labels: BTreeMap::from([("alertname".into(), "Drift".into()), ("column".into(), column.into())]),
            annotations: BTreeMap::from([("summary".into(), format!("drift on {column}"))]),
            state,
            active_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            fired_at: (state != AlertState::Pending).then(|| DateTime::from_timestamp(1_800_000_600, 0).unwrap()),
            resolved_at: None,
            value: Some(0.25),
        }
    }

    fn save(s: &Store, rule: &str, alerts: &[Alert]) {
        s.commit_evaluation(&[RuleRecord { rule, at_ms: 0, alerts: Some(alerts), values: &[], transitions: &[], distributions: &[] }], None, None).unwrap();
    }

    #[test]
    fn alerts_round_trip_and_replace_per_rule() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        save(&s, "Drift", &[alert("age", AlertState::Pending), alert("income", AlertState::Firing)]);
        save(&s, "Other", &[alert("x", AlertState::Firing)]);
        save(&s, "Drift", &[alert("age", AlertState::Firing)]);
        drop(s);
        let loaded = Store::open(dir.path()).unwrap().load_alerts().unwrap();
        assert_eq!(loaded["Drift"], vec![alert("age", AlertState::Firing)]);
        assert_eq!(loaded["Other"], vec![alert("x", AlertState::Firing)]);
    }

    #[test]
    fn a_failed_evaluation_leaves_alerts_alone_and_removed_rules_are_forgotten() {
        let s = Store::in_memory();
        save(&s, "Drift", &[alert("age", AlertState::Firing)]);
        s.commit_evaluation(&[RuleRecord { rule: "Drift", at_ms: 1, alerts: None, values: &[], transitions: &[], distributions: &[] }], None, None).unwrap();
        assert_eq!(s.load_alerts().unwrap()["Drift"].len(), 1);
        save(&s, "Gone", &[alert("x", AlertState::Pending)]);
        assert_eq!(s.retain_alert_rules(&["Drift"]).unwrap(), 1);
        assert!(!s.load_alerts().unwrap().contains_key("Gone"));
    }
}
