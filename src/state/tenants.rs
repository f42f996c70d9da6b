//! The tenants each group has seen, so that a tenant whose data stopped is
//! still evaluated (as "no data") after a restart.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{StateError, Store};

/// Make the stored tenants of `group` exactly `tenants` (name, last seen);
/// the first sighting of each is kept.
pub(super) fn replace(tx: &Transaction<'_>, group: &str, tenants: &[(String, DateTime<Utc>)]) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO tenants (grp, tenant, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (grp, tenant) DO UPDATE SET last_seen = excluded.last_seen",
    )?;
    for (tenant, seen) in tenants {
        upsert.execute(params![group, tenant, seen.timestamp_millis()])?;
    }
    let keep = serde_json::to_string(&tenants.iter().map(|(t, _)| t).collect::<Vec<_>>()).expect("names serialize");
    tx.execute("DELETE FROM tenants WHERE grp = ?1 AND tenant NOT IN (SELECT value FROM json_each(?2))", params![group, keep])?;
    Ok(())
}

impl Store {
    /// The tenants `group` has seen, with when each was last seen.
    pub fn load_tenants(&self, group: &str) -> Result<BTreeMap<String, DateTime<Utc>>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT tenant, last_seen FROM tenants WHERE grp = ?1")?;
        let rows = stmt
            .query_map([group], |r| Ok((r.get::<_, String>(0)?, DateTime::from_timestamp_millis(r.get(1)?).unwrap_or_default())))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_keep_their_first_sighting_and_forgotten_ones_go() {
        let s = Store::in_memory();
        let t = |secs: i64| DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap();
        s.commit_evaluation(&[], Some(("g", &[("a".into(), t(0)), ("b".into(), t(0))])), None).unwrap();
        s.commit_evaluation(&[], Some(("g", &[("a".into(), t(60))])), None).unwrap();
        let known = s.load_tenants("g").unwrap();
        assert_eq!(known.into_iter().collect::<Vec<_>>(), [("a".to_string(), t(60))]);
        let first: i64 = s.conn().query_row("SELECT first_seen FROM tenants WHERE tenant = 'a'", [], |r| r.get(0)).unwrap();
        assert_eq!(first, t(0).timestamp_millis(), "the first sighting is kept");
        assert!(s.load_tenants("other").unwrap().is_empty());
    }
}
