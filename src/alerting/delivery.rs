//! Delivery from the outbox: one worker per integration takes the oldest
//! waiting notification, sends it with retries, and removes it only once the
//! receiver acknowledged it (or it failed for good). Notifications to one
//! integration keep their order; a slow integration holds up no other.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::notifiers::Notifier;
use crate::metrics::Metrics;
use crate::state::{Pending, Store};
use crate::util::backoff::Backoff;
use crate::util::clock::Clock;

/// How long delivery retries before a notification is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3600);

/// How long to wait before reading the outbox again after a state error.
const STATE_RETRY: Duration = Duration::from_secs(5);

pub struct Worker {
    pub receiver: String,
    /// The integration's name within its receiver (the outbox key, `slack[0]`).
    pub integration: String,
    pub notifier: Notifier,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    /// Rung when the outbox may have something new for this worker.
    pub wake: Arc<Notify>,
    pub clock: Clock,
}

impl Worker {
    /// Deliver until cancelled. Cancellation lets an attempt in flight finish
    /// (bounded by the integration's timeout) and leaves the rest in the outbox.
    pub async fn run(self, token: CancellationToken) {
        let kind = self.notifier.kind();
        loop {
            if token.is_cancelled() {
                return;
            }
            let store = self.store.clone();
            let (receiver, integration) = (self.receiver.clone(), self.integration.clone());
            let next = tokio::task::spawn_blocking(move || {
                let count = store.pending_count(&receiver, &integration);
                (store.next_pending(&receiver, &integration), count)
            })
            .await
            .expect("reading the outbox does not panic");
            if let (_, Ok(n)) = &next {
                self.metrics.notification_queue_length.with_label_values(&[&self.receiver, kind]).set(*n);
            }
            match next.0 {
                Ok(Some(p)) => self.deliver(p, &token).await,
                Ok(None) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = token.cancelled() => return,
                    }
                }
                Err(e) => {
                    tracing::error!(receiver = %self.receiver, integration = kind, error = %e, "cannot read the outbox");
                    tokio::select! {
                        _ = tokio::time::sleep(STATE_RETRY) => {}
                        _ = token.cancelled() => return,
                    }
                }
            }
        }
    }

    async fn deliver(&self, p: Pending, token: &CancellationToken) {
        let kind = self.notifier.kind();
        let count = |result: &str| self.metrics.notifications_total.with_label_values(&[&self.receiver, kind, result]).inc();
        let n = &p.notification;
        let key = p.idempotency_key(&self.receiver, &self.integration);
        let title = n.title();
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(60));
        loop {
            let outcome = self.notifier.send(n, &key).await;
            let done = match outcome {
                Ok(()) => {
                    count("success");
                    let latency = (self.clock.now() - p.created_at).num_milliseconds().max(0) as f64 / 1000.0;
                    self.metrics.notification_latency_seconds.with_label_values(&[&self.receiver, kind]).observe(latency);
                    tracing::info!(receiver = %self.receiver, integration = kind, group = %n.group_key, title = %title, "notification sent");
                    true
                }
                Err(e) if e.permanent => {
                    count("failure");
                    tracing::error!(receiver = %self.receiver, integration = kind, group = %n.group_key, error = %e, "notification rejected; not retrying");
                    true
                }
                Err(e) if self.clock.now() - p.created_at > chrono::Duration::from_std(GIVE_UP_AFTER).expect("small") => {
                    count("failure");
                    tracing::error!(receiver = %self.receiver, integration = kind, group = %n.group_key, error = %e, "notification failed for an hour; giving up");
                    true
                }
                Err(e) => {
                    count("retry");
                    if token.is_cancelled() {
                        tracing::warn!(receiver = %self.receiver, integration = kind, error = %e, "notification failed; left in the outbox for the next start");
                        return;
                    }
                    let wait = e.retry_after.unwrap_or_else(|| backoff.next_delay());
                    tracing::warn!(receiver = %self.receiver, integration = kind, group = %n.group_key, error = %e, retry_in = ?wait, "notification failed; will retry");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = token.cancelled() => return,
                    }
                    false
                }
            };
            if done {
                self.remove_delivered(p.id, token).await;
                return;
            }
        }
    }

    /// Take a delivered notification out of the outbox. Until that is
    /// written (a full disk, say) the worker retries it rather than moving
    /// on: the next read of the outbox would send it again.
    async fn remove_delivered(&self, id: i64, token: &CancellationToken) {
        let kind = self.notifier.kind();
        loop {
            let store = self.store.clone();
            let Err(e) = tokio::task::spawn_blocking(move || store.remove_pending(id)).await.expect("no panic") else { return };
            tracing::error!(receiver = %self.receiver, integration = kind, error = %e, retry_in = ?STATE_RETRY, "cannot remove a delivered notification from the outbox; will try again");
            tokio::select! {
                _ = tokio::time::sleep(STATE_RETRY) => {}
                _ = token.cancelled() => {
                    tracing::warn!(receiver = %self.receiver, integration = kind, "shutting down with a delivered notification still in the outbox: it is sent again at the next start");
                    return;
                }
            }
        }
    }
}
