//! The `webhook` integration: Alertmanager's webhook payload (version 4), so
//! anything that consumes Alertmanager webhooks consumes ours.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{DeliveryError, http};
use crate::alerting::notification::{GroupNotification, Status};
use crate::util::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The URL, inline or `${ENV_VAR}`; or `url_file`.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub url_file: Option<PathBuf>,
    #[serde(default = "super::default_true")]
    pub send_resolved: bool,
    /// Most alerts in one payload; 0 means all (the rest are counted in `truncatedAlerts`).
    #[serde(default)]
    pub max_alerts: usize,
    #[serde(default)]
    pub timeout: Option<String>,
}

#[derive(Debug)]
pub struct WebhookNotifier {
    url: Secret,
    max_alerts: usize,
    pub send_resolved: bool,
    client: reqwest::Client,
}

impl WebhookConfig {
    pub fn validate(&self) -> Result<Duration, String> {
        if self.url.is_some() == self.url_file.is_some() {
            return Err("webhook: set exactly one of `url` or `url_file`".into());
        }
        super::timeout("webhook", self.timeout.as_deref())
    }

    pub fn build(&self, base_dir: &Path) -> Result<WebhookNotifier, String> {
        let timeout = self.validate()?;
        let file = self.url_file.as_ref().map(|p| crate::util::paths::resolve(base_dir, p));
        let url = Secret::resolve(self.url.as_deref(), file.as_deref(), "url").map_err(|e| format!("webhook: {e}"))?;
        http::check_url(url.expose(), "webhook: url")?;
        let client = http::client(timeout).map_err(|e| format!("webhook: {e}"))?;
        Ok(WebhookNotifier { url, max_alerts: self.max_alerts, send_resolved: self.send_resolved, client })
    }
}

impl WebhookNotifier {
    pub async fn send(&self, n: &GroupNotification, key: &str) -> Result<(), DeliveryError> {
        http::post_json(&self.client, self.url.expose(), &payload(n, self.max_alerts), "webhook", Some(key)).await
    }
}

/// Alertmanager's zero time, which it sends as `endsAt` of firing alerts.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The version 4 payload.
pub fn payload(n: &GroupNotification, max_alerts: usize) -> Value {
    let keep = if max_alerts == 0 { n.alerts.len() } else { max_alerts.min(n.alerts.len()) };
    let alerts: Vec<Value> = n.alerts[..keep]
        .iter()
        .map(|a| {
            json!({
                "status": a.status.as_str(),
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": a.starts_at,
                "endsAt": match (a.status, a.ends_at) {
                    (Status::Resolved, Some(t)) => json!(t),
                    _ => json!(ZERO_TIME),
                },
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": n.alerts.len() - keep,
        "status": n.status().as_str(),
        "receiver": n.receiver,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels(),
        "commonAnnotations": n.common_annotations(),
        "externalURL": n.external_url,
        "alerts": alerts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::notification::tests::alert_out;
    use crate::labels::Labels;

    #[test]
    fn payload_has_alertmanagers_shape() {
        let mut resolved = alert_out("Drift", "globex", Status::Resolved);
        resolved.ends_at = Some(resolved.starts_at + chrono::Duration::minutes(5));
        let n = GroupNotification {
            receiver: "oncall".into(),
            group_key: "{}:{alertname=\"Drift\"}".into(),
            group_labels: Labels::from([("alertname".into(), "Drift".into())]),
            alerts: vec![alert_out("Drift", "acme", Status::Firing), resolved],
            external_url: "http://mlwatch.test".into(),
        };
        let p = payload(&n, 0);
        assert_eq!(p["version"], "4");
        assert_eq!(p["status"], "firing");
        assert_eq!(p["commonLabels"], json!({"alertname": "Drift", "severity": "page"}));
        assert_eq!(p["alerts"][0]["endsAt"], ZERO_TIME);
        assert_eq!(p["alerts"][1]["endsAt"], "2027-01-15T08:05:00Z");
        assert_eq!(p["alerts"][0]["fingerprint"].as_str().unwrap().len(), 16);
        assert_eq!(p["externalURL"], "http://mlwatch.test");
        let cut = payload(&n, 1);
        assert_eq!((cut["alerts"].as_array().unwrap().len(), cut["truncatedAlerts"].as_u64()), (1, Some(1)));
    }
}
