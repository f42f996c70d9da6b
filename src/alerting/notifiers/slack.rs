//! The `slack` integration: Slack incoming webhooks, Block Kit with a
//! plain-text fallback, at most one message per second per webhook. Secrets
//! come from `api_url_file` or `${ENV}`; they never reach logs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{DeliveryError, http};
use crate::alerting::notification::GroupNotification;
use crate::alerting::templates::{DEFAULT_SLACK_TEXT, DEFAULT_TITLE, MessageTemplates};
use crate::util::secret::Secret;

/// Slack's documented limits, in characters.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FALLBACK_MAX: usize = 4000;
/// Slack accepts one message per second per webhook.
const MIN_GAP: Duration = Duration::from_secs(1);

/// `slack: [{ api_url_file: ... }]` under a receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Incoming-webhook URL, inline or as `${ENV_VAR}`. Prefer `api_url_file`.
    #[serde(default)]
    pub api_url: Option<String>,
    /// File holding the webhook URL (relative to the config file).
    #[serde(default)]
    pub api_url_file: Option<PathBuf>,
    /// Channel override (only for webhooks that allow it).
    #[serde(default)]
    pub channel: Option<String>,
    /// Sender name override.
    #[serde(default)]
    pub username: Option<String>,
    /// Also notify when an alert resolves.
    #[serde(default = "super::default_true")]
    pub send_resolved: bool,
    /// Per-request timeout (humantime). Default 10s.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Title template (header and fallback). Default: `[FIRING:2] Alertname labels`.
    #[serde(default)]
    pub title: Option<String>,
    /// Body template, Slack mrkdwn. Default: each alert with summary, labels, value, runbook.
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug)]
pub struct SlackNotifier {
    url: Secret,
    channel: Option<String>,
    username: Option<String>,
    pub send_resolved: bool,
    templates: MessageTemplates,
    client: reqwest::Client,
    /// When the next message to this webhook may go; shared by every
    /// integration posting to the same URL, and kept across reloads.
    next_allowed: Arc<Mutex<Option<Instant>>>,
}

/// The pacing gate of a webhook URL.
fn gate(url: &Secret) -> Arc<Mutex<Option<Instant>>> {
    type Gates = std::sync::Mutex<HashMap<String, Arc<Mutex<Option<Instant>>>>>;
    static GATES: LazyLock<Gates> = LazyLock::new(Default::default);
    let mut gates = GATES.lock().unwrap_or_else(|p| p.into_inner());
    gates.entry(url.expose().to_string()).or_default().clone()
}

impl SlackConfig {
    fn templates(&self) -> Result<MessageTemplates, String> {
        MessageTemplates::compile(&[("title", self.title.as_deref(), DEFAULT_TITLE), ("text", self.text.as_deref(), DEFAULT_SLACK_TEXT)])
            .map_err(|e| format!("slack: {e}"))
    }

    /// Check what can be checked without I/O.
    pub fn validate(&self) -> Result<Duration, String> {
        if self.api_url.is_some() == self.api_url_file.is_some() {
            return Err("slack: set exactly one of `api_url` or `api_url_file`".into());
        }
        self.templates()?;
        super::timeout("slack", self.timeout.as_deref())
    }

    /// Read the secret and make the HTTP client.
    pub fn build(&self, base_dir: &Path) -> Result<SlackNotifier, String> {
        let timeout = self.validate()?;
        let file = self.api_url_file.as_ref().map(|p| crate::util::paths::resolve(base_dir, p));
        let url = Secret::resolve(self.api_url.as_deref(), file.as_deref(), "api_url").map_err(|e| format!("slack: {e}"))?;
        http::check_url(url.expose(), "slack: api_url")?;
        Ok(SlackNotifier {
            next_allowed: gate(&url),
            url,
            channel: self.channel.clone(),
            username: self.username.clone(),
            send_resolved: self.send_resolved,
            templates: self.templates()?,
            client: http::client(timeout).map_err(|e| format!("slack: {e}"))?,
        })
    }
}

