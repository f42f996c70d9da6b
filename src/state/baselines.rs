//! Baselines the agent builds itself, per rule and tenant: a rolling
//! reference period of the source's own past, a tenant's learned first
//! period, or a period someone pinned as healthy (`mlwatch baseline pin`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{StateError, Store};
use crate::baseline::{Profile, Spreads};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineStatus {
    /// A `learn` baseline still in its first period: values are computed
    /// against what was seen so far, alerts are held.
    Learning,
    /// Built and in use.
    Ready,
    /// Declared healthy by someone; nothing rebuilds it until it is forgotten.
    Pinned,
}

impl BaselineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineStatus::Learning => "learning",
            BaselineStatus::Ready => "ready",
            BaselineStatus::Pinned => "pinned",
        }
    }

    fn parse(s: &str) -> BaselineStatus {
        match s {
            "learning" => BaselineStatus::Learning,
            "pinned" => BaselineStatus::Pinned,
            _ => BaselineStatus::Ready,
        }
    }
}

/// One stored baseline; `profile` is `None` in listings.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBaseline {
    pub rule: String,
    /// Empty when the group is not per tenant.
    pub tenant: String,
    pub status: BaselineStatus,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub built_at: DateTime<Utc>,
    pub profile: Option<Profile>,
    pub spreads: Spreads,
    /// What the rule asked for when this was built (check, columns, baseline
    /// kind, threshold): a rule that changed does not reuse it.
    pub fingerprint: String,
}

const COLUMNS: &str = "rule, tenant, status, period_start, period_end, built_at, spreads, fingerprint";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredBaseline> {
    let at = |i: usize| -> rusqlite::Result<DateTime<Utc>> { Ok(DateTime::from_timestamp_millis(r.get(i)?).unwrap_or_default()) };
    let spreads: String = r.get(6)?;
    Ok(StoredBaseline {
        rule: r.get(0)?,
        tenant: r.get(1)?,
        status: BaselineStatus::parse(&r.get::<_, String>(2)?),
        period_start: at(3)?,
        period_end: at(4)?,
        built_at: at(5)?,
        profile: None,
        spreads: serde_json::from_str(&spreads).unwrap_or_default(),
        fingerprint: r.get(7)?,
    })
}

impl Store {
    /// A baseline without its profile (cheap: to see whether it changed).
    pub fn baseline_meta(&self, rule: &str, tenant: &str) -> Result<Option<StoredBaseline>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM baselines WHERE rule = ?1 AND tenant = ?2"))?;
        Ok(stmt.query_row(params![rule, tenant], row).optional()?)
    }

    /// A baseline with its profile.
    pub fn baseline(&self, rule: &str, tenant: &str) -> Result<Option<StoredBaseline>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS}, profile FROM baselines WHERE rule = ?1 AND tenant = ?2"))?;
        let found = stmt
            .query_row(params![rule, tenant], |r| {
                let mut b = row(r)?;
                let profile: Option<String> = r.get(8)?;
                b.profile = profile.and_then(|p| serde_json::from_str(&p).ok());
                Ok(b)
            })
            .optional()?;
        Ok(found)
    }

    /// Every stored baseline, without profiles, by rule and tenant.
    pub fn baselines(&self) -> Result<Vec<StoredBaseline>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM baselines ORDER BY rule, tenant"))?;
        let rows = stmt.query_map([], row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Store a baseline the agent built; a pinned one in its place stays
    /// (someone pinned it while this was being built). Returns whether it was stored.
    pub fn save_baseline(&self, b: &StoredBaseline) -> Result<bool, StateError> {
        self.write_baseline(b, "WHERE baselines.status != 'pinned'")
    }

    /// Store a pinned baseline, whatever was there.
    pub fn pin_baseline(&self, b: &StoredBaseline) -> Result<(), StateError> {
        self.write_baseline(b, "").map(drop)
    }

    fn write_baseline(&self, b: &StoredBaseline, unless: &str) -> Result<bool, StateError> {
        let profile = b.profile.as_ref().map(|p| serde_json::to_string(p).expect("profiles serialize"));
        let spreads = serde_json::to_string(&b.spreads).expect("spreads serialize");
        let n = self.conn().execute(
            &format!(
                "INSERT INTO baselines (rule, tenant, status, period_start, period_end, built_at, profile, spreads, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (rule, tenant) DO UPDATE SET status = excluded.status, period_start = excluded.period_start,
                     period_end = excluded.period_end, built_at = excluded.built_at, profile = excluded.profile,
                     spreads = excluded.spreads, fingerprint = excluded.fingerprint {unless}"
            ),
            params![
                b.rule,
                b.tenant,
                b.status.as_str(),
                b.period_start.timestamp_millis(),
                b.period_end.timestamp_millis(),
                b.built_at.timestamp_millis(),
                profile,
                spreads,
                b.fingerprint
            ],
        )?;
        Ok(n > 0)
    }

    /// Forget a baseline (a `learn` baseline starts learning again). Returns whether there was one.
    pub fn forget_baseline(&self, rule: &str, tenant: &str) -> Result<bool, StateError> {
        Ok(self.conn().execute("DELETE FROM baselines WHERE rule = ?1 AND tenant = ?2", params![rule, tenant])? > 0)
    }
}
