//! The `stdout` integration: one line per alert, for local use and demos.

use std::io::Write;

use serde::Deserialize;

use super::DeliveryError;
use crate::alerting::format_value;
use crate::alerting::notification::GroupNotification;

/// `stdout: [{ format: text }]` under a receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {
    /// `text` (one readable line per alert) or `json` (the webhook payload, one line).
    #[serde(default)]
    pub format: StdoutFormat,
    /// Also print when an alert resolves.
    #[serde(default = "super::default_true")]
    pub send_resolved: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StdoutFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug)]
pub struct StdoutNotifier {
    format: StdoutFormat,
    pub send_resolved: bool,
}

impl StdoutConfig {
    pub fn build(&self) -> StdoutNotifier {
        StdoutNotifier { format: self.format, send_resolved: self.send_resolved }
    }
}

impl StdoutNotifier {
    pub fn send(&self, n: &GroupNotification) -> Result<(), DeliveryError> {
        let lines: Vec<String> = match self.format {
            StdoutFormat::Json => vec![super::webhook::payload(n, 0).to_string()],
            StdoutFormat::Text => n.alerts.iter().map(one_line).collect(),
        };
        let mut out = std::io::stdout().lock();
        lines
            .iter()
            .try_for_each(|l| writeln!(out, "{l}"))
            .and_then(|_| out.flush())
            .map_err(|e| DeliveryError::transient(format!("stdout: {e}")))
    }
}

/// `FIRING FeatureDrift{column="age", tenant="acme"} value=0.3100: summary`
fn one_line(a: &crate::alerting::notification::AlertOut) -> String {
    let labels: Vec<String> =
        a.labels.iter().filter(|(k, _)| k.as_str() != "alertname").map(|(k, v)| format!("{k}={v:?}")).collect();
    let mut s = format!("{} {}{{{}}}", a.status.as_str().to_uppercase(), a.alertname(), labels.join(", "));
    if let Some(v) = a.value {
        s.push_str(&format!(" value={}", format_value(v)));
    }
    if let Some(summary) = a.annotations.get("summary") {
        s.push_str(&format!(": {summary}"));
    }
    s
}
