//! Alerting, shaped like Alertmanager: receivers and their integrations, the
//! routing tree, grouping and deduplication ([`dispatch`]), silences,
//! inhibition, message templates, and durable delivery from the outbox
//! ([`delivery`]). Rules hand over their alerts; nothing here evaluates rules.

pub mod delivery;
pub mod dispatch;
pub mod inhibit;
pub mod matcher;
pub mod notification;
pub mod notifiers;
pub mod route;
pub mod silence;
pub mod templates;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use notifiers::Notifier;
use notifiers::alertmanager::{AlertmanagerConfig, AlertmanagerNotifier};
use notifiers::email::EmailConfig;
use notifiers::slack::SlackConfig;
use notifiers::stdout::StdoutConfig;
use notifiers::webhook::WebhookConfig;

/// A named receiver with its integrations (like Alertmanager's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Unique name, referenced by routes.
    pub name: String,
    /// Slack incoming webhooks.
    #[serde(default)]
    pub slack: Vec<SlackConfig>,
    /// E-mail over SMTP.
    #[serde(default)]
    pub email: Vec<EmailConfig>,
    /// Alertmanager-compatible webhooks.
    #[serde(default)]
    pub webhook: Vec<WebhookConfig>,
    /// Alertmanagers to push alerts to.
    #[serde(default)]
    pub alertmanager: Vec<AlertmanagerConfig>,
    /// Lines on the agent's standard output.
    #[serde(default)]
    pub stdout: Vec<StdoutConfig>,
}

/// A built receiver.
#[derive(Debug)]
pub struct Receiver {
    pub name: String,
    /// Integrations fed through grouping and the outbox, each with its stable
    /// name (kind and index within the kind, `email[0]`, as Alertmanager
    /// names them), which keys the notification log and the outbox.
    pub grouped: Vec<(String, Notifier)>,
    pub alertmanagers: Vec<AlertmanagerNotifier>,
}

impl ReceiverConfig {
    /// Checks that need no I/O.
    pub fn validate(&self) -> Result<(), String> {
        self.slack.iter().try_for_each(|s| s.validate().map(drop))?;
        self.email.iter().try_for_each(|s| s.validate().map(drop))?;
        self.webhook.iter().try_for_each(|s| s.validate().map(drop))?;
        self.alertmanager.iter().try_for_each(|s| s.validate().map(drop))?;
        Ok(())
    }

    /// Build every integration (reads secret files).
    pub fn build(&self, base_dir: &Path) -> Result<Receiver, String> {
        let mut grouped = Vec::new();
        for (i, s) in self.slack.iter().enumerate() {
            grouped.push((format!("slack[{i}]"), Notifier::Slack(s.build(base_dir)?)));
        }
        for (i, s) in self.email.iter().enumerate() {
            grouped.push((format!("email[{i}]"), Notifier::Email(s.build(base_dir)?)));
        }
        for (i, s) in self.webhook.iter().enumerate() {
            grouped.push((format!("webhook[{i}]"), Notifier::Webhook(s.build(base_dir)?)));
        }
        for (i, s) in self.stdout.iter().enumerate() {
            grouped.push((format!("stdout[{i}]"), Notifier::Stdout(s.build())));
        }
        let alertmanagers = self.alertmanager.iter().map(AlertmanagerConfig::build).collect::<Result<_, _>>()?;
        Ok(Receiver { name: self.name.clone(), grouped, alertmanagers })
    }
}

/// A value for people: 4 decimals, or scientific notation when tiny or huge.
pub fn format_value(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) { format!("{v:.3e}") } else { format!("{v:.4}") }
}

/// Receivers by name, as configured.
pub type Receivers = BTreeMap<String, ReceiverConfig>;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(yaml: &str) -> Vec<String> {
        let r: ReceiverConfig = serde_saphyr::from_str(yaml).unwrap();
        r.build(Path::new(".")).unwrap().grouped.into_iter().map(|(name, _)| name).collect()
    }

    #[test]
    fn integrations_keep_their_names_when_another_is_added() {
        // Regression: integrations were keyed by position in their receiver,
        // so adding a second Slack moved the webhook's queued notifications.
        let before = names("{ name: r, slack: [{ api_url: 'http://127.0.0.1:1/a' }], webhook: [{ url: 'http://127.0.0.1:1/w' }] }");
        let after = names(
            "{ name: r, slack: [{ api_url: 'http://127.0.0.1:1/a' }, { api_url: 'http://127.0.0.1:1/b' }], webhook: [{ url: 'http://127.0.0.1:1/w' }] }",
        );
        assert_eq!(before, ["slack[0]", "webhook[0]"]);
        assert_eq!(after, ["slack[0]", "slack[1]", "webhook[0]"]);
    }
}
