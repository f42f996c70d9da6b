//! Notifiers: one per integration kind. Each turns a notification into the
//! receiver's wire format and reports whether a retry could help.

pub mod slack;
pub mod stdout;

use std::time::Duration;

use super::Notification;

/// A built integration of a receiver.
#[derive(Debug)]
pub enum Notifier {
    Slack(slack::SlackNotifier),
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

impl Notifier {
    /// The integration kind, as in config and the `integration` label.
    pub fn kind(&self) -> &'static str {
        match self {
            Notifier::Slack(_) => "slack",
            Notifier::Stdout(_) => "stdout",
        }
    }

    /// Whether this integration wants resolved notifications.
    pub fn send_resolved(&self) -> bool {
        match self {
            Notifier::Slack(n) => n.send_resolved,
            Notifier::Stdout(n) => n.send_resolved,
        }
    }

    pub async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        match self {
            Notifier::Slack(s) => s.send(n).await,
            Notifier::Stdout(s) => s.send(n),
        }
    }
}
