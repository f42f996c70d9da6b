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

/// `FIRING FeatureDrift{column="age", tenant="acme"} value=0.3100: summary`,
/// one line whatever the labels and summary hold (a tenant is data, and may
/// hold a newline).
fn one_line(a: &crate::alerting::notification::AlertOut) -> String {
    let labels: Vec<String> =
        a.labels.iter().filter(|(k, _)| k.as_str() != "alertname").map(|(k, v)| format!("{k}={v:?}")).collect();
    let mut s = format!("{} {}{{{}}}", a.status.as_str().to_uppercase(), escape_controls(a.alertname()), labels.join(", "));
    if let Some(v) = a.value {
        s.push_str(&format!(" value={}", format_value(v)));
    }
    if let Some(summary) = a.annotations.get("summary") {
        s.push_str(&format!(": {}", escape_controls(summary)));
    }
    s
}

/// Control characters (newlines, carriage returns, escapes) as `\n`, `\r`, `\u{1b}`.
fn escape_controls(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::notification::Status;
    use crate::alerting::notification::tests::alert_out;

    #[test]
    fn a_newline_in_a_tenant_stays_on_one_line() {
        // Regression: a tenant named "ac\nme" split the line in two.
        let line = one_line(&alert_out("Drift", "ac\nme\r\u{1b}[31m", Status::Firing));
        assert!(!line.contains(['\n', '\r', '\u{1b}']), "{line}");
        assert_eq!(line, r#"FIRING Drift{severity="page", tenant="ac\nme\r\u{1b}[31m"} value=0.3100: Drift on ac\nme\r\u{1b}[31m"#);
    }
}
