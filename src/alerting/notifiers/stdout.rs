//! The `stdout` integration: one line per notification, for local use and demos.

use std::io::Write;

use serde::Deserialize;

use super::DeliveryError;
use crate::alerting::Notification;

/// `stdout: [{ format: text }]` under a receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {
    /// `text` (one readable line) or `json` (one JSON object per line).
    #[serde(default)]
    pub format: StdoutFormat,
    /// Also print when an alert resolves.
    #[serde(default = "yes")]
    pub send_resolved: bool,
}

fn yes() -> bool {
    true
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
    pub fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let line = match self.format {
            StdoutFormat::Text => n.one_line(),
            StdoutFormat::Json => serde_json::to_string(&n.to_json()).expect("notifications serialize"),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|_| out.flush()).map_err(|e| DeliveryError::transient(format!("stdout: {e}")))
    }
}
