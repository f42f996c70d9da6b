//! The agent's durable state: one SQLite file under `storage.path`.
//!
//! This module owns the schema ([`migrations`]); the rest of the agent goes
//! through [`Store`]. Writes are transactions, so a crash leaves either the
//! state before an evaluation or the state after it, never half of one.

mod alert_history;
mod alerts;
mod baselines;
mod delivery;
mod distributions;
mod history;
mod log_source;
mod migrations;
mod silences;
mod tenants;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

pub use alert_history::AlertEvent;
pub use baselines::{BaselineStatus, StoredBaseline};
pub use alerts::StoredAlerts;
pub use delivery::Pending;
pub use distributions::{SeriesDistributions, StoredDistribution};
pub use history::{HistoryPoint, SeriesKey};

/// The state file inside `storage.path`.
pub const STATE_FILE: &str = "state.db";

/// Why the state could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "state file {path} cannot be used: {reason}. mlwatch does not reset state silently: \
         move the file aside (mv {path} {path}.broken) and start again to begin with empty state \
         (alert states and check history in it are then lost)"
    )]
    Unusable { path: PathBuf, reason: String },
    #[error("state file {path} was written by a newer mlwatch (schema version {found}, this build knows up to {known}); run that version or move the file aside")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    /// The file is fine, the agent may not use it: never advise moving it aside.
    #[error(
        "{path}: {source}: mlwatch needs {need}. The state itself is not damaged: fix the \
         permissions or the mount (or run mlwatch as the file's owner); do not move it aside"
    )]
    Access { path: PathBuf, need: &'static str, source: std::io::Error },
    #[error("cannot create state directory {path}: {source}")]
    Directory { path: PathBuf, source: std::io::Error },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Tell a permission problem (or a read-only mount) from a damaged file
/// before SQLite reports both as "unable to open database file". Writing
/// needs the file and its `-wal`/`-shm` companions read-write, and the
/// directory writable (SQLite creates the companions there).
fn check_access(dir: &Path, path: &Path, write: bool) -> Result<(), StateError> {
    use std::fs::OpenOptions;
    let mut files = vec![(path.to_path_buf(), if write { "read and write access to the state file" } else { "read access to the state file" })];
    if write {
        for companion in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(companion);
            files.push((PathBuf::from(p), "read and write access to the state file's -wal and -shm files"));
        }
    }
    for (file, need) in files {
        if !file.exists() {
            continue;
        }
        if let Err(source) = OpenOptions::new().read(true).write(write).open(&file) {
            return Err(StateError::Access { path: file, need, source });
        }
    }
    if write {
        let probe = dir.join(format!(".mlwatch-access-{}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&probe) {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
            }
            Err(source) => {
                return Err(StateError::Access {
                    path: dir.to_path_buf(),
                    need: "write access to the state directory (SQLite keeps its -wal and -shm files there)",
                    source,
                });
            }
        }
    }
    Ok(())
}

