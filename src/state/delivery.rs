//! The notification log and the outbox. A flush of the dispatcher is stored
//! in one transaction: what each integration is about to be told (the log)
//! and the notification itself (the outbox). Workers delete an outbox row only
//! once the receiver acknowledged it, so a crash at any point loses nothing,
//! and the log keeps the next flush from repeating what is already queued.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{StateError, Store};
use crate::alerting::dispatch::{LogEntry, LogKey, Outgoing};
use crate::alerting::notification::GroupNotification;

/// A notification waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub id: i64,
    pub notification: GroupNotification,
    pub created_at: DateTime<Utc>,
}

impl Pending {
    /// The same for every attempt at this notification, across restarts:
    /// receivers that see it twice (an acknowledgement lost to a crash) can
    /// tell a retry from a new message.
    pub fn idempotency_key(&self, receiver: &str, integration: &str) -> String {
        let n = &self.notification;
        let created = self.created_at.timestamp_millis().to_string();
        crate::alerting::notification::stable_hash([receiver, integration, n.group_key.as_str(), n.status().as_str(), created.as_str()])
    }
}

impl Store {
    /// Store a flush: log entries and notifications together.
    pub fn enqueue(&self, outgoing: &[Outgoing], now: DateTime<Utc>) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT OR REPLACE INTO notification_log (receiver, integration, group_key, firing, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut delete =
                tx.prepare_cached("DELETE FROM notification_log WHERE receiver = ?1 AND integration = ?2 AND group_key = ?3")?;
            let mut insert =
                tx.prepare_cached("INSERT INTO outbox (receiver, integration, payload, created_at) VALUES (?1, ?2, ?3, ?4)")?;
            for o in outgoing {
                let k = &o.key;
                match &o.log {
                    Some(e) => upsert.execute(params![
                        k.receiver,
                        k.integration,
                        k.group_key,
                        serde_json::to_string(&e.firing).expect("fingerprints serialize"),
                        e.at.timestamp_millis()
                    ])?,
                    None => delete.execute(params![k.receiver, k.integration, k.group_key])?,
                };
                if let Some(n) = &o.notification {
                    let payload = serde_json::to_string(n).expect("notifications serialize");
                    insert.execute(params![k.receiver, k.integration, payload, now.timestamp_millis()])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The whole notification log.
    pub fn load_notification_log(&self) -> Result<HashMap<LogKey, LogEntry>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT receiver, integration, group_key, firing, at FROM notification_log")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                LogKey { receiver: r.get(0)?, integration: r.get(1)?, group_key: r.get(2)? },
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (key, firing, at) = row?;
            let firing: BTreeSet<String> = serde_json::from_str(&firing).map_err(|_| StateError::Unusable {
                path: self.path.clone(),
                reason: format!("notification log entry for group {} is unreadable", key.group_key),
            })?;
            out.insert(key, LogEntry { firing, at: DateTime::from_timestamp_millis(at).unwrap_or_default() });
        }
        Ok(out)
    }

    /// The oldest notification waiting for one integration.
    pub fn next_pending(&self, receiver: &str, integration: &str) -> Result<Option<Pending>, StateError> {
        let conn = self.conn();
        let row = conn
            .prepare_cached("SELECT id, payload, created_at FROM outbox WHERE receiver = ?1 AND integration = ?2 ORDER BY id LIMIT 1")?
            .query_row(params![receiver, integration], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })
            .optional()?;
        let Some((id, payload, created)) = row else { return Ok(None) };
        let notification = serde_json::from_str(&payload).map_err(|e| StateError::Unusable {
            path: self.path.clone(),
            reason: format!("outbox entry {id} is unreadable: {e}"),
        })?;
        Ok(Some(Pending { id, notification, created_at: DateTime::from_timestamp_millis(created).unwrap_or_default() }))
    }

