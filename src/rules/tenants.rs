//! The tenants a group knows: seen with rows within `forget_tenants_after`.
//! A known tenant without rows in a window is evaluated as "no data"; one
//! not seen for longer is forgotten. Shared by the agent and backtests.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default)]
pub struct KnownTenants {
    /// Tenant → when it last had rows.
    last_seen: BTreeMap<String, DateTime<Utc>>,
}

/// What one evaluation changed.
#[derive(Debug, Default, PartialEq)]
pub struct TenantChanges {
    pub new: Vec<String>,
    pub forgotten: Vec<String>,
}

impl KnownTenants {
    pub fn from_last_seen(last_seen: BTreeMap<String, DateTime<Utc>>) -> Self {
        KnownTenants { last_seen }
    }

    /// Tenants seen within `horizon` of `now`.
    pub fn known(&self, now: DateTime<Utc>, horizon: Duration) -> BTreeSet<String> {
        let horizon = chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::MAX);
        self.last_seen.iter().filter(|(_, seen)| now - **seen <= horizon).map(|(t, _)| t.clone()).collect()
    }

    /// Record the tenants that had rows at `now`, and forget those unseen for longer than `horizon`.
    pub fn observe<'a>(&mut self, seen: impl IntoIterator<Item = &'a String>, now: DateTime<Utc>, horizon: Duration) -> TenantChanges {
        let mut changes = TenantChanges::default();
        for t in seen {
            if self.last_seen.insert(t.clone(), now).is_none() {
                changes.new.push(t.clone());
            }
        }
        let horizon = chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::MAX);
        self.last_seen.retain(|t, at| {
            let keep = now - *at <= horizon;
            if !keep {
                changes.forgotten.push(t.clone());
            }
            keep
        });
        changes
    }

    pub fn len(&self) -> usize {
        self.last_seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last_seen.is_empty()
    }

    /// (tenant, last seen), for the state file.
    pub fn to_rows(&self) -> Vec<(String, DateTime<Utc>)> {
        self.last_seen.iter().map(|(t, s)| (t.clone(), *s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_are_known_until_unseen_for_the_horizon() {
        let t = |h: i64| DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap();
        let day = Duration::from_secs(86_400);
        let mut k = KnownTenants::default();
        let ch = k.observe(&["a".to_string(), "b".to_string()], t(0), day);
        assert_eq!(ch.new, ["a", "b"]);
        k.observe(&["a".to_string()], t(20), day);
        assert_eq!(k.known(t(24), day).into_iter().collect::<Vec<_>>(), ["a", "b"]);
        let ch = k.observe(&["a".to_string()], t(25), day);
        assert_eq!(ch.forgotten, ["b"]);
        assert_eq!(k.len(), 1);
    }
}
