//! What receivers are told: one notification per group of alerts, shaped like
//! Alertmanager's webhook payload so the same data feeds every integration
//! and survives in the outbox as JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::labels::Labels;
use crate::rules::alert::{Alert, AlertState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// An alert's identity: FNV-1a (64 bit) over its sorted labels, as hex.
pub fn fingerprint(labels: &Labels) -> String {
    stable_hash(labels.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
}

/// 64-bit FNV-1a of `parts`, each followed by 0xff, as 16 hex digits: the
/// same in every build and on every machine.
pub fn stable_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:016x}")
}

/// One alert in a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertOut {
    pub status: Status,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    pub fingerprint: String,
    /// The value the rule's condition compared, when it has one.
    pub value: Option<f64>,
}

impl AlertOut {
    pub fn from_alert(a: &Alert, generator_url: &str) -> AlertOut {
        AlertOut {
            status: if a.state == AlertState::Resolved { Status::Resolved } else { Status::Firing },
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            starts_at: a.fired_at.unwrap_or(a.active_at),
            ends_at: a.resolved_at,
            generator_url: generator_url.to_string(),
            fingerprint: fingerprint(&a.labels),
            value: a.value,
        }
    }

    pub fn alertname(&self) -> &str {
        self.labels.get("alertname").map(String::as_str).unwrap_or("alert")
    }
}

/// What one receiver is told about one group at one flush.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupNotification {
    pub receiver: String,
    pub group_key: String,
    pub group_labels: Labels,
    /// Firing alerts first, then resolved ones.
    pub alerts: Vec<AlertOut>,
    /// Link back to the agent (`server.external_url`).
    #[serde(rename = "externalURL")]
    pub external_url: String,
}

impl GroupNotification {
    /// Firing when any alert fires.
    pub fn status(&self) -> Status {
        if self.firing().next().is_some() { Status::Firing } else { Status::Resolved }
    }

    pub fn firing(&self) -> impl Iterator<Item = &AlertOut> {
        self.alerts.iter().filter(|a| a.status == Status::Firing)
    }

    pub fn resolved(&self) -> impl Iterator<Item = &AlertOut> {
        self.alerts.iter().filter(|a| a.status == Status::Resolved)
    }

    /// Labels every alert shares.
    pub fn common_labels(&self) -> Labels {
        common(self.alerts.iter().map(|a| &a.labels))
    }

    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.annotations))
    }

    /// `[FIRING:2] FeatureDrift tenant=acme`, like Alertmanager's default title.
    pub fn title(&self) -> String {
        let status = match self.status() {
            Status::Firing => format!("FIRING:{}", self.firing().count()),
            Status::Resolved => "RESOLVED".to_string(),
        };
        let mut labels = self.group_labels.clone();
        let name = labels.remove("alertname").or_else(|| self.common_labels().remove("alertname"));
        let mut title = format!("[{status}]");
        if let Some(n) = name {
            title.push(' ');
            title.push_str(&n);
        }
        for (k, v) in &labels {
            title.push_str(&format!(" {k}={v}"));
        }
        title
    }
}

fn common<'a>(mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else { return BTreeMap::new() };
    let mut out = first.clone();
    for m in maps {
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn alert_out(name: &str, tenant: &str, status: Status) -> AlertOut {
        let labels: Labels = [("alertname", name), ("tenant", tenant), ("severity", "page")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AlertOut {
            status,
            fingerprint: fingerprint(&labels),
            labels,
            annotations: BTreeMap::from([("summary".to_string(), format!("{name} on {tenant}"))]),
            starts_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            ends_at: None,
            generator_url: "http://mlwatch.test/api/v1/rules".into(),
            value: Some(0.31),
        }
    }

    #[test]
    fn title_counts_firing_alerts_and_names_the_group() {
        let n = GroupNotification {
            receiver: "oncall".into(),
            group_key: "{}:{alertname=\"FeatureDrift\", tenant=\"acme\"}".into(),
            group_labels: Labels::from([("alertname".into(), "FeatureDrift".into()), ("tenant".into(), "acme".into())]),
            alerts: vec![alert_out("FeatureDrift", "acme", Status::Firing), alert_out("FeatureDrift", "acme", Status::Firing)],
            external_url: String::new(),
        };
        assert_eq!(n.title(), "[FIRING:2] FeatureDrift tenant=acme");
        assert_eq!(n.common_labels().get("severity").map(String::as_str), Some("page"));
    }

    #[test]
    fn fingerprints_are_stable_and_label_sensitive() {
        let a = alert_out("A", "acme", Status::Firing);
        let b = alert_out("A", "globex", Status::Firing);
        assert_eq!(a.fingerprint, fingerprint(&a.labels));
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 16);
        // FNV-1a reference: empty input is the offset basis.
        assert_eq!(fingerprint(&Labels::new()), "cbf29ce484222325");
    }
}