impl SlackNotifier {
    pub async fn send(&self, n: &GroupNotification) -> Result<(), DeliveryError> {
        let body = self.payload(n);
        let mut next = self.next_allowed.lock().await;
        if let Some(t) = *next {
            tokio::time::sleep_until(t).await;
        }
        let result = http::post_json(&self.client, self.url.expose(), &body, "slack", None).await;
        *next = Some(Instant::now() + MIN_GAP);
        result
    }

    /// The webhook body: a Block Kit message with a plain-text fallback.
    pub fn payload(&self, n: &GroupNotification) -> Value {
        let title = self.templates.render("title", n);
        let text = self.templates.render("text", n);
        let icon = if n.status() == crate::alerting::notification::Status::Firing { "🔥" } else { "✅" };
        let mut context = vec![format!("{} alert{}", n.alerts.len(), if n.alerts.len() == 1 { "" } else { "s" })];
        if !n.external_url.is_empty() {
            context.push(format!("<{}|mlwatch>", n.external_url));
        }
        let blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&format!("{icon} {title}"), HEADER_MAX), "emoji": true}}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, SECTION_MAX)}}),
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]}),
        ];
        let mut body = json!({
            "text": truncate(&format!("{title}\n{text}"), FALLBACK_MAX),
            "blocks": blocks,
        });
        if let Some(c) = &self.channel {
            body["channel"] = json!(c);
        }
        if let Some(u) = &self.username {
            body["username"] = json!(u);
        }
        body
    }
}

/// Cut `s` to at most `max` characters, saying so visibly.
pub fn truncate(s: &str, max: usize) -> String {
    const NOTE: &str = "… (truncated)";
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(NOTE.chars().count());
    s.chars().take(keep).collect::<String>() + NOTE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::notification::Status;
    use crate::alerting::notification::tests::alert_out;
    use crate::labels::Labels;

    #[test]
    fn truncation_is_visible_and_within_the_limit() {
        let long = "x".repeat(200);
        let t = truncate(&long, HEADER_MAX);
        assert_eq!(t.chars().count(), HEADER_MAX);
        assert!(t.ends_with("(truncated)"));
        assert_eq!(truncate("short", HEADER_MAX), "short");
    }

    #[test]
    fn integrations_posting_to_one_webhook_share_its_pace() {
        let build = |url: &str| {
            let cfg: SlackConfig = serde_saphyr::from_str(&format!("api_url: {url}")).unwrap();
            cfg.build(Path::new(".")).unwrap()
        };
        let (a, b, c) = (build("http://127.0.0.1:9/one"), build("http://127.0.0.1:9/one"), build("http://127.0.0.1:9/two"));
        assert!(Arc::ptr_eq(&a.next_allowed, &b.next_allowed));
        assert!(!Arc::ptr_eq(&a.next_allowed, &c.next_allowed));
    }

    #[test]
    fn a_large_group_stays_within_slacks_limits() {
        let cfg: SlackConfig = serde_saphyr::from_str("api_url: http://127.0.0.1:9/hook\nusername: mlwatch").unwrap();
        let s = cfg.build(Path::new(".")).unwrap();
        let n = GroupNotification {
            receiver: "oncall".into(),
            group_key: "k".into(),
            group_labels: Labels::from([("alertname".into(), "Drift".into())]),
            alerts: (0..200).map(|i| alert_out("Drift", &format!("tenant{i}"), Status::Firing)).collect(),
            external_url: "http://mlwatch.test".into(),
        };
        let p = s.payload(&n);
        assert_eq!(p["blocks"][0]["text"]["text"], "🔥 [FIRING:200] Drift");
        let section = p["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(section.chars().count() <= SECTION_MAX && section.ends_with("… (truncated)"));
        assert!(p["text"].as_str().unwrap().chars().count() <= FALLBACK_MAX);
        assert_eq!(p["blocks"][2]["elements"][0]["text"], "200 alerts · <http://mlwatch.test|mlwatch>");
        assert_eq!(p["username"], "mlwatch");
    }
}
