//! Silences, stored so that a restart keeps them.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{StateError, Store};
use crate::alerting::silence::Silence;

/// Expired silences are kept this long for `silence list`, then deleted.
const KEEP_EXPIRED: chrono::Duration = chrono::Duration::days(5);

impl Store {
    /// Insert or replace a silence.
    pub fn save_silence(&self, s: &Silence) -> Result<(), StateError> {
        let body = serde_json::to_string(s).expect("silences serialize");
        self.conn().execute(
            "INSERT OR REPLACE INTO silences (id, body, ends_at) VALUES (?1, ?2, ?3)",
            params![s.id, body, s.ends_at.timestamp_millis()],
        )?;
        Ok(())
    }

    /// Every silence not expired for long, newest end first; old ones are deleted.
    pub fn load_silences(&self, now: DateTime<Utc>) -> Result<Vec<Silence>, StateError> {
        self.conn().execute("DELETE FROM silences WHERE ends_at < ?1", [(now - KEEP_EXPIRED).timestamp_millis()])?;
        self.silences()
    }

    /// Every stored silence, newest end first, changing nothing (for a
    /// read-only look at the agent's state).
    pub fn silences(&self) -> Result<Vec<Silence>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, body FROM silences ORDER BY ends_at DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row?;
            out.push(serde_json::from_str(&body).map_err(|e| StateError::Unusable {
                path: self.path.clone(),
                reason: format!("silence {id} is unreadable: {e}"),
            })?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::matcher::Matcher;

    #[test]
    fn silences_round_trip_and_old_ones_are_deleted() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let s = Store::in_memory();
        let silence = |id: &str, ends: DateTime<Utc>| Silence {
            id: id.into(),
            matchers: vec![Matcher::parse("tenant=acme").unwrap()],
            starts_at: now - chrono::Duration::days(30),
            ends_at: ends,
            created_by: "sre".into(),
            comment: "maintenance".into(),
            updated_at: now,
        };
        s.save_silence(&silence("live", now + chrono::Duration::hours(1))).unwrap();
        s.save_silence(&silence("old", now - chrono::Duration::days(6))).unwrap();
        let loaded = s.load_silences(now).unwrap();
        assert_eq!(loaded, vec![silence("live", now + chrono::Duration::hours(1))]);
    }
}