/// The durable state. One connection, used from blocking tasks; every call is
/// short (an evaluation's writes are one transaction).
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (or create) the state in directory `dir`, check it and bring its
    /// schema up to date.
    pub fn open(dir: &Path) -> Result<Store, StateError> {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Directory { path: dir.to_path_buf(), source })?;
        let path = dir.join(STATE_FILE);
        check_access(dir, &path, true)?;
        let unusable = |e: rusqlite::Error| StateError::Unusable { path: path.clone(), reason: e.to_string() };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(unusable)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(unusable)?;
        // WAL: readers never block the writer, and a commit is one fsync'd append.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(unusable)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(unusable)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(unusable)?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(unusable)?;
        if check != "ok" {
            return Err(StateError::Unusable { path, reason: format!("integrity check failed: {check}") });
        }
        migrations::migrate(&mut conn, &path)?;
        Ok(Store { path, conn: Mutex::new(conn) })
    }

    /// The state in directory `dir`, read only, as another process (a
    /// backtest) may look at a running agent's: `None` when there is none.
    /// Nothing is created, migrated or written.
    pub fn open_read_only(dir: &Path) -> Result<Option<Store>, StateError> {
        let path = dir.join(STATE_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        check_access(dir, &path, false)?;
        let unusable = |e: rusqlite::Error| StateError::Unusable { path: path.clone(), reason: e.to_string() };
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(unusable)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(unusable)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(unusable)?;
        if version != migrations::latest() {
            return Err(StateError::Unusable {
                path,
                reason: format!("schema version {version}, this build reads {}: start the agent once to migrate it", migrations::latest()),
            });
        }
        Ok(Some(Store { path, conn: Mutex::new(conn) }))
    }

    /// A copy in memory of the state in directory `dir` (`None` when there is
    /// none): what a one-shot evaluation starts from and may then change.
    pub fn snapshot(dir: &Path) -> Result<Option<Store>, StateError> {
        let Some(source) = Store::open_read_only(dir)? else { return Ok(None) };
        let unusable = |e: rusqlite::Error| StateError::Unusable { path: source.path.clone(), reason: e.to_string() };
        let mut conn = Connection::open_in_memory().map_err(unusable)?;
        {
            let from = source.conn();
            let copy = rusqlite::backup::Backup::new(&from, &mut conn).map_err(unusable)?;
            copy.run_to_completion(1024, Duration::ZERO, None).map_err(unusable)?;
        }
        Ok(Some(Store { path: PathBuf::from(":memory:"), conn: Mutex::new(conn) }))
    }

    /// An in-memory store, for tests and one-shot commands.
    pub fn in_memory() -> Store {
        let mut conn = Connection::open_in_memory().expect("in-memory SQLite");
        migrations::migrate(&mut conn, Path::new(":memory:")).expect("fresh schema");
        Store { path: PathBuf::from(":memory:"), conn: Mutex::new(conn) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied
        // (SQLite rolls it back), so a poisoned lock is safe to take over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record one evaluation of a group: each rule's alerts as they are now,
    /// the values it computed, and the group's known tenants (with when each
    /// was last seen), in one transaction.
    /// With a log source's checkpoint, the lines the evaluation consumed are
    /// marked read in the same transaction.
    pub fn commit_evaluation(
        &self,
        rules: &[RuleRecord<'_>],
        tenants: Option<GroupTenants<'_>>,
        checkpoint: Option<&crate::sources::log::Checkpoint>,
    ) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for r in rules {
            if let Some(alerts) = r.alerts {
                alerts::replace(&tx, r.rule, alerts)?;
            }
            history::append(&tx, r.rule, r.at_ms, r.values)?;
            distributions::replace(&tx, r.rule, r.at_ms, r.distributions)?;
            alert_history::append(&tx, r.rule, r.at_ms, r.transitions)?;
        }
        if let Some((group, tenants)) = tenants {
            tenants::replace(&tx, group, tenants)?;
        }
        if let Some(cp) = checkpoint {
            log_source::write(&tx, cp)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// A group's known tenants, each with when it was last seen.
pub type GroupTenants<'a> = (&'a str, &'a [(String, DateTime<Utc>)]);

/// What one rule's evaluation leaves in the state.
pub struct RuleRecord<'a> {
    pub rule: &'a str,
    pub at_ms: i64,
    /// The rule's alerts, or `None` when they did not change hands (a failed evaluation).
    pub alerts: Option<&'a [crate::rules::alert::Alert]>,
    pub values: &'a [(SeriesKey, f64)],
    /// Changes of alert state at this evaluation, for the alert history.
    pub transitions: &'a [crate::rules::alert::Transition],
    /// The drift series' distributions, replacing the ones stored before.
    pub distributions: &'a SeriesDistributions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_database_is_refused_with_a_way_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), vec![0x42u8; 8192]).unwrap();
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("state.db cannot be used"), "{err}");
        assert!(err.contains("move the file aside"), "{err}");
        // and the file is left as it was
        assert_eq!(std::fs::read(dir.path().join(STATE_FILE)).unwrap(), vec![0x42u8; 8192]);
    }

    #[test]
    fn a_snapshot_is_a_copy_that_can_change_without_touching_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Store::snapshot(dir.path()).unwrap().is_none());
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let store = Store::open(dir.path()).unwrap();
        let seen = vec![("acme".to_string(), at("2026-03-01T00:00:00Z"))];
        store.commit_evaluation(&[], Some(("g", &seen)), None).unwrap();
        let copy = Store::snapshot(dir.path()).unwrap().unwrap();
        assert_eq!(copy.load_tenants("g").unwrap().keys().collect::<Vec<_>>(), ["acme"]);
        let more = vec![("acme".to_string(), at("2026-03-01T00:00:00Z")), ("globex".to_string(), at("2026-03-02T00:00:00Z"))];
        copy.commit_evaluation(&[], Some(("g", &more)), None).unwrap();
        assert_eq!(copy.load_tenants("g").unwrap().len(), 2);
        assert_eq!(store.load_tenants("g").unwrap().keys().collect::<Vec<_>>(), ["acme"]);
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let s = Store::open(dir.path()).unwrap();
        let v: i64 = s.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, migrations::latest());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(STATE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StateError::TooNew { found: 999, .. }), "{err}");
    }
}