    /// A notification was delivered (or given up): it leaves the outbox.
    pub fn remove_pending(&self, id: i64) -> Result<(), StateError> {
        self.conn().execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// How many notifications wait for one integration.
    pub fn pending_count(&self, receiver: &str, integration: &str) -> Result<i64, StateError> {
        let conn = self.conn();
        let n = conn
            .prepare_cached("SELECT count(*) FROM outbox WHERE receiver = ?1 AND integration = ?2")?
            .query_row(params![receiver, integration], |r| r.get(0))?;
        Ok(n)
    }

    /// How many notifications wait, per (receiver, integration).
    pub fn pending_counts(&self) -> Result<HashMap<(String, String), i64>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT receiver, integration, count(*) FROM outbox GROUP BY receiver, integration")?;
        let rows = stmt.query_map([], |r| Ok(((r.get::<_, String>(0)?, r.get::<_, String>(1)?), r.get::<_, i64>(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Give rows of a state file from before schema 3 (integrations numbered
    /// `#N` by position in their receiver) the names of the integrations at
    /// those positions: `receivers` lists each receiver's names in that
    /// order. Returns how many rows were renamed.
    pub fn rename_legacy_integrations(&self, receivers: &[(String, Vec<String>)]) -> Result<usize, StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut renamed = 0;
        for (receiver, names) in receivers {
            for (i, name) in names.iter().enumerate() {
                let old = format!("#{i}");
                for table in ["outbox", "notification_log"] {
                    renamed += tx.execute(
                        &format!("UPDATE {table} SET integration = ?3 WHERE receiver = ?1 AND integration = ?2"),
                        params![receiver, old, name],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(renamed)
    }

    /// Drop what waits for integrations that no longer exist; returns how many.
    pub fn drop_pending_except(&self, integrations: &[(String, String)]) -> Result<usize, StateError> {
        let counts = self.pending_counts()?;
        let conn = self.conn();
        let mut dropped = 0;
        for ((receiver, integration), n) in counts {
            if !integrations.iter().any(|(r, i)| *r == receiver && *i == integration) {
                conn.execute("DELETE FROM outbox WHERE receiver = ?1 AND integration = ?2", params![receiver, integration])?;
                dropped += n as usize;
            }
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Labels;

    fn outgoing(group: &str, firing: &[&str], notify: bool) -> Outgoing {
        let key = LogKey { receiver: "oncall".into(), integration: "slack[0]".into(), group_key: group.into() };
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Outgoing {
            key,
            log: (!firing.is_empty()).then(|| LogEntry { firing: firing.iter().map(|s| s.to_string()).collect(), at }),
            notification: notify.then(|| GroupNotification {
                receiver: "oncall".into(),
                group_key: group.into(),
                group_labels: Labels::new(),
                alerts: vec![],
                external_url: String::new(),
            }),
        }
    }

    #[test]
    fn log_and_outbox_are_written_together_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        s.enqueue(&[outgoing("g1", &["aa", "bb"], true), outgoing("g2", &["cc"], true)], now).unwrap();
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        let log = s.load_notification_log().unwrap();
        assert_eq!(log.len(), 2);
        let first = s.next_pending("oncall", "slack[0]").unwrap().unwrap();
        assert_eq!(first.notification.group_key, "g1", "oldest first");
        s.remove_pending(first.id).unwrap();
        assert_eq!(s.next_pending("oncall", "slack[0]").unwrap().unwrap().notification.group_key, "g2");
        assert_eq!(s.pending_counts().unwrap()[&("oncall".to_string(), "slack[0]".to_string())], 1);
        // Everything in g1 resolved quietly: its log entry goes, nothing is queued.
        s.enqueue(&[outgoing("g1", &[], false)], now).unwrap();
        assert_eq!(s.load_notification_log().unwrap().len(), 1);
        assert_eq!(s.drop_pending_except(&[]).unwrap(), 1);
        assert!(s.next_pending("oncall", "slack[0]").unwrap().is_none());
    }

    #[test]
    fn rows_numbered_by_position_before_schema_3_get_their_names() {
        let s = Store::in_memory();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut o = outgoing("g1", &["aa"], true);
        o.key.integration = "#1".into();
        s.enqueue(&[o], now).unwrap();
        let names = vec![("oncall".to_string(), vec!["slack[0]".to_string(), "email[0]".to_string()])];
        assert_eq!(s.rename_legacy_integrations(&names).unwrap(), 2, "the outbox row and the log entry");
        assert!(s.next_pending("oncall", "email[0]").unwrap().is_some());
        assert!(s.next_pending("oncall", "slack[0]").unwrap().is_none());
    }
}
