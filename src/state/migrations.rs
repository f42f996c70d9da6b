//! The schema, as an append-only list of migrations. `PRAGMA user_version`
//! records how many have been applied; never edit a released migration, add one.

use std::path::Path;

use rusqlite::Connection;

use super::StateError;

const MIGRATIONS: &[&str] = &[
    // 1: alert states and check history.
    r#"
    CREATE TABLE alerts (
        rule        TEXT NOT NULL,
        labels      TEXT NOT NULL,   -- JSON object, sorted keys: the alert's identity within its rule
        state       TEXT NOT NULL,   -- pending | firing | resolved
        active_at   INTEGER NOT NULL, -- Unix ms when the condition started to hold
        fired_at    INTEGER,
        resolved_at INTEGER,
        value       REAL,
        annotations TEXT NOT NULL,   -- JSON object
        PRIMARY KEY (rule, labels)
    ) WITHOUT ROWID;

    CREATE TABLE series (
        id     INTEGER PRIMARY KEY,
        rule   TEXT NOT NULL,
        labels TEXT NOT NULL,        -- JSON object, sorted keys
        name   TEXT NOT NULL,        -- value name, e.g. psi
        UNIQUE (rule, labels, name)
    );

    CREATE TABLE samples (
        series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
        ts     INTEGER NOT NULL,     -- Unix ms of the evaluation
        value  REAL NOT NULL,
        PRIMARY KEY (series, ts)
    ) WITHOUT ROWID;
    CREATE INDEX samples_by_time ON samples(ts);
    "#,
    // 2: delivery (notification log, outbox) and silences.
    r#"
    CREATE TABLE notification_log (
        receiver    TEXT NOT NULL,
        integration INTEGER NOT NULL,
        group_key   TEXT NOT NULL,
        firing      TEXT NOT NULL,   -- JSON array of fingerprints the integration was told are firing
        at          INTEGER NOT NULL, -- Unix ms of that notification
        PRIMARY KEY (receiver, integration, group_key)
    ) WITHOUT ROWID;

    CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        receiver    TEXT NOT NULL,
        integration INTEGER NOT NULL,
        payload     TEXT NOT NULL,   -- JSON GroupNotification
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX outbox_by_integration ON outbox(receiver, integration, id);

    CREATE TABLE silences (
        id      TEXT PRIMARY KEY,
        body    TEXT NOT NULL,       -- JSON Silence
        ends_at INTEGER NOT NULL
    );
    "#,
    // 3: tenants each group has seen; integrations named by kind and index
    // within the kind (`slack[0]`), not by position in their receiver, so a
    // reload that adds an integration moves nothing queued. Rows of the old
    // numbering are kept as `#N` until the agent maps them to names (see
    // `Store::rename_legacy_integrations`).
    r#"
    CREATE TABLE tenants (
        grp        TEXT NOT NULL,    -- rule group
        tenant     TEXT NOT NULL,
        first_seen INTEGER NOT NULL, -- Unix ms of the first evaluation with rows
        last_seen  INTEGER NOT NULL, -- Unix ms of the last one
        PRIMARY KEY (grp, tenant)
    ) WITHOUT ROWID;

    CREATE TABLE baselines (
        rule         TEXT NOT NULL,
        tenant       TEXT NOT NULL,  -- '' when the group is not per tenant
        status       TEXT NOT NULL,  -- learning | ready | pinned
        period_start INTEGER NOT NULL, -- Unix ms: the healthy period profiled
        period_end   INTEGER NOT NULL,
        built_at     INTEGER NOT NULL, -- Unix ms of the (simulated) time it was built
        profile      TEXT,             -- JSON profile (docs/baseline-profile.md)
        spreads      TEXT NOT NULL,    -- JSON [[labels, {mean, std, chunks}], ...]
        fingerprint  TEXT NOT NULL,    -- what the rule asked for when it was built
        PRIMARY KEY (rule, tenant)
    ) WITHOUT ROWID;

    CREATE TABLE alert_history (
        rule   TEXT NOT NULL,
        labels TEXT NOT NULL,        -- JSON object, sorted keys
        state  TEXT NOT NULL,        -- pending | firing | resolved | inactive (dropped while pending)
        at     INTEGER NOT NULL,     -- Unix ms of the evaluation
        value  REAL,
        PRIMARY KEY (rule, labels, at, state)
    ) WITHOUT ROWID;
    CREATE INDEX alert_history_by_time ON alert_history(at);

    CREATE TABLE notification_log_v3 (
        receiver    TEXT NOT NULL,
        integration TEXT NOT NULL,   -- e.g. slack[0]
        group_key   TEXT NOT NULL,
        firing      TEXT NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (receiver, integration, group_key)
    ) WITHOUT ROWID;
    INSERT INTO notification_log_v3 SELECT receiver, '#' || integration, group_key, firing, at FROM notification_log;
    DROP TABLE notification_log;
    ALTER TABLE notification_log_v3 RENAME TO notification_log;

    CREATE TABLE outbox_v3 (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        receiver    TEXT NOT NULL,
        integration TEXT NOT NULL,
        payload     TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    INSERT INTO outbox_v3 SELECT id, receiver, '#' || integration, payload, created_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v3 RENAME TO outbox;
    CREATE INDEX outbox_by_integration ON outbox(receiver, integration, id);
    "#,
    // 4: log sources: the offset reached in each file, and the buckets of counts.
    r#"
    CREATE TABLE log_files (
        source      TEXT NOT NULL,
        fingerprint TEXT NOT NULL,   -- of the file's first line
        offset      INTEGER NOT NULL, -- bytes of complete lines read
        lines       INTEGER NOT NULL,
        path        TEXT NOT NULL,   -- where it was last seen
        seen_at     INTEGER NOT NULL, -- Unix ms
        PRIMARY KEY (source, fingerprint)
    ) WITHOUT ROWID;

    CREATE TABLE log_buckets (
        source  TEXT NOT NULL,
        sli     TEXT NOT NULL,       -- bucket width in ms, '|', the SLI's definition
        tenant  TEXT NOT NULL,
        labels  TEXT NOT NULL,       -- JSON array of [field, value] pairs (the SLI's `by`)
        bucket  INTEGER NOT NULL,    -- Unix ms / bucket width
        valid   INTEGER NOT NULL,
        good    INTEGER NOT NULL,
        latency BLOB,                -- histogram: 5 bytes per bin (bin, u32 LE count)
        PRIMARY KEY (source, sli, tenant, labels, bucket)
    ) WITHOUT ROWID;
    CREATE INDEX log_buckets_by_time ON log_buckets(source, bucket);
    "#,
    // 5: the latest distribution of each drift series, for pictures.
    r#"
    CREATE TABLE distributions (
        rule   TEXT NOT NULL,
        labels TEXT NOT NULL,        -- JSON object, sorted keys
        at     INTEGER NOT NULL,     -- Unix ms of the evaluation
        body   TEXT NOT NULL,        -- JSON Distribution: bins, baseline and current counts
        PRIMARY KEY (rule, labels)
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Apply the migrations not yet applied, each in its own transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest() {
        return Err(StateError::TooNew { path: path.to_path_buf(), found: current, known: latest() });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        // A fresh in-memory state (a backtest's, a test's) is not news.
        if path != Path::new(":memory:") {
            tracing::info!(version = i + 1, "state schema migrated");
        }
    }
    Ok(())
}
