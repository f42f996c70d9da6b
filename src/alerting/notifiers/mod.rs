//! Notifiers: one per integration kind. Each turns a group notification into
//! the receiver's wire format and reports whether a retry could help.

pub mod alertmanager;
pub mod email;
mod http;
pub mod slack;
pub mod stdout;
pub mod webhook;

use std::time::Duration;

use super::notification::GroupNotification;

/// A built integration that takes grouped notifications through the outbox.
/// There is one per configured integration, so variant sizes do not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Notifier {
    Slack(slack::SlackNotifier),
    Email(email::EmailNotifier),
    Webhook(webhook::WebhookNotifier),
    Stdout(stdout::StdoutNotifier),
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    /// Retrying cannot help (a 4xx other than 429, say).
    pub permanent: bool,
    /// The receiver asked us to wait this long (HTTP 429 `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> Self {
        DeliveryError { message: message.into(), permanent: false, retry_after: None }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError { message: message.into(), permanent: true, retry_after: None }
    }
}

/// Serde default for `send_resolved` and the like.
fn default_true() -> bool {
    true
}

/// A per-request timeout setting; 10 s unless configured.
fn timeout(kind: &str, value: Option<&str>) -> Result<Duration, String> {
    match value {
        None => Ok(Duration::from_secs(10)),
        Some(t) => crate::rules::schedule::parse_duration(&format!("{kind}: timeout"), t),
    }
}

impl Notifier {
    /// The integration kind, as in config and the `integration` label.
    pub fn kind(&self) -> &'static str {
        match self {
            Notifier::Slack(_) => "slack",
            Notifier::Email(_) => "email",
            Notifier::Webhook(_) => "webhook",
            Notifier::Stdout(_) => "stdout",
        }
    }

    /// Whether this integration wants resolved notifications.
    pub fn send_resolved(&self) -> bool {
        match self {
            Notifier::Slack(n) => n.send_resolved,
            Notifier::Email(n) => n.send_resolved,
            Notifier::Webhook(n) => n.send_resolved,
            Notifier::Stdout(n) => n.send_resolved,
        }
    }

    /// Send `n`; `key` is the same for every attempt at it (webhooks get it
    /// as `Idempotency-Key`, e-mail in its `Message-ID`).
    pub async fn send(&self, n: &GroupNotification, key: &str) -> Result<(), DeliveryError> {
        match self {
            Notifier::Slack(s) => s.send(n).await,
            Notifier::Email(s) => s.send(n, key).await,
            Notifier::Webhook(s) => s.send(n, key).await,
            Notifier::Stdout(s) => s.send(n),
        }
    }
}
