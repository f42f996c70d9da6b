//! The `alertmanager` integration: alerts pushed to Alertmanager's
//! `POST /api/v2/alerts` the way Prometheus does, so an Alertmanager cluster
//! deduplicates across mlwatch replicas. Firing alerts are re-sent at every
//! evaluation with `endsAt` a few evaluation intervals ahead (if mlwatch stops,
//! Alertmanager resolves them itself); resolved alerts are re-sent with their
//! resolution time for as long as they are kept (15 minutes).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DeliveryError, http};
use crate::rules::alert::{Alert, AlertState};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Base URL of one Alertmanager, e.g. `http://alertmanager:9093`.
    pub url: String,
    #[serde(default)]
    pub timeout: Option<String>,
}

#[derive(Debug)]
pub struct AlertmanagerNotifier {
    endpoint: String,
    client: reqwest::Client,
}

impl AlertmanagerConfig {
    pub fn validate(&self) -> Result<Duration, String> {
        http::check_url(&self.url, "alertmanager: url")?;
        super::timeout("alertmanager", self.timeout.as_deref())
    }

    pub fn build(&self) -> Result<AlertmanagerNotifier, String> {
        let timeout = self.validate()?;
        Ok(AlertmanagerNotifier {
            endpoint: format!("{}/api/v2/alerts", self.url.trim_end_matches('/')),
            client: http::client(timeout).map_err(|e| format!("alertmanager: {e}"))?,
        })
    }
}

impl AlertmanagerNotifier {
    /// Push `alerts` (as made by [`am_alert`]).
    pub async fn push(&self, alerts: &[Value]) -> Result<(), DeliveryError> {
        http::post_json(&self.client, &self.endpoint, &Value::Array(alerts.to_vec()), "alertmanager", None).await
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// One alert in Alertmanager's v2 form. A firing alert ends at `now + valid_for`
/// unless re-sent; a resolved one at its resolution.
pub fn am_alert(a: &Alert, now: DateTime<Utc>, valid_for: Duration, generator_url: &str) -> Value {
    let ends_at = match (a.state, a.resolved_at) {
        (AlertState::Resolved, Some(t)) => t,
        _ => now + chrono::Duration::from_std(valid_for).unwrap_or(chrono::Duration::hours(1)),
    };
    json!({
        "labels": a.labels,
        "annotations": a.annotations,
        "startsAt": a.fired_at.unwrap_or(a.active_at),
        "endsAt": ends_at,
        "generatorURL": generator_url,
    })
}
