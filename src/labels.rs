//! Label sets: one type from the check that yields a series, through its
//! gauge and its alert, to the notification that names it.
//!
//! Keys are Prometheus label names. A check's keys are declared in its spec
//! (`crate::checks::CheckSpec::labels`); the engine adds `tenant`, rules add
//! their own labels and `alertname`.

use std::collections::BTreeMap;

/// Label name → value, sorted by name (so equal sets compare and hash equal).
pub type Labels = BTreeMap<String, String>;

/// Labels the engine sets on every series and alert.
pub const ENGINE_LABELS: &[&str] = &["alertname", "rule", "tenant"];

/// `{alertname="X", tenant="acme"}`
pub fn show(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Whether rules may not set `key`: the engine's labels and every check kind's.
pub fn is_reserved(key: &str) -> bool {
    ENGINE_LABELS.contains(&key) || crate::checks::Check::all_label_keys().contains(&key)
}
