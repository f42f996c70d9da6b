//! Alerting: receivers and their integrations, the route that picks a receiver,
//! and delivery with retries. Rules hand over alert transitions; nothing here
//! evaluates anything.

pub mod dispatch;
pub mod inhibit;
pub mod matcher;
pub mod notification;
pub mod notifiers;
pub mod route;
pub mod silence;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;
use crate::rules::alert::Alert;
use crate::util::backoff::Backoff;
use notifiers::Notifier;
use notifiers::slack::SlackConfig;
use notifiers::stdout::StdoutConfig;

/// The route: which receiver gets alerts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Name of the receiver that gets every alert.
    pub receiver: String,
}

/// A named receiver with its integrations (like Alertmanager's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Unique name, referenced by the route.
    pub name: String,
    /// Slack incoming webhooks.
    #[serde(default)]
    pub slack: Vec<SlackConfig>,
    /// Lines on the agent's standard output.
    #[serde(default)]
    pub stdout: Vec<StdoutConfig>,
}

impl ReceiverConfig {
    /// Checks that need no I/O.
    pub fn validate(&self) -> Result<(), String> {
        for s in &self.slack {
            s.validate()?;
        }
        Ok(())
    }

    /// Build every integration (reads secret files).
    pub fn build(&self, base_dir: &Path) -> Result<Vec<Notifier>, String> {
        let mut out = Vec::new();
        for s in &self.slack {
            out.push(Notifier::Slack(s.build(base_dir)?));
        }
        for s in &self.stdout {
            out.push(Notifier::Stdout(s.build()));
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// One alert transition on its way to a receiver.
#[derive(Debug, Clone)]
pub struct Notification {
    pub status: Status,
    pub rule: String,
    pub group: String,
    /// The rule's `when`, for messages without a summary.
    pub condition: String,
    pub alert: Alert,
    /// Link back to the agent (`server.external_url`).
    pub external_url: String,
}

impl Notification {
    pub fn alertname(&self) -> &str {
        self.alert.labels.get("alertname").map(String::as_str).unwrap_or(&self.rule)
    }

    /// `FIRING FeatureDrift{column="age", tenant="acme"} value=0.31: summary`
    pub fn one_line(&self) -> String {
        let labels: Vec<String> = self
            .alert
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "alertname")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let mut s = format!("{} {}{{{}}}", self.status.as_str().to_uppercase(), self.alertname(), labels.join(", "));
        if let Some(v) = self.alert.value {
            s.push_str(&format!(" value={}", format_value(v)));
        }
        if let Some(summary) = self.alert.annotations.get("summary") {
            s.push_str(&format!(": {summary}"));
        }
        s
    }

    pub fn to_json(&self) -> serde_json::Value {
        let a = &self.alert;
        json!({
            "status": self.status.as_str(),
            "rule": self.rule,
            "group": self.group,
            "labels": a.labels,
            "annotations": a.annotations,
            "value": a.value,
            "startsAt": a.active_at.to_rfc3339(),
            "endsAt": a.resolved_at.map(|t| t.to_rfc3339()),
        })
    }
}

/// A value for people: 4 decimals, or scientific notation when tiny or huge.
pub fn format_value(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) { format!("{v:.3e}") } else { format!("{v:.4}") }
}

/// A queued notification for one integration.
struct Job {
    notification: Arc<Notification>,
}

/// Hands notifications to the route's receiver; each integration has its own
/// worker and queue, so one slow webhook does not hold up the others and the
/// order of notifications per integration is kept.
pub struct Router {
    receiver: String,
    queues: Vec<(&'static str, mpsc::UnboundedSender<Job>)>,
}

/// How long delivery retries before a notification is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3600);

impl Router {
    /// Start one worker per integration of the route's receiver.
    pub fn start(
        receiver: &str,
        notifiers: Vec<Notifier>,
        metrics: Arc<Metrics>,
        token: CancellationToken,
        tracker: &TaskTracker,
    ) -> Router {
        let mut queues = Vec::new();
        for notifier in notifiers {
            let (tx, rx) = mpsc::unbounded_channel();
            let kind = notifier.kind();
            queues.push((kind, tx));
            let worker = Worker { receiver: receiver.to_string(), notifier, metrics: metrics.clone(), token: token.clone() };
            tracker.spawn(worker.run(rx));
        }
        Router { receiver: receiver.to_string(), queues }
    }

    pub fn dispatch(&self, n: Notification, metrics: &Metrics) {
        let n = Arc::new(n);
        for (kind, tx) in &self.queues {
            if tx.send(Job { notification: n.clone() }).is_ok() {
                metrics.notification_queue_length.with_label_values(&[self.receiver.as_str(), kind]).inc();
            }
        }
    }
}

struct Worker {
    receiver: String,
    notifier: Notifier,
    metrics: Arc<Metrics>,
    token: CancellationToken,
}

impl Worker {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Job>) {
        loop {
            let job = tokio::select! {
                job = rx.recv() => job,
                // On shutdown, deliver what is queued with one attempt each.
                _ = self.token.cancelled() => None,
            };
            let Some(job) = job else { break };
            self.deliver(&job.notification).await;
        }
        rx.close();
        while let Ok(job) = rx.try_recv() {
            self.deliver(&job.notification).await;
        }
    }

    async fn deliver(&self, n: &Notification) {
        let kind = self.notifier.kind();
        let labels = [self.receiver.as_str(), kind];
        self.metrics.notification_queue_length.with_label_values(&labels).dec();
        if n.status == Status::Resolved && !self.notifier.send_resolved() {
            return;
        }
        let count = |result: &str| self.metrics.notifications_total.with_label_values(&[&self.receiver, kind, result]).inc();
        let started = tokio::time::Instant::now();
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(60));
        loop {
            match self.notifier.send(n).await {
                Ok(()) => {
                    count("success");
                    tracing::debug!(receiver = %self.receiver, integration = kind, alert = n.alertname(), status = n.status.as_str(), "notification sent");
                    return;
                }
                Err(e) if e.permanent => {
                    count("failure");
                    tracing::error!(receiver = %self.receiver, integration = kind, alert = n.alertname(), error = %e, "notification rejected; not retrying");
                    return;
                }
                Err(e) => {
                    let give_up = self.token.is_cancelled() || started.elapsed() > GIVE_UP_AFTER;
                    if give_up {
                        count("failure");
                        tracing::error!(receiver = %self.receiver, integration = kind, alert = n.alertname(), error = %e, "notification failed; giving up");
                        return;
                    }
                    count("retry");
                    let wait = e.retry_after.unwrap_or_else(|| backoff.next_delay());
                    tracing::warn!(receiver = %self.receiver, integration = kind, alert = n.alertname(), error = %e, retry_in = ?wait, "notification failed; will retry");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.token.cancelled() => {}
                    }
                }
            }
        }
    }
}

/// Receivers by name, as configured.
pub type Receivers = BTreeMap<String, ReceiverConfig>;
